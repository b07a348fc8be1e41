"""Shared fixtures: a private data folder, small productions, and an engine harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_productions"

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


SLOW_DIRS = (ROOT / "tests" / "e2e",)
"""Whole directories of slow tests: the `podium` command in subprocesses, tmux, the browser and
the crash harness. Slow modules elsewhere say so themselves (`pytestmark = pytest.mark.slow`)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`python -m pytest -m "not slow"` is the fast subset; the full suite runs everything."""
    for item in items:
        if any(item.path.is_relative_to(folder) for folder in SLOW_DIRS):
            item.add_marker(pytest.mark.slow)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A test that failed with a store open keeps its reader's thread alive, and that thread
    would keep the process from ever exiting: stop what is left."""
    import gc

    import aiosqlite

    for leaked in [o for o in gc.get_objects() if isinstance(o, aiosqlite.Connection)]:
        if leaked._running:
            leaked.stop()


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test writes to the user's real data folder."""
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    # Exports leave the animatic out (seconds of ffmpeg each); tests/export/test_animatic.py
    # and the --no-animatic test put it back.
    monkeypatch.setenv("PODIUM_NO_ANIMATIC", "1")
    # Each process starts a provider worker of its own that ends with it: none outlives the
    # suite (tests/unit/test_shared_worker.py turns sharing on, in its own data folder).
    monkeypatch.setenv("PODIUM_SHARED_WORKER", "0")
    yield
