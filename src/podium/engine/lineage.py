"""The engine's side of lineage: current versions, and stale work moved and made again.

`refresh` runs after anything that can change which work is stale (a new current version, a
vision amendment, a restore, a kept version): it asks the pure query (`podium.domain.lineage`)
and reconciles the task states with it, one `TaskStateChanged` each:

* made work the query names goes `stale` (a candidate awaiting approval too: its items close);
* a stale task whose inputs are all made again is made again by itself (`ready`), or, when the
  Orchestrator approved or wrote it, listed in ONE escalation (re-make, or keep: the version
  stands against the new inputs, its lineage rebased by a `CurrentVersionSet` of cause `kept`);
* a stale task the query no longer names (its inputs were kept) is `done` again.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from podium.domain import lineage
from podium.domain.artifacts import Artifact
from podium.domain.escalation import Action, EscalationKind
from podium.domain.events import (
    AgentStateChanged,
    ArtifactCreated,
    ArtifactStatusChanged,
    CallFinished,
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
    OutputChunk,
    Payload,
    ProductionStateChanged,
    ReviewGiven,
    RunStarted,
    RunStopped,
    StaleCause,
    StatusReported,
    SummaryMade,
    TaskDirected,
    TaskSettled,
    TaskStateChanged,
    TerritoryAssigned,
    ValidationReported,
    VersionCause,
)
from podium.domain.state import TaskRecord
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.versions import current_number, number
from podium.engine.port import EnginePort

ASK = EscalationKind.VISION_STALE
"""The one escalation that asks before approved work is made again (approve: re-make; skip:
keep). Named for the case it first served; every cause of staleness now goes through it."""


# Events that never change which work is stale nor how stale work is reconciled: no task state,
# current version, artifact, lineage, vision, plan or open re-make question moves with them.
_INERT: frozenset[type] = frozenset(
    {
        AgentStateChanged,
        CallFinished,
        Clarified,
        CommandApplied,
        CommandRecorded,
        CommandRejected,
        ConstraintsAdjusted,
        DebateClosed,
        DebateOpened,
        DebateTurnTaken,
        Feedback,
        OutputChunk,
        ProductionStateChanged,
        ReviewGiven,
        RunStarted,
        RunStopped,
        StatusReported,
        SummaryMade,
        TaskDirected,
        TerritoryAssigned,
        ValidationReported,
    }
)


class Lineage:
    """Reconciles the task states with the lineage query, but only when something that can
    change its answer happened since it last did (`observe` sees every event the engine emits).

    The query walks the whole plan with every task's inputs (quadratic in a dense plan), and
    the main loop turns once or more per task: asked on every turn it was most of the engine's
    time. An event can change the answer only through the task it touches (its state, its
    current version, its artifacts' status, its lineage): it matters when that task is made
    work that may now be stale, or is stale, or feeds a task that is made or stale. The vision,
    the plan and the re-make question change everything; events that touch none of it change
    nothing. Anything else (an event of a kind not named here) counts as a change.
    """

    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self.dirty = True  # the first reconciliation checks everything (a resume too)
        self._dependents: dict[str, list[str]] | None = None
        # The tasks whose state is in `lineage.MADE`, kept with `_dependents` (None: not known)
        # from every state change observed, dirty or not: whether a task feeds made work is
        # then one C-level look at its dependents, not a state read per dependent.
        self._made: set[str] | None = None
        # The inputs last found to stand (`lineage.inputs_cause` found no cause), with what
        # was read: the view, the task's inputs and the versions it was made from. A task made
        # from those inputs (or some of them, in any order: a dense plan's layer) at the same
        # versions stands by its inputs too, while none of them has moved since (`_moved`:
        # every task whose state, versions or current one an event changed since; None when
        # an event of another kind came, or nothing is kept).
        self._inputs_kept: tuple[object, frozenset[str], dict[str, int]] | None = None
        self._moved: set[str] | None = None
        engine.subscribe(self.observe)

    # -- what can change the answer -----------------------------------------------------------

    def observe(self, seq: int, payload: Payload) -> None:
        """An event was folded into the view: note whether staleness may have changed."""
        # By exact type, as the fold dispatches: an isinstance on a pydantic class is dear.
        kind = type(payload)
        # A `TaskSettled` is a task's territory, status, current version and state at once.
        moving = kind is TaskStateChanged or kind is TaskSettled
        if self._moved is not None:
            self._note_moved(kind, payload)
        if moving and self._made is not None:
            moved = cast("TaskStateChanged | TaskSettled", payload)
            if moved.state in lineage.MADE:
                self._made.add(moved.task_id)
            else:
                self._made.discard(moved.task_id)
        if self.dirty or kind in _INERT:
            return
        if moving or kind is CurrentVersionSet:
            self.dirty = self._touches(
                cast("TaskStateChanged | TaskSettled | CurrentVersionSet", payload).task_id
            )
        elif isinstance(payload, ArtifactCreated):
            self.dirty = self._touches(payload.artifact.task_id)
        elif isinstance(payload, ArtifactStatusChanged):
            artifact = self.engine.view.artifacts.get(payload.artifact_id)
            self.dirty = artifact is None or self._touches(artifact.task_id)
        elif isinstance(payload, EscalationOpened):
            self.dirty = payload.escalation.kind is ASK
        elif isinstance(payload, EscalationResolved):
            escalation = self.engine.view.escalations.get(payload.escalation_id)
            self.dirty = escalation is None or escalation.kind is ASK
        else:  # the vision, the plan, or a kind this does not know: look at everything
            self._dependents = self._made = None
            self.dirty = True

    def _note_moved(self, kind: type, payload: Payload) -> None:
        """Note the task whose inputs' reckoning the event may change (`_inputs_kept`)."""
        moved = self._moved
        assert moved is not None
        if kind is TaskStateChanged or kind is TaskSettled or kind is CurrentVersionSet:
            moved.add(cast("TaskStateChanged | TaskSettled | CurrentVersionSet", payload).task_id)
        elif kind is ArtifactCreated:
            moved.add(cast(ArtifactCreated, payload).artifact.task_id)
        elif kind is ArtifactStatusChanged:
            artifact = self.engine.view.artifacts.get(
                cast(ArtifactStatusChanged, payload).artifact_id
            )
            if artifact is None:
                self._moved = self._inputs_kept = None
            else:
                moved.add(artifact.task_id)
        elif kind not in _INERT and kind is not EscalationOpened and kind is not EscalationResolved:
            self._moved = self._inputs_kept = None  # the plan, the vision, or a kind not known

    def _cause(self, record: TaskRecord) -> StaleCause | None:
        """`lineage.cause_of(view, record)`, the inputs found to stand kept (`_inputs_kept`)."""
        view = self.engine.view
        deps, made_from = record.spec.depends_on, record.made_from
        kept, moved = self._inputs_kept, self._moved
        if (
            kept is None
            or moved is None
            or kept[0] is not view
            or kept[2] != made_from
            or not kept[1].issuperset(deps)
            or not moved.isdisjoint(deps)
        ):
            cause = lineage.inputs_cause(view, record)
            if cause is not None:
                return cause
            self._inputs_kept = (view, frozenset(deps), dict(made_from))
            self._moved = set()
        return lineage.vision_cause(view, record)

    def _touches(self, task_id: str) -> bool:
        """Whether a change to this task can change the lineage's answer or its reconciling:
        the task is stale or is made work that may be stale now, or a task made from it is
        made or stale (its inputs' versions and states are what its staleness reads)."""
        view = self.engine.view
        record = view.tasks.get(task_id)
        if record is None:
            return True
        state = record.state
        if state is TaskState.STALE:
            return True
        if (
            state in lineage.MADE
            and record.spec.kind is not TaskKind.PLAN
            and self._cause(record) is not None
        ):
            return True
        dependents, made = self._dependents, self._made
        if dependents is None or made is None or task_id not in dependents:
            dependents = self._dependents = lineage.dependents(view)
            made = self._made = {t for t, r in view.tasks.items() if r.state in lineage.MADE}
        return not made.isdisjoint(dependents[task_id])

    def make_current(
        self, artifact: Artifact, cause: VersionCause, command_id: str | None = None
    ) -> None:
        """`artifact` is now its task's current version."""
        view = self.engine.view
        self.engine.emit(
            CurrentVersionSet(
                task_id=artifact.task_id,
                version=number(view, artifact),
                cause=cause,
                command_id=command_id,
            )
        )

    def keep(self, task_id: str, command_id: str | None) -> None:
        """The task's current version stands against its inputs' current versions and the
        vision as they are now: its lineage is rebased, so it is no longer stale."""
        view = self.engine.view
        record = view.tasks[task_id]
        version = current_number(view, record)
        if version:
            inputs = {
                dep: current_number(view, view.tasks[dep])
                for dep in record.spec.depends_on
                if dep in view.tasks and current_number(view, view.tasks[dep])
            }
            self.engine.emit(
                CurrentVersionSet(
                    task_id=task_id,
                    version=version,
                    cause=VersionCause.KEPT,
                    command_id=command_id,
                    made_from=inputs,
                    vision_version=view.vision.version if view.vision else None,
                )
            )
        if record.state is TaskState.STALE:
            self.engine.set_task_state(task_id, TaskState.DONE, "kept as it is")

    def refresh(self, *, remake: Collection[str] = ()) -> list[str]:
        """Reconcile the task states with the lineage; returns the tasks that went stale.
        `remake`: approved tasks to make again without asking (the Orchestrator said so).
        Nothing to do (and no query) when no event since the last reconciliation could have
        changed its answer; what this one emits is observed, so the next one looks again."""
        if not self.dirty and not remake:
            return []
        self.dirty = False
        engine = self.engine
        view = engine.view
        found = lineage.stale(view)
        newly: list[str] = []
        for task_id, cause in found.items():
            record = view.tasks[task_id]
            if record.state is TaskState.STALE:
                continue
            if record.state is TaskState.AWAITING_APPROVAL:
                self._close_items(task_id)
            engine.set_task_state(
                task_id, TaskState.STALE, lineage.described(view, task_id, cause), stale_cause=cause
            )
            newly.append(task_id)
        asked = {t for e in view.open_escalations() if e.kind is ASK for t in (e.task_ids or ())}
        asking: list[str] = []
        stale_now = any(r.state is TaskState.STALE for r in view.tasks.values())
        for task_id in lineage.plan_order(view) if stale_now else ():  # none: nothing to order
            record = view.tasks[task_id]
            if record.state is not TaskState.STALE:
                continue
            if task_id not in found:
                if current_number(view, record):
                    engine.set_task_state(task_id, TaskState.DONE, "its inputs stand as they were")
                else:
                    engine.set_task_state(task_id, TaskState.READY, "made again")
                continue
            if task_id in asked or not lineage.inputs_settled(view, record, found):
                continue
            if lineage.asks_first(view, record) and task_id not in remake:
                asking.append(task_id)
                continue
            engine.set_task_state(task_id, TaskState.READY, "made again: " + record.reason)
        if asking:
            engine.open_escalation(
                ASK,
                f"Re-make {len(asking)} approved task(s) now stale?",
                task_id=asking[0],
                task_ids=asking,
                evidence=[f"{t}: {view.tasks[t].reason}" for t in asking],
                detail="approve re-makes them; skip keeps them as they are, against the new inputs",
            )
        return newly

    def _close_items(self, task_id: str) -> None:
        """A candidate that went stale before it was decided: its open items are moot."""
        for escalation in self.engine.view.open_escalations():
            if escalation.task_id == task_id and escalation.kind is not ASK:
                self.engine.emit(
                    EscalationResolved(
                        escalation_id=escalation.id,
                        action=Action.SKIP,
                        resolution="superseded: its inputs changed",
                        allowance=False,
                    )
                )
