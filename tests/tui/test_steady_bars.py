"""The panes' scrollbars draw their lines again only when what they show changed
(`steady.SteadyScrollBar`, issue 20): a restyle of their widget (each move of the focus) or a
layout that tells them the same size asked for all their lines again. What they keep is what
Textual draws afresh, across focus moves, scrolling, a hover and a theme change."""

from __future__ import annotations

from typing import Any

from textual.scrollbar import ScrollBar
from textual.widget import Widget

from podium.domain.state import ProductionView
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.steady import SteadyScrollBar
from podium.tui.widgets.task_tree import TaskTree

from .conftest import app_for


def kept(bar: ScrollBar) -> list[Any]:
    return bar.render_lines(bar.size.region)


def afresh(bar: ScrollBar) -> list[Any]:
    bar._styles_cache.clear()
    return ScrollBar.render_lines(bar, bar.size.region)


def bars(*widgets: Widget) -> list[ScrollBar]:
    return [w.vertical_scrollbar for w in widgets if w.show_vertical_scrollbar]


async def test_the_scrollbars_keep_their_lines_and_they_are_textuals(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TaskTree)
        transcript = app.screen.query_one(DebateTranscript)
        app.screen.set_focus(tree)
        await pilot.pause()
        for _ in range(12):  # open what there is, so the tree scrolls
            await pilot.press("enter", "j")
        await pilot.pause()
        shown = bars(tree, transcript)
        assert shown and all(isinstance(bar, SteadyScrollBar) for bar in shown)
        steps = ["away", "back", "j", "G", "away", "back", "g", "hover", "theme", "away"]
        for step in steps:
            if step == "away":
                app.screen.set_focus(transcript)
            elif step == "back":
                app.screen.set_focus(tree)
            elif step == "hover":
                shown[0].mouse_over = not shown[0].mouse_over
            elif step == "theme":
                app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
                await pilot.pause()
            else:
                app.screen.set_focus(tree)
                await pilot.press(step)
            await pilot.pause()
            for bar in bars(tree, transcript):
                assert kept(bar) == afresh(bar), step

        # The focus moved back and forth with nothing else changed: no bar drawn again.
        drawn: list[ScrollBar] = []
        render = ScrollBar.render_lines
        ours = bars(tree, transcript)

        def counted(bar: ScrollBar, crop: Any) -> Any:
            if bar in ours:
                drawn.append(bar)
            return render(bar, crop)

        ScrollBar.render_lines = counted  # type: ignore[method-assign, assignment]
        try:
            for focus in (transcript, tree, transcript, tree):
                app.screen.set_focus(focus)
                await pilot.pause()
                for bar in bars(tree, transcript):
                    kept(bar)
        finally:
            ScrollBar.render_lines = render  # type: ignore[method-assign]
        assert drawn == []
