"""What an export made before, kept by content: spoken lines, encoded speech, stills, sketches.

An export of a big series draws and encodes the same things every time: each line of the table
read (espeak-ng or a speech model), its MP3 frames, an episode's stills, the storyboard's
sketches. They are kept in the data folder (`data_dir()/cache/export`), each under the hash of
everything that made it — the inputs, podium's version, a digest of the drawing code's source
and the outside program's version — so a second export after a small change makes only what
changed, and a change to podium or to the programs makes everything again.

All the entries are rows of one SQLite database in that folder (`entries.db`, write-ahead
logged), not a file each: a first export of a big series keeps about 4,000 of them, and
creating that many files (and their folders) cost seconds of the kernel's time. A put is one
transaction (a crash leaves the entry whole or absent); two threads share a connection under a
lock, two processes wait for each other's writes (`_BUSY_S`).

Never trusted blindly: each entry keeps its payload's SHA-256 beside it; an entry whose digest
does not match (damaged, cut short) is removed and made again, and a store SQLite finds damaged
or not a database is removed and started again empty. The cache is bounded (`LIMIT_BYTES`, the
entries least recently used go first) and best effort: a store that cannot be read or written
(or is busy too long) only means things are made again. `PODIUM_EXPORT_CACHE=0` turns it off.
The folders of the layout before it (a file per entry under `<kind>/<key[:2]>/`) are never read
and go at the first prune. The store says its table's layout (`VERSION`, as SQLite's
user_version): a store of an older layout is started again empty, one of a newer podium's is
left alone (this export keeps nothing), so neither is ever read wrongly.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TypeVar

import podium
from podium.locations import data_dir

log = logging.getLogger("podium.export")

LIMIT_BYTES = 1 << 30  # the whole cache; past it, the least recently used entries go
_KEEP = 0.8  # a prune leaves this fraction of the limit
ENV = "PODIUM_EXPORT_CACHE"
STORE = "entries.db"
VERSION = 1  # the table's layout (the store's user_version): see `Cache._open`
BEHIND_BYTES = 8 << 20  # entries put and not yet written at most (`Cache.write_behind`)
_BUSY_S = 10.0  # how long a writer waits for another process's write before giving up
_BROKEN = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    used INTEGER NOT NULL,
    size INTEGER NOT NULL,
    digest BLOB NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_used ON entries (used);
"""

T = TypeVar("T")


def key(*parts: object) -> str:
    """The hash naming an entry: podium's version and `parts` (their `repr`, which is stable
    for the strings, numbers, tuples and frozen dataclasses passed here)."""
    text = repr((podium.__version__, *parts))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@cache
def code_digest(*modules: str) -> str:
    """A digest of the source of `modules` (dotted names): a change to how a thing is drawn or
    encoded names new entries, even within one version."""
    import importlib.util

    digest = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        try:
            digest.update(Path(origin).read_bytes() if origin else name.encode())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """A write transaction: the store's write lock taken at once (waiting for another
    process's), committed whole or rolled back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.commit()


def _layout(db: sqlite3.Connection) -> int | None:
    """The layout of the store's table (its user_version), None for a new store."""
    (tables,) = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'entries'").fetchone()
    return int(db.execute("PRAGMA user_version").fetchone()[0]) if tables else None


