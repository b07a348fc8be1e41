"""Scheduler overhead: the three workloads through podium's engine, beside the bare floor.

    .venv/bin/python bench/scheduler.py [--rounds 5] [--only fan_out,layers,wide]

Each workload is a production file with an explicit plan and rehearsal latency (see
bench/workloads.py), run by the real engine with its store: every event is persisted. The same
graph also runs on a bare asyncio topological scheduler in the same process, round after round,
so the machine's noise hits both alike. Prints one JSON line of medians:

* `ratio`: makespan / ideal makespan (the critical path under the limit, zero overhead);
* `overhead_us_per_task`: (makespan - ideal) / tasks;
* `model_us_per_task` (podium only): CPU the rehearsal model spent writing replies, part of
  the overhead above (a real provider does that work on its own machines);
* `events_us_per_task` (podium only): the event-loop time of the run's events recorded again
  by themselves (built, queued and folded; the commit runs in the writer thread), the least a
  task costs the loop with every event persisted; measured after each run, outside the makespan;
* `vs_floor`: podium's ratio (or overhead) over the floor's, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import (  # noqa: E402
    PODIUM_MAX_LIMIT,
    WORKLOADS,
    Run,
    Runner,
    Workload,
    figures,
    interleaved,
    median,
    run_floor,
    run_podium,
)

from podium.cli import collector_policy  # noqa: E402


def podium_limit(workload: Workload) -> int | None:
    return workload.limit(PODIUM_MAX_LIMIT)


def summarize(
    workload: Workload, runs: dict[str, list[Run]], limits: dict[str, int | None]
) -> dict[str, Any]:
    """One workload's figures for every system, and each system's ratio to the floor."""
    out: dict[str, Any] = {
        "tasks": workload.tasks,
        "work_ms": workload.work_ms,
        "concurrency": workload.concurrency or None,
        "ideal_s": round(workload.ideal_s(workload.limit()), 4),
    }
    floor = figures(workload, runs["floor"], limits["floor"])
    for name, system_runs in runs.items():
        got: dict[str, Any] = figures(workload, system_runs, limits[name])
        if name == "podium":
            got["events_per_task"] = round(system_runs[0].events / workload.tasks, 1)
            model = median(r.model_cpu_s for r in system_runs) / workload.tasks * 1e6
            got["model_us_per_task"] = round(model, 1)
            events = median(r.events_s for r in system_runs) / workload.tasks * 1e6
            got["events_us_per_task"] = round(events, 1)
        if name != "floor":
            got["vs_floor"] = vs(floor, got, workload)
            got["vs_floor_min"] = vs_min(floor, got, workload)
        out[name] = got
    return out


def vs(floor: dict[str, float], other: dict[str, float], workload: Workload) -> float:
    """How much worse than the floor: overhead per task for the wide workload (its ideal is
    a rounding error), the makespan ratio otherwise."""
    if workload.by_overhead:
        return round(other["overhead_us_per_task"] / max(floor["overhead_us_per_task"], 0.1), 1)
    return round(other["ratio"] / floor["ratio"], 3)


def vs_min(floor: dict[str, float], other: dict[str, float], workload: Workload) -> float:
    """The same on each system's best round."""
    if workload.by_overhead:
        least = max(floor["overhead_us_per_task_min"], 0.1)
        return round(other["overhead_us_per_task_min"] / least, 1)
    return round(other["ratio_min"] / floor["ratio_min"], 3)


def limits_for(workload: Workload, systems: dict[str, Runner]) -> dict[str, int | None]:
    """podium caps a limit at 1024; the others run without one when the workload has none."""
    return {
        name: podium_limit(workload) if name.startswith("podium") else workload.limit()
        for name in systems
    }


def parse_args(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (medians)")
    parser.add_argument(
        "--only",
        default=",".join(w.name for w in WORKLOADS),
        help="comma-separated workloads: " + ", ".join(w.name for w in WORKLOADS),
    )
    return parser.parse_args()


def chosen(only: str) -> list[Workload]:
    names = {n.strip() for n in only.split(",") if n.strip()}
    picked = [w for w in WORKLOADS if w.name in names]
    if not picked:
        raise SystemExit(f"no such workload in {only!r}")
    return picked


async def measure(
    systems: dict[str, Runner], workloads: list[Workload], rounds: int
) -> dict[str, Any]:
    results = await interleaved(rounds, systems, workloads)
    line: dict[str, Any] = {"rounds": rounds}
    for workload in workloads:
        line[workload.name] = summarize(
            workload, results[workload.name], limits_for(workload, systems)
        )
    return line


def main() -> None:
    args = parse_args(__doc__)
    collector_policy()  # the garbage-collector policy `podium` sets at its entry
    systems: dict[str, Runner] = {"podium": run_podium, "floor": run_floor}
    line = asyncio.run(measure(systems, chosen(args.only), args.rounds))
    sys.stdout.write(json.dumps({"bench": "scheduler", **line}) + "\n")


if __name__ == "__main__":
    main()
