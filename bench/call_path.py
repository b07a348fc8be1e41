"""The call path's own CPU a call: `CallPath.call` around a model that costs nothing.

    .venv/bin/python bench/call_path.py [--calls 20000] [--rounds 7]

A production of two tasks like the wide workload's (bench/workloads.py) is run with its
real engine and store; then one task's call is made again and again through `Engine.call`
(budget check, the call limiter's slot, the stream coalesced into an output chunk, the reply
parsed, the call booked) with a backend that answers at once, as the rehearsal model answers
a short reply: one piece of text, then the result. Two figures, each the CPU
(`time.process_time`) a call, min and median over the rounds:

* `machinery_us`: with `emit` a no-op, what the call path itself costs (events built, not
  stored or folded);
* `with_events_us`: with the engine's real `emit` (stored, folded, listeners called).

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import Workload  # noqa: E402

SMALL = Workload("small", layers=1, width=2, work_ms=5, concurrency=64)


def instant_gateway() -> Any:
    from podium.llm.types import CompletionRequest, CompletionResult, CompletionStream

    class Instant:
        def complete(self, request: CompletionRequest) -> CompletionStream:
            async def source() -> AsyncIterator[str | CompletionResult]:
                text = '{"summary": "on track", "done": []}'
                yield text
                yield CompletionResult(
                    text=text,
                    model=request.model,
                    input_tokens=400,
                    output_tokens=12,
                    cost_usd=0.0,
                    latency_s=0.0,
                )

            return CompletionStream(source())

        def warm(self, models: Any) -> None:
            return None

    return Instant()


async def measure(calls: int, rounds: int) -> dict[str, Any]:
    from podium.domain.loading import parse_production
    from podium.engine.engine import AutoApprove, Engine
    from podium.llm.types import CompletionRequest, Message
    from podium.store import EventStore

    spec = parse_production(SMALL.production_toml(), "small.toml")
    figures: dict[str, list[float]] = {"machinery_us": [], "with_events_us": []}
    with tempfile.TemporaryDirectory(prefix="podium-call-path-") as tmp:
        store = await EventStore.open(Path(tmp) / "bench.db")
        try:
            engine = await Engine.open(
                store, spec=spec, auto_approve=AutoApprove.ALL, gateway=instant_gateway()
            )
            await engine.run()  # the plan installed, its two tasks made (at once)
            record = engine.view.tasks["t0"]
            request = CompletionRequest(
                model="rehearsal/bench",
                messages=(Message("system", "x" * 1800), Message("user", "Report t0.")),
                agent_id=record.spec.assignee,
                task_id="t0",
            )

            def request_for(n: int) -> CompletionRequest:
                return request

            def parse(result: Any) -> Any:
                return result

            real_emit = engine.emit
            for _ in range(rounds):
                for name in figures:
                    engine.emit = (lambda payload: 0) if name == "machinery_us" else real_emit  # type: ignore[method-assign]
                    n = calls if name == "machinery_us" else calls // 10
                    started = time.process_time()
                    for _ in range(n):
                        await engine.call(request_for, record, record.spec.assignee, parse)
                    figures[name].append((time.process_time() - started) / n * 1e6)
                    if name == "with_events_us":
                        await store.flush()
            engine.emit = real_emit  # type: ignore[method-assign]
        finally:
            await store.close()
    return {
        name: {"min": round(min(v), 2), "median": round(statistics.median(v), 2)}
        for name, v in figures.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    line = asyncio.run(measure(args.calls, args.rounds))
    sys.stdout.write(json.dumps({"bench": "call_path", **line}) + "\n")


if __name__ == "__main__":
    main()
