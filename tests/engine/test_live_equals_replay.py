"""The event log is the only memory: the engine's live view is the fold of its stored log.

Each sample production runs with decisions (feedback, approve, override), a vision change, a
kill mid-run (the run task cancelled while a task runs, no clean shutdown) and a resume. After
each stage the live view must equal a fresh replay of the log, field by field, timestamps too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from podium.domain.escalation import (
    Action,
    ApproveCommand,
    ClarifyVisionCommand,
    Command,
    EscalationKind,
    FeedbackCommand,
    OverrideCommand,
)
from podium.domain.events import Payload, ProductionState, TaskStateChanged
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView, fold
from podium.domain.tasks import TaskState
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import EventStore
from podium.store.replay import replay

from ..conftest import SAMPLES

SAMPLE_NAMES = ("last_light", "arctic_journey", "arcadian_summers")
DEADLINE_S = 60.0


def first_difference(live: Any, stored: Any, path: str = "view") -> str | None:
    """The path of the first field where the two differ, with both values; None if equal.

    Walks dataclasses, pydantic models, dicts (keys in order), lists and tuples; floats are
    compared exactly (a timestamp folded from the clock instead of the log is a difference).
    """
    if type(live) is not type(stored):
        return f"{path}: {type(live).__name__} {live!r} != {type(stored).__name__} {stored!r}"
    if dataclasses.is_dataclass(live) and not isinstance(live, type):
        for f in dataclasses.fields(live):
            found = first_difference(
                getattr(live, f.name), getattr(stored, f.name), path + "." + f.name
            )
            if found:
                return found
        return None
    if isinstance(live, BaseModel):
        for name in type(live).model_fields:
            found = first_difference(getattr(live, name), getattr(stored, name), f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(live, dict):
        if list(live) != list(stored):
            return f"{path}: keys {list(live)!r} != {list(stored)!r}"
        for key in live:
            found = first_difference(live[key], stored[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(live, list | tuple):
        if len(live) != len(stored):
            return f"{path}: {len(live)} items != {len(stored)}"
        for index, (a, b) in enumerate(zip(live, stored, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(live, set | frozenset | str | int | float | bool | enum.Enum) or live is None:
        return None if live == stored else f"{path}: {live!r} != {stored!r}"
    raise TypeError(f"{path}: cannot compare a {type(live).__name__}")


def test_first_difference_names_the_path_and_both_values() -> None:
    @dataclasses.dataclass
    class Inner:
        at: float

    @dataclasses.dataclass
    class Outer:
        items: dict[str, list[Inner]]

    same = Outer({"a": [Inner(1.0), Inner(2.0)]})
    assert first_difference(same, Outer({"a": [Inner(1.0), Inner(2.0)]})) is None
    found = first_difference(same, Outer({"a": [Inner(1.0), Inner(2.0000001)]}))
    assert found == "view.items['a'][1].at: 2.0 != 2.0000001"
    assert first_difference(same, Outer({"b": []})) == "view.items: keys ['a'] != ['b']"


def fast(name: str) -> ProductionSpec:
    """The sample with no simulated latency (its output depends on the seed, not on timing)."""
    spec = read_production(SAMPLES / f"{name}.toml")
    settings = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e7, "latency_by_kind": {}}
    )
    return spec.model_copy(
        update={"models": spec.models.model_copy(update={"rehearsal": settings})}
    )


async def assert_live_is_replay(engine: Engine, stage: str) -> None:
    """The live view equals both replays of the log: the fast one a resume uses, and the
    plain fold of every event."""
    await engine.store.flush()
    replayed = ProductionView()
    await replay(engine.store, replayed)
    found = first_difference(engine.view, replayed)
    assert found is None, f"{stage}: live view != replay at {found}"
    folded = fold(await engine.store.read())
    found = first_difference(engine.view, folded)
    assert found is None, f"{stage}: live view != fold of the log at {found}"


def kill_when_running(engine: Engine, run: asyncio.Task[Any], nth: int) -> list[str]:
    """Cancel `run` as the `nth` task starts running (an abrupt stop mid-run); the ids of the
    tasks that were running then."""
    started = 0
    running: list[str] = []

    def listener(seq: int, payload: Payload) -> None:
        nonlocal started
        if isinstance(payload, TaskStateChanged) and payload.state is TaskState.RUNNING:
            started += 1
            if started == nth:
                running.extend(
                    t for t, r in engine.view.tasks.items() if r.state is TaskState.RUNNING
                )
                run.cancel()

    engine.subscribe(listener)
    return running


@pytest.mark.parametrize("name", SAMPLE_NAMES)
async def test_live_view_equals_the_replay_of_its_log(tmp_path: Path, name: str) -> None:
    db = tmp_path / f"{name}.db"
    store = await EventStore.open(db)
    engine = await Engine.open(store, spec=fast(name), source=f"{name}.toml")
    await assert_live_is_replay(engine, "opened")

    # 1. The first run stops at the Orchestrator's desk: the plan, a milestone.
    async with asyncio.timeout(DEADLINE_S):
        assert await engine.run() is ProductionState.WAITING
    await assert_live_is_replay(engine, "first run")

    # 2. Decisions: feedback, approve, override with a direction, then a vision change.
    waiting = engine.view.open_escalations()
    plan = next(e for e in waiting if e.kind is EscalationKind.PLAN)
    agent = engine.view.tasks[plan.task_id or ""].spec.assignee
    commands: list[Command] = [
        FeedbackCommand(id="fb", agent=agent, text="Keep it lean."),
        ApproveCommand(id="ok", escalation_id=plan.id),
    ]
    others = [e for e in waiting if e.id != plan.id and Action.OVERRIDE in e.actions]
    if others:
        commands.append(
            OverrideCommand(id="ov", escalation_id=others[0].id, text="Colder, and shorter.")
        )
    for command in commands:
        result = await engine.apply_offline(command)
        assert result.applied, (command.id, result.detail)
    await assert_live_is_replay(engine, "decisions")

    # 3. Run again and kill it as its first task starts.
    run = asyncio.create_task(engine.run())
    interrupted = kill_when_running(engine, run, nth=1)
    async with asyncio.timeout(DEADLINE_S):
        await asyncio.gather(run, return_exceptions=True)
    assert run.cancelled() and interrupted, "the run ended before it could be killed"
    assert all(engine.view.tasks[t].interrupted for t in interrupted)
    await assert_live_is_replay(engine, "killed")

    # The vision changes while no engine runs: done work goes stale and waits on a decision.
    amend = ClarifyVisionCommand(
        id="vision", section="tone", value="Dry, and kind.", reason="a lighter hand"
    )
    result = await engine.apply_offline(amend)
    assert result.applied, result.detail
    await assert_live_is_replay(engine, "vision change")
    await store.close()

    # 4. Resume in a new engine, with the standing instruction to approve, to the end.
    store = await EventStore.open(db)
    resumed = await Engine.open(store, auto_approve=AutoApprove.ALL)
    await assert_live_is_replay(resumed, "reopened")
    async with asyncio.timeout(DEADLINE_S):
        assert await resumed.run() is ProductionState.COMPLETED
    await assert_live_is_replay(resumed, "resumed to the end")
    await store.close()
