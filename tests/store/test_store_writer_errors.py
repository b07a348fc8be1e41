"""When the background writer fails: the error reaches a caller, and nothing saved is lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import chunk, eventually, on_writer, raw_rows

from podium.domain.escalation import OverrideCommand
from podium.domain.events import CommandRecorded
from podium.store import (
    ConflictingWriter,
    DatabaseLocked,
    DiskFull,
    EventStore,
    ReadOnlyDatabase,
    StoreError,
)
from podium.store.files import read_only_uri

BIG = "x" * 2000  # a few of these fill a page


async def fill_disk(store: EventStore) -> None:
    """SQLite's own size cap: the next page it needs fails exactly as a full disk does."""
    await on_writer(store, "PRAGMA max_page_count = 1")


async def free_disk(store: EventStore) -> None:
    await on_writer(store, "PRAGMA max_page_count = 1073741823")


def seqs_on_disk(path: Path) -> list[int]:
    return [seq for seq, _ in raw_rows(path)]


async def test_disk_full_surfaces_on_flush_and_nothing_is_lost(
    store: EventStore, db_path: Path
) -> None:
    for i in range(10):
        store.emit(chunk(f"saved {i}"))
    await store.flush()
    await fill_disk(store)

    for _ in range(50):
        store.emit(chunk(BIG))
    with pytest.raises(DiskFull) as caught:
        await store.flush()
    assert str(db_path) in str(caught.value)
    assert "Free some space" in str(caught.value)
    assert seqs_on_disk(db_path) == list(range(1, 11))
    assert [e.seq for e in await store.read()] == list(range(1, 11))

    with pytest.raises(DiskFull):  # still full: the retry fails the same way
        await store.flush()

    await free_disk(store)
    await store.flush()
    assert seqs_on_disk(db_path) == list(range(1, 61))


async def test_background_failure_makes_the_next_emit_raise(
    store: EventStore, db_path: Path
) -> None:
    await fill_disk(store)
    accepted = 0
    failed = False

    def emit_one() -> bool:
        nonlocal accepted, failed
        try:
            store.emit(chunk(BIG))
        except DiskFull:
            failed = True
            return True
        accepted += 1
        return False

    for _ in range(600):  # a full batch wakes the writer at once
        emit_one()
    await eventually(emit_one, "the writer's error to reach emit()")
    assert failed

    # The error was handed over once; the store takes events again and retries on flush.
    store.emit(chunk("after the error"))
    await free_disk(store)
    await store.flush()
    assert seqs_on_disk(db_path) == list(range(1, accepted + 2))


async def test_failed_append_durable_records_nothing(store: EventStore, db_path: Path) -> None:
    store.emit(chunk("queued before"))
    await fill_disk(store)
    command = OverrideCommand(id="cmd-1", text=BIG * 3)

    with pytest.raises(DiskFull):
        await store.append_durable(CommandRecorded(command=command))

    await free_disk(store)
    await store.flush()
    assert raw_rows(db_path) == [(1, "output_chunk")]
    assert (await store.append_durable(CommandRecorded(command=command))).seq == 3


async def test_locked_database_surfaces_then_recovers(db_path: Path) -> None:
    store = await EventStore.open(db_path, busy_timeout_s=0.05)
    try:
        blocker = sqlite3.connect(db_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
        store.emit(chunk("waiting"))
        with pytest.raises(DatabaseLocked) as caught:
            await store.flush()
        assert "another podium" in str(caught.value)

        blocker.execute("ROLLBACK")
        blocker.close()
        await store.flush()
        assert seqs_on_disk(db_path) == [1]
    finally:
        await store.close()


async def test_read_only_connection_error_is_reported_as_read_only(
    store: EventStore, db_path: Path
) -> None:
    writable = store._conn
    store._conn = sqlite3.connect(
        read_only_uri(db_path), uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        store.emit(chunk())
        with pytest.raises(ReadOnlyDatabase, match="read-only"):
            await store.flush()
    finally:
        store._conn.close()
        store._conn = writable
    await store.flush()
    assert seqs_on_disk(db_path) == [1]


async def test_two_writers_on_one_log_are_caught(db_path: Path) -> None:
    first = await EventStore.open(db_path)
    second = await EventStore.open(db_path)
    try:
        first.emit(chunk("first"))
        await first.flush()
        second.emit(chunk("second"))
        with pytest.raises(ConflictingWriter, match="another process"):
            await second.flush()
    finally:
        await first.close()
        with pytest.raises(ConflictingWriter):
            await second.close()
    assert raw_rows(db_path, "SELECT payload FROM events") == [(chunk("first").model_dump_json(),)]


async def test_close_reports_what_could_not_be_saved(db_path: Path) -> None:
    store = await EventStore.open(db_path)
    await fill_disk(store)
    for _ in range(20):
        store.emit(chunk(BIG))

    with pytest.raises(DiskFull):
        await store.close()

    with pytest.raises(StoreError, match="closed"):
        store.emit(chunk())
