"""The conductor screen's updates draw only the widgets under what changed
(`steady.SteadyCompositor`, issue 20): a move of the focus changed two panes' borders and the
footer far apart, and Textual drew every widget in the box around them. What each update
writes to the terminal is what Textual's compositor writes for the same changes."""

from __future__ import annotations

from typing import Any

from textual._compositor import Compositor
from textual.widget import Widget

from podium.domain.state import ProductionView
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.steady import SteadyCompositor
from podium.tui.widgets.task_tree import TaskTree

from .conftest import app_for


async def test_each_update_writes_what_textuals_writes_and_draws_less(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen: Any = app.screen
        compositor = screen._compositor
        assert isinstance(compositor, SteadyCompositor)
        updates: list[tuple[str, str]] = []
        drawn: list[Widget] = []
        ours = compositor.render_partial_update
        render_lines = Widget.render_lines

        def counted(widget: Widget, crop: Any) -> Any:
            drawn.append(widget)
            return render_lines(widget, crop)

        def both() -> Any:
            changed = set(compositor._dirty_regions)
            drawn.clear()
            mine = ours()
            by_us = list(drawn)
            compositor._dirty_regions.update(changed)
            textuals = Compositor.render_partial_update(compositor)
            if mine is not None:
                assert textuals is not None
                updates.append(
                    (mine.render_segments(app.console), textuals.render_segments(app.console))
                )
                drawn[:] = by_us
            return mine

        compositor.render_partial_update = both
        Widget.render_lines = counted  # type: ignore[method-assign]
        agents_drawn = []
        try:
            tree = screen.query_one(TaskTree)
            transcript = screen.query_one(DebateTranscript)
            for focus in (tree, transcript, tree):
                screen.set_focus(focus)
                await pilot.pause()
                agents_drawn.append(any(isinstance(w, AgentActivity) for w in drawn))
            for key in ["j", "enter", "j", "slash", "l", "i", "g", "h", "t", "enter"]:
                await pilot.press(key)
                await pilot.pause()
            for key in ["n", "slash", "ctrl+u", "enter", "slash", "escape", "question_mark"]:
                await pilot.press(key)
                await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        finally:
            Widget.render_lines = render_lines  # type: ignore[method-assign]
            compositor.render_partial_update = ours
        assert len(updates) > 10
        for mine, textuals in updates:
            assert mine == textuals
        assert agents_drawn == [False, False, False]  # a focus move left the agents' pane alone
