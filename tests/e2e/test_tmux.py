"""`podium run` in a real terminal: tmux runs it, the test presses keys and reads the screen."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
)

PRODUCTION = """
[production]
title = "Tmux Test"
format = "short_film"
brief = "A keeper hands over the lamp."

[vision]
premise = "On the night the lighthouse is automated, the keeper hands over the lamp."

[[crew]]
id = "prod"
role = "producer"

[[crew]]
id = "w"
role = "writer"

[[tasks]]
id = "treat"
title = "Treatment"
kind = "treatment"
assignee = "w"
gate = "treatment"

[[tasks]]
id = "scene1"
title = "Scene 1"
kind = "scene"
assignee = "w"
depends_on = ["treat"]

[planner]
mode = "explicit"

[models.rehearsal]
latency_ms = 0
jitter_ms = 0
tokens_per_s = 100000
"""


class Terminal:
    """One tmux session (160×48 unless told), running one command, on a private tmux server
    (so no other session or client of the user's changes its size)."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path,
        size: tuple[int, int] = (160, 48),
    ) -> None:
        self.name = f"podium-test-{uuid.uuid4().hex[:8]}"
        self.tmux = ["tmux", "-L", self.name, "-f", "/dev/null"]
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"cd {shlex.quote(str(cwd))} && env {exports} {shlex.join(command)}"
        script = f"{line}; echo EXIT=$?; sleep 60"
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                script,
            ],
            check=True,
            timeout=30,
        )
        # With no client attached tmux may fall back to its default size (80×24) later on;
        # keep the size asked for (tmux 2.9+; older ones ignore it).
        subprocess.run(
            [*self.tmux, "set-option", "-t", self.name, "window-size", "manual"],
            capture_output=True,
            timeout=30,
        )

    def screen(self) -> str:
        result = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return result.stdout

    def press(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True, timeout=30)
            time.sleep(0.15)

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if check(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}; the screen:\n{shown}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "PODIUM_CONFIG_DIR": str(tmp_path / "config"),
        "PODIUM_DATA_DIR": str(tmp_path / "data"),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }


def test_run_approve_and_quit_in_a_real_terminal(tmp_path: Path, terminals: list[Terminal]) -> None:
    production = tmp_path / "tmux.toml"
    production.write_text(PRODUCTION)
    db = tmp_path / "tmux.db"
    command = [sys.executable, "-m", "podium", "run", str(production), "--db", str(db)]
    terminal = Terminal(command, _env(tmp_path), tmp_path)
    terminals.append(terminal)

    shown = terminal.wait_for(lambda s: "Milestone treatment" in s, "the milestone in the inbox")
    assert "Tasks" in shown and "Agents" in shown and "Debates and reviews" in shown
    assert "◆ treat" in shown  # awaiting approval, said by a glyph as well as a colour
    terminal.press("Tab", "Tab", "Tab", "a")
    terminal.wait_for(lambda s: "completed" in s, "the production to complete")
    terminal.press("?")
    terminal.wait_for(lambda s: "Keys: rebind any of them" in s, "the help")
    terminal.press("Escape")
    # A key right after Escape would read as alt+key: wait for the help to close first.
    terminal.wait_for(lambda s: "Keys: rebind" not in s, "the help to close")
    terminal.press("q")
    shown = terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")
    assert "EXIT=0" in shown, shown

    status = subprocess.run(
        [sys.executable, "-m", "podium", "status", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | _env(tmp_path),
    )
    summary = json.loads(status.stdout)
    assert summary["tasks"]["done"] == 2 and summary["open_escalations"] == 0


def test_an_unknown_theme_is_refused_before_anything_is_drawn(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    production = tmp_path / "tmux.toml"
    production.write_text(PRODUCTION)
    command = [
        sys.executable,
        "-m",
        "podium",
        "run",
        str(production),
        "--db",
        str(tmp_path / "t.db"),
        "--theme",
        "nope",
    ]
    terminal = Terminal(command, _env(tmp_path), tmp_path)
    terminals.append(terminal)
    shown = terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")
    assert "unknown theme 'nope'; one of podium-dark" in shown
    assert "EXIT=2" in shown
    assert "Traceback" not in shown


def test_at_80x24_the_rows_and_the_dialogs_still_fit(
    tmp_path: Path, terminals: list[Terminal]
) -> None:
    production = tmp_path / "tmux.toml"
    production.write_text(PRODUCTION)
    db = tmp_path / "small.db"
    command = [sys.executable, "-m", "podium", "run", str(production), "--db", str(db)]
    terminal = Terminal(command, _env(tmp_path), tmp_path, size=(80, 24))
    terminals.append(terminal)
    shown = terminal.wait_for(lambda s: "Milestone" in s, "the milestone in the inbox")
    assert "tok" in shown  # an agent row keeps its tokens at 80 columns
    terminal.press("c")
    shown = terminal.wait_for(lambda s: "Apply (ctrl+s)" in s, "the constraints' buttons")
    assert "max concurrency" in shown
    terminal.press("Escape")
    terminal.wait_for(lambda s: "Apply (ctrl+s)" not in s, "the dialog to close")
    terminal.press("q")
    terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")
