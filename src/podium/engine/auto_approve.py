"""The Orchestrator's standing instruction for a headless run (`--auto-approve`).

Applied to each escalation at most once, as a command of origin "auto" that is recorded like
any; what it did is read back from those commands, in this run or an earlier one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

from podium.domain.escalation import (
    AUTO_ORIGIN,
    Action,
    Command,
    Escalation,
    EscalationKind,
    command_adapter,
)
from podium.domain.tasks import TaskKind
from podium.engine import proposals
from podium.engine.port import EnginePort


class AutoApprove(StrEnum):
    """The Orchestrator's standing instruction for a headless run."""

    NONE = "none"
    GATES = "gates"  # approval gates, milestones, the plan, collaborative items, questions
    # Also conflicts, quality, deviations and scope changes; a failure is retried once if its
    # cause may pass, then skipped, except the plan, which is left to the Orchestrator.
    ALL = "all"


_GATE_KINDS = frozenset(
    {
        EscalationKind.APPROVAL_GATE,
        EscalationKind.MILESTONE,
        EscalationKind.PLAN,
        EscalationKind.COLLABORATIVE,
        EscalationKind.VISION_STALE,  # approved work made stale: approving re-makes it
    }
)

_JUDGEMENT_KINDS = frozenset(
    {
        EscalationKind.CONFLICT,
        EscalationKind.QUALITY,
        EscalationKind.DEVIATION,
        EscalationKind.SCOPE_CHANGE,
    }
)


class StandingInstruction:
    def __init__(
        self, engine: EnginePort, policy: AutoApprove, queued: Callable[[], list[Command]]
    ) -> None:
        self.engine = engine
        self.policy = policy
        self._queued = queued  # the commands queued and not yet recorded

    def apply(self, escalation: Escalation) -> None:
        """Apply the standing instruction (--auto-approve) to an escalation, at most once."""
        command_id = f"auto-{escalation.id}"
        if self.policy is AutoApprove.NONE or command_id in self.engine.view.commands:
            return
        if any(getattr(c, "escalation_id", None) == escalation.id for c in self._queued()):
            return  # the Orchestrator's own decision on it waits to apply: theirs comes first
        decision = self.decision(escalation)
        if decision is None:
            return
        action, option = decision
        fields: dict[str, object] = {
            "id": command_id,
            "action": action,
            "escalation_id": escalation.id,
            "task_id": escalation.task_id,
            "issued_at": time.time(),
            "origin": f"{AUTO_ORIGIN} {self.policy.value}",
        }
        if action is Action.APPROVE:
            fields["option_id"] = option
        self.engine.enqueue(command_adapter().validate_python(fields))

    def decision(self, escalation: Escalation) -> tuple[Action, str | None] | None:
        """What the standing instruction decides; None leaves the item to the Orchestrator."""
        if proposals.is_pick(self.engine.view, escalation):
            return None  # a change to the Orchestrator's text, or a pick among drafts: theirs
        kind = escalation.kind
        if kind is EscalationKind.QUESTION:  # an agent's question: the option it puts first
            return Action.APPROVE, escalation.options[0].id if escalation.options else None
        if kind in _GATE_KINDS and Action.APPROVE in escalation.actions:
            return Action.APPROVE, None
        if self.policy is not AutoApprove.ALL:
            return None
        if kind in _JUDGEMENT_KINDS:
            if Action.APPROVE not in escalation.actions:  # e.g. a pass over others' lines
                return (Action.SKIP, None) if Action.SKIP in escalation.actions else None
            return Action.APPROVE, escalation.options[0].id if escalation.options else None
        if kind in (EscalationKind.FAILURE, EscalationKind.PLAN) and escalation.task_id:
            action = self.failure_action(escalation, escalation.task_id)
            return None if action is None else (action, None)
        return None  # budget overruns are never approved automatically: a budget is a person's

    def failure_action(self, escalation: Escalation, task_id: str) -> Action | None:
        """A failure is retried once if its cause may pass, then skipped; never the plan,
        without which nothing is made, and never a retry that can only fail the same way."""
        record = self.engine.view.tasks.get(task_id)
        if record is None:
            return None
        if (
            escalation.transient is not False
            and Action.RETRY in escalation.actions
            and not self.retried(task_id)
        ):
            return Action.RETRY
        if record.spec.kind is TaskKind.PLAN or Action.SKIP not in escalation.actions:
            return None
        return Action.SKIP

    def commands(self) -> list[Command]:
        """The commands the standing instruction issued, in any run: recorded in the log, or
        queued to be recorded. What it did is read from them, never kept aside."""
        commands = [r.command for r in self.engine.view.commands.values()]
        commands += self._queued()
        return [c for c in commands if c.origin.startswith(AUTO_ORIGIN)]

    def retried(self, task_id: str) -> bool:
        return any(c.action is Action.RETRY and c.task_id == task_id for c in self.commands())

    def given_up(self) -> list[str]:
        """Open failures the standing instruction will not decide: with nobody at the keys
        the run cannot go on, so it has failed (a later decision and resume still can).
        Derived from the log: the open failures with no automatic decision recorded or queued
        that the standing instruction declines."""
        if self.policy is not AutoApprove.ALL:
            return []
        decided = {c.escalation_id for c in self.commands()}
        return sorted(
            e.id
            for e in self.engine.view.open_escalations()
            if e.kind in (EscalationKind.FAILURE, EscalationKind.PLAN)
            and e.task_id
            and e.id not in decided
            and self.failure_action(e, e.task_id) is None
        )
