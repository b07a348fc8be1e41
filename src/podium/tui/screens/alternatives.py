"""Pick one of several: the options of an escalation, or the agent to reassign a task to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from podium.domain.escalation import Option as EscalationOption
from podium.tui.format import flatten, said_once
from podium.tui.screens.dialog import Dialog, DialogBox


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    proposer: str = ""
    summary: str = ""
    reasoning: str = ""
    about: str = ""  # what the choice is, when no one proposed it (an agent: role · model)

    @classmethod
    def of(cls, option: EscalationOption) -> Choice:
        label, summary = said_once(option.label, option.summary)  # said once when repeated
        return cls(option.id, label, option.proposer, summary, option.reasoning)


@dataclass(frozen=True)
class Picked:
    id: str


def choice_prompt(choice: Choice) -> Text:
    text = Text()
    text.append(f"{choice.id}  ", style="bold")
    text.append(flatten(choice.label), style="bold")
    if choice.proposer:
        text.append(f"   proposed by {choice.proposer}", style="italic")
    if choice.about:
        text.append(f"   {flatten(choice.about)}", style="italic")
    if choice.summary:
        text.append("\n    " + flatten(choice.summary))
    if choice.reasoning:
        text.append("\n    why: " + flatten(choice.reasoning), style="italic")
    return text


class AlternativesScreen(Dialog[Picked]):
    """`enter` picks the highlighted choice; `escape` picks nothing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "move(1)", "down", show=False, id="down", tooltip="Next choice"),
        Binding("k", "move(-1)", "up", show=False, id="up", tooltip="Previous choice"),
    ]

    def __init__(self, title: str, choices: Sequence[Choice], *, prompt: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog wide", id="alternatives-dialog") as box:
            box.border_title = "Choose"
            yield Static(Text(flatten(self.title_text), style="bold"))
            if self.prompt:
                yield Static(Text(self.prompt), classes="muted")
            options: list[Option | None] = []
            for i, choice in enumerate(self.choices):
                if i:
                    options.append(None)
                options.append(Option(choice_prompt(choice), id=choice.id))
            yield OptionList(*options, id="choices", markup=False)
            yield Static(Text("enter chooses · esc cancels"), classes="muted dialog-foot")

    def on_mount(self) -> None:
        for choices in self.query("#choices").results(OptionList):  # none once dismissed
            choices.focus()

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(Picked(event.option.id))

    def action_move(self, step: int) -> None:
        choices = self.query_one("#choices", OptionList)
        if step > 0:
            choices.action_cursor_down()
        else:
            choices.action_cursor_up()
