"""The scheduler: concurrency limits measured from the event log, retries, skips, budget."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from podium.domain.artifacts import Screenplay
from podium.domain.escalation import EscalationKind
from podium.domain.events import ProductionState
from podium.domain.tasks import TaskState
from podium.engine.engine import AutoApprove
from podium.llm.types import CompletionRequest, FailureKind, LLMError

from .harness import Script, concurrency_from_events, crew, open_engine, production, tasks

FOUR_WRITERS = crew(("w1", "writer"), ("w2", "writer"), ("w3", "writer"), ("w4", "writer"))


def fan_out(n: int, limits: str) -> str:
    items = [
        {"id": f"t{i}", "title": f"Chapter {i}", "kind": "chapter", "assignee": f"w{i % 4 + 1}"}
        for i in range(n)
    ]
    return FOUR_WRITERS + tasks(*items) + f'[planner]\nmode = "explicit"\n[constraints]\n{limits}'


async def test_global_limit_is_reached_and_never_exceeded(tmp_path: Path) -> None:
    spec = production(fan_out(24, "max_concurrency = 8\nmax_per_agent = 8\n"))
    script = Script(delay_s=0.05)
    engine = await open_engine(spec, tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    events = await engine.store.read()
    await engine.store.close()
    assert concurrency_from_events(events) == 8
    assert script.peak == 8


async def test_per_agent_limit_holds(tmp_path: Path) -> None:
    spec = production(fan_out(16, "max_concurrency = 16\nmax_per_agent = 2\n"))
    script = Script(delay_s=0.03)
    engine = await open_engine(spec, tmp_path / "p.db", script)
    await engine.run()
    events = await engine.store.read()
    await engine.store.close()
    running: dict[str, set[str]] = {}
    peak: dict[str, int] = {}
    owner = {t: r.spec.assignee for t, r in engine.view.tasks.items()}
    for event in events:
        p = event.payload
        if p.kind in ("task_state", "task_settled"):  # settled: done
            agent = owner[p.task_id]
            bucket = running.setdefault(agent, set())
            (bucket.add if p.state is TaskState.RUNNING else bucket.discard)(p.task_id)
            peak[agent] = max(peak.get(agent, 0), len(bucket))
    assert max(peak.values()) == 2
    assert concurrency_from_events(events) == 8  # 4 agents × 2


async def test_dependencies_run_in_order_and_feed_their_output(tmp_path: Path) -> None:
    body = (
        crew(("w", "writer"))
        + tasks(
            {"id": "a", "title": "A", "kind": "chapter", "assignee": "w"},
            {"id": "b", "title": "B", "kind": "chapter", "assignee": "w", "depends_on": ["a"]},
        )
        + '[planner]\nmode = "explicit"\n'
    )
    script = Script()
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    assert view.tasks["a"].ended_at is not None and view.tasks["b"].started_at is not None
    assert view.tasks["a"].ended_at <= view.tasks["b"].started_at
    b_art = view.artifacts[view.tasks["b"].artifact_id or ""]
    assert b_art.provenance.parents == (view.tasks["a"].artifact_id,)
    b_call = next(c for c in script.calls if c.task_id == "b")
    assert "INPUT from a" in "\n\n".join(m.content for m in b_call.messages)


async def test_a_shot_list_sees_every_scene_of_its_script(tmp_path: Path) -> None:
    """An input is cut to its opening in the prompt; a screenplay's scene list is not."""
    scenes = [
        {"heading": f"EXT. PLACE {n} - NIGHT", "elements": [{"type": "action", "text": "x " * 400}]}
        for n in range(1, 9)
    ]

    def answer(request: CompletionRequest) -> object:
        return Screenplay.model_validate({"scenes": scenes}) if request.task_id == "a" else None

    body = (
        crew(("w", "writer"), ("dp", "director_of_photography"))
        + tasks(
            {"id": "a", "title": "Script", "kind": "script", "assignee": "w"},
            {
                "id": "b",
                "title": "Shots",
                "kind": "shot_list",
                "assignee": "dp",
                "depends_on": ["a"],
            },
        )
        + '[planner]\nmode = "explicit"\n'
    )
    script = Script(answer=answer)
    engine = await open_engine(production(body), tmp_path / "p.db", script, auto=AutoApprove.ALL)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    shots = next(c for c in script.calls if c.task_id == "b")
    prompt = "\n\n".join(m.content for m in shots.messages)
    # The script is given whole (8 scenes of 800 characters each), every scene in it.
    assert all(f"EXT. PLACE {n} - NIGHT\n{'x ' * 399}x" in prompt for n in range(1, 9))


def one_task(on_failure: str = "escalate", extra: str = "") -> str:
    return (
        crew(("w", "writer"))
        + tasks(
            {"id": "x", "title": "X", "kind": "chapter", "assignee": "w", "on_failure": on_failure},
            {"id": "y", "title": "Y", "kind": "chapter", "assignee": "w", "depends_on": ["x"]},
            {"id": "z", "title": "Z", "kind": "chapter", "assignee": "w"},
        )
        + '[planner]\nmode = "explicit"\n[constraints]\nretries = 2\nretry_backoff = 0.01\n'
        + extra
    )


