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

Adaptive per model (a `Lane` for each model a provider serves; the rehearsal model has none):
what the provider says on each answer (`podium.llm.rate_limits`: its rate-limit headers, a
429, the tokens a call used) reaches the slot holding the call, and the lane paces the next
calls by it. Once the provider has stated its limits (requests and tokens per minute), calls
start at most at that rate (a token bucket a little under it, with a second of burst); a 429
pauses the lane for its Retry-After and cuts the rate (multiplicatively), which then grows
back with each answer (additively). A provider that states no limits gets TCP's answer on the
number of calls in flight instead: a slow start from four, halved on a 429, then one more per
window of answers. Off with `PODIUM_ADAPTIVE_LIMITS=0` (the fixed limits alone, as before).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from contextvars import Token
from dataclasses import dataclass, field

from podium.domain.state import ProductionView
from podium.llm import rate_limits
from podium.llm.rate_limits import Observer, RateLimit
from podium.llm.types import is_rehearsal


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

    __slots__ = ("_agent_id", "_limiter", "_model", "_watch")

    def __init__(self, limiter: CallLimiter, agent_id: str, model: str) -> None:
        self._limiter = limiter
        self._agent_id = agent_id
        self._model = model
        self._watch: Token[Observer | None] | None = None

    async def __aenter__(self) -> None:
        limiter = self._limiter
        agent_id, model = self._agent_id, self._model
        if not limiter._waiting and limiter._fits(agent_id, model):
            limiter._take(agent_id, model)  # a slot free: taken without waiting (`acquire`)
        else:
            await limiter.acquire(agent_id, model)
        observer = limiter.observer(self._model)
        if observer is not None:  # what the provider answers reaches this model's lane
            self._watch = rate_limits.watch(observer)

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        limiter = self._limiter
        if self._watch is not None:
            rate_limits.unwatch(self._watch)
            self._watch = None
            limiter.ended(self._model, ok=exc is None)
        limiter.release(self._agent_id, self._model)


@dataclass(slots=True)
class _Waiter:
    agent_id: str
    model: str
    granted: asyncio.Future[None]


