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

from podium.domain import lineage
from podium.domain.artifacts import Artifact
from podium.domain.escalation import Action, EscalationKind
from podium.domain.events import CurrentVersionSet, EscalationResolved, VersionCause
from podium.domain.tasks import TaskState
from podium.domain.versions import current_number, number
from podium.engine.port import EnginePort

ASK = EscalationKind.VISION_STALE
"""The one escalation that asks before approved work is made again (approve: re-make; skip:
keep). Named for the case it first served; every cause of staleness now goes through it."""


class Lineage:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine

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
        `remake`: approved tasks to make again without asking (the Orchestrator said so)."""
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
        for task_id in lineage.plan_order(view):
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
