"""The scheduler workloads, as production files, and the ways to run them.

One `Workload` describes a task graph (layers of tasks, each on some of the layer before), the
time every task takes and the concurrency limit. The same description becomes:

* a production file with an explicit plan and rehearsal latency, run by podium's real engine
  with its real store (`run_podium`): every event is persisted;
* a bare asyncio topological scheduler that only sleeps (`run_floor`): the physical floor;
* a LangGraph graph, one node per task (bench/peers.py).

Every runner reports the same figure: the makespan from the first task's start to the last
task's end, in seconds, which is what `podium status --json` calls `makespan_s`.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# podium's limits are validated (max_concurrency and max_per_agent ≤ 1024); "no limit" means
# the largest limit podium accepts. The ideal makespan below accounts for it.
PODIUM_MAX_LIMIT = 1024
NO_LIMIT = 0


@dataclass(frozen=True)
class Workload:
    name: str
    layers: int
    width: int
    work_ms: float
    concurrency: int = NO_LIMIT  # NO_LIMIT: every ready task may run
    fan_in: int = 2  # how many tasks of the layer before each task depends on
    agents: int = 8
    by_overhead: bool = False  # judged by overhead per task (its ideal is a rounding error)

    @property
    def tasks(self) -> int:
        return self.layers * self.width

    def task_id(self, layer: int, index: int) -> str:
        return f"l{layer}-t{index}" if self.layers > 1 else f"t{index}"

    def graph(self) -> list[tuple[str, list[str]]]:
        """(task id, dependencies) in plan order; task i of a layer needs i, i+1, … before."""
        items: list[tuple[str, list[str]]] = []
        for layer in range(self.layers):
            for index in range(self.width):
                deps: list[str] = []
                if layer:
                    for k in range(min(self.fan_in, self.width)):
                        deps.append(self.task_id(layer - 1, (index + k) % self.width))
                items.append((self.task_id(layer, index), deps))
        return items

    def limit(self, cap: int | None = None) -> int | None:
        """The concurrency limit a runner applies (None: none at all)."""
        if self.concurrency == NO_LIMIT:
            return cap
        return self.concurrency if cap is None else min(self.concurrency, cap)

    def ideal_s(self, limit: int | None = None) -> float:
        """The critical path under the limit, with zero overhead (layers run one after another:
        every task of a layer waits on tasks of the layer before, all of the same length)."""
        waves = 1 if limit is None else math.ceil(self.width / limit)
        return self.layers * waves * self.work_ms / 1000

    def production_toml(self) -> str:
        """The workload as a production file podium runs as written (no planning call)."""
        limit = self.limit(PODIUM_MAX_LIMIT) or PODIUM_MAX_LIMIT
        lines = [
            "[production]",
            f'title = "Bench {self.name}"',
            'format = "short_film"',
            f'brief = "Scheduler bench: {self.tasks} tasks of {self.work_ms:g} ms."',
            "",
            "[vision]",
            'premise = "A crew that only reports, as fast as it can."',
            "",
            "[models]",
            'default = "rehearsal/bench"',
            "",
            "[models.rehearsal]",
            f"latency_ms = {self.work_ms:g}",
            "jitter_ms = 0",
            "tokens_per_s = 1000000000",  # the whole reply streams at once: the work is latency
            "",
            "[constraints]",
            f"max_concurrency = {limit}",
            f"max_per_agent = {PODIUM_MAX_LIMIT}",  # only the global limit binds
            # Every input whole: one model call a task, as the peers run one node a task (past
            # the fan-in bound each input would be summarised once, by a call of its own).
            f"max_whole_inputs = {PODIUM_MAX_LIMIT}",
            "",
            "[planner]",
            'mode = "explicit"',
            "",
        ]
        for index in range(self.agents):
            lines += ["[[crew]]", f'id = "a{index}"', 'role = "producer"', ""]
        for number, (task_id, deps) in enumerate(self.graph()):
            lines += [
                "[[tasks]]",
                f'id = "{task_id}"',
                f'title = "Report {task_id}"',
                'kind = "report"',
                f'assignee = "a{number % self.agents}"',
            ]
            if deps:
                lines.append("depends_on = [" + ", ".join(f'"{d}"' for d in deps) + "]")
            lines.append("")
        return "\n".join(lines)


# Issue 20's workloads: W1 fan-out; W3 layered, each task on every task of the layer before
# (`layers`) or on one (`chain`); W2 wide, 2,000 short tasks under a limit of 64.
FAN_OUT = Workload("fan_out", layers=1, width=200, work_ms=50, concurrency=32)
LAYERS = Workload("layers", layers=10, width=50, work_ms=20, fan_in=50)
CHAIN = Workload("chain", layers=10, width=50, work_ms=20, fan_in=1)
WIDE = Workload("wide", layers=1, width=2000, work_ms=5, concurrency=64, by_overhead=True)
WORKLOADS = (FAN_OUT, LAYERS, CHAIN, WIDE)


# -- podium -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    makespan_s: float
    events: int = 0
    model_cpu_s: float = 0.0  # time spent inside the model's stream (the rehearsal writing)
    events_s: float = 0.0  # the run's events alone, recorded again (see `events_cost`)
    wall_s: float = 0.0  # the whole call that ran the graph (setup and teardown included)


class _Meter:
    seconds = 0.0


class _TimedStep:
    """Awaits an awaitable, adding the time of each of its synchronous steps to a meter."""

    __slots__ = ("inner", "meter")

    def __init__(self, inner: Awaitable[Any], meter: _Meter) -> None:
        self.inner = inner
        self.meter = meter

    def __await__(self) -> Generator[Any, Any, Any]:
        steps = self.inner.__await__()
        meter = self.meter
        clock = time.perf_counter
        value: Any = None
        error: BaseException | None = None
        while True:
            start = clock()
            try:
                out = steps.send(value) if error is None else steps.throw(error)
            except StopIteration as stop:
                meter.seconds += clock() - start
                return stop.value
            except BaseException:
                meter.seconds += clock() - start
                raise
            meter.seconds += clock() - start
            try:
                value, error = (yield out), None
            except BaseException as exc:  # noqa: B036 - passed on to the awaitable, as await does
                value, error = None, exc


class _TimedSource:
    def __init__(self, source: Any, meter: _Meter) -> None:
        self.source = source
        self.meter = meter

    def __aiter__(self) -> _TimedSource:
        return self

    def __anext__(self) -> Awaitable[Any]:
        return _TimedStep(self.source.__anext__(), self.meter)

    async def aclose(self) -> None:
        await self.source.aclose()


def timed_gateway(spec: Any, meter: _Meter) -> Any:
    """The production's gateway, with the model's own CPU time measured: what the rehearsal
    spends writing a reply is the model's latency, not podium's overhead."""
    from podium.llm.gateway import Gateway
    from podium.llm.types import CompletionRequest, CompletionStream

    class TimedGateway(Gateway):
        def complete(self, request: CompletionRequest) -> CompletionStream:
            start = time.perf_counter()
            stream = super().complete(request)
            meter.seconds += time.perf_counter() - start
            return CompletionStream(_TimedSource(stream._source, meter))

    return TimedGateway(spec.models.rehearsal, spec.models.settings)


async def run_podium(workload: Workload, folder: Path | None = None) -> Run:
    """The workload through podium's engine and store (every event persisted, auto-approve)."""
    from podium.domain.events import ProductionState
    from podium.domain.loading import parse_production
    from podium.engine.engine import AutoApprove, Engine
    from podium.store import EventStore

    spec = parse_production(workload.production_toml(), f"{workload.name}.toml")
    meter = _Meter()
    with tempfile.TemporaryDirectory(prefix="podium-bench-", dir=folder) as tmp:
        store = await EventStore.open(Path(tmp) / "bench.db")
        try:
            engine = await Engine.open(
                store,
                spec=spec,
                auto_approve=AutoApprove.ALL,
                gateway=timed_gateway(spec, meter),
            )
            started = time.perf_counter()
            state = await engine.run()
            wall = time.perf_counter() - started
            events = await store.read(0)
        finally:
            await store.close()
        events_s = await events_cost([e.payload for e in events], Path(tmp) / "again.db")
    if state is not ProductionState.COMPLETED:
        raise SystemExit(f"{workload.name}: the production ended {state.value}, not completed")
    makespan = engine.view.makespan_s()
    if makespan is None:
        raise SystemExit(f"{workload.name}: no task ran")
    return Run(makespan, engine.view.last_seq, meter.seconds, events_s=events_s, wall_s=wall)


