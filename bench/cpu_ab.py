"""Process CPU a task through the CLI, two source trees side by side (A/B), rounds alternating.

    .venv/bin/python bench/cpu_ab.py --base /tmp/base/src --work src [--rounds 6] [--only wide]

Each round runs the workload once per tree, in alternating order, as a user runs it:
`podium run FILE --headless --auto-approve all` in its own process with PYTHONPATH set to
the tree. A process's CPU (user + sys, from `resource.RUSAGE_CHILDREN`) is what decides on a
shared, loaded machine, where wall figures are noise; the makespan (`podium status --json`)
gives the overhead a task beside it. Interpreter start, imports, loading and closing are in
every run's CPU alike: each round also runs a one-task production per tree, and
`run_cpu_us_per_task` is the wide run's CPU less that one's (the median of its rounds), a task.

Prints one JSON line: per tree, the min and median of CPU µs a task and overhead µs a task,
the ratio work/base of each, and the load averages seen.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import WORKLOADS, Workload  # noqa: E402

ONE = Workload("one", layers=1, width=1, work_ms=5, concurrency=64)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(tree: str, workload: Workload, tmp: Path) -> dict[str, float]:
    path = tmp / f"{workload.name}.toml"
    path.write_text(workload.production_toml() + "\n", encoding="utf-8")
    db = tmp / f"{workload.name}-{time.monotonic_ns()}.db"
    env = {**os.environ, "PYTHONPATH": tree, "PODIUM_DATA_DIR": str(tmp / "data")}
    before = _cpu()
    subprocess.run(
        [sys.executable, "-m", "podium", "run", str(path), "--headless", "--auto-approve", "all"]
        + ["--db", str(db)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cpu = _cpu() - before
    out = subprocess.run(
        [sys.executable, "-m", "podium", "status", str(db), "--json"],
        env=env,
        check=True,
        capture_output=True,
    ).stdout
    view = json.loads(out)
    if view["tasks"]["done"] != workload.tasks or view.get("makespan_s") is None:
        raise SystemExit(f"{tree}: {view['tasks']}")
    makespan = float(view["makespan_s"])
    ideal = workload.ideal_s(workload.limit())
    return {
        "cpu_us": cpu / workload.tasks * 1e6,
        "overhead_us": (makespan - ideal) / workload.tasks * 1e6,
        "events": float(view.get("events", 0)),
    }


def summary(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--only", default="wide")
    args = parser.parse_args()
    trees = {"base": str(Path(args.base).resolve()), "work": str(Path(args.work).resolve())}
    chosen = [w for w in WORKLOADS if w.name in args.only.split(",")]
    line: dict[str, object] = {"bench": "cpu_ab", "rounds": args.rounds}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="podium-cpu-ab-") as tmp_dir:
        tmp = Path(tmp_dir)
        for workload in chosen:
            runs: dict[str, list[dict[str, float]]] = {"base": [], "work": []}
            idle: dict[str, list[float]] = {"base": [], "work": []}
            for round_no in range(args.rounds):
                order = ["base", "work"] if round_no % 2 == 0 else ["work", "base"]
                for name in order:
                    runs[name].append(run_once(trees[name], workload, tmp))
                    loads.append(os.getloadavg()[0])
                    idle[name].append(run_once(trees[name], ONE, tmp)["cpu_us"])
            figures: dict[str, object] = {}
            for name, rows in runs.items():
                constant = statistics.median(idle[name])
                for row in rows:
                    row["run_cpu_us"] = row["cpu_us"] - constant / workload.tasks
                figures[name] = {
                    "cpu_us_per_task": summary([r["cpu_us"] for r in rows]),
                    "run_cpu_us_per_task": summary([r["run_cpu_us"] for r in rows]),
                    "one_task_cpu_ms": round(constant / 1000, 1),
                    "overhead_us_per_task": summary([r["overhead_us"] for r in rows]),
                    "events": rows[0]["events"],
                }
            for key in ("cpu_us", "run_cpu_us", "overhead_us"):
                base = statistics.median(r[key] for r in runs["base"])
                work = statistics.median(r[key] for r in runs["work"])
                figures[f"{key}_work_over_base_median"] = round(work / base, 3) if base else None
            line[workload.name] = figures
    line["load"] = {"min": min(loads), "max": max(loads)}
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
