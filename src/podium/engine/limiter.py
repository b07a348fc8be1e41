"""One limiter around every model call: global, per model and per agent, resizable live.

Every model call, whatever its purpose (a task's work, a review, a debate turn, a ruling,
alternatives, the plan, an image), holds one slot of this limiter from the moment it asks the
provider until its reply has ended, however it ends (a reply, a failure, a cancellation):

    async with engine.calls.hold(agent_id, model):
        ...  # the call

It has the shape of anyio's `CapacityLimiter` (a total that can be changed while slots are
borrowed: a smaller total takes effect as slots come back, a larger one at once), over three
counts at once: calls in flight (`max_concurrency`), calls to one model (`max_per_model`, else
that model's `max_concurrency` in `[models.settings]`) and calls by one agent (its own
`max_concurrency`, else `max_per_agent`).

A call takes its three slots together or waits for them together, under one check of all
three counts, so two calls can never each hold what the other waits for (no deadlock). Waiting
calls are served first come, first served: a call never overtakes an earlier waiting call of the
same agent or the same model, while a call of another agent on another model goes ahead when
its own limits have room (a busy critic does not hold up the writers).

Task slots are not call slots: the scheduler decides how many tasks run at once, and a running
task holds no call slot between its calls (while it waits for a review, say), so the two never
wait on each other.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from podium.domain.state import ProductionView


@dataclass(frozen=True, slots=True)
class Limits:
    """How many calls may be in flight: in all, per agent and per model."""

    total: int
    per_agent: int
    agents: Mapping[str, int] = field(default_factory=dict)  # an agent's own limit
    models: Mapping[str, int] = field(default_factory=dict)  # a model's limit, if it has one

    def of_agent(self, agent_id: str) -> int:
        return self.agents.get(agent_id, self.per_agent)

    def of_model(self, model: str) -> float:
        return self.models.get(model, math.inf)


def limits_of(view: ProductionView) -> Limits:
    """The limits a production's live constraints and crew set (one place computes them:
    the call limiter and the scheduler's task slots both read these)."""
    constraints = view.constraints
    spec = view.spec
    if constraints is None or spec is None:
        raise ValueError("the production has not been opened")
    models = {
        model: settings.max_concurrency
        for model, settings in spec.models.settings.items()
        if settings.max_concurrency is not None
    }
    models.update(constraints.max_per_model)  # the live constraint wins over the setting
    agents = {
        agent_id: record.spec.max_concurrency
        for agent_id, record in view.agents.items()
        if record.spec.max_concurrency is not None
    }
    return Limits(constraints.max_concurrency, constraints.max_per_agent, agents, models)


class _Slot:
    """`async with`: a slot of the limiter for the body (a class, not a generator: it is on
    the path of every call)."""

    __slots__ = ("_agent_id", "_limiter", "_model")

    def __init__(self, limiter: CallLimiter, agent_id: str, model: str) -> None:
        self._limiter = limiter
        self._agent_id = agent_id
        self._model = model

    async def __aenter__(self) -> None:
        await self._limiter.acquire(self._agent_id, self._model)

    async def __aexit__(self, *exc_info: object) -> None:
        self._limiter.release(self._agent_id, self._model)


@dataclass(slots=True)
class _Waiter:
    agent_id: str
    model: str
    granted: asyncio.Future[None]


class CallLimiter:
    """Calls in flight, bounded in all, per model and per agent; see the module's docstring."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._borrowed = 0
        self._by_agent: Counter[str] = Counter()
        self._by_model: Counter[str] = Counter()
        self._waiting: deque[_Waiter] = deque()

    # -- the shape of anyio's CapacityLimiter ------------------------------------------------

    @property
    def limits(self) -> Limits:
        return self._limits

    @property
    def total_tokens(self) -> int:
        return self._limits.total

    @total_tokens.setter
    def total_tokens(self, value: int) -> None:
        limits = self._limits
        self.resize(Limits(value, limits.per_agent, limits.agents, limits.models))

    @property
    def borrowed_tokens(self) -> int:
        return self._borrowed

    @property
    def available_tokens(self) -> int:
        return max(0, self._limits.total - self._borrowed)

    def borrowed_by_agent(self, agent_id: str) -> int:
        return self._by_agent[agent_id]

    def borrowed_by_model(self, model: str) -> int:
        return self._by_model[model]

    @property
    def waiting(self) -> int:
        """Calls waiting for a slot."""
        return sum(1 for w in self._waiting if not w.granted.done())

    def resize(self, limits: Limits) -> None:
        """New limits. A call already in flight keeps its slot; a smaller limit holds back the
        next calls until enough slots come back, a larger one lets waiting calls go at once."""
        if limits.total < 1:
            raise ValueError(f"the call limit must be at least 1, not {limits.total}")
        self._limits = limits
        self._serve()

    async def acquire(self, agent_id: str, model: str) -> None:
        """Wait for a slot in all three counts (at once, without suspending when free)."""
        if not self._waiting and self._fits(agent_id, model):
            self._take(agent_id, model)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(agent_id, model, granted)
        self._waiting.append(waiter)
        self._serve()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release(agent_id, model)  # granted, then cancelled before it could run
            else:
                self._forget(waiter)
            raise

    def release(self, agent_id: str, model: str) -> None:
        if self._by_agent[agent_id] <= 0 or self._by_model[model] <= 0 or self._borrowed <= 0:
            raise RuntimeError(f"no call of {agent_id} on {model} holds a slot")
        self._borrowed -= 1
        self._by_agent[agent_id] -= 1
        self._by_model[model] -= 1
        self._serve()

    def hold(self, agent_id: str, model: str) -> _Slot:
        """One call's slot, released however the call ends: `async with limiter.hold(…)`."""
        return _Slot(self, agent_id, model)

    # -- inside ------------------------------------------------------------------------------

    def _fits(self, agent_id: str, model: str) -> bool:
        limits = self._limits
        return (
            self._borrowed < limits.total
            and self._by_agent[agent_id] < limits.of_agent(agent_id)
            and self._by_model[model] < limits.of_model(model)
        )

    def _take(self, agent_id: str, model: str) -> None:
        self._borrowed += 1
        self._by_agent[agent_id] += 1
        self._by_model[model] += 1

    def _forget(self, waiter: _Waiter) -> None:
        try:
            self._waiting.remove(waiter)
        except ValueError:
            pass
        self._serve()  # the calls it held back may go now

    def _serve(self) -> None:
        """Grant waiting calls in arrival order; one that cannot go holds back the later calls
        of its agent and of its model (never those of others)."""
        if not self._waiting:
            return
        held_agents: set[str] = set()
        held_models: set[str] = set()
        kept: deque[_Waiter] = deque()
        waiting = self._waiting
        while waiting:
            waiter = waiting.popleft()
            if waiter.granted.done():
                continue  # cancelled while waiting
            if self._borrowed >= self._limits.total:
                kept.append(waiter)
                kept.extend(waiting)  # nobody fits: the rest keep their places
                waiting.clear()
                break
            if (
                waiter.agent_id not in held_agents
                and waiter.model not in held_models
                and self._fits(waiter.agent_id, waiter.model)
            ):
                self._take(waiter.agent_id, waiter.model)
                waiter.granted.set_result(None)
                continue
            held_agents.add(waiter.agent_id)
            held_models.add(waiter.model)
            kept.append(waiter)
        self._waiting = kept
