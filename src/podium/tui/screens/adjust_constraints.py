"""Adjust the constraints live: a form with the current values, checked before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widgets import Input, Label

from podium.domain.production import Constraints
from podium.seam.validators import Rejected, adjusted_constraints
from podium.tui.screens.dialog import DialogBox, FormDialog

# (field, what it means); the order is the form's.
FIELDS: tuple[tuple[str, str], ...] = (
    ("max_concurrency", "tasks running at once"),
    ("max_per_agent", "tasks one agent runs at once"),
    ("max_per_model", "per model: name=N, name=N"),
    ("budget_usd", "budget in dollars; empty for none"),
    ("budget_tokens", "budget in tokens; empty for none"),
    ("deadline", "from the first start, e.g. 45m; empty for none"),
    ("debate_rounds", "rounds before the judge rules"),
    ("debate_time_limit", "time before the judge rules, e.g. 2m"),
    ("review_rounds", "revise-and-review cycles"),
    ("self_correction_attempts", "fixes from validator feedback"),
    ("retries", "retries of a failed call"),
    ("retry_backoff", "first pause before a retry, e.g. 1s"),
)
_DURATIONS = {"deadline", "debate_time_limit", "retry_backoff"}
_OPTIONAL = {"budget_usd", "budget_tokens", "deadline"}


@dataclass(frozen=True)
class ConstraintChanges:
    changes: dict[str, Any]


def duration_text(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def field_text(constraints: Constraints, name: str) -> str:
    value = getattr(constraints, name)
    if value is None:
        return ""
    if name == "max_per_model":
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if name in _DURATIONS:
        return duration_text(float(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_field(name: str, text: str) -> Any:
    """The value typed into a field; raises Rejected naming the field when it cannot be read."""
    text = text.strip()
    if not text:
        if name in _OPTIONAL:
            return None
        if name == "max_per_model":
            return {}
        raise Rejected(f"{name}: give a value")
    if name == "max_per_model":
        limits: dict[str, int] = {}
        for part in text.split(","):
            model, sep, number = part.partition("=")
            if not sep or not model.strip():
                raise Rejected(f"max_per_model: write name=N, e.g. rehearsal/default=2 ({part!r})")
            try:
                limits[model.strip()] = int(number)
            except ValueError:
                raise Rejected(f"max_per_model: {number.strip()!r} is not a whole number") from None
        return limits
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text  # durations such as "45m"; the model says when it is wrong


def changes_from(constraints: Constraints, typed: dict[str, str]) -> dict[str, Any]:
    """The fields that changed, validated together; raises Rejected with the first problem."""
    changes: dict[str, Any] = {}
    for name, text in typed.items():
        if text.strip() != field_text(constraints, name):
            changes[name] = parse_field(name, text)
    if not changes:
        raise Rejected("nothing changed; edit a value, or press escape")
    return adjusted_constraints(constraints, changes)


class AdjustConstraintsScreen(FormDialog[ConstraintChanges]):
    """Every constraint, with its current value; only what the user changes is sent."""

    ERROR_ID = "constraints-error"

    def __init__(self, constraints: Constraints) -> None:
        super().__init__()
        self.constraints = constraints

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="constraints-dialog") as box:
            box.border_title = "Adjust constraints (live)"
            with Grid(id="constraints-form"):
                for name, meaning in FIELDS:
                    yield Label(name.replace("_", " "), classes="field-name")
                    yield Input(
                        field_text(self.constraints, name),
                        placeholder="none" if name in _OPTIONAL or name == "max_per_model" else "",
                        id=f"field-{name}",
                        tooltip=meaning,
                        compact=True,
                    )
                    yield Label(meaning, classes="muted field-hint")
            yield from self.foot("Apply (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#field-max_concurrency", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        typed = {name: self.query_one(f"#field-{name}", Input).value for name, _ in FIELDS}
        try:
            changes = changes_from(self.constraints, typed)
        except Rejected as why:
            message = str(why)
            self.show_error(message)
            field = message.split(":", 1)[0].split(".", 1)[0].strip()
            if field in typed:
                self.query_one(f"#field-{field}", Input).focus()
            return
        self.dismiss(ConstraintChanges(changes))
