"""An escalation in full, with a button for every action it offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button

from podium.domain.escalation import Action
from podium.tui.format import clip, flatten
from podium.tui.screens.dialog import Dialog, DialogBox
from podium.tui.widgets.escalation_detail import EscalationCard, EscalationDetail, not_offered


@dataclass(frozen=True)
class EscalationChoice:
    """The action chosen, and the option when approving one."""

    action: Action
    option_id: str | None = None


class EscalationScreen(Dialog[EscalationChoice]):
    """Nothing is applied here: the choice goes back to the conductor, which sends it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "choose('approve')", "approve", id="approve", tooltip="Approve"),
        Binding("o", "choose('override')", "override", id="override", tooltip="Override…"),
        Binding(
            "n",
            "choose('request_alternatives')",
            "alternatives",
            id="request_alternatives",
            tooltip="Ask for alternatives",
        ),
        Binding("r", "choose('retry')", "retry", id="retry", tooltip="Retry"),
        Binding("s", "choose('skip')", "skip", id="skip", tooltip="Skip"),
    ]

    def __init__(self, card: EscalationCard) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        esc = self.card.escalation
        with DialogBox(classes="dialog wide", id="escalation-dialog") as box:
            box.border_title = Text(f"{esc.id} · {esc.kind.value.replace('_', ' ')}")
            detail = EscalationDetail(id="escalation-card")
            detail.card = self.card
            yield detail
            count = len(esc.actions) + len(esc.options) + 1
            many = " many" if count > 3 else ""
            with Horizontal(classes=f"buttons dialog-foot{many}"):
                for action in esc.actions:
                    if action is Action.APPROVE and esc.options:
                        for option in esc.options:
                            yield Button(
                                Content(f"Approve {option.id}"),
                                id=f"option-{option.id}",
                                variant="primary",
                                tooltip=Content(clip(flatten(option.label), 80)),
                            )
                    else:
                        yield Button(
                            action.value.replace("_", " ").capitalize(),
                            id=f"action-{action.value}",
                            variant="primary" if action is esc.actions[0] else "default",
                        )
                yield Button("Close (esc)", id="cancel")

    def on_mount(self) -> None:
        first = self.query(Button).first()
        first.focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        name = event.button.id or ""
        if name == "cancel":
            self.action_cancel()
        elif name.startswith("option-"):
            self.dismiss(EscalationChoice(Action.APPROVE, name.removeprefix("option-")))
        elif name.startswith("action-"):
            self.dismiss(EscalationChoice(Action(name.removeprefix("action-"))))

    def action_choose(self, action: str) -> None:
        chosen = Action(action)
        if chosen not in self.card.escalation.actions:
            self.notify(not_offered(self.card.escalation, chosen), markup=False)
            return
        self.dismiss(EscalationChoice(chosen))
