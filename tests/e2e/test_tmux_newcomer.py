"""A newcomer's terminal at 80×24 (issue 19 §1, 4, 10): the footer's global keys, a detached
production that completes, a 16-colour terminal and a C locale. tmux runs podium."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .test_attach_tui import _detached
from .test_tmux import PRODUCTION, Terminal, _env, pytestmark, terminals  # noqa: F401

SMALL = (80, 24)


def _run(tmp_path: Path) -> list[str]:
    production = tmp_path / "tmux.toml"
    production.write_text(PRODUCTION)
    return [sys.executable, "-m", "podium", "run", str(production), "--db", str(tmp_path / "t.db")]


def test_at_80x24_the_footer_starts_with_help_quit_and_commands(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    terminal = Terminal(_run(tmp_path), _env(tmp_path), tmp_path, size=SMALL)
    terminals.append(terminal)
    shown = terminal.wait_for(lambda s: "wait on the Orchestrator" in s, "an item in the inbox")
    lines = shown.rstrip("\n").splitlines()
    footer = lines[-1].strip()
    assert footer.startswith("? help q quit : commands"), footer
    assert "phase " in lines[1] and "health " in lines[1], lines[1]
    terminal.press("Tab")  # another pane: its keys change, the global ones stay first
    terminal.wait_for(
        lambda s: s.rstrip("\n").splitlines()[-1].strip().startswith("? help q quit : commands"),
        "the global keys first in the agents pane too",
    )
    terminal.press("q")
    terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")


def _approve_until_completed(db: Path, env: dict[str, str]) -> None:
    """Approve what the inbox holds (from another shell, as `podium decide` does) until the
    production completes."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = _podium(env, "status", str(db), "--json")
        if json.loads(status)["state"] == "completed":
            return
        for item in json.loads(_podium(env, "inbox", str(db), "--json")):
            _podium(env, "decide", str(db), item["id"], "approve", check=False)
        time.sleep(0.5)
    raise AssertionError("the production did not complete")


def _podium(env: dict[str, str], *args: str, check: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0 or not check, done.stderr
    return done.stdout


def test_a_detached_production_that_completes_shows_completed_in_the_attached_screen(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    db, env, engine = _detached(tmp_path)
    assert engine is not None
    attach = [sys.executable, "-m", "podium", "attach", str(db)]
    terminal = Terminal(attach, _env(tmp_path), tmp_path, size=SMALL)
    terminals.append(terminal)
    terminal.wait_for(lambda s: "wait on the Orchestrator" in s, "an item in the inbox")
    _approve_until_completed(db, env)
    shown = terminal.wait_for(lambda s: "✓ completed" in s, "the production to complete")
    # the engine stops once the work is done: that is no loss, and nothing is to be resumed
    terminal.wait_for(lambda s: "e exports it" in s, "the export hint")
    shown = terminal.screen()
    assert "NO ENGINE" not in shown and "podium resume" not in shown, shown
    terminal.press("q")
    shown = terminal.wait_for(lambda s: "EXIT=" in s, "the screen to close")
    assert "EXIT=0" in shown and "Traceback" not in shown


def test_a_16_colour_terminal_starts_in_the_16_colour_theme(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    env = _env(tmp_path) | {"TERM": "xterm-16color"}
    terminal = Terminal(_run(tmp_path), env, tmp_path, size=SMALL)
    terminals.append(terminal)
    terminal.wait_for(lambda s: "wait on the Orchestrator" in s, "an item in the inbox")
    terminal.press("t")  # the theme after podium-ansi is podium-light
    terminal.wait_for(lambda s: "theme: podium-light" in s, "the next theme's name")
    terminal.press("q")
    terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")


def test_a_c_locale_gets_an_ascii_screen(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    env = _env(tmp_path) | {"LANG": "C", "LC_ALL": ""}
    terminal = Terminal(_run(tmp_path), env, tmp_path, size=SMALL)
    terminals.append(terminal)
    shown = terminal.wait_for(lambda s: "wait on the Orchestrator" in s, "an item in the inbox")
    assert shown.isascii(), sorted({c for c in shown if not c.isascii()})
    assert "+- Tasks -" in shown and "_" * 5 not in shown, shown  # borders, not underscores
    terminal.press("q")
    terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")
