"""Reload: a production of 100,000+ events back into engine state, as `podium resume` does.

    .venv/bin/python bench/reload.py [--events 100000] [--rounds 5] [--keep DB]

The production is made by podium itself: the engine and the rehearsal model run a crew of
writers through chapters and reports, streaming at the rehearsal model's default speed, so the
log holds what a real one holds (mostly streamed text, then calls, artifacts, validations and
state changes). Then it is opened again `--rounds` times: open the store, read every event and
fold it into a fresh view (`Engine.open`), which is what resuming (and the TUI's first frame on
a resumed production) waits for. Prints one JSON line with the median, and checks that the
view is exactly the one folding every event one by one gives (`same_view_as_full_fold`).

`Engine.open` starts from the state snapshot the database holds (the warm-up round's close
stores one); `whole_log_s` / `whole_log_cpu_s` is the replay of the whole log without it, as a
database from before snapshots is read once.

The process runs under the garbage-collector policy the `podium` command sets at its entry
(`podium.cli.collector_policy`). Beside the wall time, the medians of the CPU time of a reload
(all threads: steadier than wall time on a busy machine) and of the time spent collecting.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

TOKENS_PER_S = 400  # the rehearsal model's default streaming speed
TARGET_WORDS = 1200  # a chapter streams for about four seconds at that speed
EVENTS_PER_TASK = 80  # about; the production grows until it has enough


def production_toml(tasks: int, agents: int = 24) -> str:
    """Long chapters in parallel streams; every fifth task a short report on the one before."""
    lines = [
        "[production]",
        'title = "Reload bench"',
        'format = "illustrated_story"',
        'brief = "A long story told in many chapters, for a long log."',
        "",
        "[vision]",
        'premise = "A lighthouse keeper writes to the sea, and the sea, slowly, writes back."',
        'themes = ["patience", "answers that take years"]',
        'tone = "Quiet, exact and warm."',
        'locations = ["the lamp room: brass, glass and the storm", "the landing stage"]',
        "",
        "[[vision.characters]]",
        'name = "Elias"',
        'description = "the keeper, sixty, who counts everything"',
        "",
        "[models]",
        'default = "rehearsal/reload"',
        "",
        "[models.rehearsal]",
        "latency_ms = 20",
        "jitter_ms = 10",
        f"tokens_per_s = {TOKENS_PER_S}",
        "",
        "[constraints]",
        "max_concurrency = 512",
        "max_per_agent = 512",
        "",
        "[planner]",
        'mode = "explicit"',
        "",
    ]
    for index in range(agents):
        lines += ["[[crew]]", f'id = "w{index}"', 'role = "writer"', ""]
    for number in range(tasks):
        kind, deps = ("report", [f"t{number - 1}"]) if number % 5 == 4 else ("chapter", [])
        lines += [
            "[[tasks]]",
            f'id = "t{number}"',
            f'title = "{kind.title()} {number}"',
            f'kind = "{kind}"',
            f'assignee = "w{number % agents}"',
        ]
        if kind == "chapter":
            lines.append(f"params = {{ chapter = {number + 1}, target_words = {TARGET_WORDS} }}")
        if deps:
            lines.append(f'depends_on = ["{deps[0]}"]')
        lines.append("")
    return "\n".join(lines)


async def make(path: Path, events: int) -> int:
    """Run productions until the log at `path` holds at least `events` events."""
    from podium.domain.loading import parse_production
    from podium.engine.engine import AutoApprove, Engine
    from podium.store import EventStore

    tasks = max(5, events // EVENTS_PER_TASK)
    while True:
        await asyncio.to_thread(path.unlink, missing_ok=True)
        spec = parse_production(production_toml(tasks), "reload.toml")
        store = await EventStore.open(path)
        try:
            engine = await Engine.open(store, spec=spec, auto_approve=AutoApprove.ALL)
            await engine.run()
        finally:
            await store.close()
        if engine.view.last_seq >= events:
            return engine.view.last_seq
        tasks = int(tasks * events / engine.view.last_seq * 1.05) + 1


async def reload(path: Path) -> tuple[float, int]:
    from podium.engine.engine import Engine
    from podium.store import EventStore

    started = time.perf_counter()
    store = await EventStore.open(path)
    try:
        engine = await Engine.open(store)
        seconds = time.perf_counter() - started
    finally:
        await store.close()
    return seconds, engine.view.last_seq


async def whole_log(path: Path) -> tuple[float, float] | None:
    """Wall and CPU seconds of replaying the whole log without a snapshot (None: no snapshots
    in this podium)."""
    import inspect

    from podium.domain.state import ProductionView
    from podium.store import EventStore
    from podium.store.replay import replay

    if "snapshot" not in inspect.signature(replay).parameters:
        return None
    store = await EventStore.open(path, read_only=True)
    try:
        started, started_cpu = time.perf_counter(), time.process_time()
        await replay(store, ProductionView(), snapshot=False)
        return time.perf_counter() - started, time.process_time() - started_cpu
    finally:
        await store.close()


async def kinds(path: Path) -> tuple[dict[str, int], bool | None]:
    """The log's mix of kinds; and whether the fast reload gives exactly the view that folding
    every event one by one gives (None where this podium has no fast reload)."""
    from podium.domain.state import ProductionView
    from podium.store import EventStore

    store = await EventStore.open(path, read_only=True)
    try:
        counts: Counter[str] = Counter()
        full = ProductionView()
        async for event in store.iter_events():
            counts[event.kind] += 1
            full.apply(event)
        try:
            from podium.store.replay import replay
        except ImportError:
            same = None
        else:
            fast = ProductionView()
            await replay(store, fast)
            same = fast == full
    finally:
        await store.close()
    return dict(counts.most_common()), same


class _CollectorClock:
    """Time spent in the cyclic garbage collector, from its start and stop callbacks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