def _broken(exc: sqlite3.Error) -> bool:
    """The store itself is damaged (or not a database): not a busy or full disk."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BROKEN
    return type(exc) is sqlite3.DatabaseError


class Cache:
    """Entries in the database `folder/entries.db`, by kind and name; `None` as the folder:
    nothing is kept. Opened at the first get or put."""

    def __init__(self, folder: Path | None, limit_bytes: int = LIMIT_BYTES) -> None:
        self.folder = folder
        self.limit_bytes = limit_bytes
        self.hits = self.misses = 0
        self._lock = threading.Lock()  # the connection, the counts, the entries used
        self._db: sqlite3.Connection | None = None
        self._tried = False  # opened once: a store that cannot open is not tried again
        self._used: dict[str, int] = {}  # entries read since the last write: their new time
        # Written behind (`write_behind`): entries put and not yet written, by entry, and the
        # thread writing them; `_behind` guards them (never taken inside `_lock`'s hold).
        self._behind: threading.Condition | None = None
        self._waiting: dict[str, tuple[int, bytes]] = {}  # entry -> (time put, data)
        self._waiting_bytes = 0
        self._writer: threading.Thread | None = None
        self._failed = False  # a writer failed: nothing more is kept by this cache

    @staticmethod
    def default() -> Cache:
        if os.environ.get(ENV, "") == "0":
            return Cache(None)
        return Cache(data_dir() / "cache" / "export")

    @property
    def store(self) -> Path | None:
        return None if self.folder is None else self.folder / STORE

    def write_behind(self) -> None:
        """From now on a put returns at once and a thread writes the entries (a few at a time,
        one transaction), so a caller does not wait on the disk: the big series' first export
        puts 250 MB (the table read's sound most), and each write waited on SQLite's
        checkpoints, the store's lock held. At most `BEHIND_BYTES` wait (a put past it waits
        for the writer); a get finds them; `prune` and `close` write them all first."""
        if self._behind is None and self.folder is not None:
            self._behind = threading.Condition()

    def get(self, kind: str, name: str) -> bytes | None:
        entry = f"{kind}/{name}"
        if self._behind is not None:
            with self._behind:
                waiting = self._waiting.get(entry)
            if waiting is not None:
                self._count(hit=True)
                return waiting[1]
        row = self._run(lambda db: db.execute(
            "SELECT digest, data FROM entries WHERE key = ?", (entry,)
        ).fetchone())  # fmt: skip
        if row is None or hashlib.sha256(row[1]).digest() != row[0]:
            if row is not None:  # damaged: made again
                self._run(lambda db: db.execute("DELETE FROM entries WHERE key = ?", (entry,)))
            self._count(hit=False)
            return None
        with self._lock:
            self._used[entry] = time.time_ns()  # recently used: kept longest
            self.hits += 1
        return bytes(row[1])

    def put(self, kind: str, name: str, data: bytes) -> None:
        if self.folder is None:
            return
        entry, now = f"{kind}/{name}", time.time_ns()
        if self._behind is None:
            self._write({entry: (now, data)})
            return
        with self._behind:
            while self._waiting_bytes > BEHIND_BYTES and self._writer is not None:
                self._behind.wait()
            if self._failed:  # (also when it failed while this put waited for it)
                return
            old = self._waiting.pop(entry, None)
            self._waiting_bytes += len(data) - (len(old[1]) if old is not None else 0)
            self._waiting[entry] = (now, data)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_waiting, name="podium-cache", daemon=True
                )
                self._writer.start()
            self._behind.notify_all()

    def _write(
        self, entries: dict[str, tuple[int, bytes]], aside: sqlite3.Connection | None = None
    ) -> None:
        """`entries` written in one transaction: on the store's connection, else on the
        writer's (`aside`: nothing written when it could not open or it fails)."""
        rows = [
            (entry, at, len(data), hashlib.sha256(data).digest(), data)
            for entry, (at, data) in entries.items()
        ]
        insert = "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?)"
        if self._behind is not None:
            if aside is not None:
                with contextlib.suppress(sqlite3.Error), _transaction(aside):
                    aside.executemany(insert, rows)
            return

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                self._touch(db)
                db.executemany(insert, rows)

        self._run(write)

    def _write_waiting(self) -> None:
        """The writer's thread: what waits, written until nothing does (it then ends, in the
        same hold of the lock that saw nothing wait; the next put starts another). It writes
        on a connection of its own, so a get meanwhile does not wait for its transactions."""
        behind = self._behind
        assert behind is not None
        aside = self._aside()
        try:
            while True:
                with behind:
                    if not self._waiting:
                        self._writer = None
                        behind.notify_all()
                        return
                    entries = dict(self._waiting)
                self._write(entries, aside)
                with behind:
                    for entry, waiting in entries.items():
                        if self._waiting.get(entry) is waiting:  # not put again meanwhile
                            del self._waiting[entry]
                            self._waiting_bytes -= len(waiting[1])
                    behind.notify_all()
        except Exception as exc:  # a writer that failed: nothing more is kept, no one waits
            with behind:
                self._waiting.clear()
                self._waiting_bytes = 0
                self._writer = None
                self._failed = True
                behind.notify_all()
            # a sentence on the export's logger, not a thread's traceback: the export is whole,
            # only what it would have kept is made again next time
            log.warning("podium: the export cache was not written (%s); the export is whole", exc)
        finally:
            if aside is not None:
                with contextlib.suppress(sqlite3.Error):
                    aside.close()

    def _aside(self) -> sqlite3.Connection | None:
        """A second connection to the store, opened (and the store made) as `_open` does;
        None when the store cannot be used (the entries are then not kept)."""
        if self._run(lambda db: True) is None:
            return None
        assert self.folder is not None
        try:
            db = sqlite3.connect(
                self.folder / STORE, timeout=_BUSY_S, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error:
            return None
        return db

    def _written(self) -> None:
        """Every entry waiting to be written, written (`write_behind`)."""
        if self._behind is None:
            return
        with self._behind:
            while self._writer is not None:
                self._behind.wait()

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def prune(self) -> None:
        """Keep the cache under its limit: the least recently used entries go first (and the
        folders of the layout before the database). Then the store is closed (opened again at
        the next get or put): what an export does last."""
        self._written()
        if self.folder is None or not self.folder.is_dir():
            return
        with contextlib.suppress(OSError):
            for old in self.folder.iterdir():
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old, ignore_errors=True)

        def prune(db: sqlite3.Connection) -> None:
            with _transaction(db):
                self._touch(db)
                (total,) = db.execute("SELECT coalesce(sum(size), 0) FROM entries").fetchone()
                if total <= self.limit_bytes:
                    return
                gone: list[tuple[str]] = []
                by_use = db.execute("SELECT key, size FROM entries ORDER BY used").fetchall()
                for entry, size in by_use:
                    if total <= self.limit_bytes * _KEEP:
                        break
                    gone.append((entry,))
                    total -= size
                db.executemany("DELETE FROM entries WHERE key = ?", gone)
            db.executescript("PRAGMA incremental_vacuum;")  # the freed pages: to the disk

        self._run(prune)
        self.close()

    def close(self) -> None:
        """Close the store (its log written into it); a later get or put opens it again."""
        self._written()
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error), _transaction(self._db):
                    self._touch(self._db)  # the times of the entries read
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
            self._db = None
            self._tried = False

    def _touch(self, db: sqlite3.Connection) -> None:
        """Write the times of the entries read since the last write (in its transaction)."""
        if self._used:
            used = [(at, entry) for entry, at in self._used.items()]
            self._used.clear()
            db.executemany("UPDATE entries SET used = ? WHERE key = ?", used)

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T | None:
        """`work` on the store under the lock; None when there is no store or it fails (a
        damaged store is removed and started again once)."""
        if self.folder is None:
            return None
        with self._lock:
            for attempt in range(2):
                db = self._open()
                if db is None:
                    return None
                try:
                    return work(db)
                except sqlite3.Error as exc:
                    if not _broken(exc) or attempt:
                        return None
                    self._drop()
        return None

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None or self._tried:
            return self._db
        self._tried = True
        assert self.folder is not None
        for attempt in range(2):
            db: sqlite3.Connection | None = None
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(
                    self.folder / STORE, timeout=_BUSY_S, isolation_level=None,
                    check_same_thread=False,
                )  # fmt: skip
                db.execute("PRAGMA page_size = 16384")  # a new store: 4 KB pages cost more
                db.execute("PRAGMA auto_vacuum = INCREMENTAL")  # a new store: pages freed
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
                layout = _layout(db)
                if layout is not None and layout != VERSION:
                    db.close()
                    if layout > VERSION:  # a newer podium's: left to it, nothing kept here
                        return None
                    self._remove()  # an older layout: started again, empty
                    continue
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {VERSION}")
            except (OSError, sqlite3.Error) as exc:
                if db is not None:
                    db.close()
                if isinstance(exc, sqlite3.Error) and _broken(exc) and not attempt:
                    self._remove()  # not a database, or a damaged one: started again
                    continue
                return None
            self._db = db
            return db
        return None

    def _drop(self) -> None:
        """The store is damaged: closed, removed, and opened again empty."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self._tried = False
        self._used.clear()
        self._remove()

    def _remove(self) -> None:
        assert self.folder is not None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                (self.folder / (STORE + suffix)).unlink()
