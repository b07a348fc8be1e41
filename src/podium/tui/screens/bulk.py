"""Retry or skip several marked tasks at once: one question listing them, then one command
each (the engine decides each on its own, as if the key had been pressed on it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Static

from podium.tui.format import clip
from podium.tui.screens.dialog import CANCEL_ACTION, Dialog, DialogBox

SHOWN = 12  # tasks listed by name; the rest are counted


@dataclass(frozen=True)
class BulkChoice:
    task_ids: list[str]


class BulkScreen(Dialog[BulkChoice]):
    """`y` (or the button) sends the commands; `escape` (or `n`) sends nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "confirm", id="confirm_bulk", tooltip="Send one command each"),
        Binding("n", "cancel", "cancel", id="cancel_bulk", tooltip="Send nothing"),
    ]

    def __init__(self, verb: str, tasks: list[tuple[str, str]], left_out: list[str]) -> None:
        """`tasks`: (id, title) of those the command goes to; `left_out`: why others do not."""
        super().__init__()
        self.verb = verb
        self.tasks = tasks
        self.left_out = left_out

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog narrow", id="bulk-dialog") as box:
            box.border_title = f"{self.verb.capitalize()} {len(self.tasks)} task(s)?"
            text = Text()
            for task_id, title in self.tasks[:SHOWN]:
                text.append(f"  {task_id}", style="bold")
                text.append(f"  {clip(title, 50)}\n")
            if len(self.tasks) > SHOWN:
                text.append(f"  and {len(self.tasks) - SHOWN} more\n")
            for why in self.left_out[:SHOWN]:
                text.append(f"  left out: {why}\n", style="italic")
            if len(self.left_out) > SHOWN:
                text.append(f"  and {len(self.left_out) - SHOWN} more left out\n", style="italic")
            yield Static(text, id="bulk-tasks")
            with Horizontal(classes="buttons dialog-foot"):
                yield Button(
                    f"{self.verb.capitalize()} {len(self.tasks)} (y)",
                    id="confirm",
                    variant="primary",
                    action="screen.confirm",
                    disabled=not self.tasks,
                )
                yield Button("Cancel (esc)", id="cancel", action=CANCEL_ACTION)

    def on_mount(self) -> None:
        self.query_one("#confirm" if self.tasks else "#cancel", Button).focus()

    def action_confirm(self) -> None:
        if self.tasks:
            self.dismiss(BulkChoice([task_id for task_id, _ in self.tasks]))
