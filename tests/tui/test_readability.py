"""What the audit found hard to read: highlighted inbox rows, light-theme borders, narrow
terminals, dialogs at 80×24, labels that say a thing twice, marks told apart only by colour."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rich.color import Color as RichColor
from textual.color import Color
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label

from podium.domain.events import TaskStateChanged
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.tui.app import PodiumApp
from podium.tui.screens.conductor import ConductorScreen
from podium.tui.source import StaticSource
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.escalation_inbox import EscalationInbox
from podium.tui.widgets.task_tree import TaskTree

from ..engine.harness import crew, production, tasks
from .conftest import app_for, screen_text, until

THEMES = ["podium-dark", "podium-light", "podium-ansi"]
NARROW = (80, 24)


def conductor(app: PodiumApp) -> ConductorScreen:
    screen = app.screen
    assert isinstance(screen, ConductorScreen)
    return screen


def same(a: RichColor | None, b: RichColor | None) -> bool:
    """Two colours a reader cannot tell apart (the terminal's default never equals a colour)."""
    if a is None or b is None or a.is_default or b.is_default:
        return False
    return a == b


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("focused", [False, True])
async def test_the_highlighted_inbox_row_shows_its_mark_and_kind(
    view: ProductionView, theme: str, focused: bool
) -> None:
    app = app_for(view, theme)
    async with app.run_test(size=(160, 48)) as pilot:
        inbox = app.query_one(EscalationInbox)
        if focused:
            inbox.focus()
        await pilot.pause()
        assert inbox.highlighted == 0
        row = list(inbox.render_line(0))
        text = "".join(s.text for s in row)
        assert text.lstrip().startswith("!") and "approval gate" in text
        for segment in row:
            if segment.text.strip() and segment.style is not None:
                assert not same(segment.style.color, segment.style.bgcolor), (theme, segment)


def _contrast(a: Color, b: Color) -> float:
    return abs(a.brightness - b.brightness)


async def test_unfocused_pane_borders_are_seen_in_the_light_theme(view: ProductionView) -> None:
    app = app_for(view, "podium-light")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for pane in ("#agents-pane", "#transcript-pane", "#inbox-pane"):
            widget = app.query_one(pane)
            border = widget.styles.border_top[1]
            assert _contrast(border, widget.styles.background) > 0.2, pane


async def test_at_80_columns_agent_rows_keep_state_task_and_tokens(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert re.search(r"Ailsa \(producer\)  idle  [\d.]+k? tok", shown), shown
        assert "(produc…" not in shown
        agents = app.query_one(AgentActivity)
        line = "".join(s.text for s in agents.render_line(1))
        assert "▁" not in line  # the sparkline gave its cells to the text


async def test_at_80_columns_tree_rows_and_the_header_fit_or_end_with_an_ellipsis(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        header = screen_text(app).splitlines()[:2]
        assert "waiting" in header[0]
        assert "7/26" in header[1] and "$6.00" in header[1]
        # The labels stay at 80 columns (issue 19 §1); the values shorten instead.
        assert "phase development" in header[1] and "health ● guide" in header[1]
        tree = app.query_one(TaskTree)
        width = tree.scrollable_content_region.width
        rows = ["".join(s.text for s in tree.render_line(y)) for y in range(6)]
        assert any(row.rstrip().endswith("…") for row in rows), rows
        assert tree.virtual_size.width <= width  # no row runs on out of sight
        task_rows = [row for row in rows if "├─" in row or "└─" in row]
        assert task_rows and all("awaiting approval" in r or "done" in r for r in task_rows)


async def test_narrowing_a_running_screen_wraps_the_transcript_again(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        transcript = app.query_one(DebateTranscript)
        await pilot.pause()
        wide = max(strip.cell_length for strip in transcript.lines)
        await pilot.resize_terminal(*NARROW)
        width = transcript.scrollable_content_region.width
        await until(
            pilot,
            lambda: max(s.cell_length for s in transcript.lines) <= max(width, 20),
            "the transcript to wrap at the new width",
        )
        assert wide > width


# -- dialogs at 80×24 --------------------------------------------------------------------------

DIALOGS: dict[str, tuple[str, ...]] = {
    "escalation_detail": ("focus:inbox", "enter"),
    "alternatives_picker": ("focus:inbox", "a"),
    "override": ("focus:inbox", "o"),
    "clarify_vision": ("v",),
    "adjust_constraints": ("c",),
    "help": ("question_mark",),
    "feedback": ("tab", "f"),
    "task_detail": ("down", "down", "enter"),
    "agent_detail": ("tab", "enter"),
}


async def _open(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    await pilot.pause()
    for key in keys:
        if key.startswith("focus:"):
            conductor(pilot.app).focus_pane(key.removeprefix("focus:"))
        else:
            await pilot.press(key)
        await pilot.pause()


def _inside(app: PodiumApp, widget: Any) -> bool:
    region = widget.region
    return region.height > 0 and app.screen.region.contains_region(region)


@pytest.mark.parametrize("name", sorted(DIALOGS))
async def test_every_dialog_is_usable_at_80x24(view: ProductionView, name: str) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await _open(pilot, DIALOGS[name])
        screen = app.screen
        assert not isinstance(screen, ConductorScreen), name
        box = screen.query_one(".dialog")
        assert app.screen.region.contains_region(box.region), name
        for foot in screen.query(".dialog-foot"):
            assert _inside(app, foot), name
        for button in screen.query(Button):
            assert _inside(app, button), (name, button.id)
        for error in screen.query(".error"):
            assert _inside(app, error), name


async def test_adjust_constraints_scrolls_to_its_last_field_and_shows_the_error(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await _open(pilot, ("c",))
        screen = app.screen
        last = screen.query_one("#field-retry_backoff", Input)
        last.focus()
        await pilot.pause()
        assert _inside(app, last)
        last.value = "soon"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = screen.query_one("#constraints-error")
        assert _inside(app, error)
        assert "retry_backoff" in screen_text(app) or "retry" in screen_text(app)


async def test_constraint_fields_do_not_repeat_their_hint_as_placeholder(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, ("c",))
        hints = {str(label.content) for label in app.screen.query(".field-hint").results(Label)}
        for field in app.screen.query(Input):
            assert field.placeholder not in hints, field.id
            assert field.placeholder in ("", "none"), field.id


async def test_feedback_names_the_role_once(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, ("tab", "f"))
        shown = screen_text(app)
        assert "To Ailsa (producer)" in shown and "(producer) (producer)" not in shown


async def test_the_chosen_override_mode_reads_without_colour(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await _open(pilot, ("focus:inbox", "o"))
        lines = [line for line in screen_text(app).splitlines() if "▐" in line]
        direction = next(line for line in lines if "Direction" in line)
        replacement = next(line for line in lines if "Replacement" in line)
        assert "▐●▌" in direction and "▐●▌" not in replacement
        await pilot.press("shift+tab", "down", "enter")
        await pilot.pause()
        lines = [line for line in screen_text(app).splitlines() if "▐" in line]
        replacement = next(line for line in lines if "Replacement" in line)
        assert "▐●▌" in replacement


# -- the task tree's hints -------------------------------------------------------------------------


def _waiting_view() -> ProductionView:
    from podium.domain.events import ProductionOpened, TasksPlanned

    spec = production(
        crew(("w", "writer"), ("dp", "director_of_photography"))
        + tasks(
            {"id": "a", "title": "A", "kind": "scene", "assignee": "w", "phase": "one"},
            {"id": "b", "title": "B", "kind": "look", "assignee": "dp", "phase": "one"},
            {
                "id": "c",
                "title": "C",
                "kind": "scene",
                "assignee": "w",
                "phase": "one",
                "depends_on": ["a", "b"],
            },
        )
        + '[planner]\nmode = "explicit"\n'
    )
    view = ProductionView()
    view.apply_payload(ProductionOpened(spec=spec.model_dump(mode="json")), 0.0)
    view.apply_payload(TasksPlanned(tasks=list(spec.tasks)), 0.0)
    return view


async def test_waits_on_follows_the_tasks_it_waits_on() -> None:
    view = _waiting_view()
    app = app_for(view)
    source = app.source
    assert isinstance(source, StaticSource)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: "waits on a +1" in screen_text(app), "c waits on a and b")
        for seq, payload in enumerate(
            [
                TaskStateChanged(task_id="a", state=TaskState.RUNNING),
                TaskStateChanged(task_id="a", state=TaskState.DONE),
            ],
            start=10,
        ):
            view.apply_payload(payload, 1.0)
            source.announce(seq, payload)
        await until(pilot, lambda: "waits on b" in screen_text(app), "c to wait on b alone")
        assert "waits on a" not in screen_text(app)
