"""The deadline counts working time (issue 19 item 6): the clock does not run while the
production is paused or stopped, a crashed run's clock stops at its last task move, and a run
resumed after a long gap (the clock faked, no sleeping) is not past its deadline; the live
view, the log's replay, `podium status`'s health and the header agree."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from podium.domain import health
from podium.domain.events import (
    ProductionOpened,
    ProductionState,
    ProductionStateChanged,
    RunStarted,
    RunStopped,
    TasksPlanned,
    TaskStateChanged,
)
from podium.domain.production import Constraints
from podium.domain.state import ProductionView, fold
from podium.domain.tasks import TaskState
from podium.tui.widgets.status_bar import StatusBar

from .harness import Script, crew, open_engine, production, tasks

HOUR = 3600.0
BODY = crew(("w", "writer")) + tasks(
    {"id": "c1", "title": "One", "kind": "chapter", "assignee": "w"},
    {"id": "c2", "title": "Two", "kind": "chapter", "assignee": "w", "depends_on": ["c1"]},
)


def opened() -> ProductionView:
    spec = production(BODY + '[planner]\nmode = "explicit"\n')
    view = ProductionView()
    view.apply_payload(ProductionOpened(spec=spec.model_dump(mode="json")), 0.0)
    view.apply_payload(TasksPlanned(tasks=list(spec.tasks)), 0.0)
    view.constraints = Constraints(deadline=HOUR)
    return view


def deadline_of(view: ProductionView, now: float) -> health.Signal:
    return next(s for s in health.signals(view, now) if s.name == "deadline")


def test_the_clock_stops_while_paused_and_between_runs() -> None:
    view = opened()
    t0 = 1_000_000.0
    view.apply_payload(RunStarted(pid=1), t0)
    view.apply_payload(TaskStateChanged(task_id="c1", state=TaskState.RUNNING), t0 + 10)
    pause = ProductionStateChanged(state=ProductionState.WAITING, reason="paused", paused=True)
    view.apply_payload(pause, t0 + 610)  # 600 s worked
    assert view.working_s(t0 + 5 * HOUR) == pytest.approx(600)  # paused: the clock stands
    go = ProductionStateChanged(state=ProductionState.RUNNING, reason="resumed", paused=False)
    view.apply_payload(go, t0 + 5 * HOUR)
    assert view.working_s(t0 + 5 * HOUR + 300) == pytest.approx(900)
    view.apply_payload(RunStopped(reason="stopped"), t0 + 5 * HOUR + 600)  # 1,200 s worked
    overnight = t0 + 20 * HOUR
    assert view.working_s(overnight) == pytest.approx(1200)
    signal = deadline_of(view, overnight)
    # Before: 20 h of wall time against a 1 h deadline, "the deadline has passed".
    assert signal.value.startswith("33% of the time"), signal
    assert signal.level is not health.Level.DIRECT_AND_CORRECT
    assert StatusBar._time(view, overnight) == "20:00 / 1:00:00"
    view.apply_payload(RunStarted(pid=2, resumed=True), overnight)
    assert view.working_s(overnight + 600) == pytest.approx(1800)
    assert deadline_of(view, overnight + 600).value.startswith("50% of the time")


def test_a_crashed_runs_clock_stops_at_its_last_task_move() -> None:
    view = opened()
    t0 = 2_000_000.0
    view.apply_payload(RunStarted(pid=1), t0)
    view.apply_payload(TaskStateChanged(task_id="c1", state=TaskState.RUNNING), t0)
    view.apply_payload(TaskStateChanged(task_id="c1", state=TaskState.DONE), t0 + 100)
    # The engine dies: no RunStopped. The next morning, a resume.
    view.apply_payload(RunStarted(pid=2, resumed=True), t0 + 12 * HOUR)
    assert view.working_s(t0 + 12 * HOUR + 50) == pytest.approx(150)


async def test_a_run_resumed_after_a_long_gap_is_not_past_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [3_000_000.0]

    def fake_time() -> float:
        clock[0] += 0.001  # every stamp a millisecond after the one before
        return clock[0]

    import podium.store.db as db

    monkeypatch.setattr(db.time, "time", fake_time)
    header = (
        '[production]\ntitle = "Test"\nformat = "short_film"\nbrief = "A test."\n'
        '[vision]\npremise = "A premise."\n[constraints]\ndeadline = "1h"\n'
    )
    spec = production(BODY + '[planner]\nmode = "explicit"\n', header=header)
    engine = await open_engine(spec, tmp_path / "p.db", Script(delay_s=0))
    view = engine.view
    run = asyncio.create_task(engine.run())
    limit = time.monotonic() + 30
    while (c1 := view.tasks.get("c1")) is None or c1.state is not TaskState.DONE:
        assert time.monotonic() < limit, "c1 never finished"
        assert not run.done()
        await asyncio.sleep(0)
    engine.request_stop("stopped for the night")
    assert await asyncio.wait_for(run, 30) is ProductionState.STOPPED
    worked = view.working_s(clock[0])
    assert 0 < worked < 60
    clock[0] += 14 * HOUR  # overnight
    assert view.working_s(clock[0]) == pytest.approx(worked)
    store = engine.store
    resumed = await open_engine(spec, tmp_path / "p.db", Script(delay_s=0))
    await store.close()
    assert resumed.view.working_s(clock[0]) == pytest.approx(worked)  # the log agrees
    assert await resumed.run() is ProductionState.COMPLETED
    now = clock[0]
    view = resumed.view
    assert view.makespan_s() is not None and view.makespan_s() > 14 * HOUR  # wall time
    assert view.working_s(now) < 120
    signal = deadline_of(view, now)
    assert signal.level is health.Level.LET_AGENTS_WORK, signal
    replayed = fold(await resumed.store.read())
    assert replayed.working_s(now) == pytest.approx(view.working_s(now))
    assert replayed.summary()["working_s"] == pytest.approx(view.working_s(now))
    await resumed.store.close()
