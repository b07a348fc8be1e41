"""The header line: where the production stands, at a glance."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from podium.domain import health
from podium.domain.events import ProductionState
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.tui.format import clock_time, money, tokens

BAR_CELLS = 12


def current_phase(view: ProductionView) -> str:
    """The phases with work running, else the first with work left."""
    running: list[str] = []
    waiting: list[str] = []
    for record in view.tasks.values():
        phase = record.spec.phase or record.spec.kind.value
        if record.state is TaskState.RUNNING and phase not in running:
            running.append(phase)
        elif not record.state.settled and phase not in waiting:
            waiting.append(phase)
    if running:
        return ", ".join(running[:3])
    return waiting[0] if waiting else "—"


class StatusBar(Static):
    """Title, state, phase, progress, budget, time against the deadline, health, pause."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--title",
        "status-bar--label",
        "status-bar--paused",
        "status-bar--ok",
        "status-bar--guide",
        "status-bar--correct",
        "status-bar--bar",
    }

    DEFAULT_CSS = """
    StatusBar { height: 2; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, view: ProductionView, now: float, db_label: str = "") -> None:
        """Redraw from the view; called at most once per refresh tick."""
        text = Text.assemble(self._first_line(view, db_label), "\n", self._second(view, now))
        self.update(text, layout=False)  # always two lines: no need to lay the screen out again

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"status-bar--{name}", partial=True)

    def _first_line(self, view: ProductionView, db_label: str) -> Text:
        title = view.spec.production.title if view.spec else "production"
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(title, style=self._style("title"))
        if view.spec is not None:
            line.append(f"  {view.spec.production.format.value.replace('_', ' ')}")
        line.append("  ·  ")
        line.append(view.state.value, style=self._style("label"))
        if view.state_reason:
            line.append(f" ({view.state_reason})")
        if view.paused:
            line.append("  ·  ")
            line.append("‖ PAUSED", style=self._style("paused"))
        if db_label:
            line.append(f"  ·  {db_label}")
        return line

    def _second(self, view: ProductionView, now: float) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        total = len(view.tasks)
        done = sum(1 for r in view.tasks.values() if r.state.settled)
        share = done / total if total else 0.0
        filled = round(share * BAR_CELLS)
        line.append("phase ", style=self._style("label"))
        line.append(current_phase(view))
        line.append("  ·  ")
        line.append("▰" * filled, style=self._style("bar"))
        line.append("▱" * (BAR_CELLS - filled))
        line.append(f" {done}/{total} ({share:.0%})")
        line.append("  ·  budget ", style=self._style("label"))
        line.append(self._budget(view))
        line.append("  ·  time ", style=self._style("label"))
        line.append(self._time(view, now))
        level = health.overall(view, now)
        line.append("  ·  health ", style=self._style("label"))
        name = ("ok", "guide", "correct")[level]
        line.append(f"● {level.label}", style=self._style(name))
        return line

    @staticmethod
    def _budget(view: ProductionView) -> str:
        limits = view.constraints
        spent = money(view.total_cost())
        if limits is not None and limits.budget_usd:
            return f"{spent} / {money(limits.budget_usd)}"
        if limits is not None and limits.budget_tokens:
            return f"{tokens(view.tokens())} / {tokens(limits.budget_tokens)} tokens"
        return f"{spent} (no limit) · {tokens(view.tokens())} tokens"

    @staticmethod
    def _time(view: ProductionView, now: float) -> str:
        limits = view.constraints
        deadline = limits.deadline if limits is not None else None
        if view.first_start is None:
            elapsed = "not started"
        else:
            end = now
            if view.state is ProductionState.COMPLETED and view.last_end is not None:
                end = view.last_end
            elapsed = clock_time(end - view.first_start)
        if deadline:
            return f"{elapsed} / {clock_time(deadline)}"
        return elapsed
