"""State snapshots beside the log, and artifact contents read back from it (issue 20).

A snapshot is the folded view after event `seq` (`podium.domain.snapshot`), stored compressed
in the `snapshots` table in the same transaction as the events it covers, so it never covers an
event that is not stored. A reload starts from the newest one its fold can use and folds only
the events after it; any other (another podium's fold, damage, a seq the log does not hold as
recorded) is ignored with a log line. Only the newest is kept: it is a cache of the log, which
stays the only memory (`podium check` and a fold from seq 0 read the log alone).

A snapshot also records a digest of every event it covers that is not a streamed chunk (the
rows a fold of the whole log decodes); a reload checks it against the log (those rows only, by
the kind index: ~40,000 of a 1,000,000-event log), so an event damaged or rewritten after the
snapshot was made is found and named as a fold of the whole log would name it.

Blocking functions here run on the store's writer thread, or (`ContentReader`) in whatever
thread reads an artifact's content.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from podium.domain.events import ArtifactCreated
from podium.store.errors import CorruptDatabase, StoreError, damage_hint
from podium.store.events import STREAMED_KIND, NewerPayload, UndecodableRow, decode_payload

log = logging.getLogger("podium.store")

CREATE = """
CREATE TABLE IF NOT EXISTS snapshots (
    seq     INTEGER PRIMARY KEY,
    ts      REAL    NOT NULL,
    fold    TEXT    NOT NULL,
    digest  INTEGER NOT NULL,
    made_at REAL    NOT NULL,
    body    BLOB    NOT NULL
)
"""
COLUMNS = ("seq", "ts", "fold", "digest", "made_at", "body")

EVERY = 50_000
"""Events between two snapshots of a running production (and one at every clean stop)."""

_AHEAD_BATCH = 256  # contents `ContentReader.read_ahead` asks SQLite for at a time
_LEVEL = 1  # zlib: a 2,000-task view of 5 MB of JSON is ~0.9 MB at level 1, in ~30 ms


Snapshot = tuple[int, float, str, int, bytes]
"""(seq it covers, that event's ts, the fold that made it, the digest of the events it covers
that are not chunks (`digest`), its JSON document)."""

_MASK = (1 << 63) - 1  # digests fit SQLite's signed 64-bit integers


def digest(rows: Iterable[Sequence[Any]], start: int = 0) -> int:
    """`start` with the rows' digest added: the sum of each (seq, kind, payload)'s CRC-32 over
    the rows that are not streamed chunks. A sum, so rows may come in any order.

    The CRC of "seq NUL kind NUL payload": one CRC over the joined text for the writer's rows
    (str payloads), the same value as the CRC of the payload's bytes carried on from the
    prefix's for the rows read back (bytes)."""
    total = start
    crc = zlib.crc32
    for seq, _, kind, payload in rows:
        if kind != STREAMED_KIND:
            if isinstance(payload, str):
                total += crc(f"{seq}\0{kind}\0{payload}".encode())
            else:
                total += crc(bytes(payload), crc(f"{seq}\0{kind}\0".encode()))
    return total & _MASK


def digest_of_log(uri: str, upto: int, busy_timeout_s: float) -> int:
    """The digest of the stored events up to `upto` (the kind index: no chunk is read)."""
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s)
    try:
        rows = conn.execute(
            "SELECT seq, 0, kind, CAST(payload AS BLOB) FROM events INDEXED BY events_kind "
            f"WHERE kind != '{STREAMED_KIND}' AND seq <= ?",
            (upto,),
        )
        total = 0
        while batch := rows.fetchmany(128):  # artifacts are tens of KB each
            total = digest(batch, total)
        return total
    finally:
        conn.close()


def ensure_table(conn: sqlite3.Connection) -> None:
    """Add the table to a database made before snapshots existed (the writer's connection);
    one of another shape (an earlier build's) is a cache: it is made again."""
    columns = tuple(str(row[1]) for row in conn.execute("PRAGMA table_info(snapshots)"))
    if columns and columns != COLUMNS:
        conn.execute("DROP TABLE snapshots")
    conn.execute(CREATE)