class CallLimiter:
    """Calls in flight, bounded in all, per model and per agent; see the module's docstring."""

    def __init__(
        self,
        limits: Limits,
        *,
        adaptive: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._borrowed = 0
        self._by_agent: Counter[str] = Counter()
        self._by_model: Counter[str] = Counter()
        self._waiting: deque[_Waiter] = deque()
        if adaptive is None:
            adaptive = os.environ.get("PODIUM_ADAPTIVE_LIMITS", "1").strip() not in ("0", "off")
        self.adaptive = adaptive
        self._clock = clock
        self._lanes: dict[str, Lane] = {}  # by model: only models a provider serves
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

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

    # -- adapting to the provider ------------------------------------------------------------

    def lane(self, model: str) -> Lane | None:
        """What the limiter has learned of a model's provider (None: nothing, or rehearsal)."""
        return self._lanes.get(model)

    def observer(self, model: str) -> Observer | None:
        """Where a call on `model` reports its provider's answers (None: not adapted)."""
        lane = self._lanes.get(model)
        if lane is None:
            return None

        def observe(rate_limit: RateLimit | None, tokens: int, limited: bool) -> None:
            lane.observe(
                self._clock(), rate_limit, tokens, limited=limited, in_flight=self._by_model[model]
            )
            self._serve()

        return observe

    def ended(self, model: str, *, ok: bool) -> None:
        """A call on an adapted model ended (before its slot is given back); its 429s, if
        any, were reported by the backend as they came."""
        lane = self._lanes.get(model)
        if lane is not None and ok:
            lane.answered()

    def wake(self) -> None:
        """Grant what the lanes' pacing now allows (the timer calls it; so may a test)."""
        self._timer = None
        self._timer_at = math.inf
        self._serve()

    # -- inside ------------------------------------------------------------------------------

    def _fits(self, agent_id: str, model: str) -> bool:
        limits = self._limits
        if not (
            self._borrowed < limits.total
            and self._by_agent[agent_id] < limits.of_agent(agent_id)
            and self._by_model[model] < limits.of_model(model)
        ):
            return False
        lane = self._lanes.get(model)
        if lane is None:
            if not self.adaptive or is_rehearsal(model):
                return True
            lane = self._lanes[model] = Lane(self._clock())
        if self._by_model[model] >= lane.cap:
            return False
        now = self._clock()
        ready = lane.ready_at(now)
        if ready > now:
            self._arm(ready - now, ready)
            return False
        return True

    def _take(self, agent_id: str, model: str) -> None:
        self._borrowed += 1
        self._by_agent[agent_id] += 1
        self._by_model[model] += 1
        lane = self._lanes.get(model)
        if lane is not None:
            lane.take(self._clock())

    def _arm(self, delay: float, at: float) -> None:
        """Wake the waiting calls when a lane's pacing lets the next one go."""
        if at >= self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = asyncio.get_running_loop().call_later(delay, self.wake)

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


# --- one model's provider, as its answers describe it ---------------------------------------

SAFETY = 0.95  # the share of a stated limit podium paces at (the rest absorbs its error)
BURST_S = 1.0  # the pacing bucket holds this long's worth of calls (and tokens)
SLOW_START = 4  # calls in flight on a model whose provider has said nothing yet
CUT = 0.7  # a 429 multiplies the pace by this (at most once per COOLDOWN_S) …
GROW = 0.02  # … and each answer adds this much of the stated limit back
COOLDOWN_S = 1.0
PAUSE_S = 1.0  # a 429 that names no wait pauses the model this long
FLOOR = 0.1  # the pace never falls below this share of the stated limit
EWMA = 0.2  # weight of the newest call in the tokens-per-call estimate


class Lane:
    """What podium may send one model: learned from its provider's answers.

    With stated limits (`rpm`, `tpm`), a token bucket per resource paces call starts at
    `share × SAFETY` of each (a call costs one request and the tokens a call has been using);
    `share` falls by CUT on a 429 and grows back by GROW per answer (AIMD). Without them, `cap`
    bounds the calls in flight: a slow start (+1 per answer) until the first 429 halves it,
    then +1/cap per answer (AIMD). A 429's Retry-After pauses the whole lane.
    """

    __slots__ = (
        "cap",
        "limited",
        "paused_until",
        "req_level",
        "rpm",
        "share",
        "stamp",
        "threshold",
        "tok_level",
        "tokens_per_call",
        "tpm",
        "_last_cut",
    )

    def __init__(self, now: float) -> None:
        self.cap: float = SLOW_START
        self.threshold = math.inf  # the slow start's end (set by the first 429)
        self.rpm: int | None = None
        self.tpm: int | None = None
        self.share = 1.0
        self.req_level = 0.0
        self.tok_level = 0.0
        self.stamp = now
        self.tokens_per_call: float | None = None
        self.paused_until = -math.inf
        self.limited = 0  # 429s seen
        self._last_cut = -math.inf

    # rates, per second

    def request_rate(self) -> float | None:
        return self.rpm / 60 * self.share * SAFETY if self.rpm else None

    def token_rate(self) -> float | None:
        return self.tpm / 60 * self.share * SAFETY if self.tpm else None

    # pacing

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.stamp = now
        rate = self.request_rate()
        if rate is not None:
            self.req_level = min(max(1.0, rate * BURST_S), self.req_level + rate * elapsed)
        rate = self.token_rate()
        if rate is not None:
            room = max(self.tokens_per_call or 0.0, rate * BURST_S)
            self.tok_level = min(room, self.tok_level + rate * elapsed)

    def ready_at(self, now: float) -> float:
        """When the next call may start (`now` or later)."""
        self._refill(now)
        ready = max(now, self.paused_until)
        rate = self.request_rate()
        if rate is not None and self.req_level < 1.0:
            ready = max(ready, now + (1.0 - self.req_level) / rate)
        rate = self.token_rate()
        need = self.tokens_per_call
        if rate is not None and need is not None and self.tok_level < need:
            ready = max(ready, now + (need - self.tok_level) / rate)
        return ready

    def take(self, now: float) -> None:
        """A call starts."""
        self._refill(now)
        if self.rpm:
            self.req_level -= 1.0
        if self.tpm and self.tokens_per_call is not None:
            self.tok_level -= self.tokens_per_call

    # learning

    def observe(
        self,
        now: float,
        rate_limit: RateLimit | None,
        tokens: int = 0,
        *,
        limited: bool = False,
        in_flight: int = 0,
    ) -> None:
        """One provider answer: its headers, the tokens the call used, whether it was a 429."""
        self._refill(now)
        if tokens > 0:
            old = self.tokens_per_call
            self.tokens_per_call = tokens if old is None else old + EWMA * (tokens - old)
            if old is None and self.tpm:  # the bucket was full: it holds one such call
                self.tok_level = max(self.tok_level, float(tokens))
        if rate_limit is not None:
            self._learn(rate_limit)
        if limited:
            self._limited(now, rate_limit, in_flight)

    def _learn(self, rate_limit: RateLimit) -> None:
        stated = self.rpm is not None or self.tpm is not None
        if rate_limit.limit_requests:
            self.rpm = rate_limit.limit_requests
        if rate_limit.limit_tokens:
            self.tpm = rate_limit.limit_tokens
        if not stated and (self.rpm or self.tpm):
            # Limits stated at last: pacing takes over from the slow start.
            self.cap = math.inf
            self.req_level = max(1.0, (self.request_rate() or 0.0) * BURST_S)
            self.tok_level = (self.token_rate() or 0.0) * BURST_S
        # What the provider has left bounds what podium thinks is left (another client,
        # another production, may be spending the same key).
        if rate_limit.remaining_requests is not None and self.rpm:
            self.req_level = min(self.req_level, float(rate_limit.remaining_requests))
        if rate_limit.remaining_tokens is not None and self.tpm:
            self.tok_level = min(self.tok_level, float(rate_limit.remaining_tokens))

    def _limited(self, now: float, rate_limit: RateLimit | None, in_flight: int) -> None:
        self.limited += 1
        wait = rate_limit.retry_after_s if rate_limit is not None else None
        if wait is None and rate_limit is not None:
            exhausted = [
                reset
                for left, reset in (
                    (rate_limit.remaining_requests, rate_limit.reset_requests_s),
                    (rate_limit.remaining_tokens, rate_limit.reset_tokens_s),
                )
                if left == 0 and reset is not None
            ]
            wait = min(exhausted) if exhausted else None
        self.paused_until = max(self.paused_until, now + (PAUSE_S if wait is None else wait))
        self.req_level = min(self.req_level, 0.0)
        self.tok_level = min(self.tok_level, 0.0)
        if now - self._last_cut < COOLDOWN_S:
            return  # one cut per burst of 429s: they answer calls sent at the same pace
        self._last_cut = now
        if self.rpm or self.tpm:
            self.share = max(FLOOR, self.share * CUT)
        else:
            self.threshold = self.cap = max(1.0, min(self.cap, float(in_flight)) / 2)

    def answered(self) -> None:
        """A call ended with its reply."""
        if self.rpm or self.tpm:
            self.share = min(1.0, self.share + GROW)
        elif self.cap < self.threshold:
            self.cap += 1.0  # slow start: doubles per round of answers
        else:
            self.cap += 1.0 / self.cap
