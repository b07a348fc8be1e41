"""Event store throughput: emit() + flush() for N small events, then a full reload.

Prints one JSON line. The raw executemany figure is the ceiling on this machine: the same rows
inserted by plain sqlite3 in one transaction, with no asyncio, pydantic or JSON in the way.

    .venv/bin/python bench/store_throughput.py [N]
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from podium.cli import collector_policy
from podium.domain.events import OutputChunk
from podium.store import EventStore
from podium.store.events import INSERT_EVENTS
from podium.store.files import schema_statements

N = 200_000
YIELD_EVERY = 100  # the engine emits between awaits; let the writer task run as it would


async def measure(path: Path, n: int) -> dict[str, float]:
    store = await EventStore.open(path)
    try:
        start = time.perf_counter()
        for i in range(n):
            store.emit(OutputChunk(task_id="scene-1", agent_id="writer", text=f"word {i} "))
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
                if store.congested:  # as the engine does: wait for the disk past the mark
                    await store.drained()
        await store.flush()
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        count = 0
        async for _ in store.iter_events():
            count += 1
        reload_s = time.perf_counter() - start
    finally:
        await store.close()
    if count != n:
        raise SystemExit(f"read back {count} events, expected {n}")
    return {"seconds": seconds, "reload_s": reload_s}


def raw_executemany(path: Path, n: int) -> float:
    rows = [
        (
            i + 1,
            time.time(),
            "output_chunk",
            OutputChunk(task_id="scene-1", agent_id="writer", text=f"word {i} ").model_dump_json(),
        )
        for i in range(n)
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for statement in schema_statements():  # the same table and index as the store
            conn.execute(statement)
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(INSERT_EVENTS, rows)
        conn.execute("COMMIT")
        return n / (time.perf_counter() - start)
    finally:
        conn.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N
    collector_policy()  # the garbage-collector policy `podium` sets at its entry
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        result = asyncio.run(measure(Path(tmp) / "bench.db", n))
        raw = raw_executemany(Path(tmp) / "raw.db", n)
    line = {
        "events": n,
        "seconds": round(result["seconds"], 3),
        "events_per_s": round(n / result["seconds"]),
        "reload_s": round(result["reload_s"], 3),
        "reference_raw_executemany_rows_per_s": round(raw),
    }
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