async def events_cost(payloads: list[Any], path: Path) -> float:
    """What recording a run's events costs the event loop by itself, in seconds: each one
    built (validated) as the engine builds it, queued for the group commit and folded into a
    view. The commit is left out: it runs in the store's writer thread, beside the loop.

    The opening event (the production file) is recorded before the clock starts: a run pays
    it once. This is the least a task of the run can cost with every event persisted.
    """
    from podium.domain.state import ProductionView
    from podium.store import EventStore

    store = await EventStore.open(path)
    view = ProductionView()
    try:
        first, rest = payloads[0], payloads[1:]
        store.emit(first)
        view.apply_payload(first, time.time())
        await store.flush()
        started = time.perf_counter()
        for payload in rest:
            model = type(payload)
            again = model(**{name: getattr(payload, name) for name in model.model_fields})
            store.emit(again)
            view.apply_payload(again, time.time())
        elapsed = time.perf_counter() - started
        await store.flush()
        return elapsed
    finally:
        await store.close()


# -- the floor: a bare asyncio topological scheduler --------------------------------------------


async def run_floor(workload: Workload) -> Run:
    """The least any asyncio scheduler can do: start what is ready, sleep, release dependents."""
    graph = workload.graph()
    limit = workload.limit()
    dependents: dict[str, list[str]] = {tid: [] for tid, _ in graph}
    waiting: dict[str, int] = {}
    for tid, deps in graph:
        waiting[tid] = len(deps)
        for dep in deps:
            dependents[dep].append(tid)
    ready = deque(tid for tid, deps in graph if not deps)
    running = 0
    first: float | None = None
    last = 0.0
    done = asyncio.Event()
    left = len(graph)
    work_s = workload.work_ms / 1000
    clock = time.time

    def start_ready() -> None:
        nonlocal running
        while ready and (limit is None or running < limit):
            running += 1
            asyncio.get_running_loop().create_task(one(ready.popleft()))

    async def one(tid: str) -> None:
        nonlocal first, last, running, left
        if first is None:
            first = clock()
        await asyncio.sleep(work_s)
        last = clock()
        running -= 1
        left -= 1
        for dependent in dependents[tid]:
            waiting[dependent] -= 1
            if not waiting[dependent]:
                ready.append(dependent)
        if not left:
            done.set()
        start_ready()

    started = time.perf_counter()
    start_ready()
    await done.wait()
    assert first is not None
    return Run(last - first, wall_s=time.perf_counter() - started)


