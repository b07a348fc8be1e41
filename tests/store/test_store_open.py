"""Opening: anything that is not a healthy podium database is refused and left untouched."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from store_helpers import chunk
from tests.unprivileged import rerun_unprivileged

from podium.store import (
    SCHEMA_VERSION,
    CorruptDatabase,
    EventStore,
    NewerSchema,
    NotAPodiumDatabase,
    ReadOnlyDatabase,
    StoreError,
)


async def make_podium_db(path: Path, events: int = 0) -> None:
    async with await EventStore.open(path) as store:
        for i in range(events):
            store.emit(chunk(f"line {i} " + "x" * 200))


async def assert_refused(path: Path, error: type[StoreError], **kwargs: bool) -> StoreError:
    """Opening raises `error`, names the file, and leaves every byte of it as it was."""
    before = path.read_bytes()
    with pytest.raises(error) as caught:
        store = await EventStore.open(path, **kwargs)
        await store.close()
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    return caught.value


async def test_missing_file_is_created_with_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "new.db"
    async with await EventStore.open(path) as store:
        assert store.last_seq == 0
    assert path.is_file()


async def test_missing_file_without_create(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    for kwargs in ({"create": False}, {"read_only": True}):
        with pytest.raises(StoreError, match="no such production database") as caught:
            await EventStore.open(path, **kwargs)
        assert str(path) in str(caught.value)
        assert not path.exists()


async def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "production.toml"
    path.write_text('[production]\ntitle = "The Lighthouse"\n')
    error = await assert_refused(path, NotAPodiumDatabase)
    assert "not a podium production database" in str(error)


async def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.db"
    path.write_bytes(b"\x00\x17" + os.urandom(16382))
    await assert_refused(path, NotAPodiumDatabase)


async def test_another_programs_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()

    error = await assert_refused(path, NotAPodiumDatabase)
    assert "another program" in str(error)
    await assert_refused(path, NotAPodiumDatabase, read_only=True)


async def test_database_from_a_newer_podium(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    await make_podium_db(path, events=3)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    error = await assert_refused(path, NewerSchema)
    assert "Upgrade podium" in str(error)
    await assert_refused(path, NewerSchema, read_only=True)


async def test_truncated_database(tmp_path: Path) -> None:
    path = tmp_path / "cut.db"
    await make_podium_db(path, events=300)
    data = path.read_bytes()
    assert len(data) > 8 * 4096

    path.write_bytes(data[: len(data) // 2])
    error = await assert_refused(path, CorruptDatabase)
    assert "truncated" in str(error)

    path.write_bytes(data[:60])
    await assert_refused(path, CorruptDatabase)
    path.write_bytes(data[:10])
    await assert_refused(path, CorruptDatabase)


async def test_damaged_pages_behind_a_good_header(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    await make_podium_db(path, events=300)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[page_size:] = os.urandom(len(data) - page_size)
    path.write_bytes(bytes(data))

    await assert_refused(path, CorruptDatabase)


async def test_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotAPodiumDatabase, match="folder"):
        await EventStore.open(tmp_path)


async def test_empty_file_becomes_a_production(tmp_path: Path) -> None:
    path = tmp_path / "touched.db"
    path.touch()
    with pytest.raises(NotAPodiumDatabase, match="empty"):
        await EventStore.open(path, read_only=True)
    assert path.read_bytes() == b""

    async with await EventStore.open(path) as store:
        store.emit(chunk())
    async with await EventStore.open(path, create=False) as store:
        assert store.last_seq == 1


async def test_interrupted_creation_is_completed(tmp_path: Path) -> None:
    """A crash between creating the file and writing the schema leaves an empty SQLite file."""
    path = tmp_path / "half.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    assert path.stat().st_size > 0

    async with await EventStore.open(path) as store:
        assert store.emit(chunk())[0] == 1


async def test_read_only_file_refuses_writes(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if rerun_unprivileged(request, tmp_path):
        return  # as root: the test ran in a child bound by the file's permissions
    path = tmp_path / "locked-down.db"
    await make_podium_db(path, events=2)
    path.chmod(0o444)
    try:
        assert not os.access(path, os.W_OK)
        before = path.read_bytes()
        store = await EventStore.open(path)
        try:
            assert len(await store.read()) == 2
            store.emit(chunk())
            with pytest.raises(ReadOnlyDatabase) as caught:
                await store.flush()
            assert str(path) in str(caught.value)
            with pytest.raises(ReadOnlyDatabase):
                await store.set_meta("title", "x")
        finally:
            with pytest.raises(ReadOnlyDatabase):
                await store.close()
        assert path.read_bytes() == before
    finally:
        path.chmod(0o644)


async def test_a_production_in_a_read_only_folder_is_read_but_not_written(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """No -shm can be made beside it, yet it is read; writing says why it cannot."""
    if rerun_unprivileged(request, tmp_path):
        return
    folder = tmp_path / "archive"
    path = folder / "done.db"
    await make_podium_db(path, events=3)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        before = sorted(p.name for p in folder.iterdir()), path.read_bytes()
        async with await EventStore.open(path, read_only=True) as reader:
            assert [e.seq for e in await reader.read()] == [1, 2, 3]
        with pytest.raises(ReadOnlyDatabase, match="read-only") as caught:
            store = await EventStore.open(path)
            await store.close()
        assert str(path) in str(caught.value)
        assert (sorted(p.name for p in folder.iterdir()), path.read_bytes()) == before
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


async def test_a_path_the_system_cannot_take_is_refused_in_words(tmp_path: Path) -> None:
    for path in (tmp_path / ("x" * 300), tmp_path / ("x" * 300) / "p.db"):
        for kwargs in ({}, {"create": False}, {"read_only": True}):
            with pytest.raises(StoreError, match="File name too long") as caught:
                await EventStore.open(path, **kwargs)
            assert str(caught.value).endswith(".")


async def test_errors_read_as_sentences_not_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(StoreError) as caught:
        await EventStore.open(path)
    message = str(caught.value)
    assert "Traceback" not in message
    assert message.endswith(".")
