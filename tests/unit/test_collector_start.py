"""The collector at a run's start (issue 20): off while `podium run` imports and opens the
production, then what the start made is frozen and collection is on for the run's life.

Each case runs `main` in a fresh interpreter: the policy is the process's, once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ONE_TASK = """\
[production]
title = "One task"
format = "short_film"
brief = "A single report."

[vision]
premise = "A crew that only reports."

[models]
default = "rehearsal/bench"

[models.rehearsal]
latency_ms = 0
jitter_ms = 0
tokens_per_s = 1000000000

[planner]
mode = "explicit"

[[crew]]
id = "a0"
role = "producer"

[[tasks]]
id = "t0"
title = "Report t0"
kind = "report"
assignee = "a0"
"""

# run_headless, wrapped: how the collector stands when the run starts and when it ends.
PROBE = """\
import gc
import podium.cli.headless as headless
from podium.cli import main

seen = []
plain = headless.run_headless


async def run_headless(*args, **kwargs):
    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
    state = await plain(*args, **kwargs)
    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
    return state


headless.run_headless = run_headless
"""


def _python(code: str, cwd: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.splitlines()[-1]


def _run(tmp_path: Path, name: str) -> str:
    production = tmp_path / "one.toml"
    production.write_text(ONE_TASK, encoding="utf-8")
    db = tmp_path / f"{name}.db"
    argv = ["run", str(production), "--headless", "--auto-approve", "all", "--db", str(db)]
    return f"main({argv!r})"


def test_a_run_starts_with_its_start_frozen_and_the_collector_on(tmp_path: Path) -> None:
    """The run's imports and its opened production are frozen before the run starts; the
    collector is on from there to the end, and after."""
    code = (
        PROBE
        + f"assert {_run(tmp_path, 'first')} == 0\n"
        + "assert gc.isenabled()\n"
        + "print(seen)"
    )
    assert _python(code, tmp_path) == "[(True, True), (True, True)]"


def test_the_collector_is_held_once_a_process(tmp_path: Path) -> None:
    """`main` again in the same process (tests) neither holds nor freezes anything more."""
    code = (
        PROBE
        + f"assert {_run(tmp_path, 'first')} == 0\n"
        + "frozen = gc.get_freeze_count()\n"
        + "gc.disable()\n"
        + "gc.enable()\n"
        + f"assert {_run(tmp_path, 'second')} == 0\n"
        + "assert gc.get_freeze_count() == frozen, (gc.get_freeze_count(), frozen)\n"
        + "print(seen)"
    )
    assert _python(code, tmp_path) == "[(True, True), (True, True), (True, True), (True, True)]"


def test_a_start_that_fails_leaves_the_collector_on_and_nothing_frozen(tmp_path: Path) -> None:
    """A run refused before it starts (no such file) turns collection on again, frozen none."""
    code = (
        "import gc\nfrom podium.cli import main\n"
        f"assert main(['run', {str(tmp_path / 'missing.toml')!r}, '--headless']) == 2\n"
        "print(gc.isenabled(), gc.get_freeze_count())"
    )
    assert _python(code, tmp_path) == "True 0"


def test_the_screen_opens_with_the_start_frozen_and_the_collector_on(tmp_path: Path) -> None:
    """`podium run` on a terminal: the screen's imports are made before the start is frozen,
    and the screen opens with the collector on (the screen itself stubbed: no terminal here)."""
    code = (
        "import asyncio, gc\nfrom pathlib import Path\nimport podium.cli as cli\n"
        "cli.hold_collector()\n"
        "from podium.cli import production\n"
        "import podium.seam.sources as sources\nimport podium.tui.app as app\n"
        "seen = []\n"
        "sources.InProcessSource = lambda engine, db: None\n"
        "async def run_tui(source, db, theme=None):\n"
        "    seen.append((gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "    return 'done'\n"
        "app.run_tui = run_tui\n"
        "assert not gc.isenabled()\n"
        "print(asyncio.run(production._conduct(None, Path('x.db'), None)), seen)"
    )
    assert _python(code, tmp_path) == "done [(True, True)]"


def test_attach_opens_the_screen_with_its_replay_frozen_and_the_collector_on(
    tmp_path: Path,
) -> None:
    """`podium attach` replays the log as a resume opens it: collection off while it does, the
    replay frozen and collection on when the screen opens (the engine's lock and the screen
    stubbed: no engine runs here, no terminal)."""
    made = PROBE + f"assert {_run(tmp_path, 'made')} == 0\n" + "print('made')"
    assert _python(made, tmp_path) == "made"
    db = tmp_path / "made.db"
    code = (
        "import gc\nimport podium.cli.remote as remote\nimport podium.tui.app as app\n"
        "from podium.cli import main\n"
        "seen = []\n"
        "remote.holder = lambda db: 12345\n"
        "async def run_tui(source, db, theme=None):\n"
        "    seen.append((gc.isenabled(), gc.get_freeze_count() > 0, len(source.view.tasks)))\n"
        "app.run_tui = run_tui\n"
        f"assert main(['attach', {str(db)!r}]) == 0\n"
        "print(seen)"
    )
    assert _python(code, tmp_path) == "[(True, True, 1)]"


SETTLE = """\
import gc
import podium.cli as cli

seen = []
cli.settle_collector()  # before the start is released: nothing frozen
seen.append(gc.get_freeze_count())
cli.hold_collector()
cli.settle_collector()  # the start held: nothing frozen
seen.append(gc.get_freeze_count())
cli.release_collector()
frozen = gc.get_freeze_count()
made = [[n] for n in range(1000)]  # what the screen makes for the history
cli.settle_collector()
seen.append(gc.get_freeze_count() - frozen)
more = [[n] for n in range(1000)]
cli.settle_collector()  # once a process
seen.append(gc.get_freeze_count() - frozen)
print(seen[0], seen[1], seen[2] >= 1000, seen[3] == seen[2])
"""


def test_the_screens_settled_hook_freezes_once_and_only_after_the_start() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SETTLE], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0", "True", "True"]
