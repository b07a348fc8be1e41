"""Versions on the screen (issue 16): `d` in a task's details shows the previous and the
current version as a unified diff; an alternatives item shows its drafts one at a time, each
against the current, and choosing one approves with its option."""

from __future__ import annotations

from pathlib import Path

from podium.domain import versions as versions_of
from podium.domain.escalation import Escalation, EscalationKind, Option, Priority
from podium.engine.engine import Engine
from podium.tui.screens.alternatives import Picked
from podium.tui.screens.task_detail import TaskDetailScreen
from podium.tui.screens.versions_diff import DraftsScreen, drafts_of, is_alternatives

from ..engine.harness import Script, open_engine, production
from ..engine.test_edit_restore import edit
from ..engine.test_lineage import film
from .conftest import app_for, screen_text, until_shown


async def edited(tmp_path: Path) -> Engine:
    engine = await open_engine(production(film()), tmp_path / "p.db", Script())
    await engine.run()
    result = await engine.apply_offline(
        edit("scene-2", "EXT. PIER - DAWN", "Written [b]by[/b] hand.")
    )
    assert result.applied, result.detail
    return engine


async def test_d_in_a_tasks_details_shows_the_diff_of_previous_and_current(
    tmp_path: Path,
) -> None:
    engine = await edited(tmp_path)
    app = app_for(engine.view)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(TaskDetailScreen(engine.view, "scene-2"))
        await pilot.pause()
        await pilot.press("d")
        await until_shown(pilot, "+.EXT. PIER - DAWN")
        shown = screen_text(app)
        assert "scene-2 v1" in shown and "scene-2 v2" in shown
        assert "+Written [b]by[/b] hand." in shown  # literal, never markup


async def test_the_drafts_show_one_at_a_time_and_enter_picks_the_shown_one(
    tmp_path: Path,
) -> None:
    engine = await edited(tmp_path)
    view = engine.view
    first, current = versions_of.versions(view, "scene-2")[:2]
    escalation = Escalation(
        id="esc-alt",
        kind=EscalationKind.APPROVAL_GATE,
        priority=Priority.NORMAL,
        title="Choose an alternative for scene 2",
        task_id="scene-2",
        artifact_ids=[first.id, current.id],
        options=[Option(id="alt1", label="Alternative 1"), Option(id="keep", label="Keep")],
    )
    assert is_alternatives(escalation)
    picked: list[Picked | None] = []
    app = app_for(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(DraftsScreen(escalation.title, drafts_of(view, escalation)), picked.append)
        await until_shown(pilot, "1 of 2")
        assert "-.EXT. PIER - DAWN" in screen_text(app)
        await pilot.press("n")
        await until_shown(pilot, "2 of 2")
        assert "changes nothing" in screen_text(app)
        await pilot.press("left")
        await until_shown(pilot, "1 of 2")
        await pilot.press("enter")
        await pilot.pause()
    assert picked == [Picked("alt1")]
