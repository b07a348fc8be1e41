"""The Orchestrator's hand on versions: an edit (`podium edit`: a version written by hand in its
human format) and a restore (`podium restore`: an earlier version current again). Each checks
the command against the state and returns a `Plan`; nothing is applied until `CommandApplied`
is emitted. Either makes a new current version; the lineage, after the command, makes what
was made from the old one stale (`podium.engine.lineage`)."""

from __future__ import annotations

import json

from pydantic import ValidationError

from podium.domain.artifacts import KIND_CONTENT, Content, Prose
from podium.domain.escalation import Action, EditCommand, Escalation, RestoreCommand
from podium.domain.events import EscalationResolved, VersionCause
from podium.domain.loading import control_problems
from podium.domain.production import MAX_REPLY_BYTES
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import sanitize
from podium.domain.versions import VersionError, current_of, version
from podium.engine.command_base import CommandBase, Plan
from podium.engine.lineage import ASK
from podium.seam.validators import Rejected


class VersionCommands(CommandBase):
    def _edit(self, command: EditCommand, escalation: Escalation | None) -> Plan:
        task_id = self._task_of(command, escalation)
        record = self.view.tasks[task_id]
        if record.spec.kind is TaskKind.PLAN:
            raise Rejected("the plan is not edited as a version; decide its escalation instead")
        if record.state is TaskState.RUNNING:
            raise Rejected(f"{task_id} is running; edit it when it delivers")
        schema = KIND_CONTENT.get(record.spec.kind, Prose)
        if command.content_type != schema.__name__:
            raise Rejected(
                f"{task_id} delivers a {schema.__name__}, not a {sanitize(command.content_type)}"
            )
        size = len(json.dumps(command.content, ensure_ascii=False).encode("utf-8"))
        if size > MAX_REPLY_BYTES:  # it stands for a model's reply, and is capped like one
            raise Rejected(f"the edit is {size:,} bytes; at most {MAX_REPLY_BYTES:,}")
        try:
            content: Content = command.parsed()
        except ValidationError:  # an older log's record, checked only now
            raise Rejected(f"the edit is not a valid {schema.__name__}") from None
        for loc, problem in control_problems(content.model_dump(mode="json")):
            raise Rejected(f"the edit's {sanitize('.'.join(map(str, loc)))} {problem}")
        current = current_of(self.view, record)
        if current is not None and current.parsed() == content:
            raise Rejected(f"the edit is the same as {task_id}'s current version; no change")

        def edit() -> None:
            self._close_items(task_id, command.id, "superseded by the Orchestrator's edit")
            self.write_version(task_id, content, command, VersionCause.EDIT, None)

        return Plan(f"{task_id}: the Orchestrator's edit is its current version", edit)

    def _restore(self, command: RestoreCommand, escalation: Escalation | None) -> Plan:
        task_id = self._task_of(command, escalation)
        record = self.view.tasks[task_id]
        if record.state is TaskState.RUNNING:
            raise Rejected(f"{task_id} is running; restore a version when it delivers")
        try:
            artifact = version(self.view, task_id, command.version)
        except VersionError as why:
            raise Rejected(str(why)) from None
        current = current_of(self.view, record)
        if current is not None and current.id == artifact.id:
            raise Rejected(f"version {command.version} of {task_id} is already its current one")

        def restore() -> None:
            self._close_items(task_id, command.id, f"version {command.version} restored")
            self.engine.lineage.make_current(artifact, VersionCause.RESTORE, command.id)
            if record.state is not TaskState.DONE:
                self._move(task_id, TaskState.DONE, f"version {command.version} restored")

        return Plan(f"{task_id}: version {command.version} is current again", restore)

    def _close_items(self, task_id: str, command_id: str, why: str) -> None:
        """The task's open items (a candidate awaiting approval, a failure) are moot once the
        Orchestrator set its version by hand."""
        for escalation in self.view.open_escalations():
            if escalation.task_id == task_id and escalation.kind is not ASK:
                self.engine.emit(
                    EscalationResolved(
                        escalation_id=escalation.id,
                        action=Action.SKIP,
                        command_id=command_id,
                        resolution=why,
                        allowance=False,
                    )
                )
