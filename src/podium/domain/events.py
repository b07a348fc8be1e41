"""Events: every state change of a production, the store's source of truth.

One pydantic model per kind, registered with `@event_kind` (`EVENT_TYPES`, the one catalogue of
kinds and their versions); the store writes `kind` and the payload's JSON, and reads them back
through `PAYLOAD_ADAPTER` (upcasting older versions, `podium.store.events`). Engine state is a
fold over these events (`podium.domain.state`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import ConfigDict, Field, TypeAdapter

from podium.domain.artifacts import Artifact, ArtifactStatus
from podium.domain.base import Frozen
from podium.domain.debate import DebateState
from podium.domain.escalation import (
    Action,
    Command,
    ConstraintChanges,
    Escalation,
    VisionSection,
    VisionValue,
)
from podium.domain.policy import Territory
from podium.domain.tasks import TaskSpec, TaskState
from podium.domain.validators import Finding


class ProductionState(StrEnum):
    RUNNING = "running"
    WAITING = "waiting"  # on the Orchestrator
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"


class StaleCause(StrEnum):
    """Why a task went stale (`podium.domain.lineage`)."""

    INPUT_CHANGED = "input_changed"  # an input it was made from is no longer that input's current
    INPUT_STALE = "input_stale"  # an input is stale or being made again
    VISION = "vision"  # a vision section it used changed after it was made


class VersionCause(StrEnum):
    """Why a version became its task's current one (`CurrentVersionSet`)."""

    MADE = "made"  # an agent's (or podium's) version was applied
    APPROVED = "approved"  # the Orchestrator approved it
    OVERRIDE = "override"  # made under the Orchestrator's direction
    REPLACE = "replace"  # the Orchestrator's replacement text
    EDIT = "edit"  # the Orchestrator's hand edit
    ALTERNATIVE = "alternative"  # a chosen alternative or an accepted proposal
    RESTORE = "restore"  # an earlier version, current again
    KEPT = "kept"  # stands as it is against new inputs (its lineage is rebased)


class AgentState(StrEnum):
    IDLE = "idle"
    THINKING = "thinking"
    STREAMING = "streaming"
    WAITING = "waiting"
    FAILED = "failed"


# -- the registry of event kinds ----------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

EVENT_TYPES: dict[str, type[Frozen]] = {}
"""Every payload class by its `kind`, in the order they are declared: the one catalogue of event
kinds (each class registers itself with `@event_kind`). `Payload` below names the same classes
for the type checker and pydantic; the fold table (`podium.domain.state`) and the screen's
mapping (`podium.tui.live`) are keyed by them, and tests check that all of them agree."""

UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(kind, version) -> a function that turns a stored payload of that version (its JSON object,
`v` included or absent) into the next version's. A kind at version N has one for 1..N-1."""

_Kind = TypeVar("_Kind", bound=type[Frozen])


def version_of(cls: type[Frozen]) -> int:
    """A payload class's version: its class attribute `VERSION` (a ClassVar), 1 when absent."""
    version = getattr(cls, "VERSION", 1)
    return version if isinstance(version, int) else 1


def event_kind(cls: _Kind) -> _Kind:
    """Register a payload class under its `kind`.

    `kind` is the first field (the store's replay finds a chunk by the head of its JSON).
    Versions: a payload that changes in a way old rows no longer validate against (or validate
    with another meaning) gets `VERSION: ClassVar[int] = N` and, as its second field,
    `v: Literal[N] = N`, so that what it writes carries its version beside `kind` (a stored
    payload without `v` is version 1); and an upcaster in UPCASTERS for each older version.
    """
    model: type[Frozen] = cls
    fields = model.model_fields
    kind = fields["kind"].default
    if not isinstance(kind, str) or kind in EVENT_TYPES:
        raise TypeError(f"{cls.__name__}: kind {kind!r} is not a new kind's name")
    version = version_of(cls)
    if version < 1:
        raise TypeError(f"{cls.__name__}: VERSION must be 1 or more")
    stored = fields.get("v")
    head = list(fields)[: 2 if version > 1 else 1]
    if (
        head != ["kind", "v"][: len(head)]
        or (version > 1) != (stored is not None)
        or (stored is not None and stored.default != version)
    ):
        raise TypeError(
            f"{cls.__name__} is version {version}: its first field is kind"
            + (f", its second v: Literal[{version}] = {version}" if version > 1 else ", no v field")
        )
    EVENT_TYPES[kind] = cls
    return cls


@event_kind
class ProductionOpened(Frozen):
    """First event of a database: the production file as it was validated."""

    kind: Literal["production_opened"] = "production_opened"
    spec: dict[str, Any]
    source: str = ""
    podium_version: str = ""
    seed: int = 0
    model_override: str | None = None


@event_kind
class RunStarted(Frozen):
    kind: Literal["run_started"] = "run_started"
    pid: int = 0
    resumed: bool = False
    headless: bool = False


@event_kind
class RunStopped(Frozen):
    kind: Literal["run_stopped"] = "run_stopped"
    reason: str = ""


