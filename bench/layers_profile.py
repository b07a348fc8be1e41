"""Where a layers task's loop CPU goes, per function, in process (issue 20, W3 layers).

    .venv/bin/python bench/layers_profile.py [--rounds 3] [--layers 10]

Runs the W3 layers workload (each task on all 50 of the layer before) through podium's engine
and store, as `bench/workloads.py` does, with a CPU meter (`time.thread_time`, the loop's
thread) around a fixed list of functions. Each function's time is charged to the task whose
asyncio task called it (the engine's task for `l9-t3` is named `l9-t3` here); the figures are
the mean per task of the last layer (50 inputs, no dependents) and of the middle layers
(50 inputs, 50 dependents), inclusive (a function's figure contains what it calls). Prints
one JSON line per round (`--plain`: without the meters, whose own cost is in their figures).
Timings are noisy on a shared machine: compare runs back to back.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from workloads import LAYERS, Workload, run_podium  # noqa: E402

# (module, attribute path) of the functions metered; a missing one is skipped (older trees).
METERED = (
    ("podium.llm.rehearsal.backend", "seed_material"),
    ("podium.llm.rehearsal.backend", "_write"),
    ("podium.llm.rehearsal.backend", "_rng"),
    ("podium.llm.rehearsal.backend", "compose"),
    ("podium.llm.rehearsal.material", "Material.from_hints"),
    ("podium.engine.agent_runner", "compose"),
    ("podium.engine.prompts", "arrange"),
    ("podium.engine.prompts", "inputs_text"),
    ("podium.engine.prompts", "inputs_note"),
    ("podium.engine.prompts", "stable_text"),
    ("podium.engine.prompts", "identity_text"),
    ("podium.engine.prompts", "layout"),
    ("podium.engine.prompts", "_terms"),
    ("podium.engine.prompts", "_word_range"),
    ("podium.engine.prompts", "context_window"),
    ("podium.llm.types", "CompletionRequest.prompt_hash"),
    ("podium.engine.verdicts", "Verdicts.conclude"),
    ("podium.engine.verdicts", "Verdicts.settle"),
    ("podium.engine.verdicts", "Verdicts._report"),
    ("podium.engine.engine", "Engine.emit"),
    ("podium.engine.engine", "Engine.set_task_state"),
    ("podium.engine.engine", "Engine._recheck"),
    ("podium.engine.scheduler", "Scheduler.on_state"),
    ("podium.engine.lineage", "Lineage.make_current"),
    ("podium.engine.lineage", "Lineage.observe"),
    ("podium.domain.lineage", "made_from"),
)

_spent: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))


def _owner() -> str:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return "-"
    return task.get_name() if task is not None else "-"


def _meter(name: str, fn: Any) -> Any:
    clock = time.thread_time

    @functools.wraps(fn)
    def metered(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            _spent[_owner()][name] += clock() - start

    return metered


def _install() -> None:
    for module_name, path in METERED:
        try:
            owner: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        *parents, attr = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if owner is None or not hasattr(owner, attr):
            continue
        raw = owner.__dict__.get(attr) if isinstance(owner, type) else getattr(owner, attr)
        label = f"{module_name.rsplit('.', 1)[-1]}.{path}"
        if isinstance(raw, classmethod):
            setattr(owner, attr, classmethod(_meter(label, raw.__func__)))
        else:
            setattr(owner, attr, _meter(label, raw))
    # Name each task's asyncio task after the task, and meter its whole run.
    from podium.engine.engine import Engine

    run_task = Engine._run_task

    async def named(self: Any, task_id: str) -> Any:
        current = asyncio.current_task()
        if current is not None:
            current.set_name(task_id)
        return await run_task(self, task_id)

    Engine._run_task = named  # type: ignore[method-assign]


async def _round(workload: Workload) -> dict[str, Any]:
    _spent.clear()
    started = time.thread_time()
    run = await run_podium(workload)
    loop_cpu = time.thread_time() - started
    last = f"l{workload.layers - 1}-"
    middle = [f"l{n}-" for n in range(1, workload.layers - 1)]
    groups = {"last_layer": [last], "middle_layers": middle}
    out: dict[str, Any] = {
        "makespan_s": round(run.makespan_s, 4),
        "ratio": round(run.makespan_s / workload.ideal_s(), 3),
        "thread_cpu_us_per_task": round(loop_cpu / workload.tasks * 1e6, 1),
    }
    for group, prefixes in groups.items():
        owners = [o for o in _spent if any(o.startswith(p) for p in prefixes)]
        if not owners:
            continue
        totals: dict[str, float] = defaultdict(float)
        for o in owners:
            for name, seconds in _spent[o].items():
                totals[name] += seconds
        out[group] = {
            name: round(seconds / len(owners) * 1e6, 1)
            for name, seconds in sorted(totals.items(), key=lambda kv: -kv[1])
        }
    other: dict[str, float] = defaultdict(float)
    for o, spent in _spent.items():
        if not o.startswith("l"):
            for name, seconds in spent.items():
                other[name] += seconds
    out["outside_tasks_us_per_task"] = {
        name: round(seconds / workload.tasks * 1e6, 1) for name, seconds in other.items()
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", type=int, default=LAYERS.layers)
    parser.add_argument(
        "--plain", action="store_true", help="no meters: the loop thread's CPU a task only"
    )
    args = parser.parse_args()
    workload = Workload(
        "layers", layers=args.layers, width=LAYERS.width, work_ms=LAYERS.work_ms, fan_in=50
    )
    if not args.plain:
        _install()
    for _ in range(args.rounds):
        print(json.dumps(asyncio.run(_round(workload))), flush=True)


if __name__ == "__main__":
    main()
