"""The escalation inbox and the Orchestrator's decisions."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

from pydantic import Field

from podium.domain.base import Frozen, Model
from podium.domain.policy import Territory


class EscalationKind(StrEnum):
    APPROVAL_GATE = "approval_gate"
    MILESTONE = "milestone"
    PLAN = "plan"
    CONFLICT = "conflict"
    DEVIATION = "deviation"
    FAILURE = "failure"
    QUALITY = "quality"
    BUDGET = "budget"
    SCOPE_CHANGE = "scope_change"
    COLLABORATIVE = "collaborative"
    VISION_STALE = "vision_stale"  # work made stale by a vision change: re-run or keep


class Priority(IntEnum):
    """Lower sorts first."""

    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


DEFAULT_PRIORITY: dict[EscalationKind, Priority] = {
    EscalationKind.BUDGET: Priority.CRITICAL,
    EscalationKind.FAILURE: Priority.HIGH,
    EscalationKind.CONFLICT: Priority.HIGH,
    EscalationKind.DEVIATION: Priority.HIGH,
    EscalationKind.QUALITY: Priority.HIGH,
    EscalationKind.PLAN: Priority.HIGH,
    EscalationKind.SCOPE_CHANGE: Priority.HIGH,
    EscalationKind.MILESTONE: Priority.NORMAL,
    EscalationKind.APPROVAL_GATE: Priority.NORMAL,
    EscalationKind.COLLABORATIVE: Priority.LOW,
    EscalationKind.VISION_STALE: Priority.HIGH,
}


class Action(StrEnum):
    """What the Orchestrator can do. Only a human command creates one of these."""

    APPROVE = "approve"
    OVERRIDE = "override"
    RETRY = "retry"
    SKIP = "skip"
    REASSIGN = "reassign"
    REQUEST_ALTERNATIVES = "request_alternatives"
    FEEDBACK = "feedback"
    CLARIFY_VISION = "clarify_vision"
    ADJUST_CONSTRAINTS = "adjust_constraints"
    RERUN_STALE = "rerun_stale"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


# The actions each kind of escalation offers, first the one a user most often wants.
KIND_ACTIONS: dict[EscalationKind, tuple[Action, ...]] = {
    EscalationKind.APPROVAL_GATE: (Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES),
    EscalationKind.MILESTONE: (Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES),
    EscalationKind.PLAN: (Action.APPROVE, Action.OVERRIDE),
    EscalationKind.CONFLICT: (Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES),
    EscalationKind.DEVIATION: (Action.APPROVE, Action.OVERRIDE, Action.RETRY),
    EscalationKind.FAILURE: (Action.RETRY, Action.SKIP, Action.REASSIGN, Action.OVERRIDE),
    EscalationKind.QUALITY: (Action.APPROVE, Action.OVERRIDE, Action.RETRY, Action.SKIP),
    EscalationKind.BUDGET: (Action.APPROVE, Action.ADJUST_CONSTRAINTS, Action.SKIP),
    EscalationKind.SCOPE_CHANGE: (Action.APPROVE, Action.SKIP, Action.OVERRIDE),
    EscalationKind.COLLABORATIVE: (Action.APPROVE, Action.OVERRIDE),
    EscalationKind.VISION_STALE: (Action.APPROVE, Action.SKIP),
}


class Option(Frozen):
    """One way forward, proposed by an agent (or by the engine) with its reasoning."""

    id: str
    label: str
    proposer: str = ""
    summary: str = ""
    reasoning: str = ""


class Escalation(Model):
    id: str
    kind: EscalationKind
    priority: Priority
    title: str
    territory: Territory = Territory.APPROVAL_REQUIRED
    task_id: str | None = None
    artifact_ids: list[str] = Field(default_factory=list)
    debate_id: str | None = None
    detail: str = ""
    evidence: list[str] = Field(default_factory=list)
    options: list[Option] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    opened_at: float = 0.0
    timeout_s: float | None = Field(
        default=None, description="Collaborative items only: default action after this long."
    )
    default_action: Action | None = None
    transient: bool | None = Field(
        default=None,
        description="Failures only: whether the cause may pass (a timeout), so a plain retry "
        "may succeed; False for causes a retry repeats (a bad key, a bad request).",
    )
    resolved_at: float | None = None
    resolution: str | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class Command(Frozen):
    """An Orchestrator command, recorded durably before it takes effect. Idempotent by id."""

    id: str
    action: Action
    escalation_id: str | None = None
    task_id: str | None = None
    option_id: str | None = None
    text: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    issued_at: float = 0.0
    origin: str = Field(default="tui", description="tui, cli, headless auto-approve, …")

    @property
    def automatic(self) -> bool:
        """Issued by a standing rule (--auto-approve, a timeout), not by a key press."""
        return self.origin.startswith(AUTO_ORIGIN) or self.origin == TIMEOUT_ORIGIN

    @property
    def by(self) -> str:
        """Who decided, for a reason a reader sees: never the Orchestrator for a rule's act."""
        if self.origin.startswith(AUTO_ORIGIN):
            return f"automatically ({self.origin})"
        if self.origin == TIMEOUT_ORIGIN:
            return "by default, after its timeout"
        return "by the Orchestrator"


AUTO_ORIGIN = "--auto-approve"  # the origin of commands issued on a headless standing instruction
TIMEOUT_ORIGIN = "timeout"  # the origin of a collaborative item's default action
