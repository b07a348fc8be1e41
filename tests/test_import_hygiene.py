"""Boundaries from STYLE.md: only tui imports Textual; `podium --help` imports neither Textual
nor litellm; the rehearsal model never imports litellm."""

from __future__ import annotations

import subprocess
import sys

import pytest

PACKAGES = [
    "podium.domain.production",
    "podium.domain.loading",
    "podium.domain.state",
    "podium.domain.events",
    "podium.llm.gateway",
    "podium.llm.rehearsal",
    "podium.llm.litellm_backend",
    "podium.engine.engine",
    "podium.store",
    "podium.headless",
    "podium.cli_production",
]


def _imported(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(out.stdout.split())


@pytest.mark.parametrize("module", PACKAGES)
def test_core_packages_do_not_import_textual_or_litellm(module: str) -> None:
    modules = _imported(f"import {module}")
    assert "textual" not in modules
    assert "litellm" not in modules


def test_help_imports_neither_textual_nor_litellm() -> None:
    code = (
        "import sys\nfrom podium.cli import main\nsys.argv=['podium','--help']\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    modules = _imported(code)
    assert "textual" not in modules
    assert "litellm" not in modules
    assert "podium.engine.engine" not in modules


def test_export_package_does_not_import_textual() -> None:
    modules = _imported("import podium.export")
    assert "textual" not in modules
