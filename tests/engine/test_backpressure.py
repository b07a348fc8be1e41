"""The engine waits for a disk that falls behind instead of queueing events without end."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from podium.domain.state import ProductionState
from podium.engine.engine import Engine
from podium.llm.types import CompletionRequest
from podium.store import EventStore
from podium.store import db as store_db

from .harness import Script, ScriptedGateway, crew, production, tasks

MARK = 20
TASKS = 12


async def test_model_calls_wait_while_the_store_is_congested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "HIGH_WATER", MARK)
    items = [
        {"id": f"t{i}", "title": f"Chapter {i}", "kind": "chapter", "assignee": "w"}
        for i in range(TASKS)
    ]
    body = (
        crew(("w", "writer"))
        + tasks(*items)
        + '[planner]\nmode = "explicit"\n[constraints]\nmax_concurrency = 1\n'
    )
    lock = sqlite3.connect(tmp_path / "p.db", isolation_level=None, timeout=60)

    stalled: list[bool] = []

    def stall_at_first_call(request: CompletionRequest) -> None:
        if not stalled:  # the disk stalls: every commit waits for this lock
            stalled.append(True)
            lock.execute("BEGIN IMMEDIATE")

    script = Script(delay_s=0.0, answer=stall_at_first_call)
    store = await EventStore.open(tmp_path / "p.db", busy_timeout_s=120)
    engine = await Engine.open(store, spec=production(body), gateway=ScriptedGateway(script))
    try:
        run = asyncio.create_task(engine.run())
        for _ in range(500):  # deadline: 5 s for the run to fill the queue to the mark
            if store.congested or run.done():
                break
            await asyncio.sleep(0.01)
        assert store.congested, "the run never filled the queue to the mark"
        calls = len(script.calls)
        await asyncio.sleep(0.3)
        # Held at the mark: no further model call starts while the disk is stalled.
        assert len(script.calls) == calls < TASKS
        assert not run.done()
        lock.execute("ROLLBACK")
        assert await asyncio.wait_for(run, timeout=120) is ProductionState.COMPLETED
    finally:
        lock.close()
        await store.close()
    assert len([c for c in script.calls if c.purpose == "task"]) == TASKS
