"""Quit while work runs: say what stopping means, and how to go on later."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Static

from podium.tui.screens.dialog import CANCEL_ACTION, Dialog, DialogBox


class ConfirmQuitScreen(Dialog[bool]):
    """True stops the production and quits; escape (or `n`) keeps it running."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "stop", "stop and quit", id="confirm_quit", tooltip="Stop cleanly and quit"),
        Binding("n", "cancel", "keep working", id="cancel_quit", tooltip="Keep the crew working"),
    ]

    def __init__(self, *, running: int, resume_hint: str) -> None:
        super().__init__()
        self.running = running
        self.resume_hint = resume_hint

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog narrow", id="quit-dialog") as box:
            box.border_title = "Quit?"
            text = Text()
            text.append(f"{self.running} task(s) are running.\n\n", style="bold")
            text.append(
                "Quitting stops the crew cleanly: what is running is interrupted and runs "
                "again when you resume. Everything decided so far is saved.\n\n"
            )
            text.append("Continue later with:\n  ")
            text.append(self.resume_hint, style="bold")
            yield Static(text)
            with Horizontal(classes="buttons dialog-foot"):
                yield Button("Stop and quit (y)", id="stop", variant="error", action="screen.stop")
                yield Button("Keep working (n)", id="keep", variant="primary", action=CANCEL_ACTION)

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def action_stop(self) -> None:
        self.dismiss(True)
