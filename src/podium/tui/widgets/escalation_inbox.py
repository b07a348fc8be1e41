"""The escalation inbox: what waits on the Orchestrator, by priority and age.

Rows are coloured by priority through component classes; the highlighted row takes the
highlight's own foreground instead (text styles stay), so its mark and kind are never drawn
in the colour of the bar behind them, whatever the theme.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding, BindingType
from textual.strip import Strip
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from podium.domain.escalation import Action, Escalation, EscalationKind
from podium.domain.state import ProductionView
from podium.tui.format import PRIORITY_MARK, age, clip
from podium.tui.messages import DetailsRequested, Intent, Selected

EMPTY_ID = "-empty-"

NARROW = 56
"""Below this many cells a row gives its title the room: a short kind, and no word the kind
already says (at 80 columns eight gates read 'approval gate  1m  Approve Sc…' alike)."""
SHORT_KIND: dict[EscalationKind, str] = {
    EscalationKind.APPROVAL_GATE: "gate",
    EscalationKind.SCOPE_CHANGE: "scope",
    EscalationKind.COLLABORATIVE: "collab",
    EscalationKind.VISION_STALE: "stale",
}
SAID_BY_KIND: dict[EscalationKind, str] = {
    EscalationKind.APPROVAL_GATE: "Approve ",
    EscalationKind.MILESTONE: "Milestone ",
}


@dataclass(frozen=True)
class Moved:
    """The highlighted item left the inbox; the highlight went to `now`, the next item of
    the same kind, or nowhere (None) when none is left: a key never falls on an item the
    Orchestrator did not move to."""

    left: str
    kind: str  # the kind of item, in words ("milestone")
    now: str | None


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
            "f",
            "intent('feedback')",
            "feedback",
            show=False,
            id="feedback",
            tooltip="Give feedback to the agent whose work the item is about",
        ),
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
        self._cleared = False  # the highlighted item left and none of its kind was open
        self._narrow = False  # rows as a narrow pane shows them (see NARROW)
        self._shown: tuple[ProductionView, float] | None = None  # what sync drew last

    # -- updates from the screen -----------------------------------------------------------

    def sync(self, view: ProductionView, now: float) -> Moved | None:
        """Show the open escalations. The highlight stays with its item (by id); when that
        item leaves, it goes to the next item of the same kind, or to none (returned, so the
        screen can say so)."""
        self._shown = (view, now)
        items = view.open_escalations()
        ids = [e.id for e in items]
        if ids == self._ids:
            # The same items: only their ages move. (An empty inbox stays as it is drawn:
            # setting its options again would lay the screen out again, every second.)
            for esc in items:
                prompt = self._prompt(esc, now)
                if self.get_option(esc.id).prompt != prompt:
                    self.replace_option_prompt(esc.id, prompt)
            return None
        current = self.current_escalation
        before = self._ids or []
        self._ids = ids
        if not items:
            self.set_options([Option(Text("the inbox is empty", style="italic"), EMPTY_ID, True)])
            self.post_message(Selected("escalation", None))
            self._cleared = self._cleared or current is not None
            return self._moved(view, current, None)
        self.set_options([Option(self._prompt(e, now), e.id) for e in items])
        if current in ids:
            self.highlighted = ids.index(current)
            return None
        if current is None:
            if self._cleared:  # the Orchestrator has moved to nothing yet: stay so
                self.post_message(Selected("escalation", None))
            else:  # nothing was pointed at yet: the first item
                self.highlighted = 0
            return None
        target = self._next_of_kind(view, current, before, items)
        if target is None:
            self._cleared = True
            self.post_message(Selected("escalation", None))
        else:
            self.highlighted = ids.index(target)
        return self._moved(view, current, target)

    @staticmethod
    def _next_of_kind(
        view: ProductionView, left: str, before: list[str], items: list[Escalation]
    ) -> str | None:
        """The item of the same kind after `left` (in the order shown before), or the first
        of that kind; None when no item of that kind is open."""
        gone = view.escalations.get(left)
        if gone is None:
            return None
        same = [e.id for e in items if e.kind is gone.kind]
        place = before.index(left) if left in before else len(before)
        after = [i for i in same if i not in before or before.index(i) > place]
        first = after or same
        return first[0] if first else None

    @staticmethod
    def _moved(view: ProductionView, left: str | None, now: str | None) -> Moved | None:
        if left is None:
            return None
        gone = view.escalations.get(left)
        kind = gone.kind.value.replace("_", " ") if gone is not None else "item"
        return Moved(left, kind, now)

    def on_resize(self) -> None:
        narrow = 0 < self.scrollable_content_region.width < NARROW
        if narrow != self._narrow:
            self._narrow = narrow
            if self._shown is not None:
                self.sync(*self._shown)  # the same items: only their rows are drawn again

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
        kind = f"{esc.kind.value.replace('_', ' '):<13}"
        title = esc.title
        if self._narrow:
            kind = f"{SHORT_KIND.get(esc.kind, kind.rstrip()):<9}"
            said = SAID_BY_KIND.get(esc.kind, "")
            if said and title.startswith(said) and len(title) > len(said):
                title = title[len(said) :]
        text.append(f" {kind}", style=self._style(level))
        text.append(f" {age(now - esc.opened_at):>4}  ", style=self._style("dim"))
        text.append(clip(title, 120))
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
        self._cleared = False
        self.post_message(Selected("escalation", self.current_escalation))

    async def _on_click(self, event: events.Click) -> None:
        """One click selects (the detail shows it); a double click opens it, as enter does."""
        event.prevent_default()  # OptionList's own click selects, which opens the item
        clicked: int | None = event.style.meta.get("option")
        if clicked is None or self._options[clicked].disabled:
            return
        self.focus()
        self.highlighted = clicked
        if event.chain >= 2:
            self.action_select()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if self.current_escalation is not None:
            self.post_message(DetailsRequested(escalation_id=self.current_escalation))

    def action_intent(self, action: str) -> None:
        escalation_id = self.current_escalation
        if escalation_id is None and self._ids:
            self.notify("No inbox item is highlighted: j/k move to one first.", markup=False)
            return
        if escalation_id is None:
            self.notify("The inbox is empty: nothing to decide.", markup=False)
            return
        self.post_message(Intent(Action(action), escalation_id=escalation_id))
