"""Crash bench: many kill -9 at random points, resume each time; prints one JSON line.

    python bench/crash.py [--rounds 5] [--kills 8]

Each round makes the same production under fire and compares its deliverables with an
uninterrupted run's. "survived" counts kills after which nothing acknowledged was lost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.crash_harness import (  # noqa: E402
    crash_until_done,
    deliverables,
    environment,
    reference_run,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=8)
    args = parser.parse_args()
    env = environment()
    started = time.monotonic()
    kills = survived = commands = 0
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        expected = reference_run(Path(tmp), env)
    for round_no in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            report = crash_until_done(
                work, kills=args.kills, seed=round_no, min_s=0.05, max_s=2.5, env=env
            )
            kills += report.kills
            commands += len(report.commands)
            same = deliverables(work / "crash.db") == expected
            if report.problems or not same:
                problems.extend(report.problems or ["deliverables differ"])
            else:
                survived += report.kills
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "kills": kills,
                "kills_survived": survived,
                "human_commands": commands,
                "problems": problems[:10],
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
