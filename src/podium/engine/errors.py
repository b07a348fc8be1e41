"""What a task run raises when it cannot go on: a failed call, a budget hold, an escalation."""

from __future__ import annotations

from podium.llm.types import LLMError


class TaskFailure(Exception):
    """A model call failed for good (its retries spent, or not retryable)."""

    def __init__(self, error: LLMError, calls: int, *, provider_down: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.calls = calls
        self.debate_id: str | None = None  # the debate it cut short, for the escalation
        self.provider_down = provider_down  # never skipped, not even by --auto-approve all


class BudgetHold(Exception):
    """The next call would overrun the budget: the task waits on the Orchestrator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.debate_id: str | None = None  # the debate it cut short, for the escalation


class Escalated(Exception):
    """The task now waits on the Orchestrator (the escalation is open)."""
