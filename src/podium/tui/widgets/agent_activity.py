"""Agent activity: one row per agent, redrawn only when that agent changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.reactive import reactive

from podium.domain.escalation import Action
from podium.domain.state import ProductionView
from podium.tui.messages import DetailsRequested, Intent, Selected
from podium.tui.widgets.agent_row import AgentRow

Series = Callable[[str], Sequence[float]]


class AgentActivity(VerticalScroll, can_focus=True):
    """The crew at work. `j`/`k` move the highlight; `f` gives the highlighted agent feedback."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f",
            "feedback",
            "feedback",
            id="feedback",
            tooltip="Give the highlighted agent feedback it keeps in mind",
        ),
        Binding(
            "enter",
            "details",
            "details",
            id="details",
            tooltip="Show the task the highlighted agent is working on",
        ),
        Binding("j,down", "move(1)", "down", show=False, id="down", tooltip="Next agent"),
        Binding("k,up", "move(-1)", "up", show=False, id="up", tooltip="Previous agent"),
        Binding("g,home", "jump(0)", "top", show=False, id="top", tooltip="First agent"),
        Binding("G,end", "jump(-1)", "bottom", show=False, id="bottom", tooltip="Last agent"),
    ]

    highlighted: reactive[int] = reactive(0)
    """Index of the highlighted agent row."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._order: list[str] = []
        self._rows: dict[str, AgentRow] = {}

    def compose(self) -> ComposeResult:
        yield from ()

    def watch_highlighted(self, old: int, new: int) -> None:
        rows = [self._rows[a] for a in self._order]
        if 0 <= old < len(rows):
            rows[old].remove_class("-highlight")
        if 0 <= new < len(rows):
            rows[new].add_class("-highlight")
            rows[new].scroll_visible(animate=False)
            self.post_message(Selected("agent", rows[new].agent_id))

    # -- updates from the screen -----------------------------------------------------------

    def sync(self, view: ProductionView, series: Series) -> None:
        """Make one row per agent (new agents are appended) and draw them all."""
        missing = [a for a in view.agents if a not in self._order]
        if missing:
            rows = [AgentRow(agent_id=agent_id) for agent_id in missing]
            self._order.extend(missing)
            self._rows.update((row.agent_id, row) for row in rows)
            self.mount_all(rows)
            for row in rows:
                row.show(view.agents[row.agent_id], series(row.agent_id))
            if len(self._order) == len(missing):
                self.call_after_refresh(self._mark_highlight)
        self.refresh_agents(view, self._order, series)

    def refresh_agents(
        self, view: ProductionView, agent_ids: Iterable[str], series: Series
    ) -> None:
        for agent_id in agent_ids:
            record = view.agents.get(agent_id)
            if record is None:
                continue
            row = self._rows.get(agent_id)
            if row is not None:
                row.show(record, series(agent_id))

    @property
    def current_agent(self) -> str | None:
        if 0 <= self.highlighted < len(self._order):
            return self._order[self.highlighted]
        return None

    def _mark_highlight(self) -> None:
        self.watch_highlighted(-1, self.highlighted)

    # -- actions -----------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        if self._order:
            self.highlighted = max(0, min(len(self._order) - 1, self.highlighted + step))

    def action_jump(self, index: int) -> None:
        if self._order:
            self.highlighted = index % len(self._order)

    def action_feedback(self) -> None:
        agent = self.current_agent
        if agent is not None:
            self.post_message(Intent(Action.FEEDBACK, agent_id=agent))

    def action_details(self) -> None:
        agent = self.current_agent
        if agent is not None:
            self.post_message(DetailsRequested(agent_id=agent))
