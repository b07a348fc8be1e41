"""Events: every state change of a production, the store's source of truth.

One pydantic model per kind; the store writes `kind` and the payload's JSON, and reads them back
through `EVENT_ADAPTER`. Engine state is a fold over these events.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from podium.domain.artifacts import Artifact
from podium.domain.base import Frozen
from podium.domain.debate import DebateState
from podium.domain.escalation import Action, Command, Escalation
from podium.domain.policy import Territory
from podium.domain.tasks import TaskSpec, TaskState
from podium.domain.validators import Finding


class ProductionState(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"  # on the Orchestrator
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"


class AgentState(StrEnum):
    IDLE = "idle"
    THINKING = "thinking"
    STREAMING = "streaming"
    WAITING = "waiting"
    FAILED = "failed"


class ProductionOpened(Frozen):
    """First event of a database: the production file as it was validated."""

    kind: Literal["production_opened"] = "production_opened"
    spec: dict[str, Any]
    source: str = ""
    podium_version: str = ""
    seed: int = 0
    model_override: str | None = None


class RunStarted(Frozen):
    kind: Literal["run_started"] = "run_started"
    pid: int = 0
    resumed: bool = False
    headless: bool = False


class RunStopped(Frozen):
    kind: Literal["run_stopped"] = "run_stopped"
    reason: str = ""


class ProductionStateChanged(Frozen):
    kind: Literal["production_state"] = "production_state"
    state: ProductionState
    reason: str = ""
    paused: bool | None = None  # set by pause and resume


class TasksPlanned(Frozen):
    kind: Literal["tasks_planned"] = "tasks_planned"
    tasks: list[TaskSpec]
    source: Literal["file", "planner", "orchestrator"] = "file"
    rationale: str = ""


class TaskStateChanged(Frozen):
    kind: Literal["task_state"] = "task_state"
    task_id: str
    state: TaskState
    reason: str = ""
    attempt: int = 0


class AgentStateChanged(Frozen):
    kind: Literal["agent_state"] = "agent_state"
    agent_id: str
    state: AgentState
    task_id: str | None = None


class OutputChunk(Frozen):
    """Streamed text, as it arrives. Sanitized before it is stored."""

    kind: Literal["output_chunk"] = "output_chunk"
    task_id: str
    agent_id: str
    attempt: int = 1
    text: str


class CallFinished(Frozen):
    """One model call: what it cost, how long it took, how it ended."""

    kind: Literal["call_finished"] = "call_finished"
    call_id: str
    task_id: str | None
    agent_id: str
    model: str
    purpose: str = "task"
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    ok: bool = True
    error_kind: str | None = None
    error: str = ""


class ArtifactCreated(Frozen):
    kind: Literal["artifact_created"] = "artifact_created"
    artifact: Artifact


class ArtifactStatusChanged(Frozen):
    kind: Literal["artifact_status"] = "artifact_status"
    artifact_id: str
    status: str
    decision_id: str | None = None


class ValidationReported(Frozen):
    kind: Literal["validation"] = "validation"
    task_id: str
    attempt: int
    artifact_id: str | None = None
    findings: list[Finding] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings


class TerritoryAssigned(Frozen):
    """The authority policy's verdict on a task's decision, with what the agent claimed."""

    kind: Literal["territory"] = "territory"
    task_id: str
    territory: Territory
    decision_kind: str
    agent_claim: Territory | None = None


class EscalationOpened(Frozen):
    kind: Literal["escalation_opened"] = "escalation_opened"
    escalation: Escalation


class EscalationResolved(Frozen):
    kind: Literal["escalation_resolved"] = "escalation_resolved"
    escalation_id: str
    action: Action
    command_id: str | None = None
    resolution: str = ""


class CommandRecorded(Frozen):
    """A human command, durable (synchronous=FULL) before it takes effect."""

    kind: Literal["command_recorded"] = "command_recorded"
    command: Command


class CommandApplied(Frozen):
    kind: Literal["command_applied"] = "command_applied"
    command_id: str
    effect: str = ""


class CommandRejected(Frozen):
    kind: Literal["command_rejected"] = "command_rejected"
    command_id: str
    reason: str


class ReviewGiven(Frozen):
    """A reviewer's critique of a task's output (critique → revise → verify)."""

    kind: Literal["review"] = "review"
    task_id: str
    artifact_id: str
    reviewer: str
    round: int
    verdict: Literal["approve", "revise"]
    summary: str = ""
    issues: list[str] = Field(default_factory=list)


class DebateOpened(Frozen):
    kind: Literal["debate_opened"] = "debate_opened"
    debate_id: str
    task_id: str
    topic: str
    participants: list[str]
    judge: str
    max_rounds: int
    time_limit_s: float


class DebateTurnTaken(Frozen):
    kind: Literal["debate_turn"] = "debate_turn"
    debate_id: str
    round: int
    speaker: str
    role: str
    stance: str
    reasoning: str = ""
    concedes: bool = False


class DebateClosed(Frozen):
    kind: Literal["debate_closed"] = "debate_closed"
    debate_id: str
    state: DebateState
    ruling: str = ""
    winner: str = ""
    recommendation: str = ""
    reason: str = Field(default="", description="Why it closed without a ruling, if it did.")


class VisionAmended(Frozen):
    kind: Literal["vision_amended"] = "vision_amended"
    version: int
    section: str
    value: Any
    reason: str = ""
    command_id: str | None = None
    stale_tasks: list[str] = Field(default_factory=list)


class ConstraintsAdjusted(Frozen):
    kind: Literal["constraints_adjusted"] = "constraints_adjusted"
    changes: dict[str, Any]
    command_id: str | None = None


class StatusReported(Frozen):
    """A department head's report (progress, blockers), from a report task's output."""

    kind: Literal["status_report"] = "status_report"
    agent_id: str
    task_id: str | None = None
    artifact_id: str | None = None
    progress_pct: float = 0.0
    summary: str = ""
    blockers: list[str] = Field(default_factory=list)


class TaskDirected(Frozen):
    """An Orchestrator direction that binds the task's next run (override, chosen option)."""

    kind: Literal["task_directed"] = "task_directed"
    task_id: str
    direction: str
    command_id: str | None = None
    assignee: str | None = Field(default=None, description="Set when the task is reassigned.")