async def test_retries_then_escalates_and_unrelated_work_goes_on(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.TIMEOUT, "slow")] * 5})
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    view = engine.view
    assert view.tasks["x"].state is TaskState.FAILED
    assert view.tasks["y"].state is TaskState.PENDING
    assert view.tasks["z"].state is TaskState.DONE
    x_calls = [c for c in script.calls if c.task_id == "x"]
    assert len(x_calls) == 3  # the first try and two retries: one retry layer only
    [esc] = view.open_escalations()
    assert esc.kind is EscalationKind.FAILURE and esc.task_id == "x"
    assert "timeout" in esc.detail


async def test_retry_honours_retry_after_and_succeeds(tmp_path: Path) -> None:
    error = LLMError(FailureKind.RATE_LIMIT, "429", retry_after=0.2)
    script = Script(failures={"x": [error]})
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    x_calls = [c for c in script.calls if c.task_id == "x"]
    assert [c.attempt for c in x_calls] == [1, 2]
    assert engine.view.failed_calls == 1


@pytest.mark.parametrize("wait", [86_400.0, float("inf")])
async def test_a_retry_after_longer_than_podium_waits_escalates_with_it(
    tmp_path: Path, wait: float
) -> None:
    error = LLMError(FailureKind.RATE_LIMIT, "429", retry_after=wait)
    script = Script(failures={"x": [error]})
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script)
    async with asyncio.timeout(120):  # a hang guard: parked asleep for a day, it fails here
        assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    assert len([c for c in script.calls if c.task_id == "x"]) == 1
    [esc] = engine.view.open_escalations()
    assert esc.kind is EscalationKind.FAILURE and esc.task_id == "x"
    assert "asks to wait" in esc.detail


async def test_skip_lets_dependents_proceed_marked(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.CONNECTION, "reset")] * 5})
    engine = await open_engine(production(one_task("skip")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert engine.view.tasks["x"].state is TaskState.SKIPPED
    assert engine.view.tasks["y"].state is TaskState.DONE
    y_call = next(c for c in script.calls if c.task_id == "y")
    assert "work without them: x" in y_call.messages[-1].content


async def test_non_retryable_failure_escalates_at_once(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.AUTH, "bad key")]})
    engine = await open_engine(production(one_task("skip")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    assert len([c for c in script.calls if c.task_id == "x"]) == 1
    assert engine.view.open_escalations()[0].kind is EscalationKind.FAILURE


async def test_budget_stops_a_call_before_it_spends(tmp_path: Path) -> None:
    script = Script()
    spec = production(one_task(extra="budget_tokens = 1000\n"))
    engine = await open_engine(spec, tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    assert script.calls == []  # the estimate alone exceeds the budget
    kinds = {e.kind for e in engine.view.open_escalations()}
    assert kinds == {EscalationKind.BUDGET}
    assert engine.view.tokens() == 0


async def test_budget_approval_lets_the_call_go_once(tmp_path: Path) -> None:
    script = Script()
    spec = production(one_task(extra="budget_tokens = 1000\n"))
    engine = await open_engine(spec, tmp_path / "p.db", script, auto=AutoApprove.ALL)
    assert await engine.run() is ProductionState.WAITING  # budgets are never auto-approved
    esc = engine.view.open_escalations()[0]
    from podium.domain.escalation import (
        ApproveCommand,
    )

    result = await engine.apply_offline(ApproveCommand(id="c1", escalation_id=esc.id))
    assert result.applied, result.detail
    await engine.run()
    await engine.store.close()
    assert engine.view.tasks[esc.task_id or ""].state is TaskState.DONE


async def test_pause_starts_nothing_new(tmp_path: Path) -> None:
    spec = production(fan_out(8, "max_concurrency = 2\nmax_per_agent = 2\n"))
    script = Script(delay_s=0.05)
    engine = await open_engine(spec, tmp_path / "p.db", script, keep_alive=True)
    from podium.domain.escalation import (
        PauseCommand,
        ResumeCommand,
    )

    runner = asyncio.create_task(engine.run())
    await asyncio.sleep(0.02)
    await engine.submit(PauseCommand(id="p"))
    started = len(script.calls)
    await asyncio.sleep(0.3)
    assert len(script.calls) == started  # running calls finished; none started
    assert engine.view.paused
    await engine.submit(ResumeCommand(id="r"))
    async with asyncio.timeout(60):  # deadline
        while not engine.view.all_settled():
            await asyncio.sleep(0.02)
    engine.request_stop()
    await runner
    await engine.store.close()
    assert len(script.calls) == 8


async def test_a_live_resize_of_the_global_limit_opens_task_slots(tmp_path: Path) -> None:
    """Task slots and call slots are sized from the same live limits (`Engine.limits_changed`)."""
    spec = production(fan_out(12, "max_concurrency = 1\nmax_per_agent = 4\n"))
    script = Script(delay_s=0.05)
    engine = await open_engine(spec, tmp_path / "p.db", script, keep_alive=True)
    from podium.domain.escalation import (
        AdjustConstraintsCommand,
        ConstraintChanges,
    )

    runner = asyncio.create_task(engine.run())
    deadline = time.monotonic() + 30
    while not script.calls:
        assert time.monotonic() < deadline, "no call started"
        await asyncio.sleep(0.005)
    assert script.peak == 1
    wider = await engine.submit(
        AdjustConstraintsCommand(id="wider", changes=ConstraintChanges(max_concurrency=4))
    )
    assert wider.applied, wider.detail
    while not engine.view.all_settled():
        assert time.monotonic() < deadline, "the tasks did not settle"
        await asyncio.sleep(0.02)
    engine.request_stop()
    await runner
    events = await engine.store.read()
    await engine.store.close()
    assert concurrency_from_events(events) == 4
    assert script.peak == 4
