"""Key latency while 30 agents stream 2,000 chunks a second into the conductor's screen.

    .venv/bin/python bench/ui_latency.py [--seconds 30] [--agents 30] [--rate 2000]

The real app (`PodiumApp`, headless through Textual's Pilot, 160×48) draws a production whose
crew streams `OutputChunk` events at the given total rate, each persisted through the real
store (see bench/ui_stream.py). Meanwhile a key (F12) is posted to the driver every 50-150 ms;
its latency runs from the post to the handler bound to it. Prints one JSON line: p50, p95,
p99 and max in ms, and the stream rate actually reached (the stream shares the event loop,
so a screen that cannot keep up shows as a lower rate).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui_stream import AGENTS, CHUNKS_PER_S, SIZE, StreamingSource, bench_app, private_config  # noqa: E402

WARMUP_S = 2.0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(seconds: float, agents: int, rate: float) -> dict[str, Any]:
    from textual import events

    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        source = await StreamingSource.open(Path(tmp) / "ui.db", agents=agents, rate=rate)
        app = bench_app(source)
        sent: list[float] = []
        jitter = random.Random(8)
        try:
            async with app.run_test(headless=True, size=SIZE) as pilot:
                await pilot.pause(WARMUP_S)
                driver = app._driver
                assert driver is not None
                first_sent = source.sent
                started = time.perf_counter()
                while time.perf_counter() - started < seconds:
                    key = events.Key("f12", None)
                    key.set_sender(app)
                    sent.append(time.perf_counter())
                    driver.send_message(key)
                    await asyncio.sleep(jitter.uniform(0.05, 0.15))
                streamed = source.sent - first_sent
                elapsed = time.perf_counter() - started
                await pilot.pause(0.5)  # let the last keys arrive
                arrivals = list(app.arrivals)
                source.request_stop()
                await app.workers.wait_for_complete()
        finally:
            await source.store.close()
    if len(arrivals) != len(sent):
        raise SystemExit(f"{len(sent)} keys posted, {len(arrivals)} handled")
    latencies = [(a - s) * 1000 for s, a in zip(sent, arrivals, strict=True)]
    return {
        "keys": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "agents": agents,
        "target_chunks_per_s": rate,
        "chunks_per_s": round(streamed / elapsed),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--rate", type=float, default=CHUNKS_PER_S, help="chunks per second")
    args = parser.parse_args()
    with private_config():
        line = asyncio.run(measure(args.seconds, args.agents, args.rate))
    sys.stdout.write(json.dumps({"bench": "ui_latency", **line}) + "\n")


if __name__ == "__main__":
    main()
