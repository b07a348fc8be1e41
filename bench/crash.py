"""Crash bench: many kill -9, resume each time; prints one JSON line.

    python bench/crash.py [--rounds 5] [--kills 8]

Each round makes the same production under fire, its kills aimed in turn while an agent
streams, right after a group commit, right after a human command and at a random moment (the
first may land before the database exists), and compares its deliverables with an
uninterrupted run's. "kills_survived" counts the kills of rounds in which nothing acknowledged
was lost and the film came out the same; "kills" those done of "kills_requested" (a round that
finishes early has fewer); "aimed" says where they landed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.crash_harness import (  # noqa: E402
    crash_until_done,
    deliverables,
    environment,
    production_text,
    reference_run,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--scenes", type=int, default=16, help="a longer film takes more kills")
    args = parser.parse_args()
    env = environment()
    production = production_text(args.scenes)
    started = time.monotonic()
    kills = survived = commands = 0
    aimed: Counter[str] = Counter()
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        expected = reference_run(Path(tmp), env, production)
    for round_no in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            report = crash_until_done(
                work,
                kills=args.kills,
                seed=round_no,
                first_aim=round_no,  # each round starts elsewhere; one starts at random
                min_s=0.05,
                max_s=2.5,
                production=production,
                env=env,
            )
            kills += report.kills
            aimed.update(report.aimed)
            commands += len(report.commands)
            same = not report.problems and deliverables(work / "crash.db") == expected
            if report.problems or not same:
                problems.extend(report.problems or ["deliverables differ"])
            else:
                survived += report.kills
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "kills_requested": args.rounds * args.kills,
                "kills": kills,
                "kills_survived": survived,
                "aimed": dict(sorted(aimed.items())),
                "human_commands": commands,
                "problems": problems[:10],
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