class Feedback(Frozen):
    """Orchestrator feedback kept in an agent's context."""

    kind: Literal["feedback"] = "feedback"
    agent_id: str
    text: str
    command_id: str | None = None


Payload = Annotated[
    ProductionOpened
    | RunStarted
    | RunStopped
    | ProductionStateChanged
    | TasksPlanned
    | TaskStateChanged
    | AgentStateChanged
    | OutputChunk
    | CallFinished
    | ArtifactCreated
    | ArtifactStatusChanged
    | ValidationReported
    | TerritoryAssigned
    | EscalationOpened
    | EscalationResolved
    | CommandRecorded
    | CommandApplied
    | CommandRejected
    | ReviewGiven
    | DebateOpened
    | DebateTurnTaken
    | DebateClosed
    | VisionAmended
    | ConstraintsAdjusted
    | StatusReported
    | TaskDirected
    | Feedback,
    Field(discriminator="kind"),
]

PAYLOAD_ADAPTER: TypeAdapter[Payload] = TypeAdapter(Payload, config=ConfigDict(defer_build=True))

EVENT_KINDS: frozenset[str] = frozenset(
    t.model_fields["kind"].default
    for t in (
        ProductionOpened,
        RunStarted,
        RunStopped,
        ProductionStateChanged,
        TasksPlanned,
        TaskStateChanged,
        AgentStateChanged,
        OutputChunk,
        CallFinished,
        ArtifactCreated,
        ArtifactStatusChanged,
        ValidationReported,
        TerritoryAssigned,
        EscalationOpened,
        EscalationResolved,
        CommandRecorded,
        CommandApplied,
        CommandRejected,
        ReviewGiven,
        DebateOpened,
        DebateTurnTaken,
        DebateClosed,
        VisionAmended,
        ConstraintsAdjusted,
        StatusReported,
        TaskDirected,
        Feedback,
    )
)


class Event(Frozen):
    """A stored event: its place in the log, when it happened, and what it says."""

    seq: int
    ts: float
    payload: Payload

    @property
    def kind(self) -> str:
        return self.payload.kind
