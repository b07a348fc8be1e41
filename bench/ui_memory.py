"""Memory while 30 agents stream 2,000 chunks a second into the conductor's screen, for 10 min.

    .venv/bin/python bench/ui_memory.py [--seconds 600] [--agents 30] [--rate 2000]

The same app and stream as bench/ui_latency.py (the real app, headless, every chunk persisted
through the real store). Resident memory is sampled every few seconds. Prints one JSON line:
the RSS after the first minute and at the end, the peak, and the growth after the first
minute (least-squares slope, MB per minute): flat means the screen keeps a bounded history.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ui_stream import (  # noqa: E402
    AGENTS,
    CHUNKS_PER_S,
    SIZE,
    StreamingSource,
    bench_app,
    private_config,
    rss_mb,
)

SAMPLE_S = 5.0
SETTLE_S = 60.0  # growth is judged after the first minute


def slope_per_min(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if not var:
        return 0.0
    cov = sum((t - mean_t) * (m - mean_m) for t, m in points)
    return cov / var * 60


async def measure(seconds: float, agents: int, rate: float) -> dict[str, Any]:
    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        source = await StreamingSource.open(Path(tmp) / "ui.db", agents=agents, rate=rate)
        app = bench_app(source)
        try:
            async with app.run_test(headless=True, size=SIZE) as pilot:
                started = time.perf_counter()
                while (elapsed := time.perf_counter() - started) < seconds:
                    samples.append((elapsed, rss_mb()))
                    await pilot.pause(min(SAMPLE_S, max(0.0, seconds - elapsed)))
                gc.collect()
                samples.append((time.perf_counter() - started, rss_mb()))
                streamed = source.sent
                source.request_stop()
                await app.workers.wait_for_complete()
                db_mb = (Path(tmp) / "ui.db").stat().st_size / 1e6
        finally:
            await source.store.close()
    settled = [(t, m) for t, m in samples if t >= min(SETTLE_S, seconds / 2)]
    at_settle = settled[0][1] if settled else samples[0][1]
    return {
        "seconds": round(samples[-1][0]),
        "agents": agents,
        "chunks": streamed,
        "chunks_per_s": round(streamed / samples[-1][0]),
        "rss_start_mb": round(samples[0][1], 1),
        "rss_after_first_minute_mb": round(at_settle, 1),
        "rss_end_mb": round(samples[-1][1], 1),
        "rss_peak_mb": round(max(m for _, m in samples), 1),
        "growth_after_first_minute_mb_per_min": round(slope_per_min(settled), 2),
        "db_mb": round(db_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--rate", type=float, default=CHUNKS_PER_S, help="chunks per second")
    args = parser.parse_args()
    with private_config():
        line = asyncio.run(measure(args.seconds, args.agents, args.rate))
    sys.stdout.write(json.dumps({"bench": "ui_memory", **line}) + "\n")


if __name__ == "__main__":
    main()
