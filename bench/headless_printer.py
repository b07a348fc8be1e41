"""The headless progress printer's cost per finished task, stderr not a terminal (a file).

    .venv/bin/python bench/headless_printer.py [--tasks 2000] [--rounds 7]

`podium run --headless` with stderr in a log file or a pipe prints one line per finished task
(`podium.cli.headless.Reporter`). This feeds the reporter `--tasks` finished tasks, as the
engine does (a loop turn every 64 events), with stderr a temporary file, and times it to the
last line written. Prints one JSON line: the min and median over rounds, in µs a task, and
whether what was written is the expected text line for line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def _engine(tasks: int) -> Any:
    records = {
        f"t{i}": SimpleNamespace(spec=SimpleNamespace(assignee=f"w{i % 24}")) for i in range(tasks)
    }
    return SimpleNamespace(view=SimpleNamespace(tasks=records), subscribe=lambda callback: None)


async def once(tasks: int, out: Any) -> float:
    from rich.console import Console

    from podium.cli.headless import Reporter
    from podium.domain.events import TaskStateChanged
    from podium.domain.tasks import TaskState

    events = [
        TaskStateChanged(
            task_id=f"t{i}", state=TaskState.DONE, reason=f"finished after {i % 3 + 1} calls"
        )
        for i in range(tasks)
    ]
    saved = sys.stderr
    sys.stderr = out
    try:
        reporter = Reporter(_engine(tasks), Console(stderr=True, highlight=False, soft_wrap=True))
        reporter.start()
        started = time.perf_counter()
        for seq, payload in enumerate(events):
            reporter.on_event(seq, payload)
            if seq % 64 == 63:
                await asyncio.sleep(0)
        reporter.stop()
        return (time.perf_counter() - started) / tasks * 1e6
    finally:
        sys.stderr = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        path = Path(tmp) / "stderr.log"
        for _ in range(args.rounds):
            with path.open("w", encoding="utf-8") as out:
                times.append(asyncio.run(once(args.tasks, out)))
        written = path.read_text(encoding="utf-8").splitlines()
    expected = [
        f"✓ t{i} (w{i % 24}): done; finished after {i % 3 + 1} calls" for i in range(args.tasks)
    ]
    line = {
        "bench": "headless_printer",
        "tasks": args.tasks,
        "us_per_task": round(min(times), 2),
        "median_us_per_task": round(statistics.median(times), 2),
        "rounds": args.rounds,
        "output_as_expected": written == expected,
    }
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
