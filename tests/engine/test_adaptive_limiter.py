"""The limiter adapts to what a provider answers: it paces by the stated limits, backs off on a
429 and recovers. A fake clock drives it; no test waits on the wall clock."""

from __future__ import annotations

import asyncio
import math

import pytest

from podium.engine.limiter import (
    CUT,
    FLOOR,
    GROW,
    SAFETY,
    SLOW_START,
    CallLimiter,
    Lane,
    Limits,
)
from podium.llm import rate_limits
from podium.llm.rate_limits import RateLimit

MODEL = "openai/gpt-4o-mini"
STATED = RateLimit(limit_requests=600, remaining_requests=500, limit_tokens=200_000)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_stated_limits_pace_the_calls_under_them() -> None:
    lane = Lane(0.0)
    lane.observe(0.0, STATED)
    assert lane.cap == math.inf  # the slow start is over: pacing decides
    rate = 600 / 60 * SAFETY
    assert lane.request_rate() == pytest.approx(rate)
    started = 0
    while lane.ready_at(0.0) <= 0.0:
        lane.take(0.0)
        started += 1
    assert started == math.floor(rate * 1.0)  # one second's worth at once, no more
    assert lane.ready_at(0.0) == pytest.approx((1 - (rate - started)) / rate)


def test_tokens_per_call_pace_under_the_token_limit() -> None:
    lane = Lane(0.0)
    lane.observe(0.0, RateLimit(limit_requests=100_000, limit_tokens=6_000))
    lane.observe(0.0, None, tokens=1_000)  # a call used a thousand tokens
    token_rate = 6_000 / 60 * SAFETY
    assert lane.ready_at(0.0) == 0.0  # a full bucket holds one such call
    lane.take(0.0)
    assert lane.ready_at(0.0) == pytest.approx(1_000 / token_rate)  # the next waits for it


def test_a_429_with_headers_pauses_cuts_and_the_pace_recovers() -> None:
    lane = Lane(0.0)
    lane.observe(0.0, STATED)
    limited = RateLimit(limit_requests=600, remaining_requests=0, retry_after_s=2.0)
    lane.observe(1.0, limited, limited=True, in_flight=5)
    assert lane.limited == 1
    assert lane.ready_at(1.0) == pytest.approx(3.0)  # the Retry-After, for the whole model
    assert lane.share == pytest.approx(CUT)
    assert lane.request_rate() == pytest.approx(10 * SAFETY * CUT)
    lane.observe(1.1, limited, limited=True)  # the same burst: paused again, not cut again
    assert lane.share == pytest.approx(CUT)
    lane.observe(2.5, limited, limited=True)  # a later one cuts again
    assert lane.share == pytest.approx(CUT * CUT)
    for _ in range(math.ceil((1 - CUT * CUT) / GROW) + 1):
        lane.answered()
    assert lane.share == 1.0  # every answer gives some back, up to the stated limit


def test_the_pace_never_falls_to_nothing() -> None:
    lane = Lane(0.0)
    lane.observe(0.0, STATED)
    for second in range(40):
        lane.observe(float(second * 2), None, limited=True)
    assert lane.share == pytest.approx(FLOOR)


def test_a_429_without_retry_after_waits_for_the_exhausted_limit() -> None:
    lane = Lane(0.0)
    lane.observe(0.0, STATED)
    spent = RateLimit(limit_tokens=200_000, remaining_tokens=0, reset_tokens_s=4.0)
    lane.observe(0.0, spent, limited=True)
    assert lane.ready_at(0.0) == pytest.approx(4.0)


def test_without_stated_limits_calls_in_flight_slow_start_then_aimd() -> None:
    lane = Lane(0.0)
    assert lane.cap == SLOW_START
    for _ in range(4):
        lane.answered()
    assert lane.cap == 2 * SLOW_START  # one more per answer: doubles per round
    lane.observe(0.0, None, limited=True, in_flight=8)
    assert lane.cap == 4  # halved
    assert lane.ready_at(0.0) == pytest.approx(1.0)  # a 429 naming no wait pauses a second
    lane.answered()
    assert lane.cap == pytest.approx(4.25)  # then one more per window of answers


async def test_a_429_reported_inside_a_slot_holds_back_the_next_calls_of_its_model() -> None:
    clock = Clock()
    calls = CallLimiter(Limits(8, 8), adaptive=True, clock=clock)
    async with calls.hold("a", MODEL):
        # what the backend does when the provider answers 429 with its headers
        rate_limits.report(RateLimit(limit_requests=600, retry_after_s=5.0), limited=True)
    lane = calls.lane(MODEL)
    assert lane is not None and lane.limited == 1
    waiting = asyncio.ensure_future(calls.acquire("b", MODEL))
    other = asyncio.ensure_future(calls.acquire("c", "openai/another-model"))
    await settle()
    assert not waiting.done() and other.done()  # another model is not held back
    clock.now += 5.0
    calls.wake()
    await settle()
    assert waiting.done()
    calls.release("b", MODEL)
    calls.release("c", "openai/another-model")


async def test_answers_outside_a_slot_or_on_rehearsal_or_when_off_change_nothing() -> None:
    rate_limits.report(STATED, limited=True)  # nobody holds a slot: nothing to tell
    calls = CallLimiter(Limits(8, 8), adaptive=True)
    async with calls.hold("a", "rehearsal/default"):
        rate_limits.report(STATED, limited=True)
    assert calls.lane("rehearsal/default") is None
    fixed = CallLimiter(Limits(8, 8), adaptive=False)
    async with fixed.hold("a", MODEL):
        rate_limits.report(STATED, limited=True)
    assert fixed.lane(MODEL) is None


async def test_the_slow_start_bounds_calls_until_the_provider_states_its_limits() -> None:
    calls = CallLimiter(Limits(32, 32), adaptive=True)
    held = [asyncio.ensure_future(calls.acquire(f"a{n}", MODEL)) for n in range(8)]
    await settle()
    assert sum(f.done() for f in held) == SLOW_START
    lane = calls.lane(MODEL)
    assert lane is not None
    observe = calls.observer(MODEL)
    assert observe is not None
    observe(STATED, 0, False)  # the first answer's headers: pacing takes over
    await settle()
    assert all(f.done() for f in held)
    for n in range(8):
        calls.release(f"a{n}", MODEL)


def test_the_limiter_is_adaptive_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_ADAPTIVE_LIMITS", "0")
    assert not CallLimiter(Limits(1, 1)).adaptive
    monkeypatch.delenv("PODIUM_ADAPTIVE_LIMITS")
    assert CallLimiter(Limits(1, 1)).adaptive
