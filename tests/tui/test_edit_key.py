"""`E` on a task (issue 16): the app suspends, $EDITOR opens on the task's current version in
its human format, and what is saved is recorded as a hand edit through the screen's `submit`;
`E` on the plan escalation edits the plan as TOML. Under Pilot the headless driver cannot
suspend, so `App.suspend` is replaced by a context that counts its uses (as Textual's own
tests do); the editor is a small script each test writes."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.domain import versions as versions_of
from podium.domain.artifacts import ORCHESTRATOR
from podium.domain.escalation import Action, EscalationKind
from podium.domain.tasks import TaskState
from podium.engine.engine import Engine
from podium.tui.app import PodiumApp
from podium.tui.widgets.escalation_inbox import EscalationInbox
from podium.tui.widgets.task_tree import TaskTree

from ..engine.harness import Script, production
from ..engine.test_lineage import film
from ..engine.test_scope import BODY, planner
from .conftest import SIZE, make_app, open_engine, until, until_shown

ADD_LINE = (
    "import pathlib, sys\n"
    "p = pathlib.Path(sys.argv[1])\n"
    "p.write_text(p.read_text() + '\\nThe pier is empty at dawn.\\n')\n"
)
# First a note that never closes (a parse error); then, with podium's error on top, a fix.
BREAK_THEN_FIX = (
    "import pathlib, sys\n"
    "p = pathlib.Path(sys.argv[1])\n"
    "t = p.read_text()\n"
    "if 'podium: line' in t:\n"
    "    t = t.replace('[[ a note that never closes', 'The pier is empty at dawn.')\n"
    "    pathlib.Path(__file__).with_name('seen').write_text(t.split('\\n', 1)[0])\n"
    "else:\n"
    "    t = t + '\\n[[ a note that never closes\\n'\n"
    "p.write_text(t)\n"
)
TOUCH = "import sys\n"  # saves the file as it was
GIVE_UP = "import sys\nsys.exit(3)\n"
RETITLE = (
    "import pathlib, sys\n"
    "p = pathlib.Path(sys.argv[1])\n"
    "p.write_text(p.read_text().replace('\"Chapter 2\"', '\"The Crossing\"'))\n"
)


@pytest.fixture
def suspends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """App.suspend as a terminal would allow it; how many times the app suspended."""
    used: list[int] = []

    @contextlib.contextmanager
    def suspend(self: PodiumApp) -> Iterator[None]:
        used.append(1)
        yield

    monkeypatch.setattr(PodiumApp, "suspend", suspend)
    return used


def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> Path:
    path = tmp_path / "editor.py"
    path.write_text(script, encoding="utf-8")
    monkeypatch.setenv("EDITOR", f"{sys.executable} {path}")
    monkeypatch.delenv("VISUAL", raising=False)
    return path


def notified(app: PodiumApp, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


async def made(tmp_path: Path) -> tuple[Engine, Any]:
    engine, store = await open_engine(production(film()), tmp_path / "p.db", Script())
    return engine, store


async def on_task(pilot: Any, tree: TaskTree, task_id: str) -> None:
    """The tree's cursor on `task_id` (its phase opened), as a user's j/k would leave it. The
    tree may be redrawn while the engine plans, so this retries until the cursor stays there."""
    tree.focus()
    for _ in range(100):
        await pilot.pause()
        node = tree.cursor_node
        ref = node.data if node is not None else None
        if ref is not None and ref.kind == "task" and ref.key == task_id:
            return
        tree.reveal(task_id)
    raise AssertionError(f"{task_id} is not in the tree")


def done(engine: Engine, task_id: str) -> bool:
    record = engine.view.tasks.get(task_id)
    return record is not None and record.state is TaskState.DONE


async def press_e_on(tmp_path: Path, task_id: str, expect: str) -> tuple[Engine, PodiumApp]:
    engine, store = await made(tmp_path)
    app = make_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: done(engine, task_id), f"{task_id} done")
        await on_task(pilot, app.query_one(TaskTree), task_id)
        await until_shown(pilot, "E edit")  # the footer's hint where the tree is focused
        await pilot.press("E")
        await until(pilot, lambda: notified(app, expect), repr(expect))
    await store.close()
    return engine, app


async def test_e_on_a_scene_records_the_saved_text_as_the_orchestrators_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    editor(tmp_path, monkeypatch, ADD_LINE)
    engine, app = await press_e_on(tmp_path, "scene-2", "the Orchestrator's edit is its current")
    current = versions_of.current(engine.view, "scene-2")
    assert current is not None and current.provenance.agent_id == ORCHESTRATOR
    assert "The pier is empty at dawn." in current.model_dump_json()
    assert suspends == [1]


async def test_a_parse_error_reopens_the_editor_with_the_error_on_top(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    editor(tmp_path, monkeypatch, BREAK_THEN_FIX)
    engine, _ = await press_e_on(tmp_path, "scene-2", "the Orchestrator's edit is its current")
    assert suspends == [1, 1]
    note = (tmp_path / "seen").read_text()
    assert note.startswith("[[podium: line ") and "never closes" in note
    current = versions_of.current(engine.view, "scene-2")
    assert current is not None and current.provenance.agent_id == ORCHESTRATOR
    assert "podium:" not in current.model_dump_json()  # the note went before it was read


async def test_saving_unchanged_records_nothing_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    editor(tmp_path, monkeypatch, TOUCH)
    engine, _ = await press_e_on(tmp_path, "scene-2", "saved unchanged; nothing was recorded")
    assert not any(c.command.action is Action.EDIT for c in engine.view.commands.values())


async def test_an_editor_that_exits_non_zero_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    editor(tmp_path, monkeypatch, GIVE_UP)
    engine, _ = await press_e_on(tmp_path, "scene-2", "exited with 3; nothing was recorded")
    assert not any(c.command.action is Action.EDIT for c in engine.view.commands.values())


async def test_where_the_app_cannot_suspend_it_points_to_podium_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor(tmp_path, monkeypatch, ADD_LINE)  # App.suspend as the headless driver has it
    expected = "(it is served in a browser); edit from a shell with `podium edit test.db scene-2`"
    engine, _ = await press_e_on(tmp_path, "scene-2", expected)
    assert not any(c.command.action is Action.EDIT for c in engine.view.commands.values())


async def test_without_an_editor_set_it_says_how_to_set_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    await press_e_on(tmp_path, "scene-2", "Set $EDITOR (or $VISUAL)")
    assert suspends == []


async def test_e_on_the_plan_escalation_approves_the_edited_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    editor(tmp_path, monkeypatch, RETITLE)
    engine, store = await open_engine(production(BODY), tmp_path / "p.db", planner([[2, 3]]))
    app = make_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(
            pilot,
            lambda: any(e.kind is EscalationKind.PLAN for e in engine.view.open_escalations()),
            "the plan escalation",
        )
        inbox = app.query_one(EscalationInbox)
        inbox.focus()
        await pilot.pause()
        await pilot.press("E")
        await until(
            pilot,
            lambda: notified(app, "approved the Orchestrator's plan"),
            f"approval {[n.message for n in app._notifications]}",
        )
        await until(pilot, lambda: done(engine, "c2"), "c2 made")
    await store.close()
    assert engine.view.tasks["c2"].spec.title == "The Crossing"
    assert suspends == [1]


# Waits (at most 10 s) for the test, running on the app's loop, to say "go"; then adds a line.
WAIT_FOR_GO = (
    "import pathlib, sys, time\n"
    "p = pathlib.Path(sys.argv[1])\n"
    "go = pathlib.Path(__file__).with_name('go')\n"
    "deadline = time.monotonic() + 10\n"
    "while not go.exists():\n"
    "    if time.monotonic() > deadline:\n"
    "        sys.exit(9)\n"
    "    time.sleep(0.02)\n"
    "p.write_text(p.read_text() + '\\nThe pier is empty at dawn.\\n')\n"
)


async def test_the_loop_and_the_engine_go_on_while_the_editor_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suspends: list[int]
) -> None:
    """The editor runs off the loop: this coroutine, on the app's loop, runs while it is open
    (it blocked the loop before, so the editor waited for a "go" that never came)."""
    editor(tmp_path, monkeypatch, WAIT_FOR_GO)
    engine, store = await made(tmp_path)
    app = make_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: done(engine, "scene-2"), "scene-2 done")
        await on_task(pilot, app.query_one(TaskTree), "scene-2")
        await pilot.press("E")
        await until(pilot, lambda: suspends == [1], "the app suspended")
        assert app._batch_count > 0  # nothing is drawn over the editor
        (tmp_path / "go").write_text("")
        await until(
            pilot,
            lambda: notified(app, "the Orchestrator's edit is its current"),
            "the edit recorded",
        )
        assert app._batch_count == 0
    await store.close()
    current = versions_of.current(engine.view, "scene-2")
    assert current is not None and current.provenance.agent_id == ORCHESTRATOR
