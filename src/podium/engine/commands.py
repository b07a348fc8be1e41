"""The Orchestrator's commands: each checked against the state, then applied exactly.

A command is recorded durably before it gets here. It is applied in one synchronous step
(`CommandApplied` first, then its effects), or rejected with a reason a user can act on.
Only these commands decide anything; nothing an agent writes can reach this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import ValidationError

from podium.domain.artifacts import (
    KIND_CONTENT,
    ORCHESTRATOR,
    Alternatives,
    Artifact,
    ArtifactStatus,
    Content,
    Prose,
    Provenance,
)
from podium.domain.escalation import (
    TIMEOUT_ORIGIN,
    Action,
    AdjustConstraintsCommand,
    ApproveCommand,
    BaseCommand,
    ClarifyVisionCommand,
    Command,
    ConstraintChanges,
    Escalation,
    EscalationKind,
    FeedbackCommand,
    Option,
    OverrideCommand,
    ReassignCommand,
    RequestAlternativesCommand,
    command_adapter,
)
from podium.domain.events import (
    ArtifactCreated,
    ArtifactStatusChanged,
    CommandApplied,
    CommandRejected,
    ConstraintsAdjusted,
    EscalationResolved,
    Feedback,
    TaskDirected,
    VersionCause,
    VisionAmended,
)
from podium.domain.loading import control_problems
from podium.domain.production import MAX_DIRECTION, MAX_REPLY_BYTES
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import sanitize
from podium.domain.versions import current_number, next_number
from podium.engine.debate import ask
from podium.engine.errors import BudgetHold, TaskFailure
from podium.engine.port import EnginePort
from podium.seam.protocol import CommandResult
from podium.seam.validators import (
    Rejected,
    adjusted_constraints,
    amended_vision,
    checked_text,
    stale_after,
)

__all__ = ["CommandHandler", "Rejected", "adjusted_constraints", "amended_vision", "stale_after"]


class CommandHandler:
    def __init__(self, engine: EnginePort) -> None:
        self.engine = engine

    @property
    def view(self) -> ProductionView:
        return self.engine.view

    # -- entry -----------------------------------------------------------------------------

    def apply(self, command: Command) -> CommandResult:
        try:
            effect = self._check_and_apply(command)
        except Rejected as why:
            self.engine.emit(CommandRejected(command_id=command.id, reason=str(why)))
            return CommandResult(command.id, False, str(why))
        return CommandResult(command.id, True, effect)

    def rejection(self, command: Command) -> str | None:
        """Why the command would be rejected now, or None; applies nothing (for a command
        recorded while no run is under way, whose effect waits for the next run)."""
        try:
            self._checked(command)
        except Rejected as why:
            return str(why)
        return None

    def _checked(self, command: Command) -> tuple[Plan, Escalation | None]:
        handler: Callable[[Command, Escalation | None], Plan] = getattr(
            self, f"_{command.action.value}"
        )
        escalation = self._escalation(command)
        if (
            escalation is not None
            and command.action not in escalation.actions
            and command.action
            not in (Action.FEEDBACK, Action.REQUEST_ALTERNATIVES, Action.OVERRIDE)
        ):
            offered = ", ".join(a.value for a in escalation.actions)
            raise Rejected(f"{escalation.id} ({escalation.kind.value}) offers: {offered}")
        return handler(command, escalation), escalation

    def _check_and_apply(self, command: Command) -> str:
        # Check first (raises Rejected), then emit the acknowledgement and the effects.
        plan, escalation = self._checked(command)
        self.engine.emit(CommandApplied(command_id=command.id, effect=plan.summary))
        plan.apply()
        if escalation is not None and escalation.open and plan.resolves:
            self.engine.emit(
                EscalationResolved(
                    escalation_id=escalation.id,
                    action=command.action,
                    command_id=command.id,
                    resolution=plan.summary,
                    allowance=plan.allowance,
                )
            )
        self.engine.wake()
        return plan.summary

    def _escalation(self, command: Command) -> Escalation | None:
        if command.escalation_id is None:
            return None
        escalation = self.view.escalations.get(command.escalation_id)
        if escalation is None:
            raise Rejected(f"no escalation {command.escalation_id!r}")
        if not escalation.open:
            raise Rejected(
                f"{escalation.id} was already decided ({escalation.resolution or 'resolved'})"
            )
        return escalation

    def _task_of(self, command: BaseCommand, escalation: Escalation | None) -> str:
        task_id = command.task_id or (escalation.task_id if escalation else None)
        if task_id is None:
            raise Rejected("name a task or an escalation")
        if task_id not in self.view.tasks:
            raise Rejected(f"no task {task_id!r}")
        return task_id

    # -- actions: each returns a Plan (checked, not yet applied) -----------------------------

    def _approve(self, command: ApproveCommand, escalation: Escalation | None) -> Plan:
        if escalation is None:
            raise Rejected("approve needs an escalation id")
        task_id = escalation.task_id
        record = self.view.tasks.get(task_id) if task_id else None
        option = self._option(escalation, command.option_id)
        if escalation.kind is EscalationKind.BUDGET:
            assert task_id is not None
            budget_task = task_id

            def allow() -> None:
                self._rerun(budget_task, "budget approved")

            # The allowance is the resolution's typed fact (folded: its next call may overrun).
            return Plan(f"allowed {task_id} to go over budget once", allow, allowance=True)
        if option is not None and record is not None and option.id != record.spec.assignee:
            if option.id in ("retry", "skip", "reassign"):
                follow: Callable[[BaseCommand, Escalation | None], Plan] = getattr(
                    self, f"_{option.id}"
                )
                return follow(command, escalation)
            direction = option.summary or option.label
            return Plan(
                f"chose {option.label}; {task_id} re-runs with it",
                lambda: self._direct(task_id or "", direction, command),
            )
        if escalation.kind is EscalationKind.VISION_STALE:
            return self._rerun_stale(command, escalation)
        if record is None:
            return Plan("approved", lambda: None)
        assert task_id is not None

        def approve() -> None:
            artifact_id = record.artifact_id
            if artifact_id is not None:
                self.engine.emit(
                    ArtifactStatusChanged(
                        artifact_id=artifact_id,
                        status=ArtifactStatus.APPROVED,
                        decision_id=command.id,
                    )
                )
                approved = self.view.artifacts[artifact_id]
                self.engine.lineage.make_current(approved, VersionCause.APPROVED, command.id)
            if record.state in (TaskState.AWAITING_APPROVAL, TaskState.STALE):
                self.engine.set_task_state(task_id, TaskState.DONE, f"approved {command.by}")

        if record.state not in (TaskState.AWAITING_APPROVAL, TaskState.DONE, TaskState.STALE):
            raise Rejected(f"{task_id} is {record.state.value}; there is nothing to approve yet")
        return Plan(f"approved {task_id}", approve)

    def _override(self, command: OverrideCommand, escalation: Escalation | None) -> Plan:
        task_id = self._task_of(command, escalation)
        if not command.text.strip():
            raise Rejected("override needs a direction or a replacement text")
        replacing = command.replace
        # A replacement stands for a model's reply, and is capped like one.
        text = checked_text(
            "the replacement" if replacing else "the direction",
            command.text,
            MAX_REPLY_BYTES if replacing else MAX_DIRECTION,
        )
        record = self.view.tasks[task_id]
        if record.spec.kind is TaskKind.PLAN:
            if replacing:
                raise Rejected("a plan cannot be replaced by text; give a direction")
        if replacing:
            schema = KIND_CONTENT.get(record.spec.kind, Prose)
            try:
                content = Prose(text=text) if schema is Prose else schema.model_validate_json(text)
            except ValidationError:
                raise Rejected(
                    f"{task_id} delivers a {schema.__name__}; give it as JSON, "
                    "or give a direction instead"
                ) from None
            for loc, problem in control_problems(content.model_dump(mode="json")):
                raise Rejected(f"the replacement's {sanitize('.'.join(map(str, loc)))} {problem}")

            def replace() -> None:
                previous = record.artifact_id
                self.write_version(task_id, content, command, VersionCause.REPLACE, previous)

            return Plan(f"replaced the output of {task_id}", replace)
        if record.state is TaskState.RUNNING:
            raise Rejected(f"{task_id} is running; override it when it delivers")
        return Plan(
            f"{task_id} re-runs under the Orchestrator's direction",
            lambda: self._direct(task_id, text, command),
        )

    def _retry(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        task_id = self._task_of(command, escalation)
        state = self.view.tasks[task_id].state
        if state in (TaskState.DONE, TaskState.SKIPPED) and escalation is None:
            raise Rejected(f"{task_id} is {state.value}; nothing to retry")
        if state is TaskState.RUNNING:
            raise Rejected(f"{task_id} is running")
        return Plan(f"{task_id} runs again", lambda: self._rerun(task_id, "retry"))

    def _skip(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        if escalation is not None and escalation.kind is EscalationKind.VISION_STALE:
            stale = [t for t in escalation.task_ids or () if t in self.view.tasks]

            def keep() -> None:
                for task_id in stale:
                    if self.view.tasks[task_id].state is TaskState.STALE:
                        self.engine.lineage.keep(task_id, command.id)

            return Plan(f"kept {len(stale)} task(s) as they are", keep)
        if escalation is not None and escalation.kind is EscalationKind.SCOPE_CHANGE:
            return self._decline_scope(command, escalation)
        task_id = self._task_of(command, escalation)
        state = self.view.tasks[task_id].state
        if state in (TaskState.DONE, TaskState.SKIPPED):
            raise Rejected(f"{task_id} is already {state.value}; it cannot be skipped")
        if state is TaskState.RUNNING:
            raise Rejected(f"{task_id} is running; pause or wait for it")
        return Plan(
            f"skipped {task_id}; its dependents go on without it",
            lambda: self._move(task_id, TaskState.SKIPPED, f"skipped {command.by}"),
        )

    def _decline_scope(self, command: BaseCommand, escalation: Escalation) -> Plan:
        """The proposed tasks are skipped and the plan in effect stands."""
        plan_id = escalation.task_id
        proposed = [t for t in escalation.task_ids or () if t in self.view.tasks and t != plan_id]

        def decline() -> None:
            for task_id in proposed:
                if self.view.tasks[task_id].state in (TaskState.PENDING, TaskState.READY):
                    self._move(task_id, TaskState.SKIPPED, f"scope change declined {command.by}")
            if plan_id and self.view.tasks[plan_id].state is TaskState.AWAITING_APPROVAL:
                self._move(plan_id, TaskState.DONE, "the plan in effect stands")

        return Plan(f"declined the scope change: {len(proposed)} task(s) skipped", decline)

    def _reassign(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        # Also an approval that chose the "reassign" option, which names no agent.
        task_id = self._task_of(command, escalation)
        agent = command.agent.strip() if isinstance(command, ReassignCommand) else ""
        record = self.view.tasks[task_id]
        if agent not in self.view.agents:
            raise Rejected(f"no agent {agent!r}; one of {', '.join(self.view.agents)}")
        if agent == record.spec.assignee:
            raise Rejected(f"{task_id} is already {agent}'s")
        if record.state in (TaskState.RUNNING, TaskState.DONE):
            raise Rejected(f"{task_id} is {record.state.value}")

        def reassign() -> None:
            self.engine.emit(
                TaskDirected(
                    task_id=task_id,
                    direction=record.direction,
                    command_id=command.id,
                    assignee=agent,
                )
            )
            self._rerun(task_id, f"reassigned to {agent}")

        return Plan(f"{task_id} reassigned to {agent}", reassign)

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
        stored, new = amended_vision(view.vision, section, command.plain_value())
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

    def _rerun_stale(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        listed = escalation.task_ids if escalation is not None else None
        stale = [
            t
            for t, r in self.view.tasks.items()
            if r.state is TaskState.STALE and (listed is None or t in listed)
        ]
        if not stale:
            raise Rejected("no task is stale")

        def rerun() -> None:
            for task_id in stale:
                self._rerun(task_id, f"made again {command.by}")

        return Plan(f"re-making {len(stale)} stale task(s)", rerun)

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
        engine = self.engine
        record = self.view.tasks[task_id]
        agent = self.view.agents[record.spec.assignee].spec
        inputs = [self.view.artifacts[a] for a in record.artifact_ids[-1:]]
        try:
            alternatives = await ask(
                engine,
                record,
                agent,
                "alternatives",
                Alternatives,
                inputs,
                f"Propose {count} distinct alternatives for {task_id}, each with reasoning.",
                {"count": count},
            )
        except (TaskFailure, BudgetHold) as exc:
            engine.open_escalation(
                EscalationKind.FAILURE,
                f"Alternatives for {record.spec.title} could not be drafted",
                task_id=task_id,
                detail=str(exc),
                actions=[Action.RETRY, Action.SKIP],
                transient=isinstance(exc, TaskFailure) and exc.error.retryable,
            )
            return
        options = [
            Option(
                id=f"alt{i}",
                label=alt.title[:80],
                proposer=agent.id,
                summary=alt.summary,
                reasoning=alt.reasoning,
            )
            for i, alt in enumerate(alternatives.options[:count], start=1)
        ]
        engine.open_escalation(
            EscalationKind.APPROVAL_GATE,
            f"Choose an alternative for {record.spec.title}",
            task_id=task_id,
            options=options,
            detail=f"requested by command {command_id}; approving an option re-runs the task",
            actions=[Action.APPROVE, Action.OVERRIDE],
        )

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

    # -- resume and timeouts ---------------------------------------------------------------

    def next_timeout(self) -> float | None:
        now = time.time()
        waits = [
            e.opened_at + e.timeout_s - now
            for e in self.view.escalations.values()
            if e.open and e.timeout_s is not None and e.default_action is not None
        ]
        return max(0.0, min(waits)) if waits else None

    def fire_timeouts(self) -> None:
        now = time.time()
        for esc in list(self.view.escalations.values()):
            if (
                esc.open
                and esc.timeout_s is not None
                and esc.default_action is not None
                and esc.opened_at + esc.timeout_s <= now
            ):
                self.engine.enqueue(
                    command_adapter().validate_python(
                        {
                            "id": f"timeout-{esc.id}",
                            "action": esc.default_action,
                            "escalation_id": esc.id,
                            "issued_at": now,
                            "origin": TIMEOUT_ORIGIN,
                        }
                    )
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
