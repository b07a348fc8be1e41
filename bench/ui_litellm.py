"""Real streams: the conductor's screen while 30 agents stream through litellm.

    .venv/bin/python bench/ui_litellm.py [--seconds 30] [--agents 30] [--rate 2000]

A fake OpenAI-compatible provider (tests/fakes/openai_server.py) runs on 127.0.0.1 in its own
process, started here, as a real provider is somewhere else: it streams every reply word by
word, one SSE chunk per word, each stream paced at `rate / agents` chunks a second, so the
crew together receives `rate` chunks a second. Each reply states generous rate limits
(x-ratelimit-* headers), so the adaptive limiter paces by them instead of a slow start.

The production (one long chapter per agent, model `openai/fake-model` at the fake's
`api_base`) runs in a real `Engine` on a real store, every event persisted, under the real
app (`PodiumApp`, headless through Textual's Pilot, 160×48) through `InProcessSource`, as
`podium run FILE` does. Each chunk goes through litellm (the openai client's SSE parsing,
litellm's stream wrapper), podium's stream layer, the engine's coalescer, the store, the
view and the screen.

Measured over `--seconds` after a warm-up (every agent streaming):
- key latency: a key (F12) is posted to the driver every 50-150 ms; from the post to the
  handler bound to it (as bench/ui_latency.py);
- event-loop lag: a task sleeps 10 ms over and over and records how late it wakes;
- memory: this process's RSS every 0.5 s (and the provider worker's, with the worker), and
  its slope (least squares, MB a minute) over the whole window and after its first minute
  (`*_settled`, the figure judged: a heap that settles is flat; use `--seconds 120` or more);
- chunks a second: the chunks litellm handed to podium (each reply chunk is one word and
  one space, so the spaces in the streamed text count them).

Prints one JSON line, with whether the targets are met (key p95 ≤ 16 ms, loop lag p99
≤ 50 ms, memory flat: |slope| ≤ 5 MB a minute after the first minute, this process's and the
worker's, chunks a second ≥ 95 % of `--rate`).
`--profile FILE` writes cProfile stats of the measured window (pstats format).

`--worker process|inline|both` (default both, one after the other, one line each): where the
streams are parsed, as PODIUM_STREAM_WORKER says: in the provider worker process (issue 20)
or in this process. With the worker, its CPU a chunk and its RSS are printed too
(`worker_cpu_*`, `worker_rss_*`): the figures above are the screen's process alone.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_provider import MODEL, models_toml, set_key, use_fakes  # noqa: E402
from ui_stream import SIZE, bench_app, private_config, rss_mb  # noqa: E402

AGENTS = 30
CHUNKS_PER_S = 2000
WARMUP_S = 4.0
LAG_TICK_S = 0.010
RSS_EVERY_S = 0.5
SETTLE_S = 60.0  # memory growth is judged after the window's first minute
STARTUP_TIMEOUT_S = 120.0
STOP_S = 60.0
WORDS = (
    "the lamp turns slowly over the dark water while Elias counts the seconds between "
    "the flashes and writes each one down in the log he has kept for thirty-one years"
).split()
LIMIT_HEADERS = {  # OpenAI's, stating limits far above what the bench asks
    "x-ratelimit-limit-requests": "100000",
    "x-ratelimit-remaining-requests": "99999",
    "x-ratelimit-reset-requests": "1ms",
    "x-ratelimit-limit-tokens": "100000000",
    "x-ratelimit-remaining-tokens": "99999999",
    "x-ratelimit-reset-tokens": "1ms",
}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def slope_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB a minute."""
    if len(samples) < 2:
        return 0.0
    xs = [t for t, _ in samples]
    ys = [m for _, m in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 60


def settled(samples: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The samples after the window's first minute (all of them in a shorter window)."""
    later = [(t, m) for t, m in samples if t >= SETTLE_S]
    return later if len(later) >= 2 else samples


# -- the provider, in its own process ------------------------------------------------------


def serve(chunks: int, delay_s: float) -> None:
    """Run the fake provider until stdin closes; its api_base goes to stdout first."""
    use_fakes()
    from fakes.openai_server import FakeOpenAI, Reply

    pieces = [f"{WORDS[i % len(WORDS)]} " for i in range(chunks)]
    reply = Reply(chunks=pieces, chunk_delay_s=delay_s, headers=LIMIT_HEADERS)
    with FakeOpenAI(default=reply) as server:
        sys.stdout.write(server.api_base + "\n")
        sys.stdout.flush()
        sys.stdin.read()  # the bench closes it when done (or dies)


def start_provider(chunks: int, delay_s: float) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, __file__, "--serve", "--chunks", str(chunks)]
    command += ["--delay", repr(delay_s)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"the fake provider did not start (it said {line!r})")
    return proc, line


# -- the production ------------------------------------------------------------------------


def production_toml(agents: int, api_base: str) -> str:
    lines = [
        "[production]",
        'title = "UI litellm bench"',
        'format = "series"',
        'brief = "Many agents, all streaming through litellm at once."',
        "",
        "[vision]",
        'premise = "A lighthouse, a storm, and a crew that never stops writing."',
        "",
        *models_toml(api_base, "timeout_s = 3600", "stall_timeout_s = 60"),
        "[constraints]",
        f"max_concurrency = {agents}",
        "max_per_agent = 1",
        "",
        "[planner]",
        'mode = "explicit"',
        "",
    ]
    for index in range(agents):
        lines += ["[[crew]]", f'id = "a{index}"', 'role = "writer"', ""]
    for index in range(agents):
        lines += [
            "[[tasks]]",
            f'id = "t{index}"',
            f'title = "Chapter {index + 1}"',
            'kind = "chapter"',
            f'assignee = "a{index}"',
            "",
        ]
    return "\n".join(lines)


async def measure(args: argparse.Namespace, api_base: str, folder: Path) -> dict[str, Any]:
    from textual import events

    from podium.domain.events import OutputChunk
    from podium.domain.loading import parse_production
    from podium.engine.engine import AutoApprove, Engine
    from podium.seam.sources import InProcessSource
    from podium.store import EventStore

    spec = parse_production(production_toml(args.agents, api_base), "ui-litellm.toml")
    store = await EventStore.open(folder / "ui-litellm.db")
    engine = await Engine.open(
        store, spec=spec, source="ui-litellm.toml", auto_approve=AutoApprove.ALL, keep_alive=True
    )
    received = 0  # chunks litellm handed to podium (one space each)
    streaming: set[str] = set()

    def count(seq: int, payload: Any) -> None:
        nonlocal received
        if isinstance(payload, OutputChunk):
            received += payload.text.count(" ")
            streaming.add(payload.agent_id)

    engine.subscribe(count)
    app = bench_app(InProcessSource(engine, folder / "ui-litellm.db"))
    sent: list[float] = []
    lags: list[float] = []
    rss: list[tuple[float, float]] = []
    worker_rss: list[tuple[float, float]] = []
    jitter = random.Random(8)
    sampling = True

    async def sample_lag() -> None:
        loop = asyncio.get_running_loop()
        while sampling:
            before = loop.time()
            await asyncio.sleep(LAG_TICK_S)
            lags.append((loop.time() - before - LAG_TICK_S) * 1000)

    async def sample_rss(started: float, worker: int | None) -> None:
        while sampling:
            rss.append((time.perf_counter() - started, rss_mb()))
            if worker is not None:
                worker_rss.append((time.perf_counter() - started, proc_rss_mb(worker)))
            await asyncio.sleep(RSS_EVERY_S)

    profile = cProfile.Profile() if args.profile else None
    try:
        async with app.run_test(headless=True, size=SIZE):
            deadline = time.perf_counter() + STARTUP_TIMEOUT_S
            while len(streaming) < args.agents:  # litellm's import and the first replies
                if time.perf_counter() > deadline:
                    raise SystemExit(f"only {len(streaming)} of {args.agents} agents streamed")
                await asyncio.sleep(0.2)
            await asyncio.sleep(WARMUP_S)
            driver = app._driver
            assert driver is not None
            started = time.perf_counter()
            worker = worker_pid(engine)
            worker_cpu = proc_cpu_s(worker)
            cpu = time.process_time()
            first_received = received
            tasks = [
                asyncio.create_task(sample_lag()),
                asyncio.create_task(sample_rss(started, worker)),
            ]
            if profile is not None:
                profile.enable()
            while time.perf_counter() - started < args.seconds:
                key = events.Key("f12", None)
                key.set_sender(app)
                sent.append(time.perf_counter())
                driver.send_message(key)
                await asyncio.sleep(jitter.uniform(0.05, 0.15))
            streamed = received - first_received
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            worker_cpu = proc_cpu_s(worker) - worker_cpu
            if profile is not None:
                profile.disable()
            sampling = False
            await asyncio.gather(*tasks)
            await asyncio.sleep(0.5)  # let the last keys arrive
            arrivals = list(app.arrivals)
            app.source.request_stop("the bench is done")  # the engine stops its calls
            engine_workers = [w for w in app.workers if w.group == "engine"]
            await asyncio.wait_for(app.workers.wait_for_complete(engine_workers), STOP_S)
    finally:
        await store.close()
    if profile is not None:
        profile.dump_stats(args.profile)
    if len(arrivals) != len(sent):
        raise SystemExit(f"{len(sent)} keys posted, {len(arrivals)} handled")
    latencies = [(a - s) * 1000 for s, a in zip(sent, arrivals, strict=True)]
    key_p95 = percentile(latencies, 95)
    lag_p99 = percentile(lags, 99)
    slope = slope_per_min(settled(rss))
    worker_slope = slope_per_min(settled(worker_rss)) if worker_rss else None
    rate = streamed / elapsed
    return {
        "keys": len(latencies),
        "key_p50_ms": round(statistics.median(latencies), 2),
        "key_p95_ms": round(key_p95, 2),
        "key_p99_ms": round(percentile(latencies, 99), 2),
        "key_max_ms": round(max(latencies), 2),
        "lag_p50_ms": round(statistics.median(lags), 2),
        "lag_p99_ms": round(lag_p99, 2),
        "lag_max_ms": round(max(lags), 2),
        "rss_start_mb": round(rss[0][1], 1),
        "rss_end_mb": round(rss[-1][1], 1),
        "rss_slope_mb_per_min": round(slope_per_min(rss), 2),
        "rss_slope_settled_mb_per_min": round(slope, 2),
        "agents": args.agents,
        "target_chunks_per_s": args.rate,
        "chunks_per_s": round(rate),
        "cpu_share": round(cpu / elapsed, 2),  # of one core, this whole process
        "cpu_us_per_chunk": round(cpu / streamed * 1e6) if streamed else None,
        "worker": os.environ.get("PODIUM_STREAM_WORKER", ""),
        "worker_cpu_share": round(worker_cpu / elapsed, 2) if worker else None,
        "worker_cpu_us_per_chunk": round(worker_cpu / streamed * 1e6)
        if worker and streamed
        else None,
        "worker_rss_start_mb": round(worker_rss[0][1], 1) if worker_rss else None,
        "worker_rss_end_mb": round(worker_rss[-1][1], 1) if worker_rss else None,
        "worker_rss_slope_mb_per_min": round(slope_per_min(worker_rss), 2) if worker_rss else None,
        "worker_rss_slope_settled_mb_per_min": round(worker_slope, 2)
        if worker_slope is not None
        else None,
        "load_avg_1m": round(os.getloadavg()[0], 1),  # the machine's, for context
        "seconds": args.seconds,
        "targets_met": {
            "key_p95<=16ms": key_p95 <= 16.0,
            "lag_p99<=50ms": lag_p99 <= 50.0,
            "rss_flat": abs(slope) <= 5.0,
            "worker_rss_flat": abs(worker_slope) <= 5.0 if worker_slope is not None else None,
            "chunks_per_s>=95%": rate >= 0.95 * args.rate,
        },
    }


def worker_pid(engine: Any) -> int | None:
    """The provider worker's process id, when the streams are parsed there."""
    return getattr(engine.gateway.backend_for(MODEL), "worker_pid", None)


def proc_cpu_s(pid: int | None) -> float:
    """A process's CPU seconds so far (user and system), from /proc; 0 without one."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int | None) -> float:
    if pid is None:
        return 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--rate", type=float, default=CHUNKS_PER_S, help="chunks a second, all")
    parser.add_argument("--profile", default=None, help="write cProfile stats here")
    parser.add_argument(
        "--worker",
        choices=("process", "inline", "both"),
        default="both",
        help="where the streams are parsed (PODIUM_STREAM_WORKER); both: one run each",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--chunks", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.chunks, args.delay)
        return
    delay = args.agents / args.rate  # each stream's pace; all together make `rate`
    # Every reply outlasts the run: start-up, warm-up, the window, with room to spare.
    chunks = int((STARTUP_TIMEOUT_S + WARMUP_S + args.seconds) / delay) + 100
    set_key()
    for mode in ("inline", "process") if args.worker == "both" else (args.worker,):
        os.environ["PODIUM_STREAM_WORKER"] = mode
        proc, api_base = start_provider(chunks, delay)
        try:
            with private_config(), tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
                line = asyncio.run(measure(args, api_base, Path(tmp)))
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.stdout.write(json.dumps({"bench": "ui_litellm", **line}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
