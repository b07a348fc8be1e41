"""Agent activity: one row per agent, redrawn only when that agent changed.

One widget draws every row through Textual's line API (`render_line`): no widget per agent,
so a streaming crew never asks the screen for a new layout, rows scrolled out of sight cost
nothing until they are shown, and a row's two lines are cached until its agent changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle

from podium.domain.escalation import Action
from podium.domain.events import AgentState
from podium.domain.state import AgentRecord, ProductionView
from podium.tui.messages import DetailsRequested, Intent, Selected
from podium.tui.widgets.agent_row import (
    PAD,
    ROW_HEIGHT,
    SPARK_MARGIN,
    has_spark,
    row_lines,
    spark_strips,
    text_strip,
    text_width,
)

Series = Callable[[str], Sequence[float]]


class AgentActivity(ScrollView, can_focus=True):
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
            tooltip="Show the task the highlighted agent is working on, else what it wrote last",
        ),
        Binding("j,down", "move(1)", "down", show=False, id="down", tooltip="Next agent"),
        Binding("k,up", "move(-1)", "up", show=False, id="up", tooltip="Previous agent"),
        Binding("g,home", "jump(0)", "top", show=False, id="top", tooltip="First agent"),
        Binding("G,end", "jump(-1)", "bottom", show=False, id="bottom", tooltip="Last agent"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "agent-row--name",
        "agent-row--dim",
        "agent-row--tail",
        "agent-row--highlight",
        "agent-row--spark-max",
        "agent-row--spark-min",
        *(f"agent-row--{state.value}" for state in AgentState),
    }

    DEFAULT_CSS = """
    AgentActivity { overflow-x: hidden; overflow-y: auto; }
    """

    highlighted: reactive[int] = reactive(0)
    """Index of the highlighted agent row."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._records: dict[str, AgentRecord] = {}
        self._series: dict[str, tuple[float, ...]] = {}
        self._styles: dict[str, Style] = {}  # component styles, until restyled
        # What is drawn, while it is current: a row's two lines of text, and each line's strip.
        self._texts: dict[str, tuple[Text, ...]] = {}
        self._strips: dict[tuple[str, int], Strip] = {}
        self._sparks: dict[str, tuple[tuple[object, ...], tuple[Strip, ...]]] = {}
        self._spark_memo: dict[tuple[object, ...], tuple[Strip, ...]] = {}
        self._drawn_width = -1

    def watch_highlighted(self, old: int, new: int) -> None:
        for index in (old, new):
            if 0 <= index < len(self._order):
                self._forget(self._order[index])
        if 0 <= new < len(self._order):
            self.scroll_to_region(
                Region(0, new * ROW_HEIGHT, max(1, self.size.width), ROW_HEIGHT),
                animate=False,
                force=True,
                x_axis=False,
            )
            self.post_message(Selected("agent", self._order[new]))

    # -- updates from the screen -----------------------------------------------------------

    def sync(self, view: ProductionView, series: Series) -> None:
        """Make one row per agent (new agents are appended) and draw them all."""
        missing = [a for a in view.agents if a not in self._index]
        if missing:
            first = not self._order
            for agent_id in missing:
                self._index[agent_id] = len(self._order)
                self._order.append(agent_id)
            self.virtual_size = Size(self.virtual_size.width, len(self._order) * ROW_HEIGHT)
            if first:
                self.call_after_refresh(self._mark_highlight)
        self.refresh_agents(view, self._order, series)

    def refresh_agents(
        self, view: ProductionView, agent_ids: Iterable[str], series: Series
    ) -> None:
        """Redraw the lines that changed; rows out of sight are drawn when they are shown."""
        top, bottom = self._visible_rows()
        for agent_id in agent_ids:
            record = view.agents.get(agent_id)
            index = self._index.get(agent_id)
            if record is None or index is None:
                continue
            self._records[agent_id] = record
            self._series[agent_id] = tuple(series(agent_id))
            if top <= index < bottom:
                self._redraw(agent_id, index)
            else:
                self._forget(agent_id)

    @property
    def current_agent(self) -> str | None:
        if 0 <= self.highlighted < len(self._order):
            return self._order[self.highlighted]
        return None

    def row_text(self, agent_id: str) -> str:
        """The two lines of an agent's row as plain text (what the row shows, uncut)."""
        record = self._records.get(agent_id)
        if record is None:
            return ""
        return "\n".join(line.plain for line in self._lines_of(record))

    def _mark_highlight(self) -> None:
        self.watch_highlighted(-1, self.highlighted)

    def _visible_rows(self) -> tuple[int, int]:
        top = self.scroll_offset.y
        return top // ROW_HEIGHT, -(-(top + self.size.height) // ROW_HEIGHT)

    def _redraw(self, agent_id: str, index: int) -> None:
        """Repaint only the lines of a shown row whose text or sparkline changed."""
        record = self._records[agent_id]
        texts = self._lines_of(record)
        drawn = self._texts.get(agent_id)
        self._texts[agent_id] = texts
        spark = self._sparks.get(agent_id)
        spark_moved = spark is not None and spark[0][0] != self._series.get(agent_id, ())
        for part, text in enumerate(texts):
            if spark_moved or drawn is None or drawn[part] != text:
                self._strips.pop((agent_id, part), None)
                self.refresh_line(index * ROW_HEIGHT + part)

    def _forget(self, agent_id: str) -> None:
        """Drop a row's drawing; repaint it if it is shown."""
        self._texts.pop(agent_id, None)
        for part in range(ROW_HEIGHT):
            self._strips.pop((agent_id, part), None)
        self.refresh_lines(self._index[agent_id] * ROW_HEIGHT, ROW_HEIGHT)

    def _lines_of(self, record: AgentRecord) -> tuple[Text, ...]:
        return row_lines(record, text_width(self.size.width) or 60, self._style)

    # -- drawing -----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._texts.clear()
        self._strips.clear()
        self._sparks.clear()
        self._spark_memo.clear()

    def _style(self, name: str) -> Style:
        # Textual forgets its own style cache at every repaint, and rows repaint at frame
        # rate: these are kept until the styles themselves change (notify_style_update).
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(
                f"agent-row--{name}", partial=True
            )
        return style

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._drawn_width:
            self._drawn_width = width
            self._texts.clear()
            self._strips.clear()
        line = y + self.scroll_offset.y
        index, part = divmod(line, ROW_HEIGHT)
        if line < 0 or index >= len(self._order):
            return Strip.blank(width, self.visual_style.rich_style)
        agent_id = self._order[index]
        strip = self._strips.get((agent_id, part))
        if strip is None:
            strip = self._strips[(agent_id, part)] = self._draw(agent_id, index, part, width)
        return strip

    def _draw(self, agent_id: str, index: int, part: int, width: int) -> Strip:
        base = self.visual_style
        background = base.background
        if index == self.highlighted and background is not None:
            background = background + self.get_component_styles("agent-row--highlight").background
        style = replace(base, background=background)
        blank = style.rich_style
        record = self._records.get(agent_id)
        if record is None:
            return Strip.blank(width, blank)
        texts = self._texts.get(agent_id)
        if texts is None:
            texts = self._texts[agent_id] = self._lines_of(record)
        console = self.app.console
        pad = Strip.blank(PAD, blank)
        text = text_strip(texts[part], text_width(width), blank, console)
        if not has_spark(width):
            return Strip.join([pad, text, pad]).crop_extend(0, width, blank)
        margin = Strip.blank(SPARK_MARGIN, blank)
        spark = self._spark(agent_id, style, console)[part]
        return Strip.join([pad, text, margin, spark, margin, pad]).crop_extend(0, width, blank)

    def _spark(self, agent_id: str, style: VisualStyle, console: Console) -> tuple[Strip, ...]:
        series = self._series.get(agent_id, ())
        background = style.background
        key = (series, background)
        cached = self._sparks.get(agent_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        assert background is not None
        low = background + self.get_component_styles("agent-row--spark-min").color
        high = background + self.get_component_styles("agent-row--spark-max").color
        look = (series, style.rich_style, low, high)
        strips = self._spark_memo.get(look)  # idle agents share one (a new crew is all zeros)
        if strips is None:
            if len(self._spark_memo) > 4 * len(self._order) + 8:
                self._spark_memo.clear()
            strips = spark_strips(
                series, style.rich_style, low.rich_color, high.rich_color, console
            )
            self._spark_memo[look] = strips
        self._sparks[agent_id] = (key, strips)
        return strips

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
