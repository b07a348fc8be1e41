"""Issue 19's closing walkthrough, in a real terminal at 80×24: an inbox of ten scene gates
told apart, decisions on the highlighted one only (the first, then one moved to with j), and an
override whose replacement is written in the Fountain it starts as. tmux runs podium."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .test_tmux import Terminal, _env, pytestmark, terminals  # noqa: F401

SMALL = (80, 24)
SCENES = [
    "The boat",
    "The lamp room",
    "The kitchen",
    "The stair",
    "The logbook",
    "The gallery",
    "The radio",
    "The harbour",
    "The fog",
    "The handover",
]

PRODUCTION = """
[production]
title = "Walkthrough"
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

[planner]
mode = "explicit"

[models.rehearsal]
latency_ms = 0
jitter_ms = 0
tokens_per_s = 100000
""" + "".join(
    f"""
[[tasks]]
id = "scene-{n:02d}"
title = "Scene {n}: {name}"
kind = "scene"
assignee = "w"
decision = "milestone_deliverable"
"""
    for n, name in enumerate(SCENES, 1)
)


def _podium(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_at_80x24_a_newcomer_triages_the_gates_and_overrides_a_scene(
    tmp_path: Path,
    terminals: list[Terminal],  # noqa: F811
) -> None:
    production = tmp_path / "walk.toml"
    production.write_text(PRODUCTION)
    db = tmp_path / "walk.db"
    env = _env(tmp_path)
    command = [sys.executable, "-m", "podium", "run", str(production), "--db", str(db)]
    terminal = Terminal(command, env, tmp_path, size=SMALL)
    terminals.append(terminal)

    # each row says which scene (they read 'approval gate  1m  Approve Sc…' alike)
    shown = terminal.wait_for(lambda s: "10 escalation(s)" in s, "ten gates")
    shown = terminal.wait_for(lambda s: "Scene 3: The k" in s, "the rows told apart")
    assert "Scene 1: The b" in shown and "Scene 2: The l" in shown, shown
    terminal.press("Tab", "Tab", "Tab", "a")  # the inbox; its first item is highlighted
    terminal.wait_for(
        lambda s: "now on" in s and "Approve Scene 2" in s, "where the highlight went, by title"
    )
    waiting = [f"scene-{n:02d}" for n in range(2, 11)]
    still = {item["task_id"] for item in json.loads(_podium(env, "inbox", str(db), "--json"))}
    assert still == set(waiting), still

    terminal.press("j", "j")  # two rows down: Scene 4, and only Scene 4, is approved
    terminal.wait_for(lambda s: "Approve Scene 4: The stair" in s, "Scene 4 in detail")
    terminal.press("a")
    terminal.wait_for(
        lambda s: "now on" in s and "Approve Scene 5" in s, "the highlight on the next gate"
    )
    waiting.remove("scene-04")
    still = {item["task_id"] for item in json.loads(_podium(env, "inbox", str(db), "--json"))}
    assert still == set(waiting), still
    terminal.press("k", "k")  # back to Scene 2, as before
    terminal.wait_for(lambda s: "Approve Scene 2: The lamp room" in s, "Scene 2 in detail")

    terminal.press("o")  # on the highlighted item: Scene 2
    terminal.wait_for(lambda s: "Current output" in s and "scene-02" in s, "the override dialog")
    terminal.press("BTab", "Down", "Enter")  # How it applies: Replacement
    terminal.wait_for(lambda s: "Replacement text (Fountain" in s, "the replacement, prefilled")
    terminal.press("Tab", "C-End", "Enter")
    terminal.press("The kettle boils.")  # not a key's name: tmux types it
    terminal.wait_for(lambda s: "The kettle boils." in s, "the typed line")
    terminal.press("C-s")
    terminal.wait_for(lambda s: "replaced the output of scene-02" in s, "the override's outcome")
    scene = _podium(env, "show", str(db), "scene-02")
    assert scene.rstrip().endswith("The kettle boils."), scene

    terminal.press("q")
    shown = terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit")
    assert "Traceback" not in shown, shown
