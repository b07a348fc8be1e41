"""Resuming: a production stopped or cancelled mid-run finishes with the same deliverables as
an uninterrupted run with the same seed (the rehearsal model is deterministic)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from podium.domain.events import ProductionState
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import EventStore

from ..conftest import SAMPLES


def fast(name: str, **rehearsal: float) -> ProductionSpec:
    spec = read_production(SAMPLES / name)
    settings = spec.models.rehearsal.model_copy(
        update={
            "latency_ms": 2.0,
            "jitter_ms": 2.0,
            "tokens_per_s": 50_000.0,
            "latency_by_kind": {},
            **rehearsal,
        }
    )
    return spec.model_copy(
        update={"models": spec.models.model_copy(update={"rehearsal": settings})}
    )


def deliverables(view: ProductionView) -> dict[str, dict[str, object]]:
    return {
        task_id: view.artifacts[record.artifact_id].content
        for task_id, record in view.tasks.items()
        if record.artifact_id is not None
    }


async def run_through(spec: ProductionSpec, db: Path) -> ProductionView:
    store = await EventStore.open(db)
    engine = await Engine.open(store, spec=spec, auto_approve=AutoApprove.ALL)
    assert await engine.run() is ProductionState.COMPLETED
    await store.close()
    return engine.view


async def test_cancelled_then_resumed_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    spec = fast("arctic_journey.toml")
    reference = await run_through(spec, tmp_path / "ref.db")

    store = await EventStore.open(tmp_path / "cut.db")
    engine = await Engine.open(store, spec=spec, auto_approve=AutoApprove.ALL)
    run = asyncio.create_task(engine.run())
    async with asyncio.timeout(60):  # deadline
        while sum(r.state is TaskState.DONE for r in engine.view.tasks.values()) < 5:
            await asyncio.sleep(0.005)
    run.cancel()  # as abrupt as a quit mid-stream
    await asyncio.gather(run, return_exceptions=True)
    await store.close()

    store = await EventStore.open(tmp_path / "cut.db")
    resumed = await Engine.open(store, auto_approve=AutoApprove.ALL)
    done_before = {t for t, r in resumed.view.tasks.items() if r.state is TaskState.DONE}
    assert len(done_before) >= 5
    assert await resumed.run() is ProductionState.COMPLETED
    await store.close()
    assert deliverables(resumed.view) == deliverables(reference)
    # nothing completed before the cut was made again
    for task_id in done_before:
        assert len(resumed.view.tasks[task_id].artifact_ids) == len(
            reference.tasks[task_id].artifact_ids
        )


async def test_stop_then_resume_continues_where_it_stopped(tmp_path: Path) -> None:
    spec = fast("last_light.toml")
    reference = await run_through(spec, tmp_path / "ref.db")
    store = await EventStore.open(tmp_path / "p.db")
    engine = await Engine.open(store, spec=spec, auto_approve=AutoApprove.ALL)
    run = asyncio.create_task(engine.run())
    async with asyncio.timeout(60):  # deadline
        while sum(r.state is TaskState.DONE for r in engine.view.tasks.values()) < 3:
            await asyncio.sleep(0.005)
    engine.request_stop("quit")
    assert await run is ProductionState.STOPPED
    assert not any(r.state is TaskState.RUNNING for r in engine.view.tasks.values())
    await store.close()

    store = await EventStore.open(tmp_path / "p.db")
    resumed = await Engine.open(store, auto_approve=AutoApprove.ALL)
    assert resumed.view.state is ProductionState.STOPPED
    assert await resumed.run() is ProductionState.COMPLETED
    await store.close()
    assert deliverables(resumed.view) == deliverables(reference)


async def test_every_sample_completes_with_auto_approve_all(tmp_path: Path) -> None:
    for name in ("arctic_journey.toml", "arcadian_summers.toml", "last_light.toml"):
        view = await run_through(fast(name), tmp_path / f"{name}.db")
        counts = view.task_counts()
        assert counts["done"] + counts["skipped"] == len(view.tasks), (name, counts)
        assert view.artifacts
