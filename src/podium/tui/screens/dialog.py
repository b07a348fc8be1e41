"""What every podium modal shares: `escape` cancels, nothing applies without a confirm.

Every dialog is drawn in a `DialogBox`: what does not fit the terminal scrolls, while its
`.dialog-foot` (the error line and the buttons) is docked at the bottom, always in sight,
so a dialog is usable in an 80×24 terminal.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

ResultT = TypeVar("ResultT")


class DialogBox(VerticalScroll, can_focus=False):
    """A dialog's frame. It takes focus only when scrolling is all there is to do (help)."""


class Dialog(ModalScreen[ResultT | None], Generic[ResultT]):
    """A modal that returns a typed result, or None when cancelled."""

    # `-narrow` lets a row of many buttons wrap (app.tcss) where they would run off the edge;
    # `-short` (a 24-line terminal) makes text boxes shorter, so what they are about shows.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-roomy")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "cancel",
            "cancel",
            id="cancel",
            tooltip="Close without applying anything",
        ),
    ]

    def on_mount(self) -> None:
        if not getattr(self.app, "cursor_blink", True):
            for widget in self.query(Input):
                widget.cursor_blink = False
            for area in self.query(TextArea):
                area.cursor_blink = False

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(events.Unmount)
    def _release_notifications(self) -> None:
        """Notifications wait while a dialog is up (they never cover it); now they show."""
        release = getattr(self.app, "release_held", None)
        if release is not None:
            self.app.call_after_refresh(release)


# A button runs its screen's action itself (Textual's `Button(action=…)`); no handler forwards.
CONFIRM_ACTION = "screen.confirm"
CANCEL_ACTION = "screen.cancel"

CONFIRM = Binding(
    "ctrl+s",
    "confirm",
    "confirm",
    id="confirm",
    tooltip="Apply what this dialog says",
    priority=True,
)


class FormDialog(Dialog[ResultT], Generic[ResultT]):
    """A dialog that applies something: `ctrl+s` or its button confirms, and what keeps it
    from applying is said in the error line of its foot."""

    BINDINGS: ClassVar[list[BindingType]] = [
        CONFIRM,
        # A text box has no key to its ends (Textual's TextArea binds none), and a replacement
        # in a five-line box is a long way from its last line.
        Binding(
            "ctrl+end",
            "text_end",
            "text end",
            show=False,
            id="text_end",
            tooltip="In a text box: to the end of its text",
        ),
        Binding(
            "ctrl+home",
            "text_start",
            "text start",
            show=False,
            id="text_start",
            tooltip="In a text box: to the start of its text",
        ),
    ]
    ERROR_ID: ClassVar[str] = "dialog-error"

    def action_text_end(self) -> None:
        field = self.focused
        if isinstance(field, TextArea):
            field.move_cursor(field.document.end)
        elif isinstance(field, Input):
            field.cursor_position = len(field.value)

    def action_text_start(self) -> None:
        field = self.focused
        if isinstance(field, TextArea):
            field.move_cursor((0, 0))
        elif isinstance(field, Input):
            field.cursor_position = 0

    def typing_field(self) -> Input | TextArea | None:
        """Where typing goes when a button has focus: the first text field (nothing typed is
        lost on a button, which would take it silently)."""
        for widget in self.query("Input, TextArea"):
            if isinstance(widget, Input | TextArea) and widget.display and not widget.disabled:
                return widget
        return None

    @on(events.Key)
    def _typed_on_a_button(self, event: events.Key) -> None:
        if not isinstance(self.focused, Button) or not event.is_printable or not event.character:
            return
        field = self.typing_field()
        if field is None:
            return
        event.stop()
        event.prevent_default()
        field.focus()
        if isinstance(field, TextArea):
            field.insert(event.character)
        else:
            field.insert_text_at_cursor(event.character)

    def foot(self, confirm_label: str) -> ComposeResult:
        """The error line and the confirm / cancel buttons, docked at the bottom."""
        with Vertical(classes="dialog-foot"):
            yield Static("", id=self.ERROR_ID, classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(confirm_label, id="confirm", variant="primary", action=CONFIRM_ACTION)
                yield Button("Cancel (esc)", id="cancel", action=CANCEL_ACTION)

    def show_error(self, message: str) -> None:
        self.query_one(f"#{self.ERROR_ID}", Static).update(message)

    @abstractmethod
    def action_confirm(self) -> None:
        """Apply what the form says (`dismiss` with it), or `show_error` why it cannot."""


class DetailDialog(Dialog[None]):
    """A read-only page (a task's or an agent's story so far): arrows scroll, `escape` closes."""

    def __init__(self, title: str, body: Text, *, name: str) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._name = name

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog wide", id=f"{self._name}-dialog", can_focus=True) as box:
            box.border_title = self._title
            yield Static(self._body, id=f"{self._name}-body")
            yield Static(Text("arrows scroll · esc closes"), classes="muted dialog-foot")

    def on_mount(self) -> None:
        self.query_one(DialogBox).focus()
