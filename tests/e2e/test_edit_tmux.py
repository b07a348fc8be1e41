"""`E` in a real terminal (issue 16): `podium run` in tmux at 80×24 with $EDITOR set to a script;
`E` on a scene suspends the screen, the script edits the scene's Fountain, the edit is recorded,
the shot list made from the scene is made again, and the export's Fountain holds the new line."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .test_tmux import Terminal, _env, terminals  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow

HAND = "The keeper pockets the brass key, and it stays."

PRODUCTION = """
[production]
title = "Edit In Tmux"
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

[[crew]]
id = "dp"
role = "director_of_photography"

[[tasks]]
id = "scene1"
title = "Scene 1"
kind = "scene"
assignee = "w"
params = { scene = 1 }

[[tasks]]
id = "shots"
title = "Shots"
kind = "shot_list"
assignee = "dp"
depends_on = ["scene1"]

[planner]
mode = "explicit"

[models.rehearsal]
latency_ms = 0
jitter_ms = 0
tokens_per_s = 100000
"""

EDITOR = f"""
import pathlib, sys
p = pathlib.Path(sys.argv[1])
p.write_text(p.read_text() + "\\n{HAND}\\n")
"""


def podium(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | env,
    )


def test_e_on_a_scene_in_tmux_edits_it_and_the_export_holds_the_edit(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    production = tmp_path / "edit.toml"
    production.write_text(PRODUCTION)
    db = tmp_path / "edit.db"
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    env = _env(tmp_path) | {"EDITOR": f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"}
    command = [sys.executable, "-m", "podium", "run", str(production), "--db", str(db)]
    terminal = Terminal(command, env, tmp_path, size=(80, 24))
    terminals.append(terminal)
    terminal.wait_for(lambda s: "completed" in s, "the production to complete")
    for _ in range(3):  # the tree's first row is the scene phase: open it
        if "scene1" in terminal.screen():
            break
        terminal.press("g", "Enter")
        time.sleep(1.0)
    terminal.wait_for(lambda s: "scene1" in s, "scene1 in the tree")
    terminal.press("j")  # from the phase row to scene1
    terminal.press("E")
    deadline = time.monotonic() + 60
    while True:
        shown = podium("show", str(db), "scene1", "--json", env=env)
        if shown.returncode == 0 and HAND in json.loads(shown.stdout)["text"]:
            break
        assert time.monotonic() < deadline, f"no edit recorded; the screen:\n{terminal.screen()}"
        time.sleep(0.3)
    record = json.loads(shown.stdout)
    assert record["author"] == "orchestrator"

    def settled() -> bool:
        status = json.loads(podium("status", str(db), "--json", env=env).stdout)
        return status["state"] == "completed" and status["tasks"]["stale"] == 0

    while not settled():
        assert time.monotonic() < deadline, f"shots not made again:\n{terminal.screen()}"
        time.sleep(0.3)
    shots = json.loads(podium("show", str(db), "shots", "--json", env=env).stdout)
    assert shots["version"] == 2  # made again from the edited scene
    terminal.press("q")
    shown_end = terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")
    assert "EXIT=0" in shown_end and "Traceback" not in shown_end
    out = tmp_path / "out"
    exported = podium("export", str(db), "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert HAND in (out / "screenplay.fountain").read_text(encoding="utf-8")