@event_kind
class ProductionStateChanged(Frozen):
    kind: Literal["production_state"] = "production_state"
    state: ProductionState
    reason: str = ""
    paused: bool | None = None  # set by pause and resume


@event_kind
class TasksPlanned(Frozen):
    kind: Literal["tasks_planned"] = "tasks_planned"
    tasks: list[TaskSpec]
    source: Literal["file", "planner", "orchestrator"] = "file"
    rationale: str = ""


@event_kind
class TaskStateChanged(Frozen):
    kind: Literal["task_state"] = "task_state"
    task_id: str
    state: TaskState
    reason: str = ""
    attempt: int = 0
    interrupted: bool | None = Field(
        default=None,
        description="Back to ready because its run was cut short (a stop, a crash): the next "
        "run goes on counting its calls. None: written by a podium that did not record it "
        "(the fold derives it, `podium.domain.state.upcast_untyped_facts`).",
    )
    stale_cause: StaleCause | None = None  # set when it goes stale (`podium.domain.lineage`)


@event_kind
class AgentStateChanged(Frozen):
    kind: Literal["agent_state"] = "agent_state"
    agent_id: str
    state: AgentState
    task_id: str | None = None


@event_kind
class OutputChunk(Frozen):
    """Streamed text, as it arrives. Sanitized before it is stored."""

    kind: Literal["output_chunk"] = "output_chunk"
    task_id: str
    agent_id: str
    attempt: int = 1
    text: str


@event_kind
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
    cached_input_tokens: int = 0  # of input_tokens, read from the provider's prompt cache
    cache_write_tokens: int = 0  # of input_tokens, written to it (Anthropic bills these apart)


@event_kind
class ArtifactCreated(Frozen):
    kind: Literal["artifact_created"] = "artifact_created"
    artifact: Artifact
    agent_claim: Territory | None = Field(
        default=None,
        description="The territory its agent claimed for the decision in its reply; it can "
        "only raise the authority policy's verdict, when the task concludes.",
    )


@event_kind
class ArtifactStatusChanged(Frozen):
    kind: Literal["artifact_status"] = "artifact_status"
    artifact_id: str
    status: ArtifactStatus
    decision_id: str | None = None


@event_kind
class CurrentVersionSet(Frozen):
    """Version `version` of the task is its current one: what the deliverables are made of and
    what its dependents' lineage is checked against (`podium.domain.lineage`).

    `made_from` and `vision_version` are set only when the version is kept against new inputs
    (cause `kept`): the lineage it now stands on, which replaces the one it was made from.
    """

    kind: Literal["current_version"] = "current_version"
    task_id: str
    version: int = Field(ge=1)
    cause: VersionCause
    command_id: str | None = None
    made_from: dict[str, int] | None = None
    vision_version: int | None = None


@event_kind
class ValidationReported(Frozen):
    kind: Literal["validation"] = "validation"
    task_id: str
    attempt: int
    artifact_id: str | None = None
    findings: list[Finding] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings


@event_kind
class TerritoryAssigned(Frozen):
    """The authority policy's verdict on a task's decision, with what the agent claimed."""

    kind: Literal["territory"] = "territory"
    task_id: str
    territory: Territory
    decision_kind: str
    agent_claim: Territory | None = None


@event_kind
class EscalationOpened(Frozen):
    kind: Literal["escalation_opened"] = "escalation_opened"
    escalation: Escalation


@event_kind
class EscalationResolved(Frozen):
    kind: Literal["escalation_resolved"] = "escalation_resolved"
    escalation_id: str
    action: Action
    command_id: str | None = None
    resolution: str = ""
    allowance: bool | None = Field(
        default=None,
        description="A budget escalation approved: its task may go over budget for one more "
        "call. None: written by a podium that did not record it (the fold derives it).",
    )


@event_kind
class CommandRecorded(Frozen):
    """A human command, durable (synchronous=FULL) before it takes effect."""

    kind: Literal["command_recorded"] = "command_recorded"
    command: Command


@event_kind
class CommandApplied(Frozen):
    kind: Literal["command_applied"] = "command_applied"
    command_id: str
    effect: str = ""


@event_kind
class CommandRejected(Frozen):
    kind: Literal["command_rejected"] = "command_rejected"
    command_id: str
    reason: str


@event_kind
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


@event_kind
class DebateOpened(Frozen):
    kind: Literal["debate_opened"] = "debate_opened"
    debate_id: str
    task_id: str
    topic: str
    participants: list[str]
    judge: str
    max_rounds: int
    time_limit_s: float


@event_kind
class DebateTurnTaken(Frozen):
    kind: Literal["debate_turn"] = "debate_turn"
    debate_id: str
    round: int
    speaker: str
    role: str
    stance: str
    reasoning: str = ""
    concedes: bool = False


@event_kind
class DebateClosed(Frozen):
    kind: Literal["debate_closed"] = "debate_closed"
    debate_id: str
    state: DebateState
    ruling: str = ""
    winner: str = ""
    recommendation: str = ""
    reason: str = Field(default="", description="Why it closed without a ruling, if it did.")


