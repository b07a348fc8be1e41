"""Small hand-made productions: an event log written event by event, folded for the exporter."""

from __future__ import annotations

from typing import Any

from podium.domain.artifacts import Artifact, ArtifactStatus, Content, Provenance
from podium.domain.escalation import Action, Escalation, EscalationKind, Priority, command_adapter
from podium.domain.events import (
    ArtifactCreated,
    ArtifactStatusChanged,
    CommandApplied,
    CommandRecorded,
    CommandRejected,
    EscalationOpened,
    EscalationResolved,
    Event,
    Payload,
    ProductionOpened,
    TasksPlanned,
    TaskStateChanged,
    VisionAmended,
)
from podium.domain.loading import parse_production
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskSpec, TaskState
from podium.export.sources import ExportSource

HEAD = """
[production]
title = "Night Ferry"
format = "{format}"
logline = "Two strangers share a cabin."
brief = "A crossing."

[vision]
premise = "Two strangers share a cabin on the night ferry."
themes = ["trust", "distance"]
locations = ["the cabin", "the car deck"]

[[vision.characters]]
name = "Mara"
description = "A courier."

[[crew]]
id = "w"
role = "writer"
name = "Wes"

[[crew]]
id = "ill"
role = "illustrator"

[[crew]]
id = "composer"
role = "composer"
"""


class Log:
    """A production built one event at a time; `source` is what the exporters read."""

    def __init__(self, fmt: str = "short_film", extra: str = "") -> None:
        spec = parse_production(HEAD.format(format=fmt) + extra, "test.toml")
        self.source = ExportSource(ProductionView())
        self.seq = 0
        self.add(ProductionOpened(spec=spec.model_dump(mode="json")))

    def add(self, payload: Payload) -> None:
        self.seq += 1
        self.source.record(Event(seq=self.seq, ts=float(self.seq), payload=payload))

    def task(self, task_id: str, kind: TaskKind, **params: Any) -> None:
        spec = TaskSpec(
            id=task_id, title=params.pop("title", task_id), kind=kind, assignee="w", params=params
        )
        self.add(TasksPlanned(tasks=[spec]))

    def state(self, task_id: str, state: TaskState) -> None:
        self.add(TaskStateChanged(task_id=task_id, state=state))

    def deliver(
        self,
        task_id: str,
        content: Content,
        status: ArtifactStatus = ArtifactStatus.ACCEPTED,
        *,
        agent: str = "w",
        **provenance: Any,
    ) -> Artifact:
        record = self.source.view.tasks[task_id]
        artifact = Artifact(
            id=f"{task_id}-v{len(record.artifact_ids) + 1}",
            task_id=task_id,
            kind=record.spec.kind,
            content_type=type(content).__name__,
            content=content.model_dump(mode="json"),
            provenance=Provenance(
                agent_id=agent,
                model=provenance.pop("model", "rehearsal/test"),
                prompt_hash=provenance.pop("prompt_hash", "abc123"),
                attempt=provenance.pop("attempt", 1),
                **provenance,
            ),
            status=status,
        )
        self.add(ArtifactCreated(artifact=artifact))
        return artifact

    def escalate(self, esc_id: str, kind: EscalationKind, task_id: str, *artifacts: str) -> None:
        self.add(
            EscalationOpened(
                escalation=Escalation(
                    id=esc_id,
                    kind=kind,
                    priority=Priority.NORMAL,
                    title=f"{kind.value} {task_id}",
                    task_id=task_id,
                    artifact_ids=list(artifacts),
                )
            )
        )

    def command(
        self,
        cmd_id: str,
        action: Action,
        *,
        escalation_id: str | None = None,
        task_id: str | None = None,
        text: str = "",
        args: dict[str, Any] | None = None,
        rejected: str | None = None,
        effect: str = "",
    ) -> None:
        fields = dict(args or {})
        if action in (Action.OVERRIDE, Action.FEEDBACK):
            fields["text"] = text
        common = {"id": cmd_id, "action": action, "escalation_id": escalation_id}
        command = command_adapter().validate_python(
            common | {"task_id": task_id, "origin": "tui"} | fields
        )
        self.add(CommandRecorded(command=command))
        if rejected is not None:
            self.add(CommandRejected(command_id=cmd_id, reason=rejected))
        else:
            self.add(CommandApplied(command_id=cmd_id, effect=effect or f"{action.value} done"))

    def approve(self, artifact: Artifact, cmd_id: str, escalation_id: str | None = None) -> None:
        self.command(cmd_id, Action.APPROVE, escalation_id=escalation_id, task_id=artifact.task_id)
        self.add(
            ArtifactStatusChanged(
                artifact_id=artifact.id,
                status=ArtifactStatus.APPROVED.value,
                decision_id=cmd_id,
            )
        )
        if escalation_id:
            self.add(
                EscalationResolved(
                    escalation_id=escalation_id, action=Action.APPROVE, command_id=cmd_id
                )
            )

    def amend(self, version: int, section: str, value: Any, reason: str, cmd_id: str) -> None:
        self.command(
            cmd_id,
            Action.CLARIFY_VISION,
            text=str(value),
            args={"section": section, "value": value},
        )
        self.add(
            VisionAmended(
                version=version, section=section, value=value, reason=reason, command_id=cmd_id
            )
        )
