"""The escalation inbox: what waits on the Orchestrator, by priority and age.

Rows are coloured by priority through component classes; the highlighted row takes the
highlight's own foreground instead (text styles stay), so its mark and kind are never drawn
in the colour of the bar behind them, whatever the theme.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from podium.domain.escalation import Action, Escalation
from podium.domain.state import ProductionView
from podium.tui.format import PRIORITY_MARK, age, clip
from podium.tui.messages import DetailsRequested, Intent, Selected

EMPTY_ID = "-empty-"


class EscalationInbox(OptionList):
    """Open escalations; the highlighted one is what `a`, `o`, `n`, `r` and `s` act on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "intent('approve')",
            "approve",
            id="approve",
            tooltip="Approve (pick an option first when there are options)",
        ),
        Binding(
            "o",
            "intent('override')",
            "override",
            id="override",
            tooltip="Override with a direction or replacement text",
        ),
        Binding(
            "n",
            "intent('request_alternatives')",
            "alternatives",
            id="request_alternatives",
            tooltip="Ask for alternatives to choose from",
        ),
        Binding("r", "intent('retry')", "retry", id="retry", tooltip="Retry the failed task"),
        Binding("s", "intent('skip')", "skip", id="skip", tooltip="Skip: dependents go on"),
        Binding(
            "E",
            "intent('edit_plan')",
            "edit plan",
            id="edit_plan",
            tooltip="A plan escalation: edit the plan as TOML in $EDITOR, then it is approved",
        ),
        Binding(
            "enter",
            "select",
            "details",
            id="details",
            tooltip="Everything about the item, and every action it offers",
        ),
        Binding("j", "cursor_down", "down", show=False, id="down", tooltip="Next item"),
        Binding("k", "cursor_up", "up", show=False, id="up", tooltip="Previous item"),
        Binding("g", "first", "top", show=False, id="top", tooltip="First item"),
        Binding("G", "last", "bottom", show=False, id="bottom", tooltip="Last item"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "escalation-inbox--critical",
        "escalation-inbox--high",
        "escalation-inbox--normal",
        "escalation-inbox--low",
        "escalation-inbox--dim",
    }

    DEFAULT_CSS = """
    EscalationInbox { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._ids: list[str] | None = None  # None: nothing shown yet

    # -- updates from the screen -----------------------------------------------------------

    def sync(self, view: ProductionView, now: float) -> None:
        """Show the open escalations; keep the highlight on the same item when it is still open."""
        items = view.open_escalations()
        ids = [e.id for e in items]
        if ids == self._ids:
            # The same items: only their ages move. (An empty inbox stays as it is drawn:
            # setting its options again would lay the screen out again, every second.)
            for esc in items:
                prompt = self._prompt(esc, now)
                if self.get_option(esc.id).prompt != prompt:
                    self.replace_option_prompt(esc.id, prompt)
            return
        current = self.current_escalation
        index = self.highlighted or 0
        self._ids = ids
        if not items:
            self.set_options([Option(Text("the inbox is empty", style="italic"), EMPTY_ID, True)])
            self.post_message(Selected("escalation", None))
            return
        self.set_options([Option(self._prompt(e, now), e.id) for e in items])
        if current in ids:
            index = ids.index(current)
        self.highlighted = min(index, len(ids) - 1)

    def restyle(self, view: ProductionView, now: float) -> None:
        self._ids = None
        self.sync(view, now)

    @property
    def current_escalation(self) -> str | None:
        option = self.highlighted_option
        if option is None or option.id == EMPTY_ID:
            return None
        return option.id

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"escalation-inbox--{name}", partial=True)

    def _prompt(self, esc: Escalation, now: float) -> Text:
        level = esc.priority.name.lower()
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(PRIORITY_MARK[esc.priority], style=self._style(level))
        text.append(f" {esc.kind.value.replace('_', ' '):<13}", style=self._style(level))
        text.append(f" {age(now - esc.opened_at):>4}  ", style=self._style("dim"))
        text.append(clip(esc.title, 120))
        if esc.options:
            text.append(f"  ({len(esc.options)} options)", style=self._style("dim"))
        return text

    # -- drawing -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Every row is one line (no wrapping, no separators), so line y is option y."""
        strip = super().render_line(y)
        if self.highlighted is None or y + self.scroll_offset.y != self.highlighted:
            return strip
        cursor = self.get_visual_style("option-list--option", "option-list--option-highlighted")
        if cursor.foreground is None:
            return strip
        ink = Style(color=cursor.foreground.rich_color)
        return Strip(Segment.apply_style(strip, post_style=ink), strip.cell_length)

    # -- handlers and actions -----------------------------------------------------------------

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(Selected("escalation", self.current_escalation))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.current_escalation is not None:
            self.post_message(DetailsRequested(escalation_id=self.current_escalation))

    def action_intent(self, action: str) -> None:
        escalation_id = self.current_escalation
        if escalation_id is None:
            self.notify("The inbox is empty: nothing to decide.", markup=False)
            return
        self.post_message(Intent(Action(action), escalation_id=escalation_id))