# -- figures ------------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def overhead_us(workload: Workload, makespan_s: float, limit: int | None) -> float:
    """Time per task beyond the ideal makespan, in µs."""
    return (makespan_s - workload.ideal_s(limit)) / workload.tasks * 1e6


def figures(workload: Workload, runs: list[Run], limit: int | None) -> dict[str, float]:
    """The medians for one system on one workload: makespan, ratio to ideal, µs per task;
    and the same overhead counted on the whole call (`wall_…`: setup and teardown too)."""
    makespan = median(r.makespan_s for r in runs)
    least = min(r.makespan_s for r in runs)
    wall = median(r.wall_s for r in runs)
    return {
        "makespan_s": round(makespan, 4),
        "ratio": round(makespan / workload.ideal_s(limit), 3),
        "overhead_us_per_task": round(overhead_us(workload, makespan, limit), 1),
        # The best round: on a shared machine, the figure least disturbed by others' work.
        "ratio_min": round(least / workload.ideal_s(limit), 3),
        "overhead_us_per_task_min": round(overhead_us(workload, least, limit), 1),
        "wall_s": round(wall, 4),
        "wall_overhead_us_per_task": round(overhead_us(workload, wall, limit), 1),
    }


Runner = Callable[[Workload], Awaitable[Run]]


async def interleaved(
    rounds: int, systems: dict[str, Runner], workloads: Iterable[Workload], *, warmup: bool = True
) -> dict[str, dict[str, list[Run]]]:
    """Run every system on every workload, round after round, so noise hits all alike.

    A first untimed round warms imports and caches, as a long-running process would have.
    """
    results: dict[str, dict[str, list[Run]]] = {}
    todo = list(workloads)
    if warmup:
        for workload in todo:
            for runner in systems.values():
                await runner(workload)
    for _ in range(rounds):
        for workload in todo:
            for name, runner in systems.items():
                run = await runner(workload)
                results.setdefault(workload.name, {}).setdefault(name, []).append(run)
    return results


def main() -> None:
    """Write the workloads as production files, to run them from outside:

    .venv/bin/python bench/workloads.py DIR
    podium run DIR/fan_out.toml --headless --auto-approve all --db DIR/fan_out.db
    podium status DIR/fan_out.db --json      # makespan_s, tasks, tokens, cost
    """
    import sys

    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/workloads.py DIR")
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for workload in WORKLOADS:
        path = folder / f"{workload.name}.toml"
        path.write_text(workload.production_toml() + "\n", encoding="utf-8")
        ideal = workload.ideal_s(workload.limit(PODIUM_MAX_LIMIT))
        sys.stdout.write(f"{path}: {workload.tasks} tasks, ideal makespan {ideal:.3f}s\n")


if __name__ == "__main__":
    main()
