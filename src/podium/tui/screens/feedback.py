"""Feedback to one agent: a note it keeps in its context from now on."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Label, Static, TextArea

from podium.tui.format import flatten
from podium.tui.screens.dialog import DialogBox, FormDialog


@dataclass(frozen=True)
class FeedbackNote:
    agent_id: str
    text: str


class FeedbackScreen(FormDialog[FeedbackNote]):
    """`ctrl+s` sends the note; `escape` sends nothing."""

    ERROR_ID = "feedback-error"

    def __init__(self, *, agent_id: str, name: str, role: str, earlier: list[str]) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.agent_name = name
        self.role = role
        self.earlier = earlier

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="feedback-dialog") as box:
            box.border_title = "Feedback"
            head = Text()
            name, role = flatten(self.agent_name), self.role.replace("_", " ")
            head.append(f"To {name}" if role in name.lower() else f"To {name} ({role})", "bold")
            head.append("\nThe agent keeps this note in mind for every task from now on.")
            yield Static(head)
            if self.earlier:
                notes = Text("Earlier notes:\n", style="italic")
                for note in self.earlier[-3:]:
                    notes.append(f"  • {flatten(note)}\n")
                yield Static(notes, classes="muted")
            yield Label("Your note", classes="field-label")
            yield TextArea(
                id="feedback-text",
                classes="labelled",
                soft_wrap=True,
                show_line_numbers=False,
                placeholder="e.g. Keep Morag's lines short; she says less than she means.",
            )
            yield from self.foot("Send (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#feedback-text", TextArea).focus()

    def action_confirm(self) -> None:
        text = self.query_one("#feedback-text", TextArea).text.strip()
        if not text:
            self.show_error("Write the note first.")
            return
        self.dismiss(FeedbackNote(self.agent_id, text))
