"""The inbox on a short terminal: at 80x24 its list had 40% of the pane, three items; a short
screen (`SHORT_ROWS`) lists five, the detail below keeps the item's title and a line of its
facts, and the other panes keep their size. A tall terminal is as before."""

from __future__ import annotations

import copy

from textual.geometry import Size

from podium.domain.state import ProductionView
from podium.tui.widgets.escalation_detail import EscalationDetail
from podium.tui.widgets.escalation_inbox import EscalationInbox

from .conftest import app_for, screen_text

PANES = ("#tasks-pane", "#agents-pane", "#transcript-pane", "#inbox-pane")


def crowded(view: ProductionView, extra: int) -> ProductionView:
    """`view` with `extra` more open items, copies of its first."""
    crowd = copy.deepcopy(view)
    first = next(iter(crowd.open_escalations()))
    for n in range(extra):
        esc = first.model_copy(update={"id": f"{first.id}-x{n}", "title": f"Extra item {n}"})
        crowd.escalations[esc.id] = esc
    return crowd


async def layout(view: ProductionView, size: tuple[int, int]) -> tuple[int, int, list[Size], str]:
    app = app_for(view)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        inbox, detail = app.query_one(EscalationInbox), app.query_one(EscalationDetail)
        panes = [app.query_one(pane) for pane in PANES]
        return inbox.size.height, detail.size.height, [p.size for p in panes], screen_text(app)


async def test_a_short_terminal_lists_five_items_and_keeps_the_detail_s_title(
    view: ProductionView,
) -> None:
    listed, detail, panes, text = await layout(crowded(view, 5), (80, 24))
    assert listed == 5
    assert detail == 3
    assert "Extra item 3" in text
    assert "Choose an alternative for Scene" in text and "approval gate · normal" in text
    _, _, few_panes, _ = await layout(view, (80, 24))
    assert panes == few_panes  # the panes are the same size with two items or seven


async def test_a_tall_terminal_keeps_its_inbox_as_it_was(view: ProductionView) -> None:
    listed, detail, _, _ = await layout(crowded(view, 20), (160, 48))
    assert (listed, detail) == (8, 12)  # 40% of the pane's 21 rows, the rest below its rule


async def test_a_shorter_terminal_keeps_three_lines_of_detail(view: ProductionView) -> None:
    listed, detail, _, _ = await layout(crowded(view, 5), (80, 22))
    assert (listed, detail) == (3, 4)  # 40% of the pane, as before: 5 would leave the detail 2
