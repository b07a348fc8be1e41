"""The checks a command and its dialog share, pure: the dialog says at once what the engine
would refuse, in the same words. The engine's command handler imports them from here."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from podium.domain.artifacts import ArtifactStatus
from podium.domain.production import VISION_SECTIONS, Constraints, Vision
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskState
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
    if section in _LIST_SECTIONS and isinstance(value, str):
        value = [v.strip() for v in value.replace(";", "\n").splitlines() if v.strip()]
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
    try:
        merged = Constraints.model_validate(current.model_dump() | changes)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "constraints"
        raise Rejected(f"{field}: {first['msg']}") from None
    dumped = merged.model_dump(mode="json")
    return {key: dumped[key] for key in changes}
