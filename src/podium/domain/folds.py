"""The fold: how each kind of event changes a `ProductionView`, one function per kind.

`@folds(Kind)` registers a function as the fold of `Kind`'s payloads (`ProductionView.apply_payload`
looks it up by type); every kind in `podium.domain.events.EVENT_TYPES` has exactly one (a test
checks it). The view's records are in `podium.domain.records`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import ValidationError

from podium.domain.agents import Role
from podium.domain.artifacts import Artifact, ArtifactStatus
from podium.domain.debate import Debate, Turn
from podium.domain.escalation import plain_vision_value
from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    ArtifactCreated,
    ArtifactStatusChanged,
    CallFinished,
    CharacterSheetMade,
    Clarified,
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
    Feedback,
    FramesDrawn,
    OutputChunk,
    ProductionOpened,
    ProductionState,
    ProductionStateChanged,
    ReviewGiven,
    RunStarted,
    RunStopped,
    StatusReported,
    SummaryMade,
    TaskDirected,
    TaskSettled,
    TasksPlanned,
    TaskStateChanged,
    TerritoryAssigned,
    ValidationReported,
    VisionAmended,
)
from podium.domain.production import Constraints, ProductionSpec, Vision
from podium.domain.records import (
    AgentRecord,
    CommandRecord,
    TaskRecord,
    UnreadableLog,
    shown,
)
from podium.domain.tasks import TaskState
from podium.domain.text import sanitize, tree_is_clean
from podium.domain.upcasts import upcast_untyped_facts as upcast_untyped_facts  # state's
from podium.domain.vision_uses import STYLE, style_from_text

if TYPE_CHECKING:  # the view imports this module, which registers its folds
    from podium.domain.state import ProductionView

# An artifact in one of these stands for its task; a later one that comes to stand replaces it.
_STANDING = frozenset(
    {ArtifactStatus.PROVISIONAL, ArtifactStatus.ACCEPTED, ArtifactStatus.APPROVED}
)
_REPLACEABLE = _STANDING | {ArtifactStatus.DRAFT}
# A task that moves to one of these ended its run (its `ended_at`).
_ENDS = frozenset({TaskState.DONE, TaskState.AWAITING_APPROVAL, TaskState.FAILED})
# A task's run that concludes (done, or its output waits on the Orchestrator) leaves its agent
# idle: the fold derives it, as it derives the agent thinking when the run starts.
_CONCLUDED = frozenset({TaskState.DONE, TaskState.AWAITING_APPROVAL})
# Read on every task state event: a module name is read faster than an enum's member.
_RUNNING, _READY, _FAILED = TaskState.RUNNING, TaskState.READY, TaskState.FAILED


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


@folds(OutputChunk)
def _output_chunk(view: ProductionView, p: OutputChunk, ts: float) -> None:
    view.stream(p.agent_id, p.text)


@folds(ProductionOpened)
def _production_opened(view: ProductionView, p: ProductionOpened, ts: float) -> None:
    try:
        # Sanitized: a file an older podium took without today's door may hold escapes.
        spec = ProductionSpec.model_validate(shown(p.spec))
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise UnreadableLog(
            f"the production recorded in this database does not validate ({where}): "
            "it was written by another version of podium"
        ) from None
    view.spec = spec
    view.vision = spec.vision
    view.constraints = spec.constraints
    view.model_override = p.model_override
    view.seed = p.seed
    view.created_at = ts
    view.agents = {a.id: AgentRecord(spec=a) for a in spec.crew}


@folds(RunStarted)
def _run_started(view: ProductionView, p: RunStarted, ts: float) -> None:
    # A run that crashed recorded no stop: its clock stops at its last task move.
    _stop_clock(view, view.working_to if view.working_to is not None else ts)
    view.runs += 1
    view.run_open = True
    view.state = ProductionState.RUNNING
    if not view.paused:
        view.working_since = view.working_to = ts


def _stop_clock(view: ProductionView, end: float) -> None:
    """The deadline's clock stops (a stop, a pause, a crash): the stretch since it started,
    from the first task start on, is worked time (`ProductionView.working_s`)."""
    since = view.working_since
    if since is None:
        return
    view.working_since = view.working_to = None
    if view.first_start is not None:
        view.worked_s += max(0.0, end - max(since, view.first_start))


@folds(RunStopped)
def _run_stopped(view: ProductionView, p: RunStopped, ts: float) -> None:
    _stop_clock(view, ts)
    view.run_open = False
    for agent in view.agents.values():
        agent.state = AgentState.IDLE
        agent.task_id = None


@folds(ProductionStateChanged)
def _production_state(view: ProductionView, p: ProductionStateChanged, ts: float) -> None:
    view.state = p.state
    view.state_reason = p.reason
    if p.paused is not None:
        view.paused = p.paused
        if p.paused:
            _stop_clock(view, ts)
        elif view.run_open and view.working_since is None:
            view.working_since = view.working_to = ts


@folds(TasksPlanned)
def _tasks_planned(view: ProductionView, p: TasksPlanned, ts: float) -> None:
    view.planned = True
    for task_spec in p.tasks:
        if task_spec.id not in view.tasks:
            view.tasks[task_spec.id] = TaskRecord(spec=task_spec, source=p.source)
        else:
            view.tasks[task_spec.id].spec = task_spec


@folds(AgentStateChanged)
def _agent_state(view: ProductionView, p: AgentStateChanged, ts: float) -> None:
    agent = view.agents.get(p.agent_id)
    if agent is not None:
        agent.state = p.state
        agent.task_id = p.task_id
        if p.state is AgentState.THINKING:
            agent.tail = ""
            agent.held.clear()


def _agent_busy(view: ProductionView, agent_id: str, task_id: str) -> None:
    """A task's run started: its agent thinks on it (what `AgentStateChanged(THINKING)` folds
    to; the engine records no such event beside the task's own since the round of 2026-12-07,
    and a log written before, which has both, folds the same)."""
    agent = view.agents.get(agent_id)
    if agent is not None:
        agent.state = AgentState.THINKING
        agent.task_id = task_id
        agent.tail = ""
        agent.held.clear()


def _agent_done(view: ProductionView, agent_id: str) -> None:
    """A task's run concluded: its agent goes idle (`AgentStateChanged(IDLE)`), unless it
    waits on a budget (the engine records that, and a failure, as their own events). A log
    written before has the IDLE event just before this, so it folds the same."""
    agent = view.agents.get(agent_id)
    if agent is not None and agent.state is not AgentState.WAITING:
        agent.state = AgentState.IDLE
        agent.task_id = None


@folds(CallFinished)
def _call_finished(view: ProductionView, p: CallFinished, ts: float) -> None:
    _call(view, p)


@folds(ArtifactCreated)
def _artifact_created(view: ProductionView, p: ArtifactCreated, ts: float) -> None:
    art = p.artifact
    view.artifacts[art.id] = art
    view.artifact_seqs[art.id] = view.last_seq
    task = view.tasks.get(art.task_id)
    if task is not None:
        for old in task.artifact_ids:
            prior = view.artifacts.get(old)
            if prior is not None and prior.status is ArtifactStatus.DRAFT:
                view.artifacts[old] = prior.with_status(ArtifactStatus.SUPERSEDED)
        task.artifact_ids.append(art.id)
        if p.agent_claim is not None:
            task.claim = p.agent_claim
        if task.state not in (TaskState.DONE, TaskState.STALE) or not task.current:
            _stands_on(view, task, art)  # a candidate; a proposal beside a current does not
        if art.status in _STANDING:  # the Orchestrator's replacement stands at once
            _supersede_before(view, art.task_id, art.id)


@folds(CurrentVersionSet)
def _current_version(view: ProductionView, p: CurrentVersionSet | TaskSettled, ts: float) -> None:
    task = view.tasks.get(p.task_id)
    if task is None or not 1 <= p.version <= len(task.artifact_ids):
        return
    task.current = p.version
    art = view.artifacts.get(task.artifact_ids[p.version - 1])
    if art is not None:
        _stands_on(view, task, art)
    if p.made_from is not None:  # kept against new inputs: its lineage is rebased
        task.made_from = dict(p.made_from)
    if p.vision_version is not None:
        task.vision_version = p.vision_version


def _stands_on(view: ProductionView, task: TaskRecord, art: Artifact) -> None:
    """The task's lineage is now that of `art`. A version from a log written before podium
    recorded its inputs' versions has them derived from its parents' places."""
    made_from = dict(art.provenance.made_from)
    if not made_from and art.provenance.version == 0:
        for parent_id in art.provenance.parents:
            parent = view.artifacts.get(parent_id)
            source = view.tasks.get(parent.task_id) if parent is not None else None
            if source is not None and parent_id in source.artifact_ids:
                made_from[source.spec.id] = source.artifact_ids.index(parent_id) + 1
    task.made_from = made_from
    task.vision_version = art.provenance.vision_version
    task.vision_sections = art.provenance.vision_sections


@folds(ArtifactStatusChanged)
def _artifact_status(
    view: ProductionView, p: ArtifactStatusChanged | TaskSettled, ts: float
) -> None:
    found = view.artifacts.get(p.artifact_id)
    if found is not None:
        status = p.status  # validated to the enum (a member's own call costs 0.2-0.3 µs)
        if type(status) is not ArtifactStatus:
            status = ArtifactStatus(status)
        view.artifacts[p.artifact_id] = found.with_status(status)
        if status in _STANDING:
            _supersede_before(view, found.task_id, found.id)


def _supersede_before(view: ProductionView, task_id: str, artifact_id: str) -> None:
    """A version that now stands for its task replaces every earlier one: after a re-run
    only the new look is provisional, not both."""
    task = view.tasks.get(task_id)
    if task is None:
        return
    for old in task.artifact_ids:
        if old == artifact_id:
            return
        prior = view.artifacts.get(old)
        if prior is not None and prior.status in _REPLACEABLE:
            view.artifacts[old] = prior.with_status(ArtifactStatus.SUPERSEDED)


@folds(ValidationReported)
def _validation(view: ProductionView, p: ValidationReported, ts: float) -> None:
    task = view.tasks.get(p.task_id)
    if task is not None:
        task.findings = list(p.findings)


@folds(TerritoryAssigned)
def _territory(view: ProductionView, p: TerritoryAssigned | TaskSettled, ts: float) -> None:
    task = view.tasks.get(p.task_id)
    if task is not None:
        task.territory = p.territory
        task.claim = None  # the claim was weighed: the task has concluded


@folds(EscalationOpened)
def _escalation_opened(view: ProductionView, p: EscalationOpened, ts: float) -> None:
    opened = p.escalation.model_copy()
    if not opened.opened_at:
        opened.opened_at = ts
    if opened.task_ids is None:
        opened.task_ids = upcast_untyped_facts(view, p).escalation.task_ids
    view.escalations[opened.id] = opened


@folds(EscalationResolved)
def _escalation_resolved(view: ProductionView, p: EscalationResolved, ts: float) -> None:
    resolved = view.escalations.get(p.escalation_id)
    if resolved is not None:
        resolved.resolved_at = ts
        resolved.resolution = p.resolution or p.action.value
        if p.allowance is None:
            p = upcast_untyped_facts(view, p)
        if p.allowance and (task := view.tasks.get(resolved.task_id or "")) is not None:
            task.budget_allowed = True


@folds(CommandRecorded)
def _command_recorded(view: ProductionView, p: CommandRecorded, ts: float) -> None:
    view.commands[p.command.id] = CommandRecord(command=p.command, seq=view.last_seq)


@folds(CommandApplied)
def _command_applied(view: ProductionView, p: CommandApplied, ts: float) -> None:
    rec = view.commands.get(p.command_id)
    if rec is not None:
        rec.status, rec.detail = "applied", p.effect


@folds(CommandRejected)
def _command_rejected(view: ProductionView, p: CommandRejected, ts: float) -> None:
    rec = view.commands.get(p.command_id)
    if rec is not None:
        rec.status, rec.detail = "rejected", p.reason


@folds(ReviewGiven)
def _review(view: ProductionView, p: ReviewGiven, ts: float) -> None:
    task = view.tasks.get(p.task_id)
    if task is not None:
        task.reviews.append(p)


@folds(DebateOpened)
def _debate_opened(view: ProductionView, p: DebateOpened, ts: float) -> None:
    view.debates[p.debate_id] = Debate(
        id=p.debate_id,
        task_id=p.task_id,
        topic=p.topic,
        participants=p.participants,
        judge=p.judge,
        max_rounds=p.max_rounds,
        time_limit_s=p.time_limit_s,
    )


@folds(DebateTurnTaken)
def _debate_turn(view: ProductionView, p: DebateTurnTaken, ts: float) -> None:
    debate = view.debates.get(p.debate_id)
    if debate is not None:
        agent = view.agents.get(p.speaker)
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
def _debate_closed(view: ProductionView, p: DebateClosed, ts: float) -> None:
    debate = view.debates.get(p.debate_id)
    if debate is not None:
        debate.state = p.state
        debate.ruling = p.ruling
        debate.recommendation = p.recommendation
        debate.reason = p.reason


@folds(VisionAmended)
def _vision_amended(view: ProductionView, p: VisionAmended, ts: float) -> None:
    _vision(view, p)


@folds(ConstraintsAdjusted)
def _constraints(view: ProductionView, p: ConstraintsAdjusted, ts: float) -> None:
    if view.constraints is not None:
        merged = view.constraints.model_dump() | p.changes.as_changes()
        view.constraints = Constraints.model_validate(merged)


@folds(StatusReported)
def _status_report(view: ProductionView, p: StatusReported, ts: float) -> None:
    agent = view.agents.get(p.agent_id)
    if agent is not None:
        agent.last_report = p.summary


@folds(TaskDirected)
def _task_directed(view: ProductionView, p: TaskDirected, ts: float) -> None:
    task = view.tasks.get(p.task_id)
    if task is not None:
        task.direction = p.direction
        if p.assignee:
            task.spec = task.spec.model_copy(update={"assignee": p.assignee})


@folds(Clarified)
def _clarified(view: ProductionView, p: Clarified, ts: float) -> None:
    task = view.tasks.get(p.task_id)
    if task is not None:
        task.clarifications.append((p.question, p.answer))


@folds(SummaryMade)
def _summary_made(view: ProductionView, p: SummaryMade, ts: float) -> None:
    view.summaries[(p.task_id, p.version)] = p.text


@folds(CharacterSheetMade)
def _character_sheet(view: ProductionView, p: CharacterSheetMade, ts: float) -> None:
    view.character_sheets[p.character] = p


@folds(FramesDrawn)
def _frames_drawn(view: ProductionView, p: FramesDrawn, ts: float) -> None:
    view.frames[p.artifact_id] = p


@folds(Feedback)
def _feedback(view: ProductionView, p: Feedback, ts: float) -> None:
    agent = view.agents.get(p.agent_id)
    if agent is not None:
        agent.feedback.append(sanitize(p.text))


@folds(TaskSettled)
def _task_settled(view: ProductionView, p: TaskSettled, ts: float) -> None:
    """Folded as the events it stands for, in the order podium recorded them."""
    if p.validation is not None:
        _validation(view, p.validation, ts)
    if p.report is not None:
        _status_report(view, p.report, ts)
    _territory(view, p, ts)
    _artifact_status(view, p, ts)
    _current_version(view, p, ts)
    _task_state(view, p, ts)


@folds(TaskStateChanged)
def _task_state(view: ProductionView, p: TaskStateChanged | TaskSettled, ts: float) -> None:
    if view.working_since is not None:
        view.working_to = ts
    task = view.tasks.get(p.task_id)
    if task is None:
        return
    state = p.state
    if state is _RUNNING:
        if not task.interrupted:
            task.run_base = task.calls
        task.interrupted = False
        if task.started_at is None:
            task.started_at = ts
        if view.first_start is None:
            view.first_start = ts
        _agent_busy(view, task.spec.assignee, p.task_id)
    elif state in _ENDS:
        if task.state is _RUNNING and state in _CONCLUDED:
            _agent_done(view, task.spec.assignee)
        task.ended_at = ts
        if task.started_at is not None:
            view.last_end = ts if view.last_end is None else max(view.last_end, ts)
    if type(p) is not TaskSettled:  # a `TaskSettled` is done: no attempt, not interrupted
        moved = cast(TaskStateChanged, p)
        if moved.attempt:
            task.attempt = moved.attempt
        if state is _READY:
            if task.state is _FAILED:
                view.retried_tasks += 1
            elif task.state is _RUNNING:
                if moved.interrupted is None:
                    moved = upcast_untyped_facts(view, moved)
                task.interrupted = bool(moved.interrupted)
    task.state = state
    task.reason = p.reason


def _call(view: ProductionView, p: CallFinished) -> None:
    view.calls += 1
    view.input_tokens += p.input_tokens
    view.output_tokens += p.output_tokens
    if p.cost_usd is None:
        view.cost_unknown = True
        view.unpriced_calls += 1
    else:
        view.cost_usd += p.cost_usd
    if not p.ok:
        view.failed_calls += 1
        if (failed := view.tasks.get(p.task_id or "")) is not None:
            failed.failed_calls += 1
    if p.task_id is not None and (task := view.tasks.get(p.task_id)) is not None:
        task.calls += 1
        if p.ok and p.purpose != "image":  # a model call the ledger checked: spends it
            task.budget_allowed = False
    agent = view.agents.get(p.agent_id)
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


def _vision(view: ProductionView, p: VisionAmended) -> None:
    if view.vision is None:
        return
    value = plain_vision_value(p.value)
    if not tree_is_clean([value, p.reason], 64):  # stored by an older podium
        p = VisionAmended.model_validate(
            p.model_dump() | {"value": shown(value), "reason": sanitize(p.reason)}
        )
    if p.section == STYLE:  # the style guide, stored whole as text; the prompts read it here
        if view.spec is not None and isinstance(p.value, str):
            view.spec = view.spec.model_copy(update={"style": style_from_text(p.value)})
        view.vision = view.vision.model_copy(update={"version": p.version})
    else:
        view.vision = Vision.model_validate(
            view.vision.model_dump() | {p.section: p.value, "version": p.version}
        )
    view.vision_history.append(p)


def _ignore(view: ProductionView, p: Any, ts: float) -> None:
    """Payloads the fold has no use for."""


def fold_for(kind: type[Any]) -> _Fold:
    """The fold of a payload type not in the table (a subclass): found once, then kept."""
    for known, fold in list(_FOLD.items()):
        if issubclass(kind, known):
            _FOLD[kind] = fold
            return fold
    _FOLD[kind] = _ignore
    return _ignore
