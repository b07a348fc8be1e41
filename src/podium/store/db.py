"""The event store: an append-only SQLite log, the production's source of truth.

One thread owns the only writing connection, so writes are serialized without locks and a whole
batch of events costs one thread hop and one commit (group commit). Reads go through a separate
read-only aiosqlite connection: a big reload never waits behind a batch, and WAL lets other
processes read (and submit commands) while the engine writes.

One writer drains one bounded queue, and one slot holds its failure until a caller has seen it.
`emit` never waits: under HIGH_WATER queued events it only appends. Above it the store is
`congested` and the engine awaits `drained()` before it makes more (backpressure), so a slow or
stalled disk slows the run instead of filling memory; past CAPACITY, which only a caller that
ignores backpressure reaches, `emit` refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import aiosqlite

from podium.domain.escalation import Command
from podium.domain.event_json import payload_json
from podium.domain.events import Event, Payload
from podium.store import files, keeper, snapshots
from podium.store.errors import (
    CorruptDatabase,
    ReadOnlyDatabase,
    StoreError,
    damage_hint,
    translate,
)
from podium.store.events import (
    STREAMED_KIND,
    NewerPayload,
    Row,
    UndecodableRow,
    decode_command,
    decode_events,
)

BUSY_TIMEOUT_S = 5.0
BATCH_SIZE = 500  # wake the writer at once when this many events wait
LINGER_S = 0.020  # otherwise gather a batch for at most this long
HIGH_WATER = 10_000  # queued events; above this the engine awaits the writer (`drained`)
CAPACITY = 100_000  # queued events; `emit` refuses beyond this (tens of MB of rows)
_DECODE_IN_THREAD = 2000  # rows; parsing more than this would stall the event loop

_T = TypeVar("_T")

if TYPE_CHECKING:
    from podium.domain.state import ProductionView

log = logging.getLogger("podium.store")


class EventStore:
    """The production's event log, its meta facts and the command channel.

    `emit` is synchronous and cheap (the engine's hot path); a background task commits what was
    emitted in batches. Obtain one with `await EventStore.open(path)`, close it with `close()`
    or `async with`.
    """

    def __init__(
        self,
        path: Path,
        reader: aiosqlite.Connection,
        *,
        last_seq: int,
        writer: sqlite3.Connection | None = None,
        executor: ThreadPoolExecutor | None = None,
    ) -> None:
        """Use `open()`; this only assembles what it prepared."""
        self._path = path
        self._reader = reader
        self._conn = writer
        self._executor = executor
        self._read_only = writer is None
        self._last_seq = last_seq
        self._committed_seq = last_seq
        self._pending: list[Row] = []
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()  # set once fewer than HIGH_WATER await their commit
        self._drained.set()
        self._progress = asyncio.Event()
        self._error: StoreError | None = None
        self._accepting = not self._read_only
        self._urgent = 0
        self._inflight = False
        self._durable_upto = 0
        self._closed = False
        self._snapshots = keeper.SnapshotKeeper(path)  # the live view, snapshotted as it goes
        self._writer_task: asyncio.Task[None] | None = None
        if not self._read_only:
            self._writer_task = asyncio.create_task(self._run_writer(), name="podium-store-writer")

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        create: bool = True,
        read_only: bool = False,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> EventStore:
        """Open (or create) a production database, refusing anything that is not ours.

        Existing files are inspected through a read-only connection first, so a file that is
        not a podium database, is damaged or is too new is left exactly as it was.
        """
        path, new = await asyncio.to_thread(
            files.prepare, Path(path), create and not read_only, busy_timeout_s
        )
        loop = asyncio.get_running_loop()
        executor = None
        if not read_only:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="podium-store")
        writer: sqlite3.Connection | None = None
        reader: aiosqlite.Connection | None = None
        try:
            if executor is not None:
                writer = await loop.run_in_executor(
                    executor, files.open_writer, path, busy_timeout_s, new
                )
            uri = files.read_only_uri(path)
            reader = await aiosqlite.connect(uri, uri=True, timeout=busy_timeout_s)
            rows = await reader.execute_fetchall("SELECT coalesce(max(seq), 0) FROM events")
            last_seq = int(next(iter(rows))[0])
        except Exception as exc:
            with contextlib.suppress(Exception):
                if reader is not None:
                    await reader.close()
                if writer is not None:
                    await loop.run_in_executor(executor, writer.close)
            if executor is not None:
                executor.shutdown(wait=False)
            raise translate(exc, path) from exc
        return cls(path, reader, last_seq=last_seq, writer=writer, executor=executor)

    async def close(self) -> None:
        """Commit what was emitted, stop the writer and close; raises if that commit failed."""
        if self._closed:
            return
        failure: StoreError | None = None
        if not self._read_only:
            try:
                await self.flush()
            except StoreError:
                try:  # the first error may be stale; try once more before giving up
                    await self.flush()
                except StoreError as exc:
                    failure = exc
            if failure is None:
                await self._snapshot_at_close()
        self._closed = True
        self._accepting = False
        self._wake.set()
        self._drained.set()
        if self._writer_task is not None:
            with contextlib.suppress(Exception):
                await self._writer_task
        # The reader goes first so that the writer, closing last, checkpoints and removes the WAL.
        with contextlib.suppress(Exception):
            await self._reader.close()
        if self._conn is not None and self._executor is not None:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(self._executor, self._conn.close)
            self._executor.shutdown(wait=False)
        if failure is not None:
            raise failure

    async def __aenter__(self) -> EventStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def path(self) -> Path:
        return self._path

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def last_seq(self) -> int:
        """The last seq handed out (writable) or seen (read-only)."""
        return self._last_seq

    # -- writing events ----------------------------------------------------------------------

    def emit(self, payload: Payload) -> tuple[int, float]:
        """Queue an event for the next group commit; its seq and its timestamp, exactly as
        stored (the engine folds these, so its live view is the replay of the log). Never waits.

        Above HIGH_WATER queued events the caller should await `drained()` before it emits
        more; past CAPACITY this refuses with a StoreError (nothing is queued).
        """
        if not self._accepting:
            raise self._refusal()
        if self._last_seq - self._committed_seq >= CAPACITY:
            raise StoreError(  # a caller that ignored `congested` while the disk stood still
                f"{self._path}: {CAPACITY:,} events wait for the disk, which has stopped keeping "
                "up; the run stops here. Check that the disk is not stalled or full, then resume."
            )
        text = payload_json(payload).decode()
        seq = self._last_seq = self._last_seq + 1
        ts = time.time()
        pending = self._pending
        pending.append((seq, ts, payload.kind, text))
        size = len(pending)
        if size == 1 or size >= BATCH_SIZE:
            self._wake.set()
        return seq, ts

    @property
    def congested(self) -> bool:
        """HIGH_WATER events or more are not committed yet: await `drained()` before emitting."""
        return self._last_seq - self._committed_seq >= HIGH_WATER

    async def drained(self) -> None:
        """Return once fewer than HIGH_WATER events wait for their commit, or the writer failed
        or stopped.

        Cheap when the store is not congested. A failure is not raised here: the next `emit`
        or `flush` reports it.
        """
        while self.congested and self._error is None and not self._closed:
            if self._writer_task is None or self._writer_task.done():
                return
            self._drained.clear()
            self._wake.set()
            await self._drained.wait()

    async def flush(self) -> None:
        """Return once every event emitted so far is committed."""
        if self._committed_seq >= self._last_seq and self._error is None:
            return
        if not self._accepting:
            raise self._refusal()
        error = await self._wait_committed(self._last_seq)
        if error is not None:
            raise self._deliver(error)

    async def append_durable(self, payload: Payload) -> Event:
        """Record a human command's event, synced to disk (synchronous=FULL) before returning.

        Everything emitted before it is committed with it. If this raises, the event is not
        recorded (its seq is left unused) and the earlier events stay queued for a retry.
        """
        seq, ts = self.emit(payload)
        self._durable_upto = seq
        error = await self._wait_committed(seq)
        if error is not None:  # no batch is in flight while an error waits to be delivered
            self._pending = [row for row in self._pending if row[0] != seq]
            self._settled()
            raise self._deliver(error)
        return Event(seq=seq, ts=ts, payload=payload)

    # -- reading events ----------------------------------------------------------------------

    async def read(
        self,
        since: int = 0,
        *,
        limit: int | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[Event]:
        """Events with seq > since, in order; includes what this store emitted and has queued."""
        sql = "SELECT seq, ts, kind, payload FROM events WHERE seq > ?"
        params: list[Any] = [since]
        if kinds is not None:
            wanted = sorted(set(kinds))
            if not wanted:
                return []
            sql += f" AND kind IN ({', '.join('?' * len(wanted))})"
            params.extend(wanted)
            if STREAMED_KIND not in wanted:
                sql += f" AND kind != '{STREAMED_KIND}'"  # lets SQLite use the partial index
        sql += " ORDER BY seq"
        if limit is not None:
            if limit <= 0:
                return []
            sql += " LIMIT ?"
            params.append(limit)
        await self._settle()
        rows = await self._fetch(sql, params)
        try:
            if len(rows) > _DECODE_IN_THREAD:
                events = await asyncio.to_thread(decode_events, rows)
            else:
                events = decode_events(rows)
        except UndecodableRow as exc:
            raise CorruptDatabase(
                f"{self._path}: {exc}. The log is damaged. {damage_hint(self._path)}"
            ) from None
        except NewerPayload as exc:
            raise exc.at(self._path) from None
        if self._read_only and events and events[-1].seq > self._last_seq:
            self._last_seq = self._committed_seq = events[-1].seq
        return events

    async def read_rows(self, since: int = 0, *, limit: int) -> list[Row]:
        """Stored rows with seq > since, in order, undecoded (see `podium.store.replay`)."""
        await self._settle()
        rows = await self._fetch(
            "SELECT seq, ts, kind, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            [since, limit],
        )
        if self._read_only and rows and rows[-1][0] > self._last_seq:
            self._last_seq = self._committed_seq = rows[-1][0]
        return cast(list[Row], rows)

    async def iter_events(self, since: int = 0, batch: int = 5000) -> AsyncIterator[Event]:
        """All events after `since`, read a batch at a time so a long log never sits in memory."""
        while True:
            events = await self.read(since, limit=batch)
            for event in events:
                yield event
            if len(events) < batch:
                return
            since = events[-1].seq

    # -- state snapshots (a cache of the log: podium.store.snapshots) ----------------------------

    async def read_snapshot(self) -> snapshots.Snapshot | None:
        """The newest usable snapshot (`keeper.read_newest`), or None with a log line."""
        return await keeper.read_newest(self._fetch, self._path, BUSY_TIMEOUT_S)

    def keep_snapshots(self, view: ProductionView, covered: int, digest: int) -> None:
        """Snapshot `view` (the engine's live view, the fold of this store's log) in the write
        path: with the batch that reaches `snapshots.EVERY` events after the last snapshot
        (`covered`: the seq the stored one covers) and at a clean close. `digest`: that of the
        log up to `view.last_seq` (`snapshots.digest`)."""
        if not self._read_only:
            self._snapshots.keep(view, covered, digest)

    async def _snapshot_at_close(self) -> None:
        kept = self._snapshots
        snapshot = kept.due(self._committed_seq, kept.digest, closing=True)
        if snapshot is None:
            return
        try:
            await self._write(files.write_snapshot, snapshot)
        except StoreError as exc:
            log.info("%s: the snapshot at close was not stored (%s)", self._path, exc)
        else:
            kept.committed(kept.digest, snapshot)

    # -- meta ---------------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        rows = await self._fetch("SELECT value FROM meta WHERE key = ?", [key])
        return str(rows[0][0]) if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        await self._write(files.upsert_meta, key, value)

    # -- commands from other processes -------------------------------------------------------

    async def submit_command(
        self,
        command: Command,
        *,
        seen_seq: int | None = None,
        inert: Collection[str] = (),
    ) -> bool:
        """Record a command durably; False if one with that id was already submitted.

        With `seen_seq` (the last event the caller has read), a command on an escalation is
        refused with CommandConflict, nothing recorded, when another command on it that the
        caller cannot have seen applied would decide it first (commands whose action is in
        `inert` decide nothing).
        """
        issued_at = command.issued_at or time.time()
        guard = None
        if seen_seq is not None and command.escalation_id is not None:
            guard = (command.escalation_id, seen_seq, tuple(inert))
        return await self._write(
            files.insert_command, command.id, issued_at, command.model_dump_json(), guard
        )

    async def pending_commands(self) -> list[Command]:
        """Commands not yet taken by the engine, oldest first."""
        rows = await self._fetch(
            "SELECT id, body FROM commands WHERE taken_seq IS NULL ORDER BY issued_at, rowid", []
        )
        try:
            return [decode_command(command_id, body) for command_id, body in rows]
        except UndecodableRow as exc:
            raise CorruptDatabase(
                f"{self._path}: {exc}. Remove that command with an SQLite tool, or restore "
                "the file from a backup."
            ) from None

    async def mark_command_taken(self, command_id: str, seq: int) -> None:
        """Note which event recorded the command; marking it again changes nothing."""
        if not await self._write(files.take_command, command_id, seq):
            raise StoreError(f"{self._path}: there is no command {command_id!r} to take.")

    # -- internals -----------------------------------------------------------------------------

    async def _run_writer(self) -> None:
        """Group commit: gather what was emitted for up to LINGER_S, then write it in one go."""
        wake = self._wake
        try:
            while True:
                await wake.wait()
                wake.clear()
                # An undelivered error holds retries until a caller has seen it.
                if self._error is None and self._pending:
                    if len(self._pending) < BATCH_SIZE and not self._urgent and not self._closed:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(LINGER_S):
                                await wake.wait()
                        wake.clear()  # close() may have set it meanwhile: checked below
                    await self._write_pending()
                    if self._pending:
                        wake.set()
                if self._closed:
                    # close() flushed (or said why it could not); what was emitted while it
                    # closed has just been written, so nothing accepted is left behind.
                    return
        except Exception as exc:  # a bug here must not leave flush() waiting forever
            self._fail(StoreError(f"{self._path}: the event writer stopped: {exc!r}"))
            self._notify()

    async def _write_pending(self) -> None:
        batch = self._pending
        self._pending = []
        durable = self._durable_upto > self._committed_seq
        digest = self._snapshots.digest_with(batch)
        snapshot = self._snapshots.due(batch[-1][0], digest)
        self._inflight = True
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._executor, files.write_events, self._require_conn(), batch, durable, snapshot
            )
        except Exception as exc:
            self._pending = batch + self._pending  # nothing is dropped; retried once seen
            self._fail(translate(exc, self._path))
        else:
            self._settled()
            self._snapshots.committed(digest, snapshot)
        finally:
            self._inflight = False
            self._notify()

    async def _wait_committed(self, target: int) -> StoreError | None:
        """Wait for the writer to commit up to `target`; the writer's error if it fails first."""
        self._urgent += 1
        try:
            while self._committed_seq < target:
                if self._error is not None:
                    return self._error
                if not self._pending and not self._inflight:
                    self._settled()  # the rest was given up (a failed append_durable)
                    continue
                if self._writer_task is None or self._writer_task.done():
                    return StoreError(f"{self._path}: the event store is closed.")
                progress = self._progress
                self._wake.set()
                await progress.wait()
            return None
        finally:
            self._urgent -= 1

    async def _settle(self) -> None:
        """Let queued events land before a read, unless the writer is failing."""
        if not self._read_only and not self._closed and self._error is None:
            if self._committed_seq < self._last_seq:
                await self._wait_committed(self._last_seq)

    def _settled(self) -> None:
        """Everything before the first queued row is committed (or was given up)."""
        self._committed_seq = self._pending[0][0] - 1 if self._pending else self._last_seq

    def _fail(self, error: StoreError) -> None:
        self._error = error
        self._accepting = False

    def _deliver(self, error: StoreError) -> StoreError:
        """Hand a stored writer error to one caller.

        The failed events stay queued; the next flush (or a full batch) retries them, so a user
        who frees disk space and retries is not shown the stale error again.
        """
        if self._error is error:
            self._error = None
            self._accepting = not (self._closed or self._read_only)
        return error

    def _notify(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()
        if not self.congested or self._error is not None or self._closed:
            self._drained.set()

    def _refusal(self) -> StoreError:
        if self._closed:
            return StoreError(f"{self._path}: the event store is closed.")
        if self._read_only:
            return ReadOnlyDatabase(
                f"{self._path} was opened read-only; open it without read_only to write."
            )
        if self._error is not None:
            return self._deliver(self._error)
        return StoreError(f"{self._path}: the event store is not accepting events.")

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        if self._closed:
            raise StoreError(f"{self._path}: the event store is closed.")
        try:
            rows = await self._reader.execute_fetchall(sql, params)
        except Exception as exc:
            raise translate(exc, self._path) from exc
        return list(rows)

    def _require_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise self._refusal()
        return self._conn

    async def _write(self, work: Callable[..., _T], *args: Any) -> _T:
        """Run one small transaction on the writer thread, after any batch already handed to it."""
        if self._conn is None or self._executor is None or self._closed:
            raise self._refusal()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, work, self._conn, *args
            )
        except Exception as exc:
            raise translate(exc, self._path) from exc
