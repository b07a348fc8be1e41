"""Attach from real terminals to a production running in the background."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from podium.locks import holder

from .test_tmux import PRODUCTION, Terminal, _env, pytestmark, terminals  # noqa: F401


def _detached(tmp_path: Path) -> tuple[Path, dict[str, str], int | None]:
    """The sample production started with --detach: its database, environment and engine."""
    production = tmp_path / "bg.toml"
    production.write_text(PRODUCTION)
    db = tmp_path / "bg.db"
    env = os.environ | _env(tmp_path)
    started = subprocess.run(
        [sys.executable, "-m", "podium", "run", str(production), "--db", str(db), "--detach"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert started.returncode == 0, started.stderr
    return db, env, holder(db)


def test_two_terminals_attach_one_dies_the_other_approves(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    db, env, engine = _detached(tmp_path)
    assert engine is not None
    attach = [sys.executable, "-m", "podium", "attach", str(db)]
    first = Terminal(attach, _env(tmp_path), tmp_path)
    second = Terminal(attach, _env(tmp_path), tmp_path)
    terminals.extend([first, second])
    for terminal in (first, second):
        terminal.wait_for(lambda s: "Milestone treatment" in s, "the milestone in the inbox")
    second.close()  # the attached TUI dies abruptly
    assert holder(db) == engine  # the engine runs on
    first.press("Tab", "Tab", "Tab", "a")
    first.wait_for(lambda s: "completed" in s, "the production to complete")
    first.press("q")
    shown = first.wait_for(lambda s: "EXIT=" in s, "the screen to close")
    assert "EXIT=0" in shown and "Traceback" not in shown
    status = subprocess.run(
        [sys.executable, "-m", "podium", "status", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert json.loads(status.stdout)["state"] == "completed"


def test_killing_the_engine_shows_on_the_attached_screen(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    db, env, engine = _detached(tmp_path)
    assert engine is not None and engine > 0
    terminal = Terminal(
        [sys.executable, "-m", "podium", "attach", str(db)], _env(tmp_path), tmp_path
    )
    terminals.append(terminal)
    terminal.wait_for(lambda s: "Milestone treatment" in s, "the milestone in the inbox")
    assert "NO ENGINE" not in terminal.screen()
    os.kill(engine, signal.SIGKILL)
    shown = terminal.wait_for(lambda s: "NO ENGINE" in s, "the header to say the engine is gone")
    assert "crashed or was killed" in shown
    terminal.press("p")
    terminal.wait_for(lambda s: "pause: not applied" in s, "p to say the pause waits")
    terminal.press("q")
    shown = terminal.wait_for(lambda s: "EXIT=" in s, "the screen to close")
    assert "EXIT=0" in shown and "Traceback" not in shown
    assert "the production runs on" not in shown and "podium resume" in shown
