"""Direction of the production: feedback to an agent, the vision clarified, the constraints
adjusted, alternatives requested, and pause, resume and stop. Each checks the command against
the state and returns a `Plan`; nothing is applied until `CommandApplied` is emitted."""

from __future__ import annotations

from podium.domain.escalation import (
    AdjustConstraintsCommand,
    BaseCommand,
    ClarifyVisionCommand,
    ConstraintChanges,
    Escalation,
    EscalationKind,
    FeedbackCommand,
    RequestAlternativesCommand,
)
from podium.domain.events import (
    ConstraintsAdjusted,
    Feedback,
    VisionAmended,
)
from podium.domain.tasks import TaskKind
from podium.engine import alternatives
from podium.engine.command_base import CommandBase, Plan
from podium.seam.validators import (
    Rejected,
    adjusted_constraints,
    amended_vision,
    checked_text,
    stale_after,
)


class DirectionCommands(CommandBase):
    def _feedback(self, command: FeedbackCommand, escalation: Escalation | None) -> Plan:
        agent = command.agent or ""
        if not agent:
            task_id = self._task_of(command, escalation)
            agent = self.view.tasks[task_id].spec.assignee
        if agent not in self.view.agents:
            raise Rejected(f"no agent {agent!r}")
        text = checked_text("feedback", command.text)
        return Plan(
            f"feedback kept in {agent}'s context",
            lambda: self.engine.emit(Feedback(agent_id=agent, text=text, command_id=command.id)),
            resolves=False,
        )

    def _clarify_vision(self, command: ClarifyVisionCommand, escalation: Escalation | None) -> Plan:
        view = self.view
        assert view.vision is not None
        section = command.section
        style = view.spec.style if view.spec is not None else None
        stored, new = amended_vision(view.vision, section, command.plain_value(), style)
        if reason := command.reason.strip():
            checked_text("the reason", reason)
        stale = stale_after(view, section)
        rerun = command.rerun

        def amend() -> None:
            self.engine.emit(
                VisionAmended(
                    version=new.version,
                    section=section,
                    value=stored,
                    reason=command.reason,
                    command_id=command.id,
                    stale_tasks=stale,
                )
            )
            # One mechanism: the lineage says what the amendment made stale; the approved part
            # is re-made at once when the Orchestrator asked for it (`rerun`), else asked about.
            self.engine.lineage.refresh(remake=stale if rerun else ())

        listing = ", ".join(stale) if stale else "none"
        return Plan(f"vision v{new.version}: {section} amended; stale: {listing}", amend)

    def _adjust_constraints(
        self, command: AdjustConstraintsCommand, escalation: Escalation | None
    ) -> Plan:
        assert self.view.constraints is not None
        changes = command.changes.as_changes()
        if not changes:
            raise Rejected("give at least one constraint, e.g. max_concurrency=4")
        normalized = adjusted_constraints(self.view.constraints, changes)
        listing = ", ".join(f"{k}={v}" for k, v in normalized.items())

        def adjust() -> None:
            self.engine.emit(
                ConstraintsAdjusted(
                    changes=ConstraintChanges.model_validate(normalized), command_id=command.id
                )
            )
            self.engine.limits_changed()  # the call limiter and task slots, live
            if escalation is not None and escalation.kind is EscalationKind.BUDGET:
                if escalation.task_id:
                    self._rerun(escalation.task_id, "budget adjusted")

        return Plan(f"constraints: {listing}", adjust)

    def _request_alternatives(
        self, command: RequestAlternativesCommand, escalation: Escalation | None
    ) -> Plan:
        task_id = self._task_of(command, escalation)
        count = command.count
        if not 2 <= count <= 6:  # checked by the command too, but not in an older log's
            raise Rejected("ask for 2 to 6 alternatives")
        record = self.view.tasks[task_id]
        if record.spec.kind is TaskKind.PLAN:
            raise Rejected("alternatives are for deliverables, not the plan")

        def start() -> None:
            self.engine.start_background(self._alternatives(task_id, count, command.id))

        return Plan(f"{record.spec.assignee} is drafting {count} alternatives", start)

    async def _alternatives(self, task_id: str, count: int, command_id: str) -> None:
        await alternatives.draft(self.engine, task_id, count, command_id)

    def _pause(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        if self.view.paused:
            raise Rejected("the production is already paused")
        return Plan(
            "paused: running calls finish, nothing new starts",
            lambda: self.engine.set_paused(True),
            resolves=False,
        )

    def _resume(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        if not self.view.paused:
            raise Rejected("the production is not paused")
        return Plan("resumed", lambda: self.engine.set_paused(False), resolves=False)

    def _stop(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        return Plan("stopping", lambda: self.engine.request_stop(), resolves=False)
