"""Override a task: a binding direction for its re-run, or text that replaces its output."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import RadioButton, RadioSet, Static, TextArea

from podium.tui.format import clip, flatten
from podium.tui.screens.dialog import DialogBox, FormDialog
from podium.tui.widgets.toggles import MarkedRadioButton


@dataclass(frozen=True)
class OverrideDecision:
    text: str
    replace: bool


class OverrideScreen(FormDialog[OverrideDecision]):
    """`ctrl+s` confirms; `escape` leaves everything as it was."""

    ERROR_ID = "override-error"

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
            yield from self.foot("Override (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#override-text", TextArea).focus()

    def action_confirm(self) -> None:
        text = self.query_one("#override-text", TextArea).text.strip()
        if not text:
            self.show_error("Write the direction (or the replacement text) first.")
            return
        replace = self.query_one("#mode-replace", RadioButton).value
        self.dismiss(OverrideDecision(text=text, replace=replace))
