"""The checks a command and its dialog share, pure: the dialog says at once what the engine
would refuse, in the same words. The engine's command handler imports them from here."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from podium.domain.escalation import ConstraintProblem, checked_changes
from podium.domain.lineage import stale
from podium.domain.loading import control_problems
from podium.domain.production import MAX_DIRECTION, Constraints, StyleGuide, Vision
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.domain.text import control_problem, sanitize
from podium.domain.vision_uses import LIVE_SECTIONS, STYLE, style_as_text, style_changes


class Rejected(Exception):
    """The command does not apply; the message says why, for the Orchestrator."""


_LIST_SECTIONS = {"themes", "locations"}


def stale_after(view: ProductionView, section: str) -> list[str]:
    """The work a change to `section` makes stale, inputs first: what the lineage will say
    (`podium.domain.lineage`) once the amendment is made, beyond what is stale already."""
    return [
        task_id
        for task_id in stale(view, changed=(section,))
        if view.tasks[task_id].state is not TaskState.STALE
    ]


def amended_vision(
    vision: Vision, section: str, value: Any, style: StyleGuide | None = None
) -> tuple[Any, Vision]:
    """Validate a new value for one vision section, or for the style guide (`style`: the
    guide as it stands); returns (stored value, new vision: its version is the next)."""
    if section not in LIVE_SECTIONS:
        raise Rejected(f"unknown vision section {section!r}; one of {', '.join(LIVE_SECTIONS)}")
    for loc, problem in control_problems(value):
        raise Rejected(f"vision {section}: {_at(loc)}{problem}")
    if section == STYLE:
        return _amended_style(vision, value, style or StyleGuide())
    if section in _LIST_SECTIONS and isinstance(value, str):
        value = [v.strip() for v in value.replace(";", "\n").splitlines() if v.strip()]
    if section == "premise" and isinstance(value, str) and value and not value.strip():
        raise Rejected("vision premise: only whitespace; write the premise")
    try:
        new = Vision.model_validate(
            vision.model_dump() | {section: value, "version": vision.version + 1}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Rejected(f"vision {section}: {first['msg']}") from None
    return new.model_dump(mode="json")[section], new


def _amended_style(vision: Vision, value: Any, style: StyleGuide) -> tuple[str, Vision]:
    """The style guide with the fields `value` names changed: stored whole, as text."""
    if not isinstance(value, str) or not value.strip():
        raise Rejected(
            'style: give text, e.g. "lighting: practicals only" or "palette: amber; slate"'
        )
    checked_text("style", value)
    try:
        new = StyleGuide.model_validate(style.model_dump() | style_changes(value))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Rejected(f"style {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return style_as_text(new), vision.model_copy(update={"version": vision.version + 1})


def adjusted_constraints(current: Constraints, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` checked as a production file's constraints are (see
    `podium.domain.escalation.checked_changes`), normalized; Rejected says what is wrong."""
    try:
        return checked_changes(current, changes)
    except ConstraintProblem as why:
        raise Rejected(str(why)) from None


def checked_text(what: str, text: str, limit: int = MAX_DIRECTION) -> str:
    """A human's direction (feedback, an override, a vision's reason), stripped; refused when
    empty, longer than `limit` characters, or holding a terminal control character."""
    text = text.strip()
    if not text:
        raise Rejected(f"{what} needs a text")
    if len(text) > limit:
        raise Rejected(
            f"{what} is {len(text):,} characters; at most {limit:,} (say it shorter: every "
            "prompt that reads it pays for each one)"
        )
    if (problem := control_problem(text)) is not None:
        raise Rejected(f"{what} {problem}")
    return text


def _at(loc: tuple[str | int, ...]) -> str:
    return sanitize("".join(f"[{part}]" for part in loc)) + (": " if loc else "")
