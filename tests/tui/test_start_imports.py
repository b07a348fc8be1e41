"""What the first frame of `podium run` imports: not the export's renderers nor the deliverables'
checks, which the engine needs only once a task's output is checked or a proposal is offered
(imported there, on first use). They were ~15 ms of the new production's first frame."""

from __future__ import annotations

import subprocess
import sys

START = ("podium.cli.production", "podium.seam.sources", "podium.tui.app")
LATER = ("podium.export", "podium.deliverables")


def test_the_first_frame_imports_neither_the_export_nor_the_deliverables_checks() -> None:
    probe = "".join(f"import {name}\n" for name in START) + "import sys\nprint(*sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    modules = set(out.stdout.split())
    assert set(START) <= modules
    early = sorted(m for m in modules if m.split(".")[:2] in [p.split(".") for p in LATER])
    assert early == [], early


def test_a_run_imports_them_before_its_first_task() -> None:
    """...but a run imports them as it starts (`warm_models`), not inside its first tasks,
    all waiting on the one loop (a fan-out's makespan was 4 % longer)."""
    probe = (
        "import sys\nfrom podium.engine.warming import warm_models\n"
        "before = set(sys.modules)\nwarm_models([])\nprint(*(set(sys.modules) - before))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert {"podium.deliverables.checks", "podium.export.human.diff"} <= set(out.stdout.split())
