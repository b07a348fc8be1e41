"""A database whose newest pages are still in its -wal file (a checkpoint cut short by a full
disk or a kill -9) is healthy and opens; a truncated one is still refused, untouched."""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
from store_helpers import chunk, raw_rows

from podium.store import CorruptDatabase, EventStore
from podium.store.files import committed_wal_pages

WAL_HEADER, FRAME_HEADER = 32, 24


def wal_pages(wal: bytes) -> tuple[int, dict[int, bytes]]:
    """The page size and each page's newest version in a WAL we wrote (so every frame is
    valid and committed)."""
    page_size = struct.unpack(">I", wal[8:12])[0]
    pages: dict[int, bytes] = {}
    for at in range(WAL_HEADER, len(wal) - FRAME_HEADER - page_size + 1, FRAME_HEADER + page_size):
        page = struct.unpack(">I", wal[at : at + 4])[0]
        pages[page] = wal[at + FRAME_HEADER : at + FRAME_HEADER + page_size]
    return page_size, pages


async def crash_image(source: Path, into: Path, events: int, *, before: int = 0) -> Path:
    """What a kill -9 leaves: the main file and the -wal, copied while the store is open.

    `before` events are written and checkpointed first, so the WAL holds only the rest.
    """
    if before:
        async with await EventStore.open(source) as store:
            for i in range(before):
                store.emit(chunk(f"early {i} " + "x" * 200))
    store = await EventStore.open(source)
    try:
        for i in range(events):
            store.emit(chunk(f"line {i} " + "x" * 200))
        await store.flush()
        into.mkdir()
        copy = into / source.name
        shutil.copyfile(source, copy)
        shutil.copyfile(source.with_name(source.name + "-wal"), copy.with_name(copy.name + "-wal"))
    finally:
        await store.close()
    return copy


def checkpoint_cut_short(path: Path) -> int:
    """Copy WAL pages into the main file as a checkpoint does, page 1 first, but only those
    that fit in the file as it is: what a disk that filled mid-checkpoint leaves. Returns the
    page count the main file's header now claims."""
    page_size, pages = wal_pages(path.with_name(path.name + "-wal").read_bytes())
    data = bytearray(path.read_bytes())
    fits = len(data) // page_size
    for page in range(1, fits + 1):
        if page in pages:
            data[(page - 1) * page_size : page * page_size] = pages[page]
    path.write_bytes(bytes(data))
    return int(struct.unpack(">I", data[28:32])[0])


async def test_a_checkpoint_cut_short_opens_with_every_event(tmp_path: Path) -> None:
    db = await crash_image(tmp_path / "live.db", tmp_path / "image", 300)
    claimed = checkpoint_cut_short(db)
    page_size = int.from_bytes(db.read_bytes()[16:18], "big")
    assert db.stat().st_size < claimed * page_size  # the header says more than the file holds

    async with await EventStore.open(db, read_only=True) as reader:
        assert [e.seq for e in await reader.read()] == list(range(1, 301))
    async with await EventStore.open(db) as store:  # and the writer completes the checkpoint
        assert store.last_seq == 300
        store.emit(chunk("after"))
    assert [seq for seq, _ in raw_rows(db)] == list(range(1, 302))
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


async def test_a_truncated_file_is_refused_even_with_a_wal(tmp_path: Path) -> None:
    """The WAL holds the last few writes, not the pages the truncation took: refused, and
    neither file is changed (nor an -shm made)."""
    db = await crash_image(tmp_path / "live.db", tmp_path / "image", 1, before=300)
    wal = db.with_name(db.name + "-wal")
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    before = (db.read_bytes(), wal.read_bytes())

    for kwargs in ({}, {"read_only": True}):
        with pytest.raises(CorruptDatabase, match="truncated") as caught:
            await EventStore.open(db, **kwargs)
        assert str(db) in str(caught.value)
        assert (db.read_bytes(), wal.read_bytes()) == before
        assert not db.with_name(db.name + "-shm").exists()


async def test_a_cut_short_checkpoint_with_a_torn_wal_is_refused(tmp_path: Path) -> None:
    """The pages the main file lacks are only in frames SQLite would not trust: refused."""
    db = await crash_image(tmp_path / "live.db", tmp_path / "image", 300)
    checkpoint_cut_short(db)
    wal = db.with_name(db.name + "-wal")
    data = bytearray(wal.read_bytes())
    data[WAL_HEADER + FRAME_HEADER + 100] ^= 0xFF  # the first frame's page: checksum fails
    wal.write_bytes(bytes(data))

    with pytest.raises(CorruptDatabase, match="truncated"):
        await EventStore.open(db, read_only=True)


@pytest.mark.parametrize("cut", [0, 0.1, 0.35, 0.5, 0.77, 0.999, 1.0])
async def test_the_wal_is_read_as_sqlite_reads_it(tmp_path: Path, cut: float) -> None:
    """The database size a WAL commits to, cut at any byte (a torn write), is SQLite's own."""
    db = await crash_image(tmp_path / "live.db", tmp_path / "image", 300)
    wal = db.with_name(db.name + "-wal")
    data = wal.read_bytes()
    wal.write_bytes(data[: int(len(data) * cut)])
    page_size = int.from_bytes(db.read_bytes()[16:18], "big")

    found = committed_wal_pages(wal, page_size)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sqlite_pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()
    if found is None:
        assert sqlite_pages == db.stat().st_size // page_size
    else:
        pages, size = found
        assert size == sqlite_pages
        assert pages <= set(range(1, size + 1)) | set(wal_pages(data)[1])
