"""The footer: the keys that always matter first, then the focused pane's.

Textual's `Footer` lists the focused widget's keys first and the app's last, so in a narrow
terminal help, quit and the command palette were the ones cut off. This one puts them first,
always; the per-pane keys give way at the right edge.

It is one widget drawing one line, not Textual's container of a widget per key: that one
mounted, styled and laid out every key again on each change of focus (several a key press),
a mount, a layout and a scrollbar update each on its own screen update (on a 2,000-task
production most of `/`, enter and esc). Here a change of bindings recomputes the line's keys
and repaints the line only when what it shows changed. It looks and acts as Textual's did in
its compact form: the same styles (`footer-key--key`, `footer-key--description`, the theme's
footer colours), a key under the mouse highlighted with its tooltip, a click runs the key
(a bell when it is disabled), the wheel scrolls a line wider than the screen.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from podium.tui.widgets.steady import KeptLines

# Binding ids (a keymap rebinds the keys, never the ids), in the order they are shown.
FIRST: tuple[str, ...] = ("help", "quit", "command_palette")


def footer_bindings(active: list[tuple[Binding, bool, str]]) -> list[tuple[Binding, bool, str]]:
    """One entry per action, the global ones first (in FIRST's order), the rest as they came."""
    by_action: dict[str, tuple[Binding, bool, str]] = {}
    for binding, enabled, tooltip in active:
        if binding.show or binding.id in FIRST:
            by_action.setdefault(binding.action, (binding, enabled, tooltip))
    entries = list(by_action.values())

    def rank(entry: tuple[Binding, bool, str]) -> int:
        ident = entry[0].id
        return FIRST.index(ident) if ident in FIRST else len(FIRST)

    return sorted(entries, key=rank)  # stable: the rest keep their order


class FooterEntry(NamedTuple):
    """One key as the footer shows it."""

    key: str  # the key pressed (what a click simulates)
    display: str  # the key as shown (the keymap's)
    description: str
    action: str
    enabled: bool
    tooltip: str


def spans_of(entries: tuple[FooterEntry, ...]) -> list[tuple[int, int]]:
    """Each entry's cells on the line, start and end, as `render_line` lays them out."""
    spans: list[tuple[int, int]] = []
    at = 0
    for entry in entries:
        end = at + cell_len(entry.display)
        if entry.description:
            end += cell_len(" " + entry.description)
        spans.append((at, end))
        at = end + 1
    return spans


class PodiumFooter(KeptLines, Widget, can_focus=False):
    """`? help  q quit  : commands` first, then the focused pane's keys, on one line. Its
    line is kept for each of its last looks (`KeptLines`): `/` and enter move the focus
    between the search field and a pane, and the footer went back and forth between the
    same two or three lines of keys, drawn again each time (~0.4 ms a key)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "footer-key--key",
        "footer-key--description",
        "footer-key--item",
        "footer-key--hover",
    }
    DEFAULT_CSS = """
    PodiumFooter {
        color: $footer-foreground;
        background: $footer-background;
        dock: bottom;
        height: 1;
        width: 1fr;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .footer-key--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .footer-key--item { background: $footer-item-background; }
        .footer-key--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
    }
    """

    _bindings_ready = reactive(False, repaint=False)
    _hover: reactive[int | None] = reactive(None)  # the entry under the mouse
    _shift: reactive[int] = reactive(0)  # cells scrolled off to the left by the wheel

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: tuple[FooterEntry, ...] = ()
        self._spans: list[tuple[int, int]] = []  # each entry's cells, start and end
        self._pending = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Textual's signal, several a key press: the line is worked out once after them."""
        self._bindings_ready = True
        if not screen.app.app_focus or self._pending:
            return
        if self.is_attached and screen is self.screen:
            self._pending = True
            self.call_next(self._update_entries)

    def _update_entries(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        entries = self._entries()
        if entries != self.entries:
            self.entries = entries
            self._spans = spans_of(entries)  # as drawn: a kept line does not draw them again
            self._shift = 0
            self.refresh()

    def _lines_key(self) -> Hashable:
        return self.entries, self._hover, self._shift

    def _entries(self) -> tuple[FooterEntry, ...]:
        active = [(b, e, t) for (_, b, e, t) in self.screen.active_bindings.values()]
        key_display = self.app.get_key_display
        return tuple(
            FooterEntry(b.key, key_display(b), b.description, b.action, e, t or b.tooltip)
            for b, e, t in footer_bindings(active)
        )

    def render_line(self, y: int) -> Strip:
        """The keys as Textual's compact `FooterKey`s drew them: the key, a space and the
        description on the item's background, then a gap in the footer's background."""
        width = self.size.width
        if y:
            return Strip.blank(width, self.rich_style)
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        item_style = self.get_component_rich_style("footer-key--item")
        hover_style = self.get_component_rich_style("footer-key--hover")
        gap = Style(bgcolor=self.rich_style.bgcolor)
        segments: list[Segment] = []
        at = 0  # each entry's cells are `spans_of`'s, worked out when the entries changed
        for index, entry in enumerate(self.entries):
            base = item_style
            if index == self._hover:
                base += hover_style
            if not entry.enabled:
                base += Style(dim=True)
            parts = [(entry.display, key_style)]
            if entry.description:
                parts.append((" " + entry.description, description_style))
            for text, style in parts:
                style = base + style
                if index == self._hover:  # the parts' own backgrounds give way to the hover's
                    style += Style(bgcolor=hover_style.bgcolor)
                segments.append(Segment(text, style))
                at += cell_len(text)
            segments.append(Segment(" ", gap))
            at += 1
        strip = Strip(segments, at)
        if self._shift:
            strip = strip.crop(self._shift, at)
        return strip.adjust_cell_length(width, gap)

    def _entry_at(self, x: int) -> int | None:
        x += self._shift
        for index, (start, end) in enumerate(self._spans):
            if start <= x < end:
                return index
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        index = self._entry_at(event.x)
        self._hover = index
        self.styles.pointer = "default" if index is None else "pointer"
        self.tooltip = None if index is None else (self.entries[index].tooltip or None)

    def on_leave(self, event: events.Leave) -> None:
        self._hover = None
        self.tooltip = None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._entry_at(event.x)
        if index is None:
            return
        entry = self.entries[index]
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def _scroll_by(self, cells: int) -> bool:
        width = self._spans[-1][1] if self._spans else 0
        shift = max(0, min(self._shift + cells, width - self.size.width))
        moved = shift != self._shift
        self._shift = shift
        return moved

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if self._scroll_by(2):
            event.stop()
            event.prevent_default()

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self._scroll_by(-2):
            event.stop()
            event.prevent_default()
