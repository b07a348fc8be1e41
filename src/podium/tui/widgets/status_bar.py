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
from podium.tui.format import Part, clip, clock_time, fit, money, tokens

BAR_CELLS = 12
SHORT_LEVEL = ("ok", "guide", "correct")  # health.Level, in a word


def budget_text(view: ProductionView, *, compact: bool = False) -> str:
    """The binding budget, as `podium status` counts it: with both a dollar and a token
    budget set, the one nearer its limit; its share used, once a limit is set."""
    limits = view.constraints
    spent = money(view.total_cost())
    used_tokens = view.tokens()
    by_tokens = by_usd = -1.0
    if limits is not None and limits.budget_tokens:
        by_tokens = used_tokens / limits.budget_tokens
    if limits is not None and limits.budget_usd:
        by_usd = view.cost_usd / limits.budget_usd
    of = "/" if compact else " / "
    if limits is not None and limits.budget_tokens and by_tokens >= by_usd:
        return f"{tokens(used_tokens)}{of}{tokens(limits.budget_tokens)} tok ({by_tokens:.0%})"
    if limits is not None and limits.budget_usd:
        return f"{spent}{of}{money(limits.budget_usd)} ({by_usd:.0%})"
    if compact:
        return f"{spent} · {tokens(used_tokens)} tok"
    return f"{spent} (no limit) · {tokens(used_tokens)} tok"


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
    """Title, state, phase, progress, budget, time against the deadline, health, pause.

    In a narrow terminal the less useful parts go first (the file, the format, the reason,
    the progress bar), so what matters stays readable."""

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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[ProductionView, float, str, str | None] | None = None

    def show(
        self, view: ProductionView, now: float, db_label: str = "", engine_lost: str | None = None
    ) -> None:
        """Redraw from the view; called at most once per refresh tick."""
        self._shown = (view, now, db_label, engine_lost)
        width = self.content_region.width or 158
        text = Text.assemble(
            fit(self._first_line(view, db_label, engine_lost), width),
            "\n",
            fit(self._second(view, now), width),
        )
        self.update(text, layout=False)  # always two lines: no need to lay the screen out again

    def on_resize(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"status-bar--{name}", partial=True)

    def _first_line(
        self, view: ProductionView, db_label: str, engine_lost: str | None
    ) -> list[Part]:
        title = view.spec.production.title if view.spec else "production"
        label = self._style("label")
        parts: list[Part] = [(0, Text(title, style=self._style("title")), None)]
        if view.spec is not None:
            kind = view.spec.production.format.value.replace("_", " ")
            parts.append((4, Text(f"  {kind}"), None))
        completed = view.state is ProductionState.COMPLETED
        state = ("✓ completed", self._style("ok")) if completed else (view.state.value, label)
        parts.append((0, Text.assemble("  ·  ", state), None))
        if view.state_reason and not completed:
            parts.append((3, Text(f" ({view.state_reason})"), None))
        if view.paused:
            parts.append((0, Text.assemble("  ·  ", ("‖ PAUSED", self._style("paused"))), None))
        if completed:
            # Nothing to resume (an engine that stopped because the work is done is no loss).
            parts.append((2, Text("  ·  e exports it"), None))
        elif engine_lost is not None:
            gone = Text.assemble("  ·  ", ("✗ NO ENGINE", self._style("correct")))
            parts.append((0, gone, None))
            parts.append((2, Text(f": {engine_lost}"), None))
        if db_label:
            parts.append((5, Text(f"  ·  {db_label}"), None))
        return parts

    def _second(self, view: ProductionView, now: float) -> list[Part]:
        total = len(view.tasks)
        done = sum(1 for r in view.tasks.values() if r.state.settled)
        share = done / total if total else 0.0
        filled = round(share * BAR_CELLS)
        level = health.overall(view, now)
        style = self._style(("ok", "guide", "correct")[level])
        mark, short_mark = (f"● {level.label}", style), (f"● {SHORT_LEVEL[level]}", style)
        label = self._style("label")
        budget, spent = budget_text(view), self._time(view, now)
        short_budget, short_time = budget_text(view, compact=True), spent.replace(" / ", "/")
        bar = Text.assemble(("▰" * filled, self._style("bar")), "▱" * (BAR_CELLS - filled), " ")
        phase = current_phase(view)
        # The labels "phase" and "health" stay at any width: the values shorten instead.
        return [
            (
                4,
                Text.assemble(("phase ", label), phase, "  ·  "),
                Text.assemble(("phase ", label), clip(phase, 12), " · "),
            ),
            (5, bar, None),
            (1, Text(f"{done}/{total} ({share:.0%})"), Text(f"{done}/{total}")),
            (3, Text.assemble(("  ·  budget ", label), budget), Text(f" · {short_budget}")),
            (3, Text.assemble(("  ·  time ", label), spent), Text(f" · {short_time}")),
            (
                3,
                Text.assemble(("  ·  health ", label), mark),
                Text.assemble((" · health ", label), short_mark),
            ),
        ]

    @staticmethod
    def _time(view: ProductionView, now: float) -> str:
        limits = view.constraints
        deadline = limits.deadline if limits is not None else None
        if view.first_start is None:
            elapsed = "not started"
        else:  # working time, as the deadline counts it: not while paused or stopped
            elapsed = clock_time(view.working_s(now))
        if deadline:
            return f"{elapsed} / {clock_time(deadline)}"
        return elapsed
