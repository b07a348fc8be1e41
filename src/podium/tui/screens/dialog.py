"""What every podium modal shares: `escape` cancels, nothing applies without a confirm."""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, TextArea

ResultT = TypeVar("ResultT")


class Dialog(ModalScreen[ResultT | None], Generic[ResultT]):
    """A modal that returns a typed result, or None when cancelled."""

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


CONFIRM = Binding(
    "ctrl+s",
    "confirm",
    "confirm",
    id="confirm",
    tooltip="Apply what this dialog says",
    priority=True,
)
