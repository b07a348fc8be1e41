"""Override a task: a binding direction for its re-run, or text that replaces its output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, RadioButton, RadioSet, Static, TextArea

from podium.tui.format import clip, flatten
from podium.tui.screens.dialog import CONFIRM, Dialog, DialogBox
from podium.tui.widgets.toggles import MarkedRadioButton


@dataclass(frozen=True)
class OverrideDecision:
    text: str
    replace: bool


class OverrideScreen(Dialog[OverrideDecision]):
    """`ctrl+s` confirms; `escape` leaves everything as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [CONFIRM]

    def __init__(self, *, task_id: str, title: str, excerpt: str = "", about: str = "") -> None:
        super().__init__()
        self.task_id = task_id
        self.task_title = title
        self.excerpt = excerpt
        self.about = about

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="override-dialog") as box:
            box.border_title = "Override"
            head = Text()
            head.append(f"{self.task_id}: ", style="bold")
            head.append(flatten(self.task_title), style="bold")
            if self.about:
                head.append("\nfrom the inbox: ")
                head.append(flatten(self.about))
            yield Static(head)
            if self.excerpt:
                yield Static(Text("current output: " + clip(self.excerpt, 400)), classes="muted")
            with RadioSet(id="override-mode"):
                yield MarkedRadioButton(
                    "Direction: the task re-runs under it", value=True, id="mode-direction"
                )
                yield MarkedRadioButton(
                    "Replacement: this text becomes the output", id="mode-replace"
                )
            yield TextArea(id="override-text", soft_wrap=True, show_line_numbers=False)
            with Vertical(classes="dialog-foot"):
                yield Static("", id="override-error", classes="error", markup=False)
                with Horizontal(classes="buttons"):
                    yield Button("Override (ctrl+s)", id="confirm", variant="primary")
                    yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#override-text", TextArea).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_confirm(self) -> None:
        text = self.query_one("#override-text", TextArea).text.strip()
        if not text:
            self.query_one("#override-error", Static).update(
                "Write the direction (or the replacement text) first."
            )
            return
        replace = self.query_one("#mode-replace", RadioButton).value
        self.dismiss(OverrideDecision(text=text, replace=replace))
