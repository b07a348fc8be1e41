"""The Orchestrator's commands: each checked against the state, then applied exactly.

A command is recorded durably before it gets here. It is applied in one synchronous step
(`CommandApplied` first, then its effects), or rejected with a reason a user can act on.
Only these commands decide anything; nothing an agent writes can reach this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from podium.domain.escalation import (
    TIMEOUT_ORIGIN,
    Action,
    Command,
    Escalation,
    EscalationKind,
    command_adapter,
)
from podium.domain.events import (
    CommandApplied,
    CommandRejected,
    EscalationResolved,
)
from podium.engine.command_base import Plan
from podium.engine.command_decisions import DecisionCommands
from podium.engine.command_direction import DirectionCommands
from podium.engine.command_versions import VersionCommands
from podium.seam.protocol import CommandResult
from podium.seam.validators import (
    Rejected,
    adjusted_constraints,
    amended_vision,
    stale_after,
)

__all__ = [
    "CommandHandler",
    "Plan",
    "Rejected",
    "adjusted_constraints",
    "amended_vision",
    "stale_after",
]


class CommandHandler(DecisionCommands, DirectionCommands, VersionCommands):
    """Checks a command and applies it; the actions are by family in `command_decisions`,
    `command_direction` and `command_versions`, the effects they share in `command_base`."""

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
            # A plan escalation opened before podium offered `edit_plan` takes it too.
            and not (command.action is Action.EDIT_PLAN and escalation.kind is EscalationKind.PLAN)
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
