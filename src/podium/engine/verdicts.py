"""The verdict on a task's output or failure: its authority territory, then done, awaiting
approval or escalated; a failure retried later, skipped or escalated by its `on_failure`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from podium.domain.artifacts import PODIUM, Artifact, ArtifactStatus, StatusReport
from podium.domain.escalation import Action, EscalationKind, Option
from podium.domain.events import (
    ArtifactStatusChanged,
    StatusReported,
    TaskSettled,
    TerritoryAssigned,
    ValidationReported,
    VersionCause,
)
from podium.domain.policy import Territory, classify
from podium.domain.state import TaskRecord
from podium.domain.tasks import OnFailure, TaskKind, TaskState
from podium.domain.text import sanitize
from podium.domain.validators import DIALOGUE_PASS_RULE, Finding, Severity
from podium.domain.versions import number
from podium.engine import proposals
from podium.engine.calls import RETRY_CAP_S
from podium.engine.errors import TaskFailure
from podium.engine.port import EnginePort
from podium.llm.types import FailureKind, LLMError

LATER_ROUNDS = 2  # "retry later" rounds before a failure escalates anyway


class Verdicts:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine
        self._later: dict[str, int] = {}  # task → "retry later" rounds taken

    def conclude(
        self,
        record: TaskRecord,
        artifact: Artifact,
        findings: list[Finding],
        checked: ValidationReported | None = None,
    ) -> None:
        """The verdict on a task's output. `checked`: its clean `ValidationReported`, not yet
        recorded (`AgentRunner._produce`): recorded first, in the `TaskSettled` or on its own."""
        engine = self.engine
        spec = record.spec
        report = self._report(record, artifact) if spec.kind is TaskKind.REPORT else None
        errors = [f for f in findings if f.severity is Severity.ERROR]
        deviations = [f for f in findings if f.severity is Severity.DEVIATION]
        territory = classify(
            engine.spec.authority,
            spec.decision_kind,
            gate=engine.spec.gate_territory(spec.gate),
            agent_claim=record.claim,
        )
        if errors or deviations:
            self._assign(record, territory, report, checked)
            kind = EscalationKind.QUALITY if errors else EscalationKind.DEVIATION
            what = "fails its checks" if errors else "drifts from the vision"
            engine.set_task_state(spec.id, TaskState.AWAITING_APPROVAL, kind.value)
            fields: dict[str, Any] = {}
            if any(f.rule == DIALOGUE_PASS_RULE for f in findings):
                # A pass that rewrote other people's lines never stands for the reviewed scene:
                # not current, not exported, not approvable; retry it, or skip it.
                engine.emit(
                    ArtifactStatusChanged(artifact_id=artifact.id, status=ArtifactStatus.SUPERSEDED)
                )
                fields["actions"] = [Action.RETRY, Action.SKIP, Action.OVERRIDE]
            engine.open_escalation(
                kind,
                f"{spec.title} {what}",
                task_id=spec.id,
                artifact_ids=[artifact.id],
                detail=self._whose(record, artifact),
                **fields,
                evidence=[
                    f"{f.rule}: {f.message}" + (f" — {f.evidence}" if f.evidence else "")
                    for f in findings
                ],
            )
            return
        # Only a pass, or a task with another version (the Orchestrator's, maybe), can revise
        # what the Orchestrator wrote: a task's first version skips the look (1 µs a task).
        revised = (
            proposals.revised_text(engine.view, record, artifact)
            if spec.kind in proposals.PASS_KINDS or record.artifact_ids != [artifact.id]
            else None
        )
        if revised is not None:  # the Orchestrator's text stands until they accept the change
            self._assign(record, territory, report, checked)
            proposals.offer(engine, record, artifact, revised)
            return
        self.settle(record, artifact, territory, report, checked)

    def _assign(
        self,
        record: TaskRecord,
        territory: Territory,
        report: StatusReported | None,
        checked: ValidationReported | None,
    ) -> None:
        """The clean check not yet recorded, the report (of a report task), then the authority
        policy's verdict with what the agent claimed, each as its own event: for a task whose
        output does not simply stand (`settle` records them with the rest, in one
        `TaskSettled`)."""
        spec = record.spec
        if checked is not None:
            self.engine.emit(checked)
        if report is not None:
            self.engine.emit(report)
        self.engine.emit(
            TerritoryAssigned(
                task_id=spec.id,
                territory=territory,
                decision_kind=spec.decision_kind.value,
                agent_claim=record.claim,
            )
        )

    def _whose(self, record: TaskRecord, artifact: Artifact) -> str:
        if artifact.provenance.agent_id != PODIUM:
            return f"after {record.attempt} attempt(s) by {record.spec.assignee}"
        made = ", ".join(sorted(artifact.provenance.made_from)) or "its inputs"
        return (
            f"podium assembled it from the current {made}: revise one of them (override it "
            "with the figures below), or approve the script as it is"
        )

    def _report(self, record: TaskRecord, artifact: Artifact) -> StatusReported | None:
        """A department head's status report, as the event the Orchestrator sees it as."""
        report = artifact.parsed()
        if not isinstance(report, StatusReport):
            return None
        return StatusReported(
            agent_id=artifact.provenance.agent_id,
            task_id=record.spec.id,
            artifact_id=artifact.id,
            progress_pct=report.progress_pct,
            summary=report.summary,
            blockers=list(report.blockers),
        )

    def settle(
        self,
        record: TaskRecord,
        artifact: Artifact,
        territory: Territory,
        report: StatusReported | None = None,
        checked: ValidationReported | None = None,
    ) -> None:
        """Apply the authority territory to a task's accepted output: it waits for approval,
        or it stands (one `TaskSettled` for the territory, its status, current and done)."""
        engine = self.engine
        spec = record.spec
        if territory is Territory.APPROVAL_REQUIRED:
            self._assign(record, territory, report, checked)
            engine.set_task_state(spec.id, TaskState.AWAITING_APPROVAL, "approval required")
            title = f"Milestone {spec.gate}: {spec.title}" if spec.gate else f"Approve {spec.title}"
            engine.open_escalation(
                EscalationKind.MILESTONE if spec.gate else EscalationKind.APPROVAL_GATE,
                title,
                task_id=spec.id,
                artifact_ids=[artifact.id],
                detail=f"{spec.decision_kind.value.replace('_', ' ')} by {spec.assignee}",
            )
            return
        status = (
            ArtifactStatus.PROVISIONAL
            if territory is Territory.COLLABORATIVE
            else ArtifactStatus.ACCEPTED
        )
        engine.set_task_state(
            spec.id,
            TaskState.DONE,
            settled=TaskSettled(
                task_id=spec.id,
                territory=territory,
                decision_kind=spec.decision_kind.value,
                agent_claim=record.claim,
                artifact_id=artifact.id,
                status=status,
                version=number(engine.view, artifact),
                cause=VersionCause.OVERRIDE if artifact.provenance.direction else VersionCause.MADE,
                reason=territory.value,
                validation=checked,
                report=report,
            ),
        )
        if territory is Territory.COLLABORATIVE:
            engine.open_escalation(
                EscalationKind.COLLABORATIVE,
                f"Applied provisionally: {spec.title}",
                task_id=spec.id,
                territory=Territory.COLLABORATIVE,
                artifact_ids=[artifact.id],
                detail=f"{spec.decision_kind.value.replace('_', ' ')}; override to change it",
            )

    def fail(self, record: TaskRecord, failure: TaskFailure) -> None:
        engine = self.engine
        spec = record.spec
        error = failure.error
        cause = f"{error.kind.value}: {sanitize(error.message)[:300]}"
        engine.set_task_state(spec.id, TaskState.FAILED, cause)
        policy = spec.on_failure if error.retryable else OnFailure.ESCALATE
        if failure.provider_down:
            self._provider_down_escalation(record, failure)
            return
        if policy is OnFailure.RETRY and self._later.get(spec.id, 0) < LATER_ROUNDS:
            self._later[spec.id] = self._later.get(spec.id, 0) + 1
            pause = engine.limits.retry_backoff * (2 ** (engine.limits.retries + 1))

            async def later() -> None:
                await asyncio.sleep(min(pause, 4 * RETRY_CAP_S))
                if engine.view.tasks[spec.id].state is TaskState.FAILED:
                    engine.set_task_state(spec.id, TaskState.READY, "retrying later")

            engine.start_background(later())
            return
        if policy is OnFailure.SKIP:
            engine.set_task_state(spec.id, TaskState.SKIPPED, f"skipped after failure: {cause}")
            return
        engine.open_escalation(
            EscalationKind.FAILURE,
            f"{spec.title} failed after {failure.calls} call(s)",
            task_id=spec.id,
            detail=cause + (f"; see debate {failure.debate_id}" if failure.debate_id else ""),
            evidence=[cause],
            transient=error.retryable,
            debate_id=failure.debate_id,
            options=[
                Option(
                    id="retry",
                    label="Retry",
                    proposer="podium",
                    reasoning="the failure may be passing"
                    if error.retryable
                    else "after fixing the cause (key, model, prompt)",
                ),
                Option(
                    id="skip",
                    label="Skip",
                    proposer="podium",
                    reasoning="dependents go on without it, marked",
                ),
                Option(
                    id="reassign",
                    label="Reassign",
                    proposer="podium",
                    reasoning="give the task to another agent",
                ),
            ],
            actions=[Action.RETRY, Action.SKIP, Action.REASSIGN, Action.OVERRIDE],
        )

    def _provider_down_escalation(self, record: TaskRecord, failure: TaskFailure) -> None:
        """A dead provider is the Orchestrator's to see: no retry later, no skip (so no
        standing instruction turns it into "completed" with everything skipped)."""
        error = failure.error
        self.engine.open_escalation(
            EscalationKind.FAILURE,
            f"Provider down: {error.model} ({record.spec.title})",
            task_id=record.spec.id,
            detail=sanitize(error.message)[:300],
            evidence=[f"{error.kind.value}: {sanitize(error.message)[:300]}"],
            transient=False,
            options=[
                Option(
                    id="retry",
                    label="Retry",
                    proposer="podium",
                    reasoning="once the provider answers again",
                ),
                Option(
                    id="reassign",
                    label="Reassign",
                    proposer="podium",
                    reasoning="give the task to an agent on another model",
                ),
            ],
            actions=[Action.RETRY, Action.REASSIGN, Action.OVERRIDE],
        )

    def internal_failure(self, task_id: str, exc: Exception) -> None:
        record = self.engine.view.tasks[task_id]
        error = LLMError(FailureKind.UNKNOWN, f"internal error: {type(exc).__name__}: {exc}")
        if record.state is TaskState.RUNNING:
            self.fail(record, TaskFailure(error, 0))
