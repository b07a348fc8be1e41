"""Another process reads the log while the engine writes it, and only ever sees a clean prefix."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from store_helpers import chunk

from podium.store import EventStore

READER = """
import asyncio, json, sys
from pathlib import Path
from podium.store import EventStore

async def main(path: str, expected: int) -> None:
    store = await EventStore.open(Path(path), read_only=True)
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    sizes, problems = [], []
    try:
        while len(sizes) < 20000:
            events = await store.read()
            seqs = [e.seq for e in events]
            if seqs != list(range(1, len(seqs) + 1)):
                problems.append(f"not a prefix: {seqs[:5]}...{seqs[-5:]}")
            bad = [e.seq for e in events if e.payload.text != f"chunk {e.seq}"]
            if bad:
                problems.append(f"wrong content at {bad[:5]}")
            sizes.append(len(seqs))
            if problems or len(seqs) >= expected:
                break
            await asyncio.sleep(0.002)
    finally:
        await store.close()
    sys.stdout.write(json.dumps({"sizes": sizes, "problems": problems}) + "\\n")

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""

BATCHES = 40
PER_BATCH = 250


async def test_a_second_process_reads_a_consistent_prefix_while_we_write(db_path: Path) -> None:
    total = BATCHES * PER_BATCH
    async with await EventStore.open(db_path) as store:
        reader = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            READER,
            str(db_path),
            str(total),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert reader.stdout is not None
            # Generous hang guards, not timing assertions.
            ready = await asyncio.wait_for(reader.stdout.readline(), timeout=120)
            if ready != b"ready\n":
                _, err = await reader.communicate()
                raise AssertionError(f"the reader did not start: {err.decode()}")
            for _ in range(BATCHES):
                for _ in range(PER_BATCH):
                    store.emit(chunk(f"chunk {store.last_seq + 1}"))
                await store.flush()
                await asyncio.sleep(0.005)
            out, err = await asyncio.wait_for(reader.communicate(), timeout=300)
        finally:
            if reader.returncode is None:
                reader.kill()
                await reader.wait()

    assert reader.returncode == 0, err.decode()
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert report["problems"] == []
    sizes = report["sizes"]
    assert sizes[-1] == total
    assert sizes == sorted(sizes)  # never goes backwards
    assert all(size % PER_BATCH == 0 for size in sizes)  # whole commits only