@event_kind
class VisionAmended(Frozen):
    kind: Literal["vision_amended"] = "vision_amended"
    version: int
    section: VisionSection
    value: VisionValue
    reason: str = ""
    command_id: str | None = None
    stale_tasks: list[str] = Field(default_factory=list)


@event_kind
class ConstraintsAdjusted(Frozen):
    kind: Literal["constraints_adjusted"] = "constraints_adjusted"
    changes: ConstraintChanges = Field(description="Only the constraints that changed.")
    command_id: str | None = None


@event_kind
class StatusReported(Frozen):
    """A department head's report (progress, blockers), from a report task's output."""

    kind: Literal["status_report"] = "status_report"
    agent_id: str
    task_id: str | None = None
    artifact_id: str | None = None
    progress_pct: float = 0.0
    summary: str = ""
    blockers: list[str] = Field(default_factory=list)


@event_kind
class TaskSettled(Frozen):
    """A task's output accepted on the common path, in one event: the authority policy's
    territory (autonomous or collaborative), its artifact's status (accepted or provisional),
    that artifact current as version `version`, and the task done with `reason`. It folds, and
    every reader sees it, exactly as the four events podium recorded for this before
    (`TerritoryAssigned`, `ArtifactStatusChanged`, `CurrentVersionSet`, `TaskStateChanged`),
    which a log written then still holds and which the other paths still record. Before them,
    as they were recorded before them: the clean `ValidationReported` of the version that
    stands (`validation`; a reviewed or assembled version's is its own event, as before), then
    a report task's `StatusReported` (`report`)."""

    kind: Literal["task_settled"] = "task_settled"
    task_id: str
    territory: Territory
    decision_kind: str
    agent_claim: Territory | None = None
    artifact_id: str
    status: ArtifactStatus
    version: int = Field(ge=1)
    cause: VersionCause
    reason: str = ""
    validation: ValidationReported | None = None
    report: StatusReported | None = None
    # What a `CurrentVersionSet` of a kept version carries; a settled version rebases nothing.
    made_from: ClassVar[None] = None
    vision_version: ClassVar[None] = None

    @property
    def state(self) -> TaskState:
        """The task's new state, as a `TaskStateChanged` says it: done."""
        return TaskState.DONE


@event_kind
class TaskDirected(Frozen):
    """An Orchestrator direction that binds the task's next run (override, chosen option)."""

    kind: Literal["task_directed"] = "task_directed"
    task_id: str
    direction: str
    command_id: str | None = None
    assignee: str | None = Field(default=None, description="Set when the task is reassigned.")


@event_kind
class Clarified(Frozen):
    """The Orchestrator's answer to a question an agent asked (`podium.domain.asking`); the
    task's next run is given the question and the answer."""

    kind: Literal["clarified"] = "clarified"
    task_id: str
    agent_id: str
    question: str
    options: list[str] = Field(default_factory=list)
    answer: str
    escalation_id: str | None = None
    command_id: str | None = None


@event_kind
class SummaryMade(Frozen):
    """A summary of one version of a task's output, made once by a model call (purpose
    "summary") for prompts whose inputs do not all fit whole; read again from here."""

    kind: Literal["summary_made"] = "summary_made"
    task_id: str  # the summarised task
    version: int
    artifact_id: str
    text: str
    model: str
    for_task: str = Field(description="The task whose prompt first needed it.")


@event_kind
class CharacterSheetMade(Frozen):
    """A principal character's look, made once before the first image with them in frame: a
    written description every later image prompt quotes, and the sheet's picture (an image
    call of purpose "image") beside the database; no picture when that call failed (the
    description still holds). Made again when the look book or the vision it came from moves."""

    kind: Literal["character_sheet_made"] = "character_sheet_made"
    character: str
    description: str
    image_path: str | None = None
    model: str
    made_from: dict[str, int] = Field(
        default_factory=dict, description="The look book's task id and version it was made from."
    )
    vision_version: int = 1
    for_task: str = Field(description="The task whose image first needed it.")


@event_kind
class FramesDrawn(Frozen):
    """A shot list version's storyboard frames drawn by the image model: each shot's label
    (scene and shot, "12A") and its image beside the database. A shot whose call failed is in
    `failed` and stays the rehearsal illustrator's stand-in, marked as one."""

    kind: Literal["frames_drawn"] = "frames_drawn"
    task_id: str
    artifact_id: str
    model: str
    frames: dict[str, str] = Field(default_factory=dict)
    failed: list[str] = Field(default_factory=list)


@event_kind
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
    | CurrentVersionSet
    | ValidationReported
    | TerritoryAssigned
    | TaskSettled
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
    | Clarified
    | SummaryMade
    | CharacterSheetMade
    | FramesDrawn
    | Feedback,
    Field(discriminator="kind"),
]

PAYLOAD_ADAPTER: TypeAdapter[Payload] = TypeAdapter(Payload, config=ConfigDict(defer_build=True))

EVENT_KINDS: frozenset[str] = frozenset(EVENT_TYPES)
"""Every kind's name, from the registry."""


class Event(Frozen):
    """A stored event: its place in the log, when it happened, and what it says."""

    seq: int
    ts: float
    payload: Payload

    @property
    def kind(self) -> str:
        return self.payload.kind
