"""What every family of the Orchestrator's commands shares: the checked `Plan` a handler
returns, and the effects handlers have in common (move a task, re-run it, direct it, write a
version of it)."""

from __future__ import annotations

import time
from collections.abc import Callable

from podium.domain.artifacts import (
    ORCHESTRATOR,
    Artifact,
    ArtifactStatus,
    Content,
    Provenance,
)
from podium.domain.escalation import (
    BaseCommand,
    Escalation,
    Option,
)
from podium.domain.events import (
    ArtifactCreated,
    ArtifactStatusChanged,
    TaskDirected,
    VersionCause,
)
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.domain.versions import current_number, next_number
from podium.engine.port import EnginePort
from podium.seam.validators import (
    Rejected,
)


class Plan:
    """A checked command's effect, applied only after `CommandApplied` is emitted."""

    def __init__(
        self,
        summary: str,
        effect: Callable[[], object],
        *,
        resolves: bool = True,
        allowance: bool = False,
    ) -> None:
        self.summary = summary
        self._effect = effect
        self.resolves = resolves
        self.allowance = allowance  # resolving it lets the task's next call overrun the budget

    def apply(self) -> None:
        self._effect()


class CommandBase:
    """The engine (through its port) and the effects the command families share."""

    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine

    @property
    def view(self) -> ProductionView:
        return self.engine.view

    def _task_of(self, command: BaseCommand, escalation: Escalation | None) -> str:
        task_id = command.task_id or (escalation.task_id if escalation else None)
        if task_id is None:
            raise Rejected("name a task or an escalation")
        if task_id not in self.view.tasks:
            raise Rejected(f"no task {task_id!r}")
        return task_id

    # -- effects ---------------------------------------------------------------------------

    def _option(self, escalation: Escalation, option_id: str | None) -> Option | None:
        if option_id is None:
            return None
        for option in escalation.options:
            if option.id == option_id:
                return option
        ids = ", ".join(o.id for o in escalation.options) or "none"
        raise Rejected(f"{escalation.id} has no option {option_id!r}; options: {ids}")

    def _move(self, task_id: str, state: TaskState, reason: str) -> None:
        record = self.view.tasks[task_id]
        if record.state is TaskState.DONE and state is TaskState.READY:
            self.engine.set_task_state(task_id, TaskState.STALE, reason)
        self.engine.set_task_state(task_id, state, reason)

    def _rerun(self, task_id: str, reason: str) -> None:
        state = self.view.tasks[task_id].state
        if state is TaskState.RUNNING:
            return
        self._move(task_id, TaskState.READY, reason)
        if not self.engine.deps_settled(task_id):
            self.engine.set_task_state(task_id, TaskState.PENDING, "waits on its inputs")

    def _direct(self, task_id: str, direction: str, command: BaseCommand) -> None:
        self.engine.emit(TaskDirected(task_id=task_id, direction=direction, command_id=command.id))
        if command.automatic:
            self._rerun(task_id, f"re-run with the option chosen {command.by}")
        else:
            self._rerun(task_id, "re-run under the Orchestrator's direction")

    def write_version(
        self,
        task_id: str,
        content: Content,
        command: BaseCommand,
        cause: VersionCause,
        previous: str | None,
    ) -> None:
        """A version the Orchestrator wrote (a replacement, an edit) becomes current at once;
        its dependents go stale (the lineage, after this command)."""
        record = self.view.tasks[task_id]
        version = next_number(record)
        artifact = Artifact(
            id=f"{task_id}-v{version}",
            task_id=task_id,
            kind=record.spec.kind,
            content_type=type(content).__name__,
            content=content.model_dump(mode="json"),
            provenance=Provenance(
                agent_id=ORCHESTRATOR,
                model="human",
                prompt_hash="",
                attempt=1,
                vision_version=self.view.vision.version if self.view.vision else 1,
                decision_id=command.id,
                version=version,
                made_from={  # written against its inputs as they are now
                    dep: n
                    for dep in record.spec.depends_on
                    if dep in self.view.tasks
                    and (n := current_number(self.view, self.view.tasks[dep]))
                },
            ),
            status=ArtifactStatus.APPROVED,
            created_at=time.time(),
        )
        if previous is not None:
            self.engine.emit(
                ArtifactStatusChanged(
                    artifact_id=previous, status=ArtifactStatus.OVERRIDDEN, decision_id=command.id
                )
            )
        self.engine.emit(ArtifactCreated(artifact=artifact))
        self.engine.lineage.make_current(artifact, cause, command.id)
        if record.state is not TaskState.DONE:
            self._move(task_id, TaskState.DONE, "written by the Orchestrator")
