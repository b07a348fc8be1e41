"""The checks a command and its dialog share, pure: the dialog says at once what the engine
would refuse, in the same words. The engine's command handler imports them from here."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from podium.domain.artifacts import ArtifactStatus
from podium.domain.loading import control_problems, validate_strictly
from podium.domain.production import (
    MAX_DIRECTION,
    VISION_SECTIONS,
    Constraints,
    Vision,
    constraint_problems,
)
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import control_problem, sanitize
from podium.domain.vision_uses import uses_section


class Rejected(Exception):
    """The command does not apply; the message says why, for the Orchestrator."""


_LIST_SECTIONS = {"themes", "locations"}


def stale_after(view: ProductionView, section: str) -> list[str]:
    """The tasks a change to `section` makes stale: they used it and are not approved."""
    stale: list[str] = []
    for task_id, record in view.tasks.items():
        if record.state not in (TaskState.DONE, TaskState.AWAITING_APPROVAL):
            continue
        if record.spec.kind is TaskKind.PLAN or not uses_section(record.spec.kind, section):
            continue
        artifact = view.artifacts.get(record.artifact_id or "")
        if artifact is not None and artifact.status is ArtifactStatus.APPROVED:
            continue
        stale.append(task_id)
    return stale


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
    unknown = sorted(set(changes) - set(Constraints.model_fields))
    if unknown:
        raise Rejected(
            f"unknown constraint {unknown[0]!r}; one of {', '.join(Constraints.model_fields)}"
        )
    for loc, problem in control_problems(changes):
        raise Rejected(f"{_dotted(loc)}: {problem}")
    try:
        # As strictly as a production file: `true` is not 1, "3" is not a number.
        merged = validate_strictly(Constraints, current.model_dump(mode="json") | changes)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "constraints"
        raise Rejected(f"{field}: {first['msg']}") from None
    except (RecursionError, ValueError):
        raise Rejected(f"{next(iter(changes))}: a value nested too deeply to take") from None
    for found in constraint_problems(merged):
        if found.loc[0] in changes:  # a file's model name, refused the way the file is
            raise Rejected(f"{_dotted(found.loc)}: {found.message}")
    dumped = merged.model_dump(mode="json")
    return {key: dumped[key] for key in changes}


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


def _dotted(loc: tuple[str | int, ...]) -> str:
    """A path into a value for a message: its keys are the user's, so shown sanitized."""
    return sanitize(".".join(str(part) for part in loc))
