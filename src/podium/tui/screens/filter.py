"""Filter the debate transcript by task or debate."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from podium.tui.screens.dialog import Dialog, DialogBox


@dataclass(frozen=True)
class TranscriptFilter:
    text: str  # empty shows everything


class FilterScreen(Dialog[TranscriptFilter]):
    """`enter` applies the filter (empty clears it); `escape` keeps the current one."""

    def __init__(self, *, current: str, known: list[str]) -> None:
        super().__init__()
        self.current = current
        self.known = known

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog narrow", id="filter-dialog") as box:
            box.border_title = "Filter the transcript"
            yield Static(
                Text(
                    "A task or debate id, or part of one (scene shows every scene). "
                    "Empty shows all."
                )
            )
            yield Input(self.current, placeholder="e.g. scene-02 or d1", id="filter-text")
            if self.known:
                yield Static(Text("seen so far: " + ", ".join(self.known[:24])), classes="muted")

    def on_mount(self) -> None:
        self.query_one("#filter-text", Input).focus()

    @on(Input.Submitted, "#filter-text")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(TranscriptFilter(event.value.strip()))
