"""`podium check`'s look at the state snapshots (`podium.store.snapshots`), read without writing.

A reload starts from the newest snapshot its fold can use and ignores any other, so a snapshot
whose bytes are damaged, whose event is not the log's, or whose covered events changed since it
was made costs only a longer reload. One that passes all of that but does not hold the view the
log gives up to its seq (a fold with a bug wrote it, or someone else did) is worse: a reload
would start from it. So each snapshot of this fold is read as a reload reads it, then compared
with the fold of the log up to its seq, folded the way a reload folds it (`replay.fold_rows`:
chunks unread, big contents left in the store).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.domain.artifacts import Artifact
from podium.domain.events import ArtifactCreated
from podium.domain.records import ContentShelf
from podium.domain.snapshot import UnusableSnapshot, decode, fold_version
from podium.domain.state import ProductionView
from podium.domain.text import sanitize
from podium.store import snapshots
from podium.store.errors import not_utf8
from podium.store.events import STREAMED_KIND, NewerPayload, UndecodableRow, decode_payload
from podium.store.replay import BATCH, HELD_MAX, fold_rows, held_reader
from podium.store.salvage import Damage, open_untouched

_SHOWN = 160  # characters of a reason kept in a report


@dataclass
class SnapshotReport:
    """What `check_snapshots` found: how many snapshots were read, which of this podium's fold
    hold what the log says, and which are damaged or wrong."""

    read: int = 0
    others: list[int] = field(default_factory=list)  # another podium's fold: a reload ignores them
    verified: list[int] = field(default_factory=list)
    damaged: list[Damage] = field(default_factory=list)


def check_snapshots(path: Path) -> SnapshotReport:
    """Every stored snapshot checked against the log (see the module). Call it on a file whose
    log `salvage.check` found whole: a damaged log is folded by nothing."""
    report = SnapshotReport()
    with open_untouched(path) as conn:
        conn.text_factory = str
        try:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'"
            ).fetchone()
            if found is None:
                return report
            rows = conn.execute(
                "SELECT seq, ts, fold, digest, CAST(body AS BLOB) FROM snapshots ORDER BY seq"
            ).fetchall()
        except sqlite3.Error as exc:
            report.damaged.append(
                Damage("the snapshots table", f"cannot be read ({_short(exc)})", kind="snapshot")
            )
            return report
        mine = fold_version()
        for seq, ts, fold, covered, body in rows:
            report.read += 1
            if fold != mine:
                report.others.append(int(seq))
                continue
            why = _problem(path, conn, int(seq), ts, int(covered), body)
            if why is None:
                report.verified.append(int(seq))
            else:
                report.damaged.append(
                    Damage(f"snapshot #{seq}", why, int(seq), int(seq), kind="snapshot")
                )
    return report


def _problem(
    path: Path, conn: sqlite3.Connection, seq: int, ts: Any, covered: int, body: Any
) -> str | None:
    """Why snapshot `seq` is not what the log says, or None when it is."""
    event = conn.execute("SELECT ts FROM events WHERE seq = ?", (seq,)).fetchone()
    if event is None or event[0] != ts:
        return f"it was made after an event #{seq} that is not the log's"
    try:
        document = snapshots.unpack(body)
    except zlib.error as exc:
        return f"its bytes are damaged (zlib: {str(exc)[:_SHOWN]})"
    except (ValueError, TypeError) as exc:
        return f"its bytes are damaged ({_short(exc)})"
    if _digest(conn, seq) != covered:
        return f"the events up to #{seq} changed since it was made (their digest differs)"
    shelf = ContentShelf(_Contents(path, conn))
    try:
        stored = decode(document, shelf)
    except UnusableSnapshot as exc:
        return f"it does not read as a view ({_short(exc)})"
    if stored.last_seq != seq:
        return f"it holds the view after #{stored.last_seq}, not #{seq}"
    folded = _fold(path, conn, seq, shelf)
    differ = [
        f.name
        for f in dataclasses.fields(ProductionView)
        if not _same(f.name, getattr(stored, f.name), getattr(folded, f.name))
    ]
    if differ:
        return (
            f"it does not hold the view the log gives up to #{seq} (it differs in "
            f"{', '.join(differ[:5])}{' …' if len(differ) > 5 else ''}): a reload would start "
            "from it"
        )
    return None


def _same(name: str, stored: Any, folded: Any) -> bool:
    """`stored == folded`, without reading back a content both leave in the same event."""
    if name != "artifacts" or stored.keys() != folded.keys():
        return bool(stored == folded)
    return all(_same_artifact(stored[key], folded[key]) for key in stored)


def _same_artifact(stored: Artifact, folded: Artifact) -> bool:
    if stored.content_held or folded.content_held:
        return stored == folded
    where = (stored.__pydantic_private__ or {}).get("_content_source")
    if where is None or where != (folded.__pydantic_private__ or {}).get("_content_source"):
        return stored == folded  # held in different events: their contents are compared
    fields = [name for name in type(stored).model_fields if name != "content"]
    return all(getattr(stored, name) == getattr(folded, name) for name in fields)


def _digest(conn: sqlite3.Connection, upto: int) -> int:
    """`snapshots.digest_of_log` on this connection (the file opened untouched)."""
    rows = conn.execute(
        "SELECT seq, 0, kind, CAST(payload AS BLOB) FROM events INDEXED BY events_kind "
        f"WHERE kind != '{STREAMED_KIND}' AND seq <= ?",
        (upto,),
    )
    total = 0
    while batch := rows.fetchmany(128):
        total = snapshots.digest(batch, total)
    return total


def _fold(path: Path, conn: sqlite3.Connection, upto: int, shelf: ContentShelf) -> ProductionView:
    """The view the log gives up to `upto`, folded as a reload folds it."""
    view = ProductionView()
    view.keep_contents_on(shelf)
    where = str(path)
    read = held_reader(where)
    rows = conn.execute(
        "SELECT seq, ts, kind, payload FROM events WHERE seq <= ? ORDER BY seq", (upto,)
    )
    while batch := rows.fetchmany(BATCH):
        fold_rows(view, batch, where, shelf)
        view.settle(read, beyond=HELD_MAX)
    view.settle(read)
    return view


class _Contents:
    """A shelf's reader over the check's own connection (`snapshots.ContentReader` opens the
    file again, which a check must not do)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self._path = path
        self._conn = conn

    def __call__(self, seq: int, artifact_id: str) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT kind, payload FROM events WHERE seq = ?", (seq,)
        ).fetchone()
        try:
            payload = decode_payload(seq, str(row[0]), row[1]) if row is not None else None
        except (UndecodableRow, NewerPayload):
            payload = None
        if not isinstance(payload, ArtifactCreated) or payload.artifact.id != artifact_id:
            raise UnusableSnapshot(f"event {seq} is not the one that recorded {artifact_id}")
        return payload.artifact.content


def _short(exc: BaseException) -> str:
    """The error in a few words, never the damaged bytes themselves (they may hold anything,
    terminal escapes included): SQLite's text-decoding error quotes the row's text."""
    text = str(exc)
    return not_utf8(text) or sanitize(f"{type(exc).__name__}: {text}")[:_SHOWN]
