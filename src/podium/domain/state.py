"""A production's state, folded from its events.

The same fold serves the live engine (applied as each event is emitted), a resumed run
(applied to the stored log), `podium status`, the TUI and the exporters, so what one sees is
what the others see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from podium.domain.agents import AgentSpec, Role
from podium.domain.artifacts import Artifact, ArtifactStatus
from podium.domain.debate import Debate, DebateState, Turn
from podium.domain.escalation import Command, Escalation, EscalationKind, plain_vision_value
from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    ArtifactCreated,
    ArtifactStatusChanged,
    CallFinished,
    CommandApplied,
    CommandRecorded,
    CommandRejected,
    ConstraintsAdjusted,
    CurrentVersionSet,
    DebateClosed,
    DebateOpened,
    DebateTurnTaken,
    EscalationOpened,
    EscalationResolved,
    Event,
    Feedback,
    OutputChunk,
    Payload,
    ProductionOpened,
    ProductionState,
    ProductionStateChanged,
    ReviewGiven,
    RunStarted,
    RunStopped,
    StatusReported,
    TaskDirected,
    TasksPlanned,
    TaskStateChanged,
    TerritoryAssigned,
    ValidationReported,
    VisionAmended,
)
from podium.domain.policy import Territory
from podium.domain.production import Constraints, ProductionSpec, Vision
from podium.domain.tasks import TaskSpec, TaskState
from podium.domain.text import sanitize, sanitize_tree, tree_is_clean
from podium.domain.validators import Finding

TAIL_CHARS = 400
_STREAMING = AgentState.STREAMING

Unread = tuple[Any, ...]
"""Streamed text still in the store (a replay's row), held unread by the fold until it shows."""

ReadHeld = Callable[[str, Unread], str]
"""How a replay reads (and checks) a held row: (the agent it is held for, the row) -> its text."""


# An artifact in one of these stands for its task; a later one that comes to stand replaces it.
_STANDING = frozenset(
    {ArtifactStatus.PROVISIONAL, ArtifactStatus.ACCEPTED, ArtifactStatus.APPROVED}
)
_REPLACEABLE = _STANDING | {ArtifactStatus.DRAFT}


class UnreadableLog(Exception):
    """The log holds a production this version of podium cannot read."""


_Fold = Callable[["ProductionView", Any, float], None]
_F = TypeVar("_F", bound=Callable[..., None])

_FOLD: dict[type[Any], _Fold] = {}
"""Each payload class's fold, registered by `@folds` beside it; every kind in
`podium.domain.events.EVENT_TYPES` has exactly one (a test checks it)."""


def folds(kind: type[Any]) -> Callable[[_F], _F]:
    """Register the decorated method as the fold of `kind`'s payloads (at most one per kind)."""

    def register(fold: _F) -> _F:
        if kind in _FOLD:
            raise TypeError(f"{kind.__name__} has two folds")
        _FOLD[kind] = fold
        return fold

    return register


@dataclass
class TaskRecord:
    spec: TaskSpec
    state: TaskState = TaskState.PENDING
    reason: str = ""
    attempt: int = 0
    calls: int = 0  # model calls that finished (ok or not)
    failed_calls: int = 0  # of which failed (each retried, or the last before an escalation)
    run_base: int = 0  # `calls` when the current run began; an interrupted run keeps it
    interrupted: bool = False
    budget_allowed: bool = False  # an approved overrun its next call may spend (one call)
    claim: Territory | None = None  # the territory its agent claimed, until the task concludes
    started_at: float | None = None
    ended_at: float | None = None
    artifact_ids: list[str] = field(default_factory=list)
    territory: Territory | None = None
    findings: list[Finding] = field(default_factory=list)
    vision_version: int = 0  # the vision this task's current output was made from
    # Its lineage (`podium.domain.lineage`): the current version's number (0: none set, as in
    # a log written before podium recorded it), and what the version its state is about (the
    # current one, or the candidate a run made) was made from: inputs' versions, vision sections.
    current: int = 0
    made_from: dict[str, int] = field(default_factory=dict)
    vision_sections: tuple[str, ...] | None = None
    direction: str = ""  # the Orchestrator's binding direction for the next run
    reviews: list[ReviewGiven] = field(default_factory=list)
    source: str = "file"

    @property
    def artifact_id(self) -> str | None:
        return self.artifact_ids[-1] if self.artifact_ids else None


@dataclass
class AgentRecord:
    spec: AgentSpec
    state: AgentState = AgentState.IDLE
    task_id: str | None = None
    tail: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: bool = False
    calls: int = 0
    failures: int = 0
    feedback: list[str] = field(default_factory=list)
    last_report: str = ""
    # Streamed text after `tail`, not yet read (a replay hands stored chunks over unread;
    # `ProductionView.settle` reads what still shows). Empty outside a replay.
    held: list[str | Unread] = field(default_factory=list, repr=False, compare=False)


@dataclass
class CommandRecord:
    command: Command
    seq: int
    status: str = "recorded"  # recorded, applied, rejected
    detail: str = ""


@dataclass
class ProductionView:
    spec: ProductionSpec | None = None
    vision: Vision | None = None
    vision_history: list[VisionAmended] = field(default_factory=list)
    constraints: Constraints | None = None
    model_override: str | None = None
    seed: int = 0
    state: ProductionState = ProductionState.RUNNING
    state_reason: str = ""
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    agents: dict[str, AgentRecord] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    escalations: dict[str, Escalation] = field(default_factory=dict)
    debates: dict[str, Debate] = field(default_factory=dict)
    commands: dict[str, CommandRecord] = field(default_factory=dict)
    planned: bool = False
    paused: bool = False
    runs: int = 0
    run_open: bool = False  # a run started and has not recorded its stop (running, or crashed)
    last_ts: float | None = None
    last_seq: int = 0
    first_start: float | None = None
    last_end: float | None = None
    created_at: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: bool = False
    unpriced_calls: int = 0  # calls whose price nobody knows (their cost is not in cost_usd)
    calls: int = 0
    failed_calls: int = 0
    retried_tasks: int = 0

    # -- derived -----------------------------------------------------------------------------

    def open_escalations(self) -> list[Escalation]:
        open_items = [e for e in self.escalations.values() if e.open]
        return sorted(open_items, key=lambda e: (e.priority, e.opened_at))

    def task_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in TaskState}
        for record in self.tasks.values():
            counts[record.state.value] += 1
        return counts

    def makespan_s(self) -> float | None:
        if self.first_start is None or self.last_end is None:
            return None
        return max(0.0, self.last_end - self.first_start)

    def total_cost(self) -> float | None:
        """Known cost; None when any call's price was unknown and nothing is known."""
        if self.cost_unknown and self.cost_usd == 0:
            return None
        return self.cost_usd

    def agent_totals(self) -> dict[str, dict[str, Any]]:
        """What each agent spent: tokens, cost (None while no price is known) and calls."""
        return {
            agent_id: {
                "department": agent.spec.department,
                "tokens": agent.input_tokens + agent.output_tokens,
                "input_tokens": agent.input_tokens,
                "output_tokens": agent.output_tokens,
                "cost_usd": None if agent.cost_unknown and agent.cost_usd == 0 else agent.cost_usd,
                "cost_complete": not agent.cost_unknown,
                "calls": agent.calls,
                "failed_calls": agent.failures,
            }
            for agent_id, agent in self.agents.items()
        }

    def department_totals(self) -> dict[str, dict[str, Any]]:
        """The same per department, the ledger's view of who spends the budget."""
        out: dict[str, dict[str, Any]] = {}
        for agent_id, agent in self.agents.items():
            dept = out.setdefault(
                agent.spec.department,
                {"agents": [], "tokens": 0, "cost_usd": 0.0, "cost_complete": True, "calls": 0},
            )
            dept["agents"].append(agent_id)
            dept["tokens"] += agent.input_tokens + agent.output_tokens
            dept["cost_usd"] += agent.cost_usd
            dept["cost_complete"] = dept["cost_complete"] and not agent.cost_unknown
            dept["calls"] += agent.calls
        for dept in out.values():
            if not dept["cost_complete"] and dept["cost_usd"] == 0:
                dept["cost_usd"] = None
        return out

    def dependents(self, task_id: str) -> list[str]:
        return [t for t, r in self.tasks.items() if task_id in r.spec.depends_on]

    def all_settled(self) -> bool:
        return bool(self.tasks) and all(r.state.settled for r in self.tasks.values())

    # -- the fold ----------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        self.mark(event.seq, event.ts)
        self.apply_payload(event.payload, event.ts)

    def mark(self, seq: int, ts: float) -> None:
        """Where the log stands: what `apply` notes of every event besides its payload."""
        self.last_seq = seq
        self.last_ts = ts

    def apply_payload(self, p: Payload, ts: float) -> None:
        # One dict lookup by type instead of a chain of isinstance checks: the fold runs for
        # every event, and an isinstance on a pydantic model costs as much as the work.
        fold = _FOLD.get(type(p))
        if fold is None:
            fold = _fold_for(type(p))
        fold(self, p, ts)

    @folds(OutputChunk)
    def _output_chunk(self, p: OutputChunk, ts: float) -> None:
        self.stream(p.agent_id, p.text)

    def stream(self, agent_id: str, text: str | Unread) -> None:
        """The fold of streamed text (an `OutputChunk`): the agent's tail, and `streaming`.

        Text still in the store (a replay hands stored chunks over unread, `podium.store.replay`)
        waits in the agent's `held` until `settle`, which reads only what still shows: most of a
        long log is streamed text that a later call has long since cleared from the tail.
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        agent.state = _STREAMING
        held = agent.held
        if held or type(text) is not str:
            held.append(text)
        else:
            agent.tail = (agent.tail + text)[-TAIL_CHARS:]

    def settle(self, read: ReadHeld, *, beyond: int = 0) -> None:
        """Read into each agent's tail what of its held text still shows (of the agents holding
        more than `beyond` pieces): the newest pieces, until they fill the tail."""
        for agent_id, agent in self.agents.items():
            if len(agent.held) > beyond:
                _settle(agent_id, agent, read)

    @folds(TaskStateChanged)
    def _task_state_changed(self, p: TaskStateChanged, ts: float) -> None:
        self._task_state(p, ts)

    @folds(ProductionOpened)
    def _production_opened(self, p: ProductionOpened, ts: float) -> None:
        try:
            # Sanitized: a file an older podium took without today's door may hold escapes.
            spec = ProductionSpec.model_validate(_shown(p.spec))
        except ValidationError as exc:
            where = ".".join(str(part) for part in exc.errors()[0]["loc"])
            raise UnreadableLog(
                f"the production recorded in this database does not validate ({where}): "
                "it was written by another version of podium"
            ) from None
        self.spec = spec
        self.vision = spec.vision
        self.constraints = spec.constraints
        self.model_override = p.model_override
        self.seed = p.seed
        self.created_at = ts
        self.agents = {a.id: AgentRecord(spec=a) for a in spec.crew}

    @folds(RunStarted)
    def _run_started(self, p: RunStarted, ts: float) -> None:
        self.runs += 1
        self.run_open = True
        self.state = ProductionState.RUNNING

    @folds(RunStopped)
    def _run_stopped(self, p: RunStopped, ts: float) -> None:
        self.run_open = False
        for agent in self.agents.values():
            agent.state = AgentState.IDLE
            agent.task_id = None

    @folds(ProductionStateChanged)
    def _production_state(self, p: ProductionStateChanged, ts: float) -> None:
        self.state = p.state
        self.state_reason = p.reason
        if p.paused is not None:
            self.paused = p.paused

    @folds(TasksPlanned)
    def _tasks_planned(self, p: TasksPlanned, ts: float) -> None:
        self.planned = True
        for task_spec in p.tasks:
            if task_spec.id not in self.tasks:
                self.tasks[task_spec.id] = TaskRecord(spec=task_spec, source=p.source)
            else:
                self.tasks[task_spec.id].spec = task_spec

    @folds(AgentStateChanged)
    def _agent_state(self, p: AgentStateChanged, ts: float) -> None:
        agent = self.agents.get(p.agent_id)
        if agent is not None:
            agent.state = p.state
            agent.task_id = p.task_id
            if p.state is AgentState.THINKING:
                agent.tail = ""
                agent.held.clear()

    @folds(CallFinished)
    def _call_finished(self, p: CallFinished, ts: float) -> None:
        self._call(p)

    @folds(ArtifactCreated)
    def _artifact_created(self, p: ArtifactCreated, ts: float) -> None:
        art = p.artifact
        self.artifacts[art.id] = art
        task = self.tasks.get(art.task_id)
        if task is not None:
            for old in task.artifact_ids:
                prior = self.artifacts.get(old)
                if prior is not None and prior.status is ArtifactStatus.DRAFT:
                    self.artifacts[old] = prior.model_copy(
                        update={"status": ArtifactStatus.SUPERSEDED}
                    )
            task.artifact_ids.append(art.id)
            if p.agent_claim is not None:
                task.claim = p.agent_claim
            if task.state not in (TaskState.DONE, TaskState.STALE) or not task.current:
                self._stands_on(task, art)  # a candidate; a proposal beside a current does not
            if art.status in _STANDING:  # the Orchestrator's replacement stands at once
                self._supersede_before(art.task_id, art.id)

    @folds(CurrentVersionSet)
    def _current_version(self, p: CurrentVersionSet, ts: float) -> None:
        task = self.tasks.get(p.task_id)
        if task is None or not 1 <= p.version <= len(task.artifact_ids):
            return
        task.current = p.version
        art = self.artifacts.get(task.artifact_ids[p.version - 1])
        if art is not None:
            self._stands_on(task, art)
        if p.made_from is not None:  # kept against new inputs: its lineage is rebased
            task.made_from = dict(p.made_from)
        if p.vision_version is not None:
            task.vision_version = p.vision_version

    def _stands_on(self, task: TaskRecord, art: Artifact) -> None:
        """The task's lineage is now that of `art`. A version from a log written before podium
        recorded its inputs' versions has them derived from its parents' places."""
        made_from = dict(art.provenance.made_from)
        if not made_from and art.provenance.version == 0:
            for parent_id in art.provenance.parents:
                parent = self.artifacts.get(parent_id)
                source = self.tasks.get(parent.task_id) if parent is not None else None
                if source is not None and parent_id in source.artifact_ids:
                    made_from[source.spec.id] = source.artifact_ids.index(parent_id) + 1
        task.made_from = made_from
        task.vision_version = art.provenance.vision_version
        task.vision_sections = art.provenance.vision_sections

    @folds(ArtifactStatusChanged)
    def _artifact_status(self, p: ArtifactStatusChanged, ts: float) -> None:
        found = self.artifacts.get(p.artifact_id)
        if found is not None:
            status = ArtifactStatus(p.status)
            self.artifacts[p.artifact_id] = found.model_copy(update={"status": status})
            if status in _STANDING:
                self._supersede_before(found.task_id, found.id)

    def _supersede_before(self, task_id: str, artifact_id: str) -> None:
        """A version that now stands for its task replaces every earlier one: after a re-run
        only the new look is provisional, not both."""
        task = self.tasks.get(task_id)
        if task is None:
            return
        for old in task.artifact_ids:
            if old == artifact_id:
                return
            prior = self.artifacts.get(old)
            if prior is not None and prior.status in _REPLACEABLE:
                self.artifacts[old] = prior.model_copy(update={"status": ArtifactStatus.SUPERSEDED})

    @folds(ValidationReported)
    def _validation(self, p: ValidationReported, ts: float) -> None:
        task = self.tasks.get(p.task_id)
        if task is not None:
            task.findings = list(p.findings)

    @folds(TerritoryAssigned)
    def _territory(self, p: TerritoryAssigned, ts: float) -> None:
        task = self.tasks.get(p.task_id)
        if task is not None:
            task.territory = p.territory
            task.claim = None  # the claim was weighed: the task has concluded

    @folds(EscalationOpened)
    def _escalation_opened(self, p: EscalationOpened, ts: float) -> None:
        opened = p.escalation.model_copy()
        if not opened.opened_at:
            opened.opened_at = ts
        if opened.task_ids is None:
            opened.task_ids = upcast_untyped_facts(self, p).escalation.task_ids
        self.escalations[opened.id] = opened

    @folds(EscalationResolved)
    def _escalation_resolved(self, p: EscalationResolved, ts: float) -> None:
        resolved = self.escalations.get(p.escalation_id)
        if resolved is not None:
            resolved.resolved_at = ts
            resolved.resolution = p.resolution or p.action.value
            if p.allowance is None:
                p = upcast_untyped_facts(self, p)
            if p.allowance and (task := self.tasks.get(resolved.task_id or "")) is not None:
                task.budget_allowed = True

    @folds(CommandRecorded)
    def _command_recorded(self, p: CommandRecorded, ts: float) -> None:
        self.commands[p.command.id] = CommandRecord(command=p.command, seq=self.last_seq)

    @folds(CommandApplied)
    def _command_applied(self, p: CommandApplied, ts: float) -> None:
        rec = self.commands.get(p.command_id)
        if rec is not None:
            rec.status, rec.detail = "applied", p.effect

    @folds(CommandRejected)
    def _command_rejected(self, p: CommandRejected, ts: float) -> None:
        rec = self.commands.get(p.command_id)
        if rec is not None:
            rec.status, rec.detail = "rejected", p.reason

    @folds(ReviewGiven)
    def _review(self, p: ReviewGiven, ts: float) -> None:
        task = self.tasks.get(p.task_id)
        if task is not None:
            task.reviews.append(p)

    @folds(DebateOpened)
    def _debate_opened(self, p: DebateOpened, ts: float) -> None:
        self.debates[p.debate_id] = Debate(
            id=p.debate_id,
            task_id=p.task_id,
            topic=p.topic,
            participants=p.participants,
            judge=p.judge,
            max_rounds=p.max_rounds,
            time_limit_s=p.time_limit_s,
        )

    @folds(DebateTurnTaken)
    def _debate_turn(self, p: DebateTurnTaken, ts: float) -> None:
        debate = self.debates.get(p.debate_id)
        if debate is not None:
            agent = self.agents.get(p.speaker)
            debate.turns.append(
                Turn(
                    round=p.round,
                    speaker=p.speaker,
                    role=agent.spec.role if agent else Role.CUSTOM,
                    stance=p.stance,
                    reasoning=p.reasoning,
                    concedes=p.concedes,
                )
            )

    @folds(DebateClosed)
    def _debate_closed(self, p: DebateClosed, ts: float) -> None:
        debate = self.debates.get(p.debate_id)
        if debate is not None:
            debate.state = p.state
            debate.ruling = p.ruling
            debate.recommendation = p.recommendation
            debate.reason = p.reason

    @folds(VisionAmended)
    def _vision_amended(self, p: VisionAmended, ts: float) -> None:
        self._vision(p)

    @folds(ConstraintsAdjusted)
    def _constraints(self, p: ConstraintsAdjusted, ts: float) -> None:
        if self.constraints is not None:
            merged = self.constraints.model_dump() | p.changes.as_changes()
            self.constraints = Constraints.model_validate(merged)

    @folds(StatusReported)
    def _status_report(self, p: StatusReported, ts: float) -> None:
        agent = self.agents.get(p.agent_id)
        if agent is not None:
            agent.last_report = p.summary

    @folds(TaskDirected)
    def _task_directed(self, p: TaskDirected, ts: float) -> None:
        task = self.tasks.get(p.task_id)
        if task is not None:
            task.direction = p.direction
            if p.assignee:
                task.spec = task.spec.model_copy(update={"assignee": p.assignee})

    @folds(Feedback)
    def _feedback(self, p: Feedback, ts: float) -> None:
        agent = self.agents.get(p.agent_id)
        if agent is not None:
            agent.feedback.append(sanitize(p.text))

    def _task_state(self, p: TaskStateChanged, ts: float) -> None:
        task = self.tasks.get(p.task_id)
        if task is None:
            return
        if p.state is TaskState.RUNNING:
            if not task.interrupted:
                task.run_base = task.calls
            task.interrupted = False
            if task.started_at is None:
                task.started_at = ts
            if self.first_start is None:
                self.first_start = ts
        elif p.state in (TaskState.DONE, TaskState.AWAITING_APPROVAL, TaskState.FAILED):
            task.ended_at = ts
            if task.started_at is not None:
                self.last_end = ts if self.last_end is None else max(self.last_end, ts)
        if p.attempt:
            task.attempt = p.attempt
        if p.state is TaskState.READY and task.state is TaskState.FAILED:
            self.retried_tasks += 1
        if p.state is TaskState.READY and task.state is TaskState.RUNNING:
            if p.interrupted is None:
                p = upcast_untyped_facts(self, p)
            task.interrupted = bool(p.interrupted)
        task.state = p.state
        task.reason = p.reason

    def _call(self, p: CallFinished) -> None:
        self.calls += 1
        self.input_tokens += p.input_tokens
        self.output_tokens += p.output_tokens
        if p.cost_usd is None:
            self.cost_unknown = True
            self.unpriced_calls += 1
        else:
            self.cost_usd += p.cost_usd
        if not p.ok:
            self.failed_calls += 1
            if (failed := self.tasks.get(p.task_id or "")) is not None:
                failed.failed_calls += 1
        if p.task_id is not None and (task := self.tasks.get(p.task_id)) is not None:
            task.calls += 1
            if p.ok and p.purpose != "image":  # a model call the ledger checked: spends it
                task.budget_allowed = False
        agent = self.agents.get(p.agent_id)
        if agent is not None:
            agent.calls += 1
            agent.input_tokens += p.input_tokens
            agent.output_tokens += p.output_tokens
            if p.cost_usd is None:
                agent.cost_unknown = True
            else:
                agent.cost_usd += p.cost_usd
            if not p.ok:
                agent.failures += 1

    def _vision(self, p: VisionAmended) -> None:
        if self.vision is None:
            return
        value = plain_vision_value(p.value)
        if not tree_is_clean([value, p.reason], 64):  # stored by an older podium
            p = VisionAmended.model_validate(
                p.model_dump() | {"value": _shown(value), "reason": sanitize(p.reason)}
            )
        self.vision = Vision.model_validate(
            self.vision.model_dump() | {p.section: p.value, "version": p.version}
        )
        self.vision_history.append(p)

    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def summary(self) -> dict[str, Any]:
        """The figures `podium status --json` prints."""
        spec = self.spec
        return {
            "title": spec.production.title if spec else None,
            "state": self.state.value,
            "paused": self.paused,
            "tasks": self.task_counts(),
            "makespan_s": self.makespan_s(),
            "tokens": self.tokens(),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.total_cost(),
            "cost_complete": not self.cost_unknown,
            "open_escalations": len(self.open_escalations()),
            "artifacts": len(self.artifacts),
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "debates": len(self.debates),
            "vision_version": self.vision.version if self.vision else None,
            "events": self.last_seq,
            "agents": self.agent_totals(),
            "departments": self.department_totals(),
        }


def _settle(agent_id: str, agent: AgentRecord, read: ReadHeld) -> None:
    parts: list[str] = []
    size = 0
    for piece in reversed(agent.held):
        text = piece if isinstance(piece, str) else read(agent_id, piece)
        parts.append(text)
        size += len(text)
        if size >= TAIL_CHARS:
            break
    else:
        parts.append(agent.tail)
    agent.tail = "".join(reversed(parts))[-TAIL_CHARS:]
    agent.held.clear()


def _ignore(view: ProductionView, p: Any, ts: float) -> None:
    """Payloads the fold has no use for."""


def _fold_for(kind: type[Any]) -> _Fold:
    """The fold of a payload type not in the table (a subclass): found once, then kept."""
    for known, fold in list(_FOLD.items()):
        if issubclass(kind, known):
            _FOLD[kind] = fold
            return fold
    _FOLD[kind] = _ignore
    return _ignore


_Stored = TypeVar("_Stored", TaskStateChanged, EscalationOpened, EscalationResolved)


def upcast_untyped_facts(view: ProductionView, p: _Stored) -> _Stored:
    """The upcast for old logs: a payload written before podium recorded these facts as typed
    fields (the field is None), with the field derived once from the prose it kept then. The
    only place podium reads a fact from prose; the fold calls it when the field is None.

    * `TaskStateChanged.interrupted`: its reason began "interrupted";
    * `EscalationResolved.allowance`: a budget escalation resolved "allowed … once";
    * `Escalation.task_ids`: `task_id`, and for a vision change or a scope change the task ids
      listed in its `evidence`.
    """
    if isinstance(p, TaskStateChanged):
        return p.model_copy(update={"interrupted": p.reason.startswith("interrupted")})
    if isinstance(p, EscalationResolved):
        about = view.escalations.get(p.escalation_id)
        allowed = (
            about is not None
            and about.kind is EscalationKind.BUDGET
            and p.resolution.startswith("allowed")
        )
        return p.model_copy(update={"allowance": allowed})
    esc = p.escalation
    ids = [esc.task_id] if esc.task_id else []
    if esc.kind in (EscalationKind.VISION_STALE, EscalationKind.SCOPE_CHANGE):
        ids += [t for t in esc.evidence if t in view.tasks and t not in ids]
    return p.model_copy(update={"escalation": esc.model_copy(update={"task_ids": ids})})


def fold(events: list[Event]) -> ProductionView:
    view = ProductionView()
    for event in events:
        view.apply(event)
    return view


__all__ = [
    "AgentRecord",
    "CommandRecord",
    "ProductionView",
    "TaskRecord",
    "fold",
    "DebateState",
]


def _shown(value: Any) -> Any:
    """A stored value with its text sanitized; as it is (no copy) when nothing needs it."""
    return value if tree_is_clean(value, 64) else sanitize_tree(value)
