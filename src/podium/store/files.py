"""The database file itself, through plain sqlite3: checked, created and written off the loop.

Everything here blocks; EventStore runs it on its writer thread or through asyncio.to_thread.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import struct
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from podium import __version__
from podium.store import snapshots
from podium.store.errors import (
    CommandConflict,
    CorruptDatabase,
    NewerSchema,
    NotAPodiumDatabase,
    StoreError,
    translate,
)
from podium.store.events import INSERT_EVENTS, Row

SCHEMA_VERSION = 1
APPLICATION_ID = 0x506F6469  # "Podi": tells our files from every other SQLite database

_SQLITE_MAGIC = b"SQLite format 3\x00"
_T = TypeVar("_T")


def prepare(path: Path, may_create: bool, busy_timeout_s: float) -> tuple[Path, bool]:
    """Check the file before anything writes to it; the path and whether it needs the schema."""
    path = path.expanduser()
    return path, _inspect(path, may_create, busy_timeout_s)


def _inspect(path: Path, may_create: bool, busy_timeout_s: float) -> bool:
    try:
        info: os.stat_result | None = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as exc:  # a name too long, a loop of links, a folder we may not enter
        raise StoreError(f"cannot open {path}: {exc.strerror or exc}. Check the path.") from None
    if info is None:
        if not may_create:
            raise StoreError(
                f"no such production database: {path}. Check the path, or start the "
                "production with `podium run FILE`."
            )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder {path.parent}: {exc.strerror or exc}. "
                "Choose another place with --db."
            ) from None
        return True
    if stat.S_ISDIR(info.st_mode):
        raise NotAPodiumDatabase(f"{path} is a folder; give the path of a production .db file.")
    size = info.st_size
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise StoreError(
            f"cannot read {path}: {exc.strerror or exc}. Check its permissions."
        ) from None
    if size == 0:
        if may_create:
            return True
        raise NotAPodiumDatabase(f"{path} is an empty file, not a production database yet.")
    _check_header(path, header, size)
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True, timeout=busy_timeout_s)
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                str(row[0])
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        error = translate(exc, path)
        if isinstance(error, NotAPodiumDatabase):  # an SQLite header over unreadable content
            error = CorruptDatabase(
                f"{path} looks like an SQLite file but cannot be read. Restore it from a backup."
            )
        raise error from exc
    if app_id == 0 and version == 0 and not tables:
        if may_create:
            return True  # an empty SQLite file, e.g. left by a creation that was interrupted
        raise NotAPodiumDatabase(f"{path} is an empty database, not a production yet.")
    if app_id != APPLICATION_ID:
        raise NotAPodiumDatabase(
            f"{path} is an SQLite database of another program, not a podium production. "
            "Check the path; podium leaves the file as it is."
        )
    if version > SCHEMA_VERSION:
        raise NewerSchema(
            f"{path} was written by a newer podium (schema version {version}; this podium "
            f"reads up to {SCHEMA_VERSION}). Upgrade podium to open it."
        )
    missing = {"events", "meta", "commands"} - tables
    if version < SCHEMA_VERSION or missing:
        raise CorruptDatabase(
            f"{path} is an incomplete podium database (schema version {version}"
            + (f", missing {', '.join(sorted(missing))}" if missing else "")
            + "). Restore it from a backup."
        )
    return False


def _check_header(path: Path, header: bytes, size: int) -> None:
    """Catch non-SQLite files and truncated databases from the 100-byte header alone.

    The main file is not the whole database while a -wal file holds pages a checkpoint has not
    copied yet (a disk that filled mid-checkpoint, a kill -9): a file shorter than its header
    says is truncated only when the WAL does not hold the pages it lacks.
    """
    if header[:16] != _SQLITE_MAGIC:
        if len(header) < 16 and _SQLITE_MAGIC.startswith(header):
            raise CorruptDatabase(f"{path} is truncated ({size} bytes). Restore it from a backup.")
        raise NotAPodiumDatabase(
            f"{path} is not a podium production database (not an SQLite file). Check the path; "
            "podium leaves the file as it is."
        )
    if len(header) < 100:
        raise CorruptDatabase(f"{path} is truncated ({size} bytes). Restore it from a backup.")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header page count is only meaningful when its version stamp matches.
    if not pages or header[24:28] != header[92:96] or size >= pages * page_size:
        return
    wal = committed_wal_pages(_wal_path(path), page_size)
    if wal is not None:
        in_wal, pages = wal
        if all(page in in_wal for page in range(size // page_size + 1, pages + 1)):
            return
    raise CorruptDatabase(
        f"{path} is truncated: it should hold {pages * page_size} bytes but has {size}. "
        "Restore it from a backup."
    )


def _wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


_WAL_MAGIC = (0x377F0682, 0x377F0683)  # checksums in little- or big-endian words
_WAL_HEADER = 32
_FRAME_HEADER = 24


def committed_wal_pages(wal: Path, page_size: int) -> tuple[set[int], int] | None:
    """The pages SQLite would read from `wal`, and the database size in pages it commits to.

    None when there is no WAL or nothing committed in it. Follows SQLite's own recovery: a
    valid header, then frames whose salts and running checksum match, up to the last commit
    frame; a torn or stale frame ends the log.
    """
    try:
        with wal.open("rb") as file:
            head = file.read(_WAL_HEADER)
            if len(head) < _WAL_HEADER:
                return None
            magic, version, wal_page_size = struct.unpack(">III", head[:12])
            if magic not in _WAL_MAGIC or version != 3007000 or wal_page_size != page_size:
                return None
            order = ">" if magic & 1 else "<"
            s0, s1 = _wal_checksum(order, head[:24], 0, 0)
            if (s0, s1) != struct.unpack(">II", head[24:32]):
                return None
            salts = head[16:24]
            pages: set[int] = set()
            in_frames: list[int] = []
            committed: tuple[set[int], int] | None = None
            while len(frame := file.read(_FRAME_HEADER + page_size)) == _FRAME_HEADER + page_size:
                page, db_size = struct.unpack(">II", frame[:8])
                if page == 0 or frame[8:16] != salts:
                    break
                s0, s1 = _wal_checksum(order, frame[:8], s0, s1)
                s0, s1 = _wal_checksum(order, frame[_FRAME_HEADER:], s0, s1)
                if (s0, s1) != struct.unpack(">II", frame[16:24]):
                    break
                in_frames.append(page)
                if db_size:
                    pages.update(in_frames)
                    in_frames.clear()
                    committed = (pages, db_size)
            return committed
    except OSError:
        return None


def _wal_checksum(order: str, data: bytes, s0: int, s1: int) -> tuple[int, int]:
    """SQLite's WAL checksum (walChecksumBytes), continued from (s0, s1)."""
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def read_only_uri(path: Path) -> str:
    """The URI of a read-only connection to `path`.

    SQLite reads a WAL database only through a -shm file it may create. In a folder we may not
    write, with no -wal beside the file (so the main file is the whole database), the file is
    opened immutable instead: `status` and `export` still work on a production someone made
    read-only. The price: such a reader would not see a writer that started after it opened.
    """
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    if not os.access(path.parent, os.W_OK) and not _wal_path(path).exists():
        uri += "&immutable=1"
    return uri