def write(conn: sqlite3.Connection, snapshot: Snapshot) -> None:
    """Store `snapshot` and drop the older ones; inside the caller's transaction."""
    seq, ts, fold, covered, document = snapshot
    body = zlib.compress(document, _LEVEL)
    conn.execute(
        "INSERT OR REPLACE INTO snapshots (seq, ts, fold, digest, made_at, body) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (seq, ts, fold, covered, time.time(), body),
    )
    conn.execute("DELETE FROM snapshots WHERE seq != ?", (seq,))


def unpack(body: Any) -> bytes:
    if not isinstance(body, bytes):
        raise ValueError("its body is not a blob")
    return zlib.decompress(body)


class ContentReader:
    """Reads an artifact's content from the event that recorded it (a `ContentShelf`'s reader).

    A connection a read: nothing stays open on the file between reads (a writer closing last
    still removes the WAL), and reads from several threads take turns.
    """

    def __init__(self, path: Path, uri: str, busy_timeout_s: float = 5.0) -> None:
        self._path = path
        self._uri = uri  # `podium.store.files.read_only_uri(path)`
        self._timeout = busy_timeout_s
        self._lock = threading.Lock()
        self._ready: dict[int, tuple[str, dict[str, Any]]] = {}  # read ahead (`read_ahead`)

    def __call__(self, seq: int, artifact_id: str) -> dict[str, Any]:
        with self._lock:
            ready = self._ready.pop(seq, None)
        if ready is not None and ready[0] == artifact_id:
            return ready[1]  # handed over once: the shelf keeps it as long as it keeps any
        found = self._rows([seq], artifact_id)
        return self._content(seq, artifact_id, found.get(seq))

    def read_ahead(self, wanted: Iterable[tuple[int, str]]) -> None:
        """Read the contents of `wanted` (the seq of the event that recorded each, and the
        artifact's id) in one go, on one connection, in seq order, for the calls that ask for
        them next: a reader of many contents (an export) pays a lookup each, not a connection
        and a cold cache each. Each is handed over once, then read again when asked again."""
        seqs = sorted({seq for seq, _ in wanted})
        ids = dict(wanted)
        for start in range(0, len(seqs), _AHEAD_BATCH):
            chunk = seqs[start : start + _AHEAD_BATCH]
            rows = self._rows(chunk, ids[chunk[0]])
            ready = {seq: (ids[seq], self._content(seq, ids[seq], rows.get(seq))) for seq in chunk}
            with self._lock:
                self._ready.update(ready)

    def _rows(self, seqs: Sequence[int], artifact_id: str) -> dict[int, tuple[Any, Any]]:
        """The (kind, payload) stored at each of `seqs` (one connection for them all)."""
        marks = ", ".join("?" * len(seqs))
        try:
            with self._lock:
                conn = sqlite3.connect(self._uri, uri=True, timeout=self._timeout)
                try:
                    rows = conn.execute(
                        f"SELECT seq, kind, payload FROM events WHERE seq IN ({marks})", seqs
                    ).fetchall()
                finally:
                    conn.close()
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self._path}: the text of {artifact_id} cannot be read ({exc}). Check that "
                "the file is still there and readable."
            ) from None
        return {int(seq): (kind, payload) for seq, kind, payload in rows}

    def _content(self, seq: int, artifact_id: str, row: tuple[Any, Any] | None) -> dict[str, Any]:
        path = self._path
        try:
            payload = decode_payload(seq, str(row[0]), row[1]) if row is not None else None
        except UndecodableRow as exc:
            raise CorruptDatabase(
                f"{path}: {exc}. The log is damaged. {damage_hint(path)}"
            ) from None
        except NewerPayload as exc:
            raise exc.at(path) from None
        if not isinstance(payload, ArtifactCreated) or payload.artifact.id != artifact_id:
            raise CorruptDatabase(
                f"{path}: event {seq} is not the one that recorded {artifact_id}. The log is "
                f"damaged. {damage_hint(path)}"
            )
        return payload.artifact.content
