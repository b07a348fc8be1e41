"""The search line opens, takes typing and closes without laying the panes out again (issue
20: on a 2,000-task production each relayout repainted every pane): it lies over the panes'
bottom border, just above the footer, and its field has a fixed size."""

from __future__ import annotations

from typing import Any

from podium.domain.state import ProductionView
from podium.tui.widgets.search_line import SearchLine

from .conftest import app_for, screen_text, type_text

NARROW = (80, 24)


def regions(app: Any) -> dict[str, Any]:
    screen = app.screen
    return {
        name: screen.query_one(name).region
        for name in ("#panes", "#tasks-pane", "#transcript-pane", "#inbox-pane", "PodiumFooter")
    }


async def test_opening_and_closing_the_line_leaves_the_panes_and_the_footer_where_they_are(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        before = regions(app)
        await pilot.press("slash")
        await pilot.pause()
        line = app.screen.query_one(SearchLine)
        assert line.is_open
        assert regions(app) == before
        footer = before["PodiumFooter"]
        assert line.region.y == footer.y - 1 and line.region.width == footer.width
        rows = screen_text(app).splitlines()
        assert rows[footer.y - 1].startswith(" /words, or a task id")  # just above the footer
        assert rows[footer.y].startswith("^p commands / search")  # an Input takes ? and q
        await type_text(pilot, "outline")
        await pilot.press("enter")
        await pilot.pause()
        assert regions(app) == before
        rows = screen_text(app).splitlines()
        assert rows[footer.y - 1].startswith(" /outline")
        assert "match 1 of" in rows[footer.y - 1]
        assert rows[footer.y].startswith("? help q quit : commands")
        await pilot.press("escape")
        await pilot.pause()
        assert not line.is_open
        assert regions(app) == before
        rows = screen_text(app).splitlines()
        assert rows[footer.y - 1].startswith("╰")  # the panes' border again


async def test_a_typed_character_repaints_the_field_without_a_layout(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        screen = app.screen
        layouts: list[object] = []
        relayout = screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            layouts.append(args)
            relayout(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]
        field = screen.query_one(SearchLine).input
        await type_text(pilot, "a long query past the field's twenty cells")
        await pilot.pause()
        assert layouts == []
        assert field.value == "a long query past the field's twenty cells"
        # The field still scrolls to keep its cursor in view.
        assert field.scroll_x > 0
        assert "twenty cells" in screen_text(app).splitlines()[field.region.y]


async def test_a_focus_move_repaints_what_it_restyles_not_the_whole_screen(
    view: ProductionView,
) -> None:
    """Textual's Screen repaints every pane on a change of focus; the conductor leaves that to
    the widgets whose look changes (the panes' borders, the field), so `/` and enter do not
    repaint the 2,000-task tree and the transcript."""
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        screen = app.screen
        tasks = screen.query_one("#tasks-pane")
        agents = screen.query_one("#agents-pane")
        assert tasks.has_pseudo_class("focus-within")
        screen.set_focus(screen.query_one("#agents"))
        assert not screen._repaint_required
        await pilot.pause()
        assert agents.has_pseudo_class("focus-within")
        assert not tasks.has_pseudo_class("focus-within")
        primary = agents.styles.border_top[1]
        assert tasks.styles.border_top[1] != primary  # the borders restyled themselves


async def test_a_focus_move_restyles_the_two_panes_borders_not_what_they_hold(
    view: ProductionView, monkeypatch: Any
) -> None:
    """The focused pane's border is set on the pane alone: moving the focus into the inbox
    restyles the widgets that gained and lost it, not the inbox's detail and its cards."""
    from textual.css.stylesheet import Stylesheet

    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        screen = app.screen
        tasks, inbox = screen.query_one("#tasks-pane"), screen.query_one("#inbox-pane")
        restyled: list[Any] = []
        apply = Stylesheet.apply

        def counting(self: Stylesheet, node: Any, *args: Any, **kwargs: Any) -> None:
            restyled.append(node)
            apply(self, node, *args, **kwargs)

        monkeypatch.setattr(Stylesheet, "apply", counting)
        screen.set_focus(screen.query_one("#inbox"))
        await pilot.pause()
        detail = screen.query_one("#detail")
        assert not {detail, *detail.query("*")} & set(restyled)
        assert inbox.has_pseudo_class("focus-within") and inbox.styles.border_title_style.bold
        assert inbox.styles.border_top[1] != tasks.styles.border_top[1]
        assert not tasks.styles.border_title_style.bold
