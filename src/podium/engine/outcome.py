"""The production's outcome when nothing runs: completed, waiting, failed (or still running),
and the reason said with it."""

from __future__ import annotations

from podium.domain.events import ProductionState
from podium.domain.policy import Territory
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskState
from podium.engine.auto_approve import StandingInstruction
from podium.engine.scheduler import Scheduler


class Outcome:
    def __init__(
        self, view: ProductionView, scheduler: Scheduler, auto: StandingInstruction
    ) -> None:
        self.view = view
        self.scheduler = scheduler
        self.auto = auto

    def state(self) -> ProductionState:
        tasks = self.view.tasks
        if self.view.paused:
            return ProductionState.WAITING
        if tasks and all(r.state.settled for r in tasks.values()):
            if any(
                e.open and e.territory is Territory.APPROVAL_REQUIRED
                for e in self.view.escalations.values()
            ):
                return ProductionState.WAITING
            if not self.made():
                return ProductionState.FAILED  # everything skipped: nothing was made
            return ProductionState.COMPLETED
        if self.scheduler.has_ready():
            return ProductionState.RUNNING
        if self.auto.given_up():
            return ProductionState.FAILED
        if self.view.open_escalations():
            return ProductionState.WAITING
        if any(r.state is TaskState.FAILED for r in tasks.values()):
            return ProductionState.FAILED
        return ProductionState.WAITING

    def made(self) -> list[str]:
        """The tasks that delivered something: the plan alone is not a production."""
        return [
            t
            for t, r in self.view.tasks.items()
            if r.state is TaskState.DONE and r.spec.kind is not TaskKind.PLAN
        ]

    def reason(self, state: ProductionState) -> str:
        counts = self.view.task_counts()
        if state is ProductionState.WAITING:
            if self.view.paused:
                return "paused"
            return f"{len(self.view.open_escalations())} escalation(s) wait on the Orchestrator"
        if state is ProductionState.COMPLETED:
            if not counts["skipped"]:
                return "every task is done"
            reason = f"{counts['done']} tasks done, {counts['skipped']} skipped"
            if any(
                r.spec.kind is TaskKind.PLAN and r.state is TaskState.SKIPPED
                for r in self.view.tasks.values()
            ):
                reason += "; planning was skipped: only the file's tasks were made"
            return reason
        if state is ProductionState.FAILED:
            failed = [t for t, r in self.view.tasks.items() if r.state is TaskState.FAILED]
            if not failed and not self.made():
                return f"nothing was made: {counts['skipped']} task(s) skipped"
            reason = "failed: " + ", ".join(failed)
            given_up = self.auto.given_up()
            if given_up:
                reason += (
                    f"; --auto-approve {self.auto.policy.value} leaves "
                    f"{', '.join(given_up)} to the Orchestrator (decide, then resume)"
                )
            return reason
        return ""
