"""Agents' work as a screenwriter reads it (issue 19 §7): a screenplay formatted in the details,
the agents' live tail as text (not JSON), transcript entries with hanging indents, and no
`writer (writer)`."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.text import Text

from podium.domain import versions
from podium.domain.state import ProductionView
from podium.tui.screens.task_detail import TaskDetailScreen, task_text
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.agent_row import prose_of
from podium.tui.widgets.debate_transcript import Hanging, with_role
from podium.tui.widgets.escalation_detail import readable

from .conftest import app_for, screen_text, until


def test_a_streamed_json_tail_reads_as_its_words() -> None:
    assert prose_of('duction file already gives." }') == "duction file already gives."
    assert prose_of('ut saying so.", "issues": [] }') == "ut saying so."
    assert prose_of('{"text": "He says \\"no\\".\\nThen", "dual": false } ] }') == (
        'He says "no". Then'
    )
    assert prose_of('"verdict": "approve", "summary": "Good. 3 beats') == "approve · Good. 3 beats"
    assert prose_of('He said "no" twice.') == 'He said "no" twice.'  # plain text stays
    # a form's words are not the agent's: an element's type, a claimed territory
    assert prose_of('{"type": "character", "text": "MARA"}, {"type": "dialogue", "text": "Hel') == (
        "MARA · Hel"
    )
    assert prose_of('isn\'t it?", "claim": "approval_required" }') == "isn't it?"


async def test_at_80x24_the_agents_pane_shows_text_not_json(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        agents = app.query_one(AgentActivity)
        region = agents.content_region
        rows = screen_text(app).splitlines()[region.y : region.bottom]
        tails = [r[region.x : region.right] for r in rows if "↳" in r]
        assert tails
        for line in tails:
            assert not any(c in line for c in '{}[]"'), line


def first_scene(view: ProductionView) -> dict[str, Any]:
    """scene-01's first scene in its current version (its heading, its elements)."""
    current = versions.current(view, "scene-01")
    assert current is not None
    scene: dict[str, Any] = current.content["scenes"][0]
    return scene


def test_a_screenplay_reads_as_a_screenplay_in_the_task_details(view: ProductionView) -> None:
    text = task_text(view, "scene-01").plain
    assert " / " not in text and "character" not in text
    lines = text.splitlines()
    assert first_scene(view)["heading"] in lines  # the scene heading on its own line
    cues = {e["text"] for e in first_scene(view)["elements"] if e["type"] == "character"}
    assert cues and cues <= set(lines)  # cues on their own lines, as printed
    assert not any(line.startswith(("@", "!")) for line in lines)


def test_the_inbox_excerpt_keeps_the_lines_and_says_how_many_more(view: ProductionView) -> None:
    excerpt = readable(view.artifacts["scene-01-v1"], 6)
    lines = excerpt.splitlines()
    assert len(lines) == 7 and lines[-1].startswith("… ") and "more line(s)" in lines[-1]


async def test_at_80x24_a_scenes_details_scroll_through_the_formatted_scene(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TaskDetailScreen(view, "scene-01"))
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen), "the details")
        await until(pilot, lambda: "state" in screen_text(app), "the details drawn")
        seen = ""
        for _ in range(30):
            seen += screen_text(app)
            await pilot.press("pagedown")
            await pilot.pause()
        scene = first_scene(view)
        parenthetical = next(e["text"] for e in scene["elements"] if e["type"] == "parenthetical")
        assert scene["heading"] in seen and parenthetical in seen
        assert " / character / " not in seen


def test_a_transcript_entry_hangs_its_wrapped_lines_under_the_speaker() -> None:
    console = Console(width=30, file=io.StringIO(), color_system=None, legacy_windows=False)
    turn = Text("  Callum: keep the speech; it is the only time Elias says it aloud.")
    with console.capture() as captured:
        console.print(Hanging(turn, 4))
    lines = captured.get().rstrip("\n").splitlines()
    assert len(lines) > 1 and lines[0].startswith("  Callum:")
    assert all(line.startswith("    ") and line[4] != " " for line in lines[1:]), lines


def test_the_role_is_said_only_where_the_name_does_not_say_it() -> None:
    assert with_role("writer", "writer") == ""
    assert with_role("Callum", "writer") == " (writer)"
    assert with_role("dp", "director_of_photography") == " (director of photography)"


def test_an_escalation_head_says_its_kind_once_and_a_command_is_yours() -> None:
    from podium.tui.widgets.escalation_detail import _readable_detail

    said = _readable_detail("requested by command tui-807a3c1e9f00: 3 complete drafts")
    assert said == "requested by you: 3 complete drafts"


async def test_a_collaborative_items_head_says_collaborative_once(view: ProductionView) -> None:
    from podium.domain.escalation import EscalationKind
    from podium.tui.widgets.escalation_detail import EscalationDetail, card_for

    item = next(e for e in view.open_escalations() if e.kind is EscalationKind.COLLABORATIVE)
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        app.screen.query_one(EscalationDetail).card = card_for(view, item)
        await pilot.pause()
        shown = screen_text(app)
        assert "collaborative · " in shown and "· collaborative ·" not in shown, shown