def open_writer(path: Path, busy_timeout_s: float, new: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if new:
            _create_schema(conn, path)
        else:  # made before snapshots existed: the table is added (an older podium ignores it)
            snapshots.ensure_table(conn)
        return conn
    except BaseException:
        conn.close()
        raise


def _create_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Schema, application id, version and first meta in one transaction: all or nothing."""

    def create() -> None:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        if app_id == APPLICATION_ID:
            return  # another process created it a moment ago
        if app_id != 0 or conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise NotAPodiumDatabase(
                f"{path} became another program's database while podium was opening it."
            )
        for statement in schema_statements():
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("created_at", created_at), ("podium_version", __version__)],
        )

    _transaction(conn, create, durable=True)


def schema_statements() -> list[str]:
    text = resources.files("podium.store").joinpath("schema.sql").read_text(encoding="utf-8")
    statements: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _transaction(conn: sqlite3.Connection, work: Callable[[], _T], *, durable: bool) -> _T:
    if durable:
        conn.execute("PRAGMA synchronous = FULL")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        return result
    finally:
        if durable:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA synchronous = NORMAL")


def write_events(
    conn: sqlite3.Connection,
    rows: list[Row],
    durable: bool,
    snapshot: snapshots.Snapshot | None = None,
) -> None:
    """Append `rows`, and the snapshot of the view after the last of them, in one transaction."""

    def write() -> None:
        conn.executemany(INSERT_EVENTS, rows)
        if snapshot is not None:
            snapshots.write(conn, snapshot)

    _transaction(conn, write, durable=durable)


def write_snapshot(conn: sqlite3.Connection, snapshot: snapshots.Snapshot) -> None:
    """A snapshot of events already stored (at a clean stop, or after a long reload)."""
    _transaction(conn, lambda: snapshots.write(conn, snapshot), durable=False)


def upsert_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    sql = (
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    _transaction(conn, lambda: conn.execute(sql, (key, value)), durable=False)


# A command on the same escalation that the engine has not taken, or took after `seen_seq`
# (the last event the submitter had read, so it cannot know that command's outcome).
_UNDECIDED_ON = """
SELECT id FROM commands
WHERE id != ? AND json_extract(body, '$.escalation_id') = ?
  AND (taken_seq IS NULL OR taken_seq > ?)
  AND json_extract(body, '$.action') NOT IN ({})
ORDER BY issued_at, rowid LIMIT 1
"""


def insert_command(
    conn: sqlite3.Connection,
    command_id: str,
    issued_at: float,
    body: str,
    guard: tuple[str, int, Collection[str]] | None = None,
) -> bool:
    """Record a command; False when one with that id is already there.

    `guard` (escalation id, seen seq, actions that decide nothing) makes the insert conditional,
    in the same transaction: CommandConflict when another command already decides it.
    """
    sql = "INSERT OR IGNORE INTO commands (id, issued_at, body) VALUES (?, ?, ?)"

    def insert() -> bool:
        if guard is not None:
            escalation_id, seen_seq, inert = guard
            query = _UNDECIDED_ON.format(", ".join("?" * len(inert)) or "''")
            row = conn.execute(query, (command_id, escalation_id, seen_seq, *inert)).fetchone()
            if row is not None:
                raise CommandConflict(
                    f"{escalation_id} is already being decided by command {row[0]}, recorded "
                    "and not yet applied",
                    str(row[0]),
                )
        return conn.execute(sql, (command_id, issued_at, body)).rowcount == 1

    return _transaction(conn, insert, durable=True)


def take_command(conn: sqlite3.Connection, command_id: str, seq: int) -> bool:
    """True when the command exists (taken now or before)."""

    def take() -> bool:
        conn.execute(
            "UPDATE commands SET taken_seq = ? WHERE id = ? AND taken_seq IS NULL",
            (seq, command_id),
        )
        found = conn.execute("SELECT 1 FROM commands WHERE id = ?", (command_id,)).fetchone()
        return found is not None

    return _transaction(conn, take, durable=False)
