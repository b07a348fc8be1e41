"""podium beside its peers, in the same run: LangGraph 1.2 (bare and with its SQLite
checkpointer) and a bare asyncio scheduler.

    .venv/bin/pip install -e ".[bench]"     # LangGraph and its SQLite checkpointer, once
    .venv/bin/python bench/peers.py [--rounds 5] [--only fan_out,layers,wide]

The three workloads of bench/scheduler.py run on five systems, round after round in one
process, so each podium figure can be read as a ratio beside the others':

* podium: the production file through the real engine and store (every event persisted);
* podium_cli: the same production file through the CLI a user runs, `podium run FILE
  --headless --auto-approve all` in its own process (every event persisted, the headless
  progress printed), its makespan read back with `podium status --json`; `wall_s` is the
  whole command, interpreter start and imports included;
* langgraph: one node per task, `asyncio.sleep` as the work, no checkpointer (nothing
  persisted), `max_concurrency` as the limit; a task with inputs joins on all of them;
* langgraph_sqlite: the same graph compiled with LangGraph's `AsyncSqliteSaver` (package
  langgraph-checkpoint-sqlite) over a fresh file in a temporary folder each run, a thread_id
  per run, LangGraph's default durability ("async": a checkpoint per step, written while the
  next step runs): the persisted peer; `wall_s` includes opening and closing the file;
* floor: a bare asyncio topological scheduler that only sleeps.

Prints one JSON line: per workload, each system's medians (`ratio` to the ideal makespan,
`overhead_us_per_task`, and `wall_…`: the same counted on the whole call, setup included) and
`vs_floor`; plus `podium_vs_langgraph`, podium's ratio (or, for the wide workload, its
overhead per task) over LangGraph's, and `podium_vs_langgraph_wall`, the whole calls' ratio;
the same against the persisted peer as `podium_vs_langgraph_sqlite(_wall)`, and each of them
for podium_cli as `podium_cli_vs_…`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

# LangGraph must not try to reach LangSmith from a bench.
os.environ.setdefault("LANGSMITH_TRACING", "false")
os.environ.setdefault("LANGCHAIN_TRACING_V2", "false")

from scheduler import chosen, measure, parse_args  # noqa: E402
from workloads import Run, Runner, Workload, run_floor, run_podium  # noqa: E402


class _State(TypedDict, total=False):
    done: int


def build_langgraph(workload: Workload, stamps: list[float]) -> Any:
    """The workload as a compiled graph: one node per task, edges from its inputs."""
    from langgraph.graph import END, START, StateGraph

    graph: Any = StateGraph(_State)
    work_s = workload.work_ms / 1000
    clock = time.time

    def node() -> Any:
        async def task(state: _State) -> None:
            stamps.append(clock())
            await asyncio.sleep(work_s)
            stamps.append(clock())

        return task

    items = workload.graph()
    needed = {dep for _, deps in items for dep in deps}
    for task_id, _ in items:
        graph.add_node(task_id, node())
    for task_id, deps in items:
        if not deps:
            graph.add_edge(START, task_id)
        elif len(deps) == 1:
            graph.add_edge(deps[0], task_id)
        else:
            graph.add_edge(list(deps), task_id)  # waits for every input: a join
        if task_id not in needed:
            graph.add_edge(task_id, END)
    return graph.compile()


_COMPILED: dict[str, Any] = {}
_STAMPS: dict[str, list[float]] = {}


def compiled(workload: Workload) -> tuple[Any, list[float]]:
    """The workload's graph, compiled once (no checkpointer), and its stamps, cleared."""
    if workload.name not in _COMPILED:
        _STAMPS[workload.name] = []
        _COMPILED[workload.name] = build_langgraph(workload, _STAMPS[workload.name])
    stamps = _STAMPS[workload.name]
    stamps.clear()
    return _COMPILED[workload.name], stamps


def langgraph_config(workload: Workload) -> dict[str, Any]:
    config: dict[str, Any] = {"recursion_limit": workload.layers + 10}
    limit = workload.limit()
    if limit is not None:
        config["max_concurrency"] = limit
    return config


def check_stamps(name: str, workload: Workload, stamps: list[float]) -> float:
    if len(stamps) != 2 * workload.tasks:
        raise SystemExit(f"{name} ran {len(stamps) // 2} of {workload.tasks} tasks")
    return max(stamps) - min(stamps)


