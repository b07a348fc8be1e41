"""Reading a damaged database: `check` names the damage and `salvage` keeps what reads, both
without writing a byte to the file or creating anything beside it."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest
from store_helpers import chunk, task_state
from test_store_corrupt_rows import insert_raw

from podium.store import EventStore, NotAPodiumDatabase, StoreError
from podium.store.salvage import check, salvage, scan

PAGE = 4096


def snapshot(folder: Path) -> dict[str, str]:
    """Every file in the folder, by name, with the hash of its bytes."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


async def make_log(path: Path, count: int, marker_at: int | None = None) -> None:
    """A closed log of `count` events: chunks with a task state every tenth."""
    store = await EventStore.open(path)
    try:
        for i in range(1, count + 1):
            if i == marker_at:
                store.emit(chunk("MARKER-" + "q" * 80 + "-END"))
            elif i % 10 == 0:
                store.emit(task_state(f"t{i}"))
            else:
                store.emit(chunk(f"line {i} of the log, long enough to fill pages " * 3))
        await store.flush()
    finally:
        await store.close()


def flip(path: Path, offset: int, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    for i in range(offset, offset + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def leaf_pages(path: Path) -> list[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        rows = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf' ORDER BY pageno"
        ).fetchall()
    finally:
        conn.close()
    return [int(row[0]) for row in rows]


async def test_a_whole_log_is_whole_and_left_as_it_was(db_path: Path) -> None:
    await make_log(db_path, 300)
    before = snapshot(db_path.parent)

    report = check(db_path)

    assert report.whole, report
    assert (report.events_read, report.first_seq, report.last_seq) == (300, 1, 300)
    assert report.integrity == []
    assert snapshot(db_path.parent) == before  # no -wal, no -shm, not a byte changed


async def test_bytes_flipped_in_a_payload_name_that_event(db_path: Path) -> None:
    await make_log(db_path, 300, marker_at=123)
    data = db_path.read_bytes()
    at = data.index(b"MARKER-")
    assert data.count(b"MARKER-") == 1
    flip(db_path, at + 10, 64)
    before = snapshot(db_path.parent)

    report = check(db_path)

    assert not report.whole
    assert [(d.first_seq, d.last_seq) for d in report.events] == [(123, 123)]
    assert "event 123" in str(report.events[0])
    assert report.events_read == 299
    assert snapshot(db_path.parent) == before

    events, found = salvage(db_path)
    assert [e.seq for e in events] == [s for s in range(1, 301) if s != 123]
    assert [d.first_seq for d in found.skipped] == [123]
    assert found.read == 299
    assert snapshot(db_path.parent) == before


async def test_a_damaged_page_costs_only_its_rows(db_path: Path) -> None:
    await make_log(db_path, 2000)
    pages = leaf_pages(db_path)
    middle = pages[len(pages) // 2]
    flip(db_path, (middle - 1) * PAGE, 64)  # the page header and its cell pointers
    before = snapshot(db_path.parent)

    report = check(db_path)

    assert not report.whole
    assert report.integrity, "SQLite's own check should see a broken page"
    assert "events" in report.tables
    lost = report.events_damaged
    assert 0 < lost < 100, report.events
    assert report.events_read + lost == 2000
    assert report.last_seq == 2000  # the rows after the damaged page are read
    assert snapshot(db_path.parent) == before

    events, found = salvage(db_path)
    assert len(events) == 2000 - lost
    assert found.skipped_seqs == lost


async def test_the_middle_of_the_file_flipped(db_path: Path) -> None:
    """The case of the report: 64 bytes flipped in the middle; most rows still read."""
    await make_log(db_path, 2000)
    size = db_path.stat().st_size
    flip(db_path, size // 2, 64)
    before = snapshot(db_path.parent)

    report = check(db_path)
    events, _ = salvage(db_path)

    assert not report.whole
    assert report.events_read > 1900
    assert len(events) == report.events_read
    assert snapshot(db_path.parent) == before


async def test_rows_that_do_not_decode_are_skipped_and_the_rest_read(db_path: Path) -> None:
    await make_log(db_path, 20)
    insert_raw(db_path, 21, "task_state", '{"kind": "from_the_future", "secret": "sk-not-real"}')
    insert_raw(db_path, 22, "output_chunk", "{not json")
    insert_raw(db_path, 23, "task_state", task_state("t23").model_dump_json())

    events, found = salvage(db_path)

    assert [e.seq for e in events] == [*range(1, 21), 23]
    assert [d.first_seq for d in found.skipped] == [21, 22]
    assert all("sk-not-real" not in str(d) for d in found.skipped)


async def test_a_seq_never_written_is_a_gap_not_damage(db_path: Path) -> None:
    """A durable append that failed leaves its seq unused: a whole file may skip one."""
    await make_log(db_path, 5)
    insert_raw(db_path, 7, "task_state", task_state("t7").model_dump_json())

    report = check(db_path)

    assert report.whole
    assert [(d.first_seq, d.last_seq) for d in report.gaps] == [(6, 6)]


async def test_a_log_read_while_an_engine_writes_it(db_path: Path, store: EventStore) -> None:
    store.emit(chunk("one"))
    await store.flush()
    before = set(snapshot(db_path.parent))  # the engine's -wal and -shm

    report = check(db_path)

    assert report.whole
    assert report.events_read == 1
    assert set(snapshot(db_path.parent)) == before


async def test_a_wal_left_without_its_shm_is_read_from_a_copy(
    db_path: Path, tmp_path: Path
) -> None:
    """A crash can leave committed pages in DB-wal only; check reads them, creating nothing."""
    await make_log(db_path, 10)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    for seq in (11, 12):
        row = (seq, 1.0, "task_state", task_state(f"t{seq}").model_dump_json())
        conn.execute("INSERT INTO events VALUES (?, ?, ?, ?)", row)
    conn.commit()
    kept = tmp_path / "kept"
    kept.mkdir()
    for name in (db_path.name, db_path.name + "-wal"):  # as a kill -9 would leave them
        shutil.copy(db_path.parent / name, kept / name)
    conn.close()
    target = kept / db_path.name
    before = snapshot(kept)
    assert sorted(before) == [target.name, target.name + "-wal"]

    report = check(target)

    assert report.whole
    assert report.last_seq == 12
    assert snapshot(kept) == before


async def test_scan_steps_over_an_unreadable_end(db_path: Path) -> None:
    await make_log(db_path, 2000)
    last = leaf_pages(db_path)[-1]
    flip(db_path, (last - 1) * PAGE, 64)
    conn = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True)
    conn.text_factory = bytes
    try:
        found = list(scan(conn))
    finally:
        conn.close()
    read = [item.seq for item in found if hasattr(item, "seq")]
    assert read and read[0] == 1
    assert len(read) < 2000  # the last page is lost, and the scan ends


@pytest.mark.parametrize("content", [b"", b"plain text, not a database\n"])
def test_what_is_no_database_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.db"
    path.write_bytes(content)
    with pytest.raises(NotAPodiumDatabase):
        check(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such production database"):
        check(tmp_path / "nothing.db")
    assert list(tmp_path.iterdir()) == []


async def test_a_command_that_does_not_decode_is_named(db_path: Path) -> None:
    await make_log(db_path, 3)
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO commands (id, issued_at, body) VALUES ('c1', 1.0, '{broken')")
    conn.commit()
    conn.close()

    report = check(db_path)

    assert not report.whole
    assert [d.where for d in report.commands] == ["command 'c1'"]
    assert report.events_read == 3
    assert "commands" in report.tables


@pytest.mark.parametrize("keep", [200, 5000, 60_000])
async def test_a_truncated_file_is_damage_not_a_refusal(db_path: Path, keep: int) -> None:
    await make_log(db_path, 300)
    db_path.write_bytes(db_path.read_bytes()[:keep])

    report = check(db_path)

    assert not report.whole
    assert report.unreadable or report.integrity
