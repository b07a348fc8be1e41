"""Decisions on an escalation or a task: approve, override, retry, skip (and declining a scope
change), reassign, and re-making stale work. Each checks the command against the state and
returns a `Plan`; nothing is applied until `CommandApplied` is emitted."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from podium.domain.artifacts import (
    KIND_CONTENT,
    ArtifactStatus,
    Prose,
)
from podium.domain.authorship import review_conflict
from podium.domain.escalation import (
    ApproveCommand,
    BaseCommand,
    EditPlanCommand,
    Escalation,
    EscalationKind,
    OverrideCommand,
    ReassignCommand,
)
from podium.domain.events import (
    ArtifactStatusChanged,
    TaskDirected,
    TasksPlanned,
    VersionCause,
)
from podium.domain.loading import control_problems
from podium.domain.plan_edit import plan_problems, split_plan
from podium.domain.production import MAX_DIRECTION, MAX_REPLY_BYTES
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import sanitize
from podium.engine import proposals
from podium.engine.asking import answer
from podium.engine.command_base import CommandBase, Plan
from podium.seam.validators import (
    Rejected,
    checked_text,
)


class DecisionCommands(CommandBase):
    # -- actions: each returns a Plan (checked, not yet applied) -----------------------------

    def _approve(self, command: ApproveCommand, escalation: Escalation | None) -> Plan:
        if escalation is None:
            raise Rejected("approve needs an escalation id")
        task_id = escalation.task_id
        record = self.view.tasks.get(task_id) if task_id else None
        option = self._option(escalation, command.option_id)
        if escalation.kind is EscalationKind.QUESTION and task_id is not None:
            chosen = option.summary or option.label if option is not None else ""
            return self._answer(command, escalation, chosen or "Use your judgement.")
        if escalation.kind is EscalationKind.BUDGET:
            assert task_id is not None
            budget_task = task_id

            def allow() -> None:
                self._rerun(budget_task, "budget approved")

            # The allowance is the resolution's typed fact (folded: its next call may overrun).
            return Plan(f"allowed {task_id} to go over budget once", allow, allowance=True)
        if proposals.is_pick(self.view, escalation):
            return proposals.choose(self, command, escalation, command.option_id)
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

    def _answer(self, command: BaseCommand, escalation: Escalation, text: str) -> Plan:
        """An agent's question answered: recorded (`Clarified`), and the task runs again with
        the answer in its prompt (`podium.engine.asking`)."""
        task_id = escalation.task_id or ""
        options = [o.label for o in escalation.options]

        def apply() -> None:
            question = escalation.detail
            answer(self.engine, task_id, escalation.id, question, options, text, command.id)
            self._rerun(task_id, f"re-run with the Orchestrator's answer {command.by}")

        return Plan(f"answered {task_id}'s question: {text}", apply)

    def _override(self, command: OverrideCommand, escalation: Escalation | None) -> Plan:
        task_id = self._task_of(command, escalation)
        if not command.text.strip():
            raise Rejected("override needs a direction or a replacement text")
        if escalation is not None and escalation.kind is EscalationKind.QUESTION:
            if command.replace:
                raise Rejected("a question is answered in words; give the answer as a direction")
            answer = checked_text("the answer", command.text, MAX_DIRECTION)
            return self._answer(command, escalation, answer)
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
        if escalation is not None and proposals.is_pick(self.view, escalation):
            return proposals.choose(self, command, escalation, proposals.keep_option(escalation))
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

    def _edit_plan(self, command: EditPlanCommand, escalation: Escalation | None) -> Plan:
        """The plan escalation decided with the Orchestrator's plan: its tasks replace those
        the planner proposed (new ones join, changed ones take the new spec, those left out
        are skipped), and the plan is approved. Checked as a production file's tasks are."""
        if escalation is None or escalation.kind is not EscalationKind.PLAN:
            raise Rejected("edit_plan decides a plan escalation; give its id")
        plan_id = escalation.task_id or ""
        record = self.view.tasks.get(plan_id)
        if record is None or record.spec.kind is not TaskKind.PLAN:
            raise Rejected(f"{escalation.id} is about no planning task")
        if record.state not in (TaskState.AWAITING_APPROVAL, TaskState.FAILED):
            raise Rejected(f"{plan_id} is {record.state.value}; there is no plan to edit now")
        if self.view.spec is None:
            raise Rejected("the production's file is not in its log")
        proposed, kept = split_plan(self.view)
        for problem in plan_problems(self.view.spec, kept, command.tasks):
            loc, message = problem
            where = ".".join(str(p) for p in loc)
            raise Rejected(f"the plan's {sanitize(where)}: {message}")
        waiting = (TaskState.PENDING, TaskState.READY, TaskState.SKIPPED)
        started = [t.id for t in proposed if self.view.tasks[t.id].state not in waiting]
        if started:
            raise Rejected(f"{started[0]} has started; the plan can no longer be edited")
        ids = {t.id for t in command.tasks}
        tasks = [
            t
            if any(d in ids for d in t.depends_on) or plan_id in t.depends_on
            else t.model_copy(update={"depends_on": [*t.depends_on, plan_id]})
            for t in command.tasks
        ]
        dropped = [t.id for t in proposed if t.id not in ids]

        def edit_plan() -> None:
            rationale = "the Orchestrator's plan"
            self.engine.emit(TasksPlanned(tasks=tasks, source="orchestrator", rationale=rationale))
            for task_id in dropped:
                if self.view.tasks[task_id].state in (TaskState.PENDING, TaskState.READY):
                    self._move(task_id, TaskState.SKIPPED, "left out of the Orchestrator's plan")
            self.engine.plan_changed()
            self.engine.set_task_state(plan_id, TaskState.DONE, f"edited and approved {command.by}")

        left_out = f", {len(dropped)} left out" if dropped else ""
        return Plan(f"approved the Orchestrator's plan: {len(tasks)} tasks{left_out}", edit_plan)

    def _reassign(self, command: BaseCommand, escalation: Escalation | None) -> Plan:
        # Also an approval that chose the "reassign" option, which names no agent.
        task_id = self._task_of(command, escalation)
        agent = command.agent.strip() if isinstance(command, ReassignCommand) else ""
        record = self.view.tasks[task_id]
        if not agent:  # the option "reassign" chosen by approving it names nobody
            raise Rejected(
                f"reassign names the agent to take {task_id}: decide reassign AGENT, AGENT one "
                f"of {', '.join(a for a in self.view.agents if a != record.spec.assignee)}"
            )
        if agent not in self.view.agents:
            raise Rejected(f"no agent {agent!r}; one of {', '.join(self.view.agents)}")
        if agent == record.spec.assignee:
            raise Rejected(f"{task_id} is already {agent}'s")
        if record.state in (TaskState.RUNNING, TaskState.DONE):
            raise Rejected(f"{task_id} is {record.state.value}")
        conflict = review_conflict(self.view, task_id, agent)
        if conflict is not None:
            others = [a for a in self.view.agents if a != record.spec.assignee and a != agent]
            may = [a for a in others if review_conflict(self.view, task_id, a) is None]
            raise Rejected(f"{conflict}; choose another agent: {', '.join(may) or 'none may'}")

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
