"""Backpressure: `emit` never waits, the queue is bounded, and the engine can wait for the disk.

The disk is stalled for real: another connection holds SQLite's write lock, so the store's one
writer blocks in its thread (within its busy timeout) until the test lets go.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from store_helpers import chunk, raw_rows

from podium.store import EventStore, StoreError
from podium.store import db as store_db

MARK = 100


@contextmanager
def stalled_disk(path: Path) -> Iterator[None]:
    """Hold the database's write lock from another connection: every commit waits for it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@pytest.fixture
async def slow_store(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> EventStore:
    monkeypatch.setattr(store_db, "HIGH_WATER", MARK)
    monkeypatch.setattr(store_db, "CAPACITY", 3 * MARK)
    store = await EventStore.open(db_path, busy_timeout_s=120)
    await store.flush()
    return store


async def test_emit_stays_synchronous_until_the_mark_then_the_caller_waits_for_the_disk(
    slow_store: EventStore, db_path: Path
) -> None:
    store = slow_store
    try:
        with stalled_disk(db_path):
            store.emit(chunk("first"))
            await asyncio.sleep(0.05)  # the writer takes it and blocks on the lock
            for i in range(MARK - 2):  # with the one in flight: one under the mark
                store.emit(chunk(f"queued {i}"))
                assert not store.congested
            await store.drained()  # under the mark: returns at once, stall or not
            store.emit(chunk("the one at the mark"))
            assert store.congested
            waiting = asyncio.create_task(store.drained())
            await asyncio.sleep(0.2)
            assert not waiting.done()  # the disk is stalled: nothing can have drained
        await asyncio.wait_for(waiting, timeout=60)  # a hang guard, not a timing assertion
        assert not store.congested
        await store.flush()
        assert [seq for seq, _ in raw_rows(db_path)] == list(range(1, MARK + 1))
    finally:
        await store.close()


async def test_past_capacity_emit_refuses_and_nothing_queued_is_lost(
    slow_store: EventStore, db_path: Path
) -> None:
    store = slow_store
    try:
        with stalled_disk(db_path):
            store.emit(chunk("in flight"))
            await asyncio.sleep(0.05)
            for _ in range(3 * MARK - 1):  # the capacity counts the one in flight
                store.emit(chunk())
            with pytest.raises(StoreError) as refused:
                store.emit(chunk("one too many"))
            message = str(refused.value)
            assert str(db_path) in message and "wait for the disk" in message
            assert store.last_seq == 3 * MARK  # the refused event took no seq
        await store.drained()
        store.emit(chunk("accepted again"))
        await store.flush()
        assert [seq for seq, _ in raw_rows(db_path)] == list(range(1, 3 * MARK + 2))
    finally:
        await store.close()


async def test_close_releases_a_caller_waiting_for_the_disk(
    slow_store: EventStore, db_path: Path
) -> None:
    store = slow_store
    with stalled_disk(db_path):
        store.emit(chunk("in flight"))
        await asyncio.sleep(0.05)
        for _ in range(MARK - 1):
            store.emit(chunk())
        assert store.congested
        waiting = asyncio.create_task(store.drained())
        await asyncio.sleep(0.05)
    await store.close()
    await asyncio.wait_for(waiting, timeout=60)
    assert [seq for seq, _ in raw_rows(db_path)][-1] == MARK
