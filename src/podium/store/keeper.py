"""The store's side of state snapshots (`podium.store.snapshots`): the engine's live view kept
for snapshotting in the write path, and the newest usable snapshot read back on reload.

`SnapshotKeeper` holds what the writer needs between batches: the view (the fold of exactly the
committed log), the digest of the events committed so far, the seq the newest stored snapshot
covers, and the artifacts the snapshot being stored lets leave memory. Nothing here writes:
the store writes a due snapshot with the batch it covers (`files.write_events`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zlib import error as zlib_error

from podium.store import files, snapshots
from podium.store.errors import StoreError, translate
from podium.store.events import Row

if TYPE_CHECKING:
    from podium.domain.state import ProductionView

log = logging.getLogger("podium.store")

Fetch = Callable[[str, Sequence[Any]], Awaitable[list[Sequence[Any]]]]


class SnapshotKeeper:
    """The live view a store snapshots, and where its snapshots stand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.view: ProductionView | None = None  # the live view snapshots are taken of
        self.shelvable: list[str] = []  # artifacts the snapshot being stored leaves in the store
        self.covered = 0  # the seq the newest stored snapshot covers
        self.digest = 0  # of the committed log (`snapshots.digest`), while a view is kept

    def keep(self, view: ProductionView, covered: int, digest: int) -> None:
        """Snapshot `view` from now on (the first view offered: the engine's own)."""
        if self.view is None:
            self.view = view
            self.covered = covered
            self.digest = digest

    def digest_with(self, batch: list[Row]) -> int:
        """The committed log's digest once `batch` is committed too (0 while no view is kept)."""
        return snapshots.digest(batch, self.digest) if self.view is not None else 0

    def due(self, seq: int, digest: int, *, closing: bool = False) -> snapshots.Snapshot | None:
        """The snapshot to store with the events up to `seq`: the view's, when it has folded
        exactly those and one is due. Encoding runs here, on the loop, where the view is still."""
        view = self.view
        if view is None or view.last_seq != seq or view.last_ts is None:
            return None
        if seq <= self.covered or (not closing and seq - self.covered < snapshots.EVERY):
            return None
        from podium.domain.snapshot import encode, fold_version

        try:
            document, self.shelvable = encode(view)
        except Exception as exc:  # noqa: BLE001 - a cache: never stops the run
            log.warning("%s: no snapshot of the view (%r); reloads fold the log", self.path, exc)
            self.view = None
            return None
        return seq, view.last_ts, fold_version(), digest, document

    def committed(self, digest: int, snapshot: snapshots.Snapshot | None) -> None:
        """A batch is committed (with `snapshot`, when one was due): the big contents the
        snapshot refers to can leave memory."""
        self.digest = digest
        if snapshot is None:
            return
        self.covered = snapshot[0]
        view = self.view
        if view is not None and view.contents is not None:
            view.shelve(snapshot[0], sizes=dict.fromkeys(self.shelvable, 1))
        self.shelvable = []


async def read_newest(fetch: Fetch, path: Path, busy_timeout_s: float) -> snapshots.Snapshot | None:
    """The newest snapshot whose fold is this podium's and whose event is in the log as it was
    when the snapshot was made; None (with a log line saying why) otherwise."""
    from podium.domain.snapshot import fold_version

    found = await fetch(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots'", []
    )
    if not found:
        return None
    try:
        rows = await fetch(
            "SELECT seq, ts, fold, digest, body FROM snapshots ORDER BY seq DESC LIMIT 1", []
        )
    except StoreError as exc:  # a table of another shape (an earlier build's)
        log.info("%s: the snapshots cannot be read (%s): ignored", path, exc)
        return None
    if not rows:
        return None
    seq, ts, fold, covered, body = rows[0]
    if fold != fold_version():
        log.info("%s: snapshot #%s is another fold's (%s): ignored", path, seq, fold)
        return None
    event = await fetch("SELECT ts FROM events WHERE seq = ?", [seq])
    if not event or event[0][0] != ts:
        log.info("%s: snapshot #%s does not match the log: ignored", path, seq)
        return None
    try:
        document = await asyncio.to_thread(snapshots.unpack, body)
    except (ValueError, TypeError, zlib_error) as exc:
        log.info("%s: snapshot #%s cannot be read (%s): ignored", path, seq, exc)
        return None
    try:
        found_digest = await asyncio.to_thread(
            snapshots.digest_of_log, files.read_only_uri(path), int(seq), busy_timeout_s
        )
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    if found_digest != covered:
        log.info("%s: the events snapshot #%s covers changed since it was made: ignored", path, seq)
        return None
    return int(seq), float(ts), str(fold), int(covered), document
