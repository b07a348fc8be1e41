"""The engine as its collaborators see it: a small port, not the whole `Engine`.

The task run (`agent_runner`), reviews and debates (`debate`), planning (`planner`), the call
path (`calls`), illustration, the verdicts on a task's output (`verdicts`) and the
Orchestrator's commands (`commands`) depend on this Protocol only; `Engine` composes them and
satisfies it. So none of them imports another through the engine, and none imports the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from podium.domain.artifacts import Artifact
from podium.domain.escalation import Command, Escalation, EscalationKind
from podium.domain.events import Payload, StaleCause, TaskSettled
from podium.domain.policy import Territory
from podium.domain.production import Constraints, ProductionSpec
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskState
from podium.domain.validators import Finding
from podium.engine.errors import TaskFailure
from podium.engine.limiter import CallLimiter
from podium.llm.types import CompletionRequest, CompletionResult

if TYPE_CHECKING:  # it takes the port in turn
    from podium.engine.lineage import Lineage

T = TypeVar("T")


class EnginePort(Protocol):
    """What a collaborator may read of the running production and ask of the engine."""

    @property
    def view(self) -> ProductionView:
        """The production as folded from its log (read it; change it only through `emit`)."""
        ...

    @property
    def spec(self) -> ProductionSpec: ...

    @property
    def limits(self) -> Constraints:
        """The live constraints (`podium constraints` changes them while running)."""
        ...

    @property
    def lineage(self) -> Lineage:
        """Current versions, and stale work moved and made again (`podium.engine.lineage`)."""
        ...

    @property
    def calls(self) -> CallLimiter:
        """The one limiter every model call holds a slot of (in all, per model, per agent)."""
        ...

    def emit(self, payload: Payload) -> int:
        """Store an event and fold it into `view`; its seq."""
        ...

    def subscribe(self, listener: Callable[[int, Payload], None]) -> Callable[[], None]:
        """Call `listener(seq, payload)` after each event is folded; returns the unsubscribe."""
        ...

    def wake(self) -> None:
        """Have the main loop look again (a slot freed, a state changed)."""
        ...

    def model_for(self, agent_id: str) -> str: ...

    def set_task_state(
        self,
        task_id: str,
        state: TaskState,
        reason: str = "",
        *,
        attempt: int = 0,
        interrupted: bool = False,
        stale_cause: StaleCause | None = None,
        settled: TaskSettled | None = None,
    ) -> None: ...

    def deps_settled(self, task_id: str) -> bool:
        """Whether every input of the task is settled (done or skipped)."""
        ...

    def plan_changed(self) -> None:
        """Tasks were planned: rebuild the graph and promote what is ready."""
        ...

    def open_escalation(
        self,
        kind: EscalationKind,
        title: str,
        *,
        task_id: str | None = None,
        territory: Territory = Territory.APPROVAL_REQUIRED,
        **fields: Any,
    ) -> Escalation: ...

    def start_background(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run side work (alternatives, timed retries) inside the run's task group."""
        ...

    def enqueue(self, command: Command) -> None:
        """Queue a command the engine itself issues (auto-approve, timeouts)."""
        ...

    def limits_changed(self) -> None:
        """The constraints changed: resize the call limiter and the task slots now."""
        ...

    def set_paused(self, paused: bool) -> None: ...

    def request_stop(self, reason: str = "stopped by the Orchestrator") -> None: ...

    async def call(
        self,
        request_for: Callable[[int], CompletionRequest],
        record: TaskRecord,
        agent_id: str,
        parse: Callable[[CompletionResult], T],
    ) -> tuple[CompletionRequest, CompletionResult, T]:
        """One logical model call through the call path: the limiter, the budget, streaming,
        retries and booking (`podium.engine.calls`)."""
        ...

    def fail(self, record: TaskRecord, failure: TaskFailure) -> None:
        """A task failed: its `on_failure` decides (`podium.engine.verdicts`)."""
        ...


class Revise(Protocol):
    """The task run's revision, which reviews and debates ask for (`AgentRunner.revise`)."""

    async def __call__(
        self,
        record: TaskRecord,
        agent_id: str,
        notes: list[str],
        *,
        debate_id: str | None = None,
        debate_round: int | None = None,
    ) -> tuple[Artifact, list[Finding]]: ...
