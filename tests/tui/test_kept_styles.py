"""The task tree's and the transcript's component styles are kept for each state of their
place (`steady.KeptComponentStyles`, issue 20): a move of the focus back to a state seen before
takes them instead of matching every component class against the stylesheet again, and what
it takes is what Textual would work out; a new theme forgets them. The tree keeps its lines
for each of those styles too (`steady.lines_for_styles`), and draws again only what changed."""

from __future__ import annotations

from typing import Any

from textual.cache import LRUCache
from textual.dom import DOMNode
from textual.widget import Widget

from podium.domain.state import ProductionView
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.search_line import SearchInput
from podium.tui.widgets.steady import KeptComponentStyles
from podium.tui.widgets.task_tree import TaskTree

from .conftest import app_for


def worked_out(widget: Widget) -> dict[str, Any]:
    """Each component class's rules as Textual works them out now, on a fresh virtual node."""
    stylesheet = widget.app.stylesheet
    out = {}
    for name in sorted(super(KeptComponentStyles, widget)._get_component_classes()):  # type: ignore[misc]
        node = DOMNode(classes=name)
        node._attach(widget)
        stylesheet.apply(node)
        out[name] = node._css_styles.get_rules()
    return out


def held(widget: Widget) -> dict[str, Any]:
    return {
        name: styles._base_styles.get_rules()
        for name, styles in sorted(widget._component_styles.items())
    }


async def test_a_focus_moved_back_takes_the_kept_styles_and_they_are_textuals(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TaskTree)
        transcript = app.screen.query_one(DebateTranscript)
        for _ in range(3):  # each state twice at least: worked out once, then kept
            for focus in (transcript, tree):
                app.screen.set_focus(focus)
                await pilot.pause()
                for widget in (tree, transcript):
                    assert held(widget) == worked_out(widget), type(widget).__name__
        # Back in a state seen before: nothing left for the stylesheet to work out.
        assert tree._get_component_classes() == frozenset()
        assert transcript._get_component_classes() == frozenset()
        field = app.screen.query_one(SearchInput)
        for _ in range(2):  # the search field, focused by `/` and left by esc
            await pilot.press("slash")
            await pilot.pause()
            focused: Any = app.focused
            assert focused is field and held(field) == worked_out(field)
            await pilot.press("escape")
            await pilot.pause()
            focused = app.focused
            assert focused is tree and held(field) == worked_out(field)
        assert field._get_component_classes() == frozenset()

        focused_cursor = tree.get_component_rich_style("tree--cursor")
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        await pilot.pause()
        for widget in (tree, transcript):
            assert held(widget) == worked_out(widget), type(widget).__name__
        assert tree.get_component_rich_style("tree--cursor") != focused_cursor


def drawn(tree: TaskTree) -> list[Any]:
    """The tree's visible lines as `render_line` gives them (from its line cache)."""
    tree._pseudo_class_state = tree.get_pseudo_class_state()
    return [tree.render_line(y) for y in range(tree.size.height)]


def drawn_afresh(tree: TaskTree) -> list[Any]:
    kept = tree._line_cache
    tree._line_cache = LRUCache(kept.maxsize)
    try:
        return drawn(tree)
    finally:
        tree._line_cache = kept


async def test_the_tree_keeps_its_lines_for_focused_and_not_and_draws_what_changed(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TaskTree)
        transcript = app.screen.query_one(DebateTranscript)
        steps = ["away", "back", "j", "away", "back", "enter", "away", "j", "back", "away"]
        for step in steps * 2:
            if step == "away":
                app.screen.set_focus(transcript)
            elif step == "back":
                app.screen.set_focus(tree)
            else:
                app.screen.set_focus(tree)
                await pilot.pause()
                await pilot.press(step)
            await pilot.pause()
            assert drawn(tree) == drawn_afresh(tree), step
        # The focus moved back and forth with nothing else changed: no line drawn again.
        app.screen.set_focus(tree)
        await pilot.pause()
        drawn(tree)
        misses = tree._line_cache.misses
        for focus in (transcript, tree):
            app.screen.set_focus(focus)
            await pilot.pause()
            drawn(tree)
        assert tree._line_cache.misses == misses
