"""The search line over the panes' bottom border, just above the footer: `/` opens it, `enter`
searches, and the count stays in view.

It is docked over that border row rather than taking a row from the panes, so opening and
closing it lays nothing else out again: the panes keep their size and are not repainted (on
a 2,000-task production a relayout and repaint of every pane cost most of each `/`, enter
and esc). Its field has a fixed size, so a typed character repaints the field alone.

It only takes the words and shows where the search stands ("match 3 of 17 · …"); the
screen finds the matches in the panes and moves between them (`ConductorKeys.search`).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Input, Static

from podium.tui.widgets.steady import KeptComponentStyles, SteadySize

HINT = "tasks (id, title, state), transcript, inbox · esc closes"


class SearchInput(KeptComponentStyles, Input):
    """The query field. Textual's `Input` sets its virtual size (its text's width) on every
    change of its value, and that reactive lays the whole screen out again; the field has a
    fixed width and height, so only the field needs to be repainted (its scrolling reads the
    virtual size as it is). Its component styles are kept for focused and not (`/`, enter
    and esc each move the focus to it or from it)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)


class Part(SteadySize, Static):
    """The `/` and the count: of a fixed size, so their first size (when the line first
    shows) lays nothing out again, as `SearchInput`'s virtual size."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)


class SearchLine(SteadySize, Horizontal):
    """`/` and a query, then the count; hidden until a search begins."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)  # one row, docked
    _status = ""

    DEFAULT_CSS = """
    SearchLine {
        dock: bottom;
        offset-y: -1;  /* above the footer (docked at the bottom too), over the panes' border */
        width: 100%;
        height: 1;
        display: none;
        background: $panel;
    }
    SearchLine #search-slash { width: 2; padding: 0 0 0 1; color: $primary; }
    SearchLine Input { width: 20; border: none; height: 1; padding: 0; }
    SearchLine #search-status { width: 1fr; padding: 0 1; color: $text-muted; }
    SearchLine #search-status.-none { color: $warning; }
    """

    class Submitted(Message):
        """Enter in the search line: search for this (empty clears)."""

        def __init__(self, line: SearchLine, query: str) -> None:
            super().__init__()
            self.line = line
            self.query = query

        @property
        def control(self) -> SearchLine:
            return self.line

    def compose(self) -> ComposeResult:
        yield Part("/", id="search-slash")
        yield SearchInput(
            placeholder="words, or a task id",
            id="search-input",
            compact=True,
        )
        yield Part("", id="search-status", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one("#search-input", Input)

    @property
    def is_open(self) -> bool:
        return self.display

    def open(self, query: str) -> None:
        """Show the line with the last query, ready to type. Shown by its own `display`, not
        a class: a class restyles the line and all its parts (1-2 ms of each `/` and esc)."""
        self.display = True
        field = self.input
        field.cursor_blink = getattr(self.app, "cursor_blink", True)
        field.value = query
        field.cursor_position = len(query)
        self.screen.set_focus(field)  # now, not after a round of the queue: one frame
        if not self._status:  # no search shown yet: what it looks in, where there is room
            self.show_status(HINT)

    def close(self) -> None:
        self.display = False
        self.show_status("")

    def show_status(self, status: str, *, none: bool = False) -> None:
        self._status = status
        widget = self.query_one("#search-status", Static)
        widget.update(Text(status, no_wrap=True, overflow="ellipsis"), layout=False)
        widget.set_class(none, "-none")

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(self, event.value))