async def measure(path: Path, events: int, rounds: int, made: bool) -> dict[str, Any]:
    make_s = None
    if not made:
        started = time.perf_counter()
        await make(path, events)
        make_s = time.perf_counter() - started
    await reload(path)  # warm the page cache and the imports, as a second start would be
    times = []
    cpu = []
    collecting = []
    clock = _CollectorClock()
    count = 0
    for _ in range(rounds):
        gc.collect()
        clock.seconds = 0.0
        started_cpu = time.process_time()
        seconds, count = await reload(path)
        times.append(seconds)
        cpu.append(time.process_time() - started_cpu)
        collecting.append(clock.seconds)
    whole = await whole_log(path)
    mix, same = await kinds(path)
    size = (await asyncio.to_thread(path.stat)).st_size
    return {
        "events": count,
        "reload_s": round(statistics.median(times), 3),
        "reload_us_per_event": round(statistics.median(times) / count * 1e6, 2),
        "cpu_s": round(statistics.median(cpu), 3),
        "gc_s": round(statistics.median(collecting), 3),
        "whole_log_s": round(whole[0], 3) if whole else None,
        "whole_log_cpu_s": round(whole[1], 3) if whole else None,
        "rounds": rounds,
        "db_mb": round(size / 1e6, 1),
        "kinds": mix,
        "same_view_as_full_fold": same,
        "make_s": round(make_s, 1) if make_s is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--keep", type=Path, metavar="DB", help="make the production here (reused if it exists)"
    )
    args = parser.parse_args()
    try:
        from podium.cli import collector_policy
    except ImportError:  # a podium from before the policy moved to the entry
        pass
    else:
        collector_policy()
    if args.keep is not None:
        made = args.keep.exists()
        line = asyncio.run(measure(args.keep, args.events, args.rounds, made))
    else:
        with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
            line = asyncio.run(measure(Path(tmp) / "reload.db", args.events, args.rounds, False))
    sys.stdout.write(json.dumps({"bench": "reload", **line}) + "\n")


if __name__ == "__main__":
    main()