async def run_langgraph(workload: Workload) -> Run:
    """Makespan as podium measures it: first task start to last task end (compile excluded)."""
    graph, stamps = compiled(workload)
    started = time.perf_counter()
    await graph.ainvoke({}, config=langgraph_config(workload))
    wall = time.perf_counter() - started
    return Run(check_stamps("langgraph", workload, stamps), wall_s=wall)


async def run_langgraph_sqlite(workload: Workload) -> Run:
    """The same graph checkpointed by LangGraph's SQLite saver into a fresh file each run.

    The compiled graph is reused with the run's saver swapped in (`copy`, outside the timing,
    as compile is for `langgraph`); the wall counts opening the file (its schema set up) to
    closing it, as podium's counts its store.
    """
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    graph, stamps = compiled(workload)
    config = langgraph_config(workload)
    config["configurable"] = {"thread_id": uuid.uuid4().hex}
    with tempfile.TemporaryDirectory(prefix="podium-bench-lg-sqlite-") as tmp:
        db = str(Path(tmp) / f"{workload.name}.sqlite")
        started = time.perf_counter()
        async with AsyncSqliteSaver.from_conn_string(db) as saver:
            persisted = graph.copy(update={"checkpointer": saver})
            await persisted.ainvoke({}, config=config)
        wall = time.perf_counter() - started
    return Run(check_stamps("langgraph_sqlite", workload, stamps), wall_s=wall)


CLI_TIMEOUT_S = 300.0


async def run_podium_cli(workload: Workload) -> Run:
    """The workload through `podium run --headless` in its own process, as a user runs it."""
    with tempfile.TemporaryDirectory(prefix="podium-bench-cli-") as tmp:
        path = Path(tmp) / f"{workload.name}.toml"
        path.write_text(workload.production_toml() + "\n", encoding="utf-8")
        db = Path(tmp) / f"{workload.name}.db"
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "podium", "run", str(path), "--headless", "--auto-approve", "all"),
            *("--db", str(db)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise SystemExit(f"podium run {workload.name} took over {CLI_TIMEOUT_S:.0f}s") from None
        wall = time.perf_counter() - started
        if process.returncode != 0:
            tail = err.decode(errors="replace")[-400:]
            raise SystemExit(f"podium run {workload.name} exited {process.returncode}: {tail}")
        status = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "podium", "status", str(db), "--json"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await asyncio.wait_for(status.communicate(), CLI_TIMEOUT_S)
    view = json.loads(out)
    if view.get("makespan_s") is None or view["tasks"]["done"] != workload.tasks:
        raise SystemExit(f"podium run {workload.name}: {view['tasks']}")
    return Run(float(view["makespan_s"]), events=int(view.get("events", 0)), wall_s=wall)


def compare(line: dict[str, Any], workloads: list[Workload]) -> None:
    for workload in workloads:
        figures = line[workload.name]
        for peer in ("langgraph", "langgraph_sqlite"):
            langgraph = figures.get(peer)
            if langgraph is None:
                continue
            for name in ("podium", "podium_cli"):
                podium = figures.get(name)
                if podium is None:
                    continue
                if workload.by_overhead:
                    overhead = max(langgraph["overhead_us_per_task"], 0.1)
                    value = podium["overhead_us_per_task"] / overhead
                else:
                    value = podium["ratio"] / langgraph["ratio"]
                figures[f"{name}_vs_{peer}"] = round(value, 3)
                # Counted on the whole call instead (LangGraph's graph setup, podium's plan
                # and final commit included): the way a caller waiting on either one sees it.
                wall = podium["wall_s"] / langgraph["wall_s"]
                figures[f"{name}_vs_{peer}_wall"] = round(wall, 3)


def main() -> None:
    args = parse_args(__doc__)
    try:
        import langgraph  # noqa: F401
        import langgraph.checkpoint.sqlite.aio  # noqa: F401
    except ImportError:
        raise SystemExit(
            "LangGraph or its SQLite checkpointer is not installed: "
            '.venv/bin/pip install -e ".[bench]"'
        ) from None
    from importlib.metadata import version

    workloads = chosen(args.only)
    systems: dict[str, Runner] = {
        "podium": run_podium,
        "podium_cli": run_podium_cli,
        "langgraph": run_langgraph,
        "langgraph_sqlite": run_langgraph_sqlite,
        "floor": run_floor,
    }
    line = asyncio.run(measure(systems, workloads, args.rounds))
    compare(line, workloads)
    out = {
        "bench": "peers",
        "langgraph_version": version("langgraph"),
        "langgraph_checkpoint_sqlite_version": version("langgraph-checkpoint-sqlite"),
        **line,
    }
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
