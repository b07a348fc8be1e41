"""The checks a command and its dialog share, pure: the dialog says at once what the engine
would refuse, in the same words. The engine's command handler imports them from here."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from podium.domain.escalation import ConstraintProblem, checked_changes
from podium.domain.lineage import stale
from podium.domain.loading import control_problems
from podium.domain.production import MAX_DIRECTION, VISION_SECTIONS, Constraints, Vision
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.domain.text import control_problem, sanitize


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


def amended_vision(vision: Vision, section: str, value: Any) -> tuple[Any, Vision]:
    """Validate a new value for one vision section; returns (stored value, new vision)."""
    if section not in VISION_SECTIONS:
        raise Rejected(f"unknown vision section {section!r}; one of {', '.join(VISION_SECTIONS)}")
    for loc, problem in control_problems(value):
        raise Rejected(f"vision {section}: {_at(loc)}{problem}")
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
