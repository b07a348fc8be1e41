"""One limiter around every model call: the limiter itself, then the engine's calls through it.

The engine tests run the rehearsal model (with latency, so calls overlap) behind a gateway that
counts the calls in flight per model, per agent and in all, whatever their purpose.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from podium.domain.escalation import (
    AdjustConstraintsCommand,
    ConstraintChanges,
    RequestAlternativesCommand,
)
from podium.domain.events import ProductionOpened, ProductionState
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView
from podium.engine.engine import AutoApprove, Engine
from podium.engine.limiter import CallLimiter, Limits, limits_of
from podium.llm.gateway import Gateway
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    CompletionStream,
    ImageRequest,
    ImageResult,
)
from podium.store import EventStore

from .harness import crew, production, tasks

DEADLINE_S = 30.0

# -- the limiter -----------------------------------------------------------------------------


async def settle() -> None:
    """Let every task that can run, run (a few loop turns)."""
    for _ in range(5):
        await asyncio.sleep(0)


def limiter(total: int = 8, per_agent: int = 8) -> CallLimiter:
    return CallLimiter(Limits(total, per_agent))


async def test_a_free_slot_is_taken_without_waiting() -> None:
    calls = limiter()
    await calls.acquire("a", "m")  # no suspension: a free slot costs no loop turn
    assert (calls.borrowed_tokens, calls.available_tokens) == (1, 7)
    assert calls.borrowed_by_agent("a") == calls.borrowed_by_model("m") == 1
    calls.release("a", "m")
    assert calls.borrowed_tokens == 0
    with pytest.raises(RuntimeError, match="holds a slot"):
        calls.release("a", "m")


@pytest.mark.parametrize(
    ("limits", "second"),
    [
        (Limits(1, 8), ("b", "n")),  # global
        (Limits(8, 1), ("a", "n")),  # per agent (the default)
        (Limits(8, 8, {"a": 1}), ("a", "n")),  # per agent (its own)
        (Limits(8, 8, {}, {"m": 1}), ("b", "m")),  # per model
    ],
)
async def test_each_count_holds_a_second_call_back(limits: Limits, second: tuple[str, str]) -> None:
    calls = CallLimiter(limits)
    await calls.acquire("a", "m")
    waiting = asyncio.create_task(calls.acquire(*second))
    await settle()
    assert not waiting.done() and calls.waiting == 1
    calls.release("a", "m")
    await asyncio.wait_for(waiting, DEADLINE_S)
    assert calls.borrowed_tokens == 1 and calls.waiting == 0
    calls.release(*second)


async def test_waiting_calls_are_served_in_arrival_order() -> None:
    calls = limiter(total=1)
    await calls.acquire("a", "m")
    order: list[int] = []

    async def call(n: int) -> None:
        async with calls.hold(f"agent{n}", "m"):
            order.append(n)
            await asyncio.sleep(0)

    waiting = [asyncio.create_task(call(n)) for n in range(5)]
    await settle()
    calls.release("a", "m")
    await asyncio.wait_for(asyncio.gather(*waiting), DEADLINE_S)
    assert order == [0, 1, 2, 3, 4]


async def test_a_busy_agent_holds_back_its_own_later_calls_only() -> None:
    """A call never overtakes an earlier call of the same agent or model; others go ahead."""
    calls = CallLimiter(Limits(8, 8, {"critic": 1}, {"slow": 2}))
    await calls.acquire("critic", "m")
    first = asyncio.create_task(calls.acquire("critic", "slow"))  # waits for the critic
    await settle()
    writer = asyncio.create_task(calls.acquire("writer", "m"))  # another agent and model
    await settle()
    assert writer.done() and not first.done()
    # The critic's place on `slow` is kept: a later call on that model waits behind it even
    # though the model has room, so the critic is not starved by a stream of others.
    behind = asyncio.create_task(calls.acquire("other", "slow"))
    await settle()
    assert not behind.done()
    calls.release("critic", "m")
    await asyncio.wait_for(asyncio.gather(first, behind), DEADLINE_S)
    assert calls.borrowed_by_model("slow") == 2


async def test_a_larger_total_lets_waiting_calls_go_at_once() -> None:
    calls = limiter(total=1)
    await calls.acquire("a", "m")
    waiting = [asyncio.create_task(calls.acquire(f"b{n}", "m")) for n in range(3)]
    await settle()
    assert calls.waiting == 3
    calls.total_tokens = 3  # anyio's shape: the total is writable while slots are borrowed
    await settle()
    assert [t.done() for t in waiting] == [True, True, False]
    assert calls.borrowed_tokens == 3
    calls.resize(Limits(4, 8))
    await asyncio.wait_for(waiting[2], DEADLINE_S)


async def test_a_smaller_total_waits_for_slots_to_come_back() -> None:
    calls = limiter(total=3)
    for n in range(3):
        await calls.acquire(f"a{n}", "m")
    calls.total_tokens = 1  # the calls in flight keep their slots
    assert calls.borrowed_tokens == 3 and calls.available_tokens == 0
    waiting = asyncio.create_task(calls.acquire("b", "m"))
    calls.release("a0", "m")
    calls.release("a1", "m")
    await settle()
    assert not waiting.done()  # two in flight still ≥ the new total of one
    calls.release("a2", "m")
    await asyncio.wait_for(waiting, DEADLINE_S)
    assert calls.borrowed_tokens == 1
    with pytest.raises(ValueError, match="at least 1"):
        calls.total_tokens = 0


async def test_resizing_a_model_or_agent_limit_takes_effect_on_the_next_call() -> None:
    calls = CallLimiter(Limits(8, 8, {}, {"m": 1}))
    await calls.acquire("a", "m")
    waiting = asyncio.create_task(calls.acquire("b", "m"))
    await settle()
    assert not waiting.done()
    calls.resize(Limits(8, 8, {}, {"m": 2}))
    await asyncio.wait_for(waiting, DEADLINE_S)
    calls.resize(Limits(8, 8, {}, {"m": 1}))  # smaller: the two in flight finish
    later = asyncio.create_task(calls.acquire("c", "m"))
    calls.release("a", "m")
    await settle()
    assert not later.done()
    calls.release("b", "m")
    await asyncio.wait_for(later, DEADLINE_S)


async def test_cancellation_releases_a_held_slot_and_a_place_in_line() -> None:
    calls = limiter(total=1)
    started = asyncio.Event()

    async def call(agent: str) -> None:
        async with calls.hold(agent, "m"):
            started.set()
            await asyncio.sleep(3600)

    holder = asyncio.create_task(call("a"))
    await asyncio.wait_for(started.wait(), DEADLINE_S)
    in_line = asyncio.create_task(calls.acquire("b", "m"))
    after = asyncio.create_task(calls.acquire("c", "m"))
    await settle()
    in_line.cancel()  # its place in line goes: the call after it is next
    holder.cancel()  # its slot comes back
    await asyncio.gather(holder, in_line, return_exceptions=True)
    await asyncio.wait_for(after, DEADLINE_S)
    assert calls.borrowed_tokens == 1 and calls.borrowed_by_agent("c") == 1
    assert calls.waiting == 0 and calls.borrowed_by_agent("a") == calls.borrowed_by_agent("b") == 0


async def test_a_call_granted_then_cancelled_before_it_ran_gives_its_slot_back() -> None:
    calls = limiter(total=1)
    await calls.acquire("a", "m")
    granted_late = asyncio.create_task(calls.acquire("b", "m"))
    next_one = asyncio.create_task(calls.acquire("c", "m"))
    await settle()
    calls.release("a", "m")  # the slot goes to b ...
    granted_late.cancel()  # ... which is cancelled before it resumes
    await asyncio.gather(granted_late, return_exceptions=True)
    await asyncio.wait_for(next_one, DEADLINE_S)
    assert calls.borrowed_by_agent("b") == 0 and calls.borrowed_by_agent("c") == 1


async def test_limits_come_from_constraints_crew_and_model_settings() -> None:
    body = (
        '[models]\ndefault = "rehearsal/w"\n'
        '[models.settings."openai/gpt-4o"]\nmax_concurrency = 3\n'
        '[models.settings."openai/gpt-4o-mini"]\nmax_concurrency = 5\n'
        "[constraints]\nmax_concurrency = 6\nmax_per_agent = 2\n"
        '[constraints.max_per_model]\n"openai/gpt-4o-mini" = 1\n'
        + crew(("w", "writer"))
        + '[[crew]]\nid = "c"\nrole = "editor"\nmax_concurrency = 1\n'
    )
    view = ProductionView()
    view.apply_payload(ProductionOpened(spec=production(body).model_dump(mode="json")), 0.0)
    limits = limits_of(view)
    assert (limits.total, limits.of_agent("w"), limits.of_agent("c")) == (6, 2, 1)
    assert limits.of_model("openai/gpt-4o") == 3  # the model's own setting
    assert limits.of_model("openai/gpt-4o-mini") == 1  # the constraint wins over it
    assert limits.of_model("rehearsal/w") == math.inf


# -- every call the engine makes ---------------------------------------------------------------


class CountingGateway(Gateway):
    """The real gateway (the rehearsal model), counting the calls in flight, whatever their
    purpose; image calls are answered here after a pause (the rehearsal model does not draw)."""

    def __init__(self, spec: ProductionSpec, image_s: float = 0.05) -> None:
        super().__init__(spec.models.rehearsal, spec.models.settings)
        self.image_s = image_s
        self.now: Counter[str] = Counter()  # "model:<m>", "agent:<a>", "all"
        self.peak: Counter[str] = Counter()
        self.purposes: Counter[str] = Counter()
        self.started = 0

    def _enter(self, agent: str, model: str, purpose: str) -> None:
        self.started += 1
        self.purposes[purpose] += 1
        for key in (f"model:{model}", f"agent:{agent}", "all"):
            self.now[key] += 1
            self.peak[key] = max(self.peak[key], self.now[key])

    def _leave(self, agent: str, model: str) -> None:
        for key in (f"model:{model}", f"agent:{agent}", "all"):
            self.now[key] -= 1

    def complete(self, request: CompletionRequest) -> CompletionStream:
        return CompletionStream(self._counted(request))

    async def _counted(self, request: CompletionRequest) -> AsyncIterator[str | CompletionResult]:
        self._enter(request.agent_id, request.model, request.purpose)
        inner = super().complete(request)
        try:
            async for chunk in inner:
                yield chunk
            yield inner.result
        finally:
            self._leave(request.agent_id, request.model)
            await inner.aclose()

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        self._enter(request.agent_id, request.model, "image")
        try:
            await asyncio.sleep(self.image_s)
        finally:
            self._leave(request.agent_id, request.model)
        return ImageResult(b"\x89PNG\r\n\x1a\n", "image/png", request.model, 0.0, self.image_s)


MODELS = (
    '[models]\ndefault = "rehearsal/writer"\n'
    "[models.rehearsal]\nlatency_ms = 60\njitter_ms = 0\ntokens_per_s = 1000000\n"
)


def six_reviews(
    constraints: str, critic: str = "max_concurrency = 1\n", latency_ms: int = 60
) -> ProductionSpec:
    """Six writers, each with a chapter the one critic reviews."""
    writers = crew(*[(f"w{n}", "writer") for n in range(1, 7)])
    critic_agent = f'[[crew]]\nid = "critic"\nrole = "editor"\nmodel = "rehearsal/critic"\n{critic}'
    chapters = tasks(
        *[
            {
                "id": f"c{n}",
                "title": f"Chapter {n}",
                "kind": "chapter",
                "assignee": f"w{n}",
                "reviewers": ["critic"],
            }
            for n in range(1, 7)
        ]
    )
    return production(
        MODELS.replace("latency_ms = 60", f"latency_ms = {latency_ms}")
        + writers
        + critic_agent
        + chapters
        + '[planner]\nmode = "explicit"\n[constraints]\nmax_concurrency = 8\n'
        + "review_rounds = 1\ndebate_rounds = 1\n"
        + constraints
    )


CRITIC_AT_ONE = 'max_per_agent = 2\n[constraints.max_per_model]\n"rehearsal/critic" = 1\n'


async def open_counted(
    spec: ProductionSpec, db: Path, **options: Any
) -> tuple[Engine, CountingGateway]:
    gateway = CountingGateway(spec)
    store = await EventStore.open(db)
    engine = await Engine.open(store, spec=spec, gateway=gateway, **options)
    return engine, gateway


async def until(check: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


async def test_six_reviews_by_a_critic_limited_to_one_call_peak_at_one(tmp_path: Path) -> None:
    """The bug: the limits bounded tasks, so six drafts were reviewed at once."""
    engine, gateway = await open_counted(
        six_reviews(CRITIC_AT_ONE), tmp_path / "p.db", auto_approve=AutoApprove.ALL
    )
    await engine.run()
    await engine.store.close()
    assert gateway.purposes["review"] >= 6
    assert gateway.peak["model:rehearsal/critic"] == 1
    assert gateway.peak["agent:critic"] == 1
    assert gateway.peak["model:rehearsal/writer"] == 6  # the writers were not held back
    assert engine.calls.borrowed_tokens == 0 and engine.calls.waiting == 0


async def test_the_global_limit_bounds_calls_of_every_purpose(tmp_path: Path) -> None:
    """Alternatives are drafted beside the tasks, in no task slot: the call limit still holds."""
    spec = six_reviews("max_per_agent = 8\n", critic="")
    engine, gateway = await open_counted(spec, tmp_path / "p.db", auto_approve=AutoApprove.ALL)
    await engine.run()
    for n in range(1, 7):
        asked = await engine.apply_offline(
            RequestAlternativesCommand(id=f"alt{n}", task_id=f"c{n}", count=2)
        )
        assert asked.applied, asked.detail
    smaller = await engine.apply_offline(
        AdjustConstraintsCommand(id="fewer", changes=ConstraintChanges(max_concurrency=2))
    )
    assert smaller.applied, smaller.detail
    assert engine.calls.total_tokens == 2  # resized by the command, with no run under way
    gateway.peak.clear()
    before = gateway.purposes["alternatives"]
    await engine.run()
    await engine.store.close()
    assert gateway.purposes["alternatives"] - before == 12  # two complete drafts each
    assert gateway.peak["all"] == 2


async def test_image_calls_count_against_their_model(tmp_path: Path) -> None:
    illustrators = crew(*[(f"i{n}", "illustrator") for n in range(1, 4)])
    briefs = tasks(
        *[
            {"id": f"p{n}", "title": f"Plate {n}", "kind": "illustration", "assignee": f"i{n}"}
            for n in range(1, 4)
        ]
    )
    spec = production(
        MODELS.replace("[models.rehearsal]", 'image = "test/painter"\n[models.rehearsal]')
        + illustrators
        + briefs
        + '[planner]\nmode = "explicit"\n[constraints]\nmax_concurrency = 8\n'
        + '[constraints.max_per_model]\n"test/painter" = 1\n'
    )
    engine, gateway = await open_counted(spec, tmp_path / "p.db", auto_approve=AutoApprove.ALL)
    gateway.image_s = 0.1
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert gateway.purposes["image"] == 3
    assert gateway.peak["model:test/painter"] == 1
    assert gateway.peak["model:rehearsal/writer"] == 3


async def test_a_live_resize_takes_effect_on_the_next_call(tmp_path: Path) -> None:
    # Slower calls: the reviews still wait in line while the command is recorded and applied.
    spec = six_reviews(
        CRITIC_AT_ONE.replace("max_per_agent = 2", "max_per_agent = 8"), critic="", latency_ms=200
    )
    engine, gateway = await open_counted(
        spec, tmp_path / "p.db", auto_approve=AutoApprove.ALL, keep_alive=True
    )
    critic = "model:rehearsal/critic"
    runner = asyncio.create_task(engine.run())
    try:
        # Reviews queue behind the one critic slot; then the limit goes up to three.
        await until(lambda: engine.calls.waiting >= 3, "reviews waiting for the critic")
        assert gateway.peak[critic] == 1
        wider = await engine.submit(
            AdjustConstraintsCommand(
                id="wider", changes=ConstraintChanges(max_per_model={"rehearsal/critic": 3})
            )
        )
        assert wider.applied, wider.detail
        assert engine.calls.limits.of_model("rehearsal/critic") == 3
        await until(engine.view.all_settled, "every task settled")
    finally:
        engine.request_stop()
        await asyncio.wait_for(runner, DEADLINE_S)
        await engine.store.close()
    assert gateway.peak[critic] == 3  # the waiting reviews went at once, three at a time


async def test_a_stopped_run_gives_every_slot_back(tmp_path: Path) -> None:
    spec = six_reviews(CRITIC_AT_ONE)
    engine, gateway = await open_counted(
        spec, tmp_path / "p.db", auto_approve=AutoApprove.ALL, keep_alive=True
    )
    runner = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.calls.waiting >= 2, "reviews waiting for the critic")
        assert engine.calls.borrowed_by_agent("critic") == 1
    finally:
        engine.request_stop()  # cancels the call in flight and the ones waiting
        assert await asyncio.wait_for(runner, DEADLINE_S) is ProductionState.STOPPED
    assert engine.calls.borrowed_tokens == 0 and engine.calls.waiting == 0
    await engine.store.close()
    # Resumed: the interrupted tasks run again, and their reviews one at a time.
    engine, gateway = await open_counted(spec, tmp_path / "p.db", auto_approve=AutoApprove.ALL)
    await engine.run()
    await engine.store.close()
    assert all(r.state.settled for r in engine.view.tasks.values())
    assert gateway.purposes["review"] >= 6
    assert gateway.peak["model:rehearsal/critic"] == 1
