"""One agent in the activity pane: who, doing what, the tail of its writing, and a sparkline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from podium.domain.events import AgentState
from podium.domain.state import AgentRecord
from podium.tui.format import AGENT_GLYPH, money, tail, tokens

SPARK_WIDTH = 18


class AgentRow(Horizontal):
    """Two lines of text beside an activity sparkline; the pane decides which row is current."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "agent-row--name",
        "agent-row--dim",
        "agent-row--tail",
        *(f"agent-row--{state.value}" for state in AgentState),
    }

    DEFAULT_CSS = """
    AgentRow { height: 2; }
    AgentRow > .row-text { width: 1fr; height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    AgentRow > Sparkline { width: 18; height: 2; margin: 0 1 0 1; }
    """

    def __init__(self, *, agent_id: str) -> None:
        super().__init__(id=f"agent-{agent_id}")
        self.agent_id = agent_id
        self._record: AgentRecord | None = None
        self._series: list[float] = []

    def compose(self) -> ComposeResult:
        yield Static(classes="row-text", markup=False)
        yield Sparkline([0.0], summary_function=max)

    def show(self, record: AgentRecord, series: Sequence[float]) -> None:
        """Redraw from the agent's record and its chunks-per-second history."""
        self._record = record
        self._series = list(series)
        if not self.is_mounted:
            return
        text = self.query_one(".row-text", Static)
        width = text.size.width or 60
        text.update(self._text(record, width), layout=False)
        spark = self.query_one(Sparkline)
        if spark.data != self._series:
            spark.data = self._series or [0.0]

    def on_mount(self) -> None:
        if self._record is not None:
            self.call_after_refresh(self.show, self._record, self._series)

    def on_resize(self) -> None:
        if self._record is not None:
            self.call_after_refresh(self.show, self._record, self._series)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"agent-row--{name}", partial=True)

    def _text(self, record: AgentRecord, width: int) -> Text:
        spec = record.spec
        first = Text(no_wrap=True, overflow="ellipsis")
        first.append(f"{AGENT_GLYPH[record.state]} ", style=self._style(record.state.value))
        first.append(spec.name, style=self._style("name"))
        role = spec.role.value.replace("_", " ")
        if spec.character:
            role = f"as {spec.character}"
        if role not in spec.name.lower():
            first.append(f"  {role}", style=self._style("dim"))
        first.append(f"  {record.state.value}", style=self._style(record.state.value))
        if record.task_id:
            first.append(f"  {record.task_id}")
        used = tokens(record.input_tokens + record.output_tokens)
        cost = "$?" if record.cost_unknown and not record.cost_usd else money(record.cost_usd)
        first.append(f"  {used} tok · {cost}", style=self._style("dim"))
        if record.failures:
            first.append(f" · {record.failures} failed", style=self._style("failed"))
        second = Text(no_wrap=True, overflow="ellipsis")
        second.append("  ↳ ", style=self._style("dim"))
        if record.tail:
            second.append(tail(record.tail, max(10, width - 5)), style=self._style("tail"))
        elif record.last_report:
            second.append(tail(record.last_report, max(10, width - 5)), style=self._style("dim"))
        else:
            second.append("—", style=self._style("dim"))
        both = Text(no_wrap=True, overflow="ellipsis")
        both.append_text(first)
        both.append("\n")
        both.append_text(second)
        return both
