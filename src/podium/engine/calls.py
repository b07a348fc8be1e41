"""The call path: every model completion the engine makes, whatever its purpose.

One logical call (`CallPath.call`) checks the budget, holds a slot of the one call limiter (in
all, per model, per agent) around the provider call, streams the reply into coalesced
`OutputChunk` events, parses it, and books a `CallFinished` event however it ends (a failed
or cut-off call books what it used). The single retry layer lives here: a retryable failure is
retried with exponential backoff and jitter (honouring the provider's Retry-After) up to
`constraints.retries`, then raised as `TaskFailure` for the task's `on_failure` to decide
(`verdicts`). Enough provider failures in a row and the model is down.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable
from typing import TypeVar

from podium.domain.events import CallFinished, OutputChunk
from podium.domain.production import ModelSettings
from podium.domain.state import TaskRecord
from podium.domain.text import sanitize, sanitize_joined
from podium.engine.budget import ASSUMED, Ledger, counted, estimate
from podium.engine.errors import BudgetHold, TaskFailure
from podium.engine.port import EnginePort
from podium.engine.reply import within_limit
from podium.llm.gateway import Gateway
from podium.llm.types import CompletionRequest, CompletionResult, FailureKind, LLMError
from podium.store import EventStore, StoreError

T = TypeVar("T")

RETRY_CAP_S = 30.0
RETRY_AFTER_MAX_S = 600.0  # a provider asking for a longer wait gets a failure, not a nap


def wait_asked(error: LLMError) -> float | None:
    """The provider's Retry-After, when podium will honour it; raise TaskFailure (through the
    caller) when it asks for longer than RETRY_AFTER_MAX_S, or for forever."""
    wait = error.retry_after
    if wait is None:
        return None
    if not math.isfinite(wait) or wait > RETRY_AFTER_MAX_S:
        asked = f"{wait:.0f}s" if math.isfinite(wait) else "forever"
        raise LLMError(
            error.kind,
            f"{error.message} (the provider asks to wait {asked}; podium waits at most "
            f"{RETRY_AFTER_MAX_S:.0f}s in one call, so it is yours to retry)",
            model=error.model,
        )
    return max(0.0, wait)


CUT_OFF = "cut_off"  # CallFinished.error_kind of a call cancelled before it finished
COALESCE_S = 0.05  # streamed text: at most one event per call this often

# Failures that say the provider (not the reply) is failing: enough of them in a row, and
# the model is down (`ModelSettings.down_after`).
PROVIDER_FAILURES = frozenset(
    {
        FailureKind.RATE_LIMIT,
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.SERVER,
        FailureKind.AUTH,
        FailureKind.NOT_FOUND,
    }
)


class CallPath:
    def __init__(
        self, engine: EnginePort, store: EventStore, gateway: Gateway, ledger: Ledger
    ) -> None:
        self.engine = engine
        self.store = store
        self.gateway = gateway
        self.ledger = ledger
        self._jitter = random.Random()
        self._made: dict[str, int] = {}  # task → calls made in its current run
        self._failing: dict[str, int] = {}  # model → provider failures in a row

    def begin(self, task_id: str) -> None:
        """A run of the task begins: its calls are numbered from 1 again."""
        self._made.pop(task_id, None)

    async def call(
        self,
        request_for: Callable[[int], CompletionRequest],
        record: TaskRecord,
        agent_id: str,
        parse: Callable[[CompletionResult], T],
    ) -> tuple[CompletionRequest, CompletionResult, T]:
        """One logical call with the retry layer. `request_for(n)` builds the n-th request of
        the task; `parse` turns the reply into what was asked (LLMError if it cannot)."""
        engine = self.engine
        limits = engine.limits
        for retry in range(limits.retries + 1):
            # Calls are numbered from the start of this run of the task, so a run interrupted
            # and resumed asks the same questions again and (with a seeded model) gets the
            # same answers.
            self._made[record.spec.id] = made = self._made.get(record.spec.id, 0) + 1
            request = request_for(record.run_base + made)
            prompt_chars = sum(len(m.content) for m in request.messages)
            target = request.hints.get("target_words")
            over = self.ledger.overrun(
                record.spec.id,
                estimate(prompt_chars, record.spec.kind, target),
                limits,
                request.agent_id,
                request.model,
            )
            if over is not None:
                raise BudgetHold(over)
            result: CompletionResult | None = None
            try:
                result = await self._stream(request, record, agent_id)
                parsed = parse(within_limit(result, engine.spec.reply_limit(request.model)))
            except LLMError as error:
                self._finished(request, record, result, error)
                down = self._provider_down(request.model, error)
                if down is not None:
                    raise TaskFailure(down, retry + 1, provider_down=True) from None
                if not error.retryable or retry == limits.retries:
                    raise TaskFailure(error, retry + 1) from None
                try:
                    asked = wait_asked(error)
                except LLMError as too_long:
                    raise TaskFailure(too_long, retry + 1) from None
                pause = min(RETRY_CAP_S, limits.retry_backoff * (2**retry))
                pause *= self._jitter.uniform(0.75, 1.25)
                if asked is not None:
                    pause = max(pause, asked)
                await asyncio.sleep(pause)
                continue
            self._failing.pop(request.model, None)
            self._finished(request, record, result, None)
            return request, result, parsed
        raise AssertionError("unreachable: the last retry raises")

    def _provider_down(self, model: str, error: LLMError) -> LLMError | None:
        """Count failures of the provider in a row for `model`; from `down_after` on, the
        model is down: each further failure fails its task at once as "provider down"."""
        if error.kind not in PROVIDER_FAILURES:
            self._failing.pop(model, None)  # it answered: the provider is up
            return None
        failing = self._failing[model] = self._failing.get(model, 0) + 1
        settings = self.engine.spec.models.settings.get(model)
        if failing < (settings.down_after if settings else ModelSettings().down_after):
            return None
        return LLMError(
            error.kind,
            f"provider down: {failing} calls in a row to {model} failed (last: "
            f"{sanitize(error.message)[:200]}); check the provider, the key and api_base, "
            "then retry",
            model=model,
        )

    async def _stream(
        self, request: CompletionRequest, record: TaskRecord, agent_id: str
    ) -> CompletionResult:
        """One completion, whatever its purpose, inside its slot of the call limiter (in all,
        per model, per agent): taken before the provider is asked, given back however the
        call ends. Every completion the engine makes passes here, as every image passes the
        same limiter in `illustrate`."""
        async with self.engine.calls.hold(request.agent_id, request.model):
            store = self.store
            if store.congested:  # the disk is behind: wait for it before more (backpressure)
                await store.drained()
            stream = self.gateway.complete(request)
            out = _Coalescer(self.engine, record.spec.id, agent_id, request.attempt)
            started = time.monotonic()
            cut = False
            # The backend's items read here, not through the stream's own iterator: one
            # coroutine less for each chunk, on every call (the same chunks, the same result).
            next_item = stream.source.__anext__
            try:
                while True:
                    try:
                        item = await next_item()
                    except StopAsyncIteration:
                        break
                    if isinstance(item, CompletionResult):
                        stream.end(item)
                        break
                    if item:
                        out.add(item)  # sanitized when sent, exactly as one by one
                    if store.congested:
                        await store.drained()
            except asyncio.CancelledError:
                cut = True  # a time limit, a pause or a stop: the provider has still been paid
                raise
            finally:
                try:
                    out.flush()  # what arrived is kept, even when the call then failed
                finally:
                    await stream.aclose()
                    if cut:
                        latency = time.monotonic() - started
                        self._cut_off(request, record, out.chars, latency, stream.spent())
            return stream.result

    def _cut_off(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        chars: int,
        latency_s: float,
        spent: CompletionResult | None = None,
    ) -> None:
        """A call cancelled before it finished still used tokens: record them, estimated the
        way the budget estimates, so no spend goes unaccounted."""
        if spent is not None:  # the backend counted what was sent and what arrived
            self._cut_off_spent(request, record, spent, latency_s)
            return
        used = counted(sum(len(m.content) for m in request.messages), chars)
        price = self.ledger.price(request.agent_id, request.model) or ASSUMED
        try:
            self._record_call(
                request,
                record,
                used.input_tokens,
                used.output_tokens,
                price.of(used),
                latency_s,
                error_kind=CUT_OFF,
                error=f"cut off after {latency_s:.1f}s; tokens and cost estimated ({price.basis})",
            )
        except StoreError:
            pass  # the store has stopped the run already; the cancellation goes on

    def _cut_off_spent(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        spent: CompletionResult,
        latency_s: float,
    ) -> None:
        price = "at the model's price" if spent.cost_usd is not None else "price unknown"
        try:
            self._record_call(
                request,
                record,
                spent.input_tokens,
                spent.output_tokens,
                spent.cost_usd,
                latency_s,
                error_kind=CUT_OFF,
                error=f"cut off after {latency_s:.1f}s; tokens counted from what was sent and "
                f"what arrived ({price})",
                cached=(spent.cached_input_tokens, spent.cache_write_tokens),
            )
        except StoreError:
            pass  # the store has stopped the run already; the cancellation goes on

    def _finished(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        result: CompletionResult | None,
        error: LLMError | None,
    ) -> None:
        used = result if result is not None else error.spent if error is not None else None
        self._record_call(  # a failed call that reached a provider books what it used
            request,
            record,
            used.input_tokens if used else 0,
            used.output_tokens if used else 0,
            used.cost_usd if used else 0.0,
            used.latency_s if used else 0.0,
            error_kind=error.kind.value if error else None,
            error=sanitize(error.message)[:500] if error else "",
            cached=(used.cached_input_tokens, used.cache_write_tokens) if used else (0, 0),
        )

    def _record_call(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float | None,
        latency_s: float,
        *,
        error_kind: str | None,
        error: str,
        cached: tuple[int, int] = (0, 0),
    ) -> None:
        self.engine.emit(
            CallFinished(
                call_id=f"{record.spec.id}:{record.calls + 1}",
                task_id=record.spec.id,
                agent_id=request.agent_id,
                model=request.model,
                purpose=request.purpose,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=cost_usd,
                latency_s=latency_s,
                ok=error_kind is None,
                error_kind=error_kind,
                error=error,
                cached_input_tokens=cached[0],
                cache_write_tokens=cached[1],
            )
        )


class _Coalescer:
    """Streamed text becomes at most one OutputChunk per COALESCE_S for each call.

    A provider may send a hundred chunks a second and the rehearsal model sends a whole reply
    at once; each event is a row, a fold and a screen update, while nobody reads faster than
    this. Text is never held longer than COALESCE_S: a timer sends what waits. The joined text
    is exactly the chunks' (each sanitized on its own, as it arrived: `sanitize_joined`).
    """

    __slots__ = (
        "agent_id",
        "attempt",
        "chars",
        "engine",
        "error",
        "last",
        "loop",
        "pending",
        "task_id",
        "timer",
    )

    def __init__(self, engine: EnginePort, task_id: str, agent_id: str, attempt: int) -> None:
        self.engine = engine
        self.task_id = task_id
        self.agent_id = agent_id
        self.attempt = attempt
        self.pending: list[str] = []
        self.chars = 0  # all the text that arrived, for a call cut off before its usage
        self.last = -COALESCE_S  # loop time of the last event
        self.timer: asyncio.Handle | None = None
        self.error: Exception | None = None
        self.loop = asyncio.get_running_loop()

    def add(self, text: str) -> None:
        if self.error is not None:
            raise self.error  # the timer could not emit: fail the call as emit would have
        self.pending.append(text)
        self.chars += len(text)
        if self.timer is None:
            # Nothing sent lately: send at the end of this burst (the next loop turn), so
            # chunks that arrive together travel together; else when the interval is up.
            delay = self.last + COALESCE_S - self.loop.time()
            if delay > 0:
                self.timer = self.loop.call_later(delay, self._due)
            else:  # the next turn, as call_later(0), without a timer to file and cancel
                self.timer = self.loop.call_soon(self._due)

    def _due(self) -> None:
        self.timer = None
        try:
            self._send()
        except Exception as exc:  # raised in the task at its next chunk or at the end
            self.error = exc

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        self._send()

    def _send(self) -> None:
        if not self.pending:
            return
        text = sanitize_joined(self.pending)
        self.pending.clear()
        self.last = self.loop.time()
        self.engine.emit(
            OutputChunk(
                task_id=self.task_id, agent_id=self.agent_id, attempt=self.attempt, text=text
            )
        )
