"""What a newcomer's walkthrough at 80×24 found (issue 19's closing pass): each test presses
the keys as the walkthrough did, at the size where it went wrong."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from textual.widgets import RadioSet, TextArea

from podium.domain import versions
from podium.domain.artifacts import Screenplay
from podium.domain.escalation import EscalationKind, Option
from podium.domain.state import ProductionView
from podium.tui.screens.alternatives import AlternativesScreen
from podium.tui.screens.escalation import EscalationScreen
from podium.tui.screens.override import OverrideScreen
from podium.tui.widgets.escalation_inbox import EscalationInbox

from ..engine.harness import Script, crew, production, tasks
from .conftest import app_for, make_app, open_engine, screen_text, type_text, until, until_shown

SMALL = (80, 24)


def gated_scene() -> str:
    scene = {"id": "scene-03", "title": "Scene 3: The kitchen", "kind": "scene", "assignee": "w"}
    return (
        crew(("prod", "producer"), ("dir", "director"), ("w", "writer"))
        + tasks(scene | {"decision": "milestone_deliverable", "phase": "screenplay"})
        + '[planner]\nmode = "explicit"\n'
    )


async def test_an_override_replacement_is_written_as_shown_and_read_back_in_the_dialog(
    tmp_path: Path,
) -> None:
    """The replacement starts as the scene's Fountain; what is typed in that form becomes the
    scene (it was refused: 'delivers a Screenplay; give it as JSON', the text lost), and a
    line that cannot be read is said in the dialog, the text kept. The current output above
    reads as a screenplay, not '… / character / MARA / dialogue / …'."""
    engine, store = await open_engine(production(gated_scene()), tmp_path / "p.db", Script())
    app = make_app(engine)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await until_shown(pilot, "Approve Scene")
        app.screen.focus_pane("inbox")
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OverrideScreen), "the dialog")
        screen = app.screen
        assert isinstance(screen, OverrideScreen)
        await pilot.pause()
        shown = screen_text(app)
        assert "INT. ROOM - DAY" in shown and "MARA" in shown, shown
        assert " / character / " not in shown and " / dialogue / " not in shown, shown
        # the replacement: its radio button, then the text box, prefilled as Fountain
        screen.query_one(RadioSet).focus()
        await pilot.press("down", "enter")
        area = screen.query_one("#override-text", TextArea)
        await until(pilot, lambda: "MARA" in area.text, "the prefilled Fountain")
        fountain = area.text
        # a text that cannot be read as a scene: said in the dialog, the text kept
        area.text = "The kettle boils."
        await pilot.press("ctrl+s")
        await until_shown(pilot, "The replacement's line 1")
        assert app.screen is screen and area.text == "The kettle boils."
        # the scene as shown, one line added at its end
        area.text = fountain
        area.focus()
        area.move_cursor((0, 0))
        await pilot.press("ctrl+end")  # the text box's end: no key went there
        await type_text(pilot, "\nThe kettle boils.")
        await pilot.press("ctrl+s")

        def replaced() -> bool:
            current = versions.current(engine.view, "scene-03")
            return current is not None and "kettle boils" in current.parsed().plain_text()

        await until(pilot, replaced, "the replacement as the scene's current version")
        current = versions.current(engine.view, "scene-03")
        assert current is not None and isinstance(current.parsed(), Screenplay)
    await store.close()


async def test_at_80_columns_a_long_notification_wraps_instead_of_losing_its_end(
    view: ProductionView,
) -> None:
    """'e2 (question) does not offer alternatives; it offers a approve, o …' lost the keys it
    names (one line, cut at the toast's edge). It wraps, still at the top right."""
    said = (
        "development is a phase, not a task: approve acts on a task. Here enter opens or "
        "closes it; j/k move to its tasks."
    )
    app = app_for(view)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.pause()
        app.notify(said)
        await until_shown(pilot, "move to its tasks.")
        lines = screen_text(app).splitlines()
        rows = [i for i, line in enumerate(lines) if "phase, not a task" in line]
        assert rows and rows[0] < 6, lines
        assert any("j/k move to its tasks." in line for line in lines[rows[0] : rows[0] + 3])


def eight_gates() -> str:
    names = ["The boat", "The lamp room", "The kitchen", "The stair"]
    return (
        crew(("prod", "producer"), ("w", "writer"))
        + tasks(
            *(
                {
                    "id": f"scene-0{n}",
                    "title": f"Scene {n}: {name}",
                    "kind": "scene",
                    "assignee": "w",
                    "decision": "milestone_deliverable",
                }
                for n, name in enumerate(names, 1)
            )
        )
        + '[planner]\nmode = "explicit"\n'
    )


async def test_at_80x24_the_inbox_rows_of_several_gates_tell_them_apart(tmp_path: Path) -> None:
    """Each row says which scene (they all read 'approval gate  1m  Approve Sc…'); wider, the
    rows are as before."""
    engine, store = await open_engine(production(eight_gates()), tmp_path / "p.db", Script())
    app = make_app(engine)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await until(pilot, lambda: len(engine.view.open_escalations()) == 4, "four gates")
        await until_shown(pilot, "Scene 3")
        inbox = screen_text(app).splitlines()[13:16]
        assert all("gate" in row and "Scene " in row for row in inbox), inbox
        assert not any("approval gate" in row for row in inbox), inbox
        await pilot.resize_terminal(160, 48)
        await until_shown(pilot, "approval gate")
        await until_shown(pilot, "Approve Scene 4: The stair")
    await store.close()


def a_question(view: ProductionView) -> ProductionView:
    """The view with e6 as the writer's question, each answer's summary its label."""
    asked = copy.copy(view)
    answers = [
        ("answer-1", "Tension: keep the danger close and the answers late."),
        ("answer-2", "Intimacy: stay with the people; the danger sits behind them."),
    ]
    options = tuple(
        Option(id=i, label=text, proposer="writer", summary=text) for i, text in answers
    )
    question = view.escalations["e6"].model_copy(
        update={"kind": EscalationKind.QUESTION, "options": options}
    )
    asked.escalations = {**view.escalations, "e6": question}
    return asked


async def test_an_answer_whose_summary_repeats_its_label_is_said_once(
    view: ProductionView,
) -> None:
    """The question's dialog and its picker said each answer twice (label, then the same
    words as its summary)."""
    app = app_for(a_question(view))
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        app.screen.focus_pane("inbox")
        inbox = app.screen.query_one(EscalationInbox)
        inbox.highlighted = inbox._ids.index("e6")  # type: ignore[union-attr]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EscalationScreen), "the dialog")
        await until_shown(pilot, "answer-2")
        assert screen_text(app).count("Tension") == 1, screen_text(app)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AlternativesScreen), "the picker")
        await until_shown(pilot, "answer-2")
        assert screen_text(app).count("Tension") == 1, screen_text(app)


async def test_at_80x24_the_search_line_says_what_it_searches(view: ProductionView) -> None:
    """'/' showed '/words in a task, the' (a 20-cell box cut its placeholder): the box says
    what to type, the line beside it where it looks, until a search is made."""
    app = app_for(view)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await until_shown(pilot, "esc closes")
        [line] = [row for row in screen_text(app).splitlines() if row.startswith(" /")]
        assert "words, or a task id" in line and "transcript, inbox" in line, line
        await type_text(pilot, "outline")
        await pilot.press("enter")
        await until(pilot, lambda: "esc closes" not in screen_text(app), "the search's count")


async def test_a_task_key_with_no_row_highlighted_says_how_to_pick_one(
    view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a live run the tree can have the focus with no row under its cursor (seen in tmux at
    80x24 right after start): `a` said "The task tree is empty" over a tree full of tasks."""
    from podium.tui.widgets.task_tree import TaskTree

    monkeypatch.setattr(TaskTree, "cursor_node", property(lambda self: None))
    app = app_for(view)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.screen.query_one(TaskTree).focus()
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("No task is highlighted: j/k pick one" in m for m in said), said
        assert not any("empty" in m for m in said), said
