"""What the search keys no longer draw again (issue 20): a pane's border and titles in a look it
was drawn in before (`steady.KeptLines`: the focus moving between panes, a filter set and
cleared), and the transcript when a search that found no entry of it says "no match here"
again. What is drawn instead is what Textual draws."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.geometry import Region
from textual.widget import Widget

from podium.domain.state import ProductionView
from podium.tui.screens.conductor import ConductorScreen, Pane
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.footer import PodiumFooter
from podium.tui.widgets.steady import KeptLines
from podium.tui.widgets.task_tree import TaskTree

from .conftest import app_for

RENDER_LINES = Widget.render_lines


@contextmanager
def drawn_widgets() -> Iterator[list[Widget]]:
    """The widgets whose lines are drawn while it is open, in order."""
    drawn: list[Widget] = []

    def counted(widget: Widget, crop: Any) -> Any:
        drawn.append(widget)
        return RENDER_LINES(widget, crop)

    Widget.render_lines = counted  # type: ignore[method-assign]
    try:
        yield drawn
    finally:
        Widget.render_lines = RENDER_LINES  # type: ignore[method-assign]


def textuals(pane: Widget) -> list[Any]:
    """The pane's lines as Textual draws them now, from nothing."""
    pane._styles_cache.clear()
    return RENDER_LINES(pane, Region(0, 0, *pane.size))


async def test_a_pane_in_a_look_it_had_before_is_not_drawn_again(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConductorScreen)
        panes = list(screen.query(Pane))
        assert len(panes) == 4
        with drawn_widgets() as drawn:
            tree = screen.query_one(TaskTree)
            transcript = screen.query_one(DebateTranscript)
            steps: list[tuple[str, list[Widget]]] = []
            for name in ("transcript", "filter", "tree", "transcript", "filter", "tree"):
                if name == "filter":
                    screen.set_filter("t1")
                else:
                    screen.set_filter("")
                    screen.set_focus(tree if name == "tree" else transcript)
                await pilot.pause()
                steps.append((name, [w for w in drawn if isinstance(w, Pane)]))
                for pane in panes:  # what the screen shows is what Textual draws
                    assert pane.render_lines(Region(0, 0, *pane.size)) == textuals(pane)
                drawn.clear()
        first, again = steps[:2], steps[2:]
        assert all(panes_drawn for _, panes_drawn in first)  # a new look: drawn
        assert [panes_drawn for _, panes_drawn in again] == [[], [], [], []]  # seen: kept
        transcript_pane = screen.query_one("#transcript-pane", Pane)
        assert "filter: t1" not in str(transcript_pane.border_subtitle or "")


async def test_no_match_in_the_transcript_again_draws_nothing_again(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        transcript = app.screen.query_one(DebateTranscript)
        assert transcript.match is None
        assert not transcript._repaint_required
        transcript.show_match(None)  # a search whose match is a task; a clear
        assert not transcript._repaint_required
        entry = transcript.search("t")[0]
        transcript.show_match(entry)
        await pilot.pause()
        transcript.show_match(None)  # the highlight goes: drawn again
        assert transcript._repaint_required


def fresh_tree_lines(tree: TaskTree) -> list[Any]:
    """The tree's lines drawn by Textual from nothing: no line or styles cache."""
    tree._line_cache.clear()
    tree._styles_cache.clear()
    return super(KeptLines, tree).render_lines(Region(0, 0, *tree.size))  # type: ignore[misc]


async def test_the_tree_in_a_look_it_had_before_is_not_drawn_again(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = app.screen
        tree = screen.query_one(TaskTree)
        transcript = screen.query_one(DebateTranscript)
        again: list[bool] = []
        with drawn_widgets() as drawn:
            for step in ["j", "enter", "j", "j", "k", "focus", "focus", "focus", "focus"]:
                if step == "focus":
                    screen.set_focus(transcript if tree.has_focus else tree)
                else:
                    screen.set_focus(tree)
                    await pilot.press(step)
                await pilot.pause()
                again.append(tree in drawn)
                shown = tree.render_lines(Region(0, 0, *tree.size))
                assert shown == fresh_tree_lines(tree), step
                drawn.clear()
        # A key that changed lines: drawn (line by line, as Textual does: no look kept). The
        # focus away and back: each look drawn whole, and kept; away and back again: kept.
        assert again == [True, True, True, True, True, True, True, False, False]


async def test_the_footer_back_to_keys_it_showed_is_not_drawn_again(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(PodiumFooter)
        again: list[bool] = []
        with drawn_widgets() as drawn:
            for key in ["slash", "escape", "slash", "escape", "tab", "shift+tab"]:
                await pilot.press(key)
                await pilot.pause()
                again.append(footer in drawn)
                shown, spans = footer.render_lines(Region(0, 0, *footer.size)), footer._spans
                assert shown == textuals(footer), key  # and its spans are the drawn ones:
                assert spans == footer._spans, key
                drawn.clear()
        assert again == [True, False, False, False, True, False]  # new keys only
