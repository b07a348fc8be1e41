"""`podium fork`: copy a production's log up to a `seq` into a new, independent production.

The copy is written beside its destination under a temporary name, sealed, then published
whole; the source is read read-only (a running production's too: WAL lets it). A fork made
while a run was open ends that run in the copy (the production stopped, the run stopped, as a
stop would record them), so the fork reads as stopped and resumable, not as crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import time
from pathlib import Path

from podium.cli import EXIT_OK
from podium.cli.versions import _BATCH, BadInput, _guarded, _open, _to_terminal
from podium.domain.events import (
    Payload,
    ProductionOpened,
    ProductionState,
    ProductionStateChanged,
    RunStarted,
    RunStopped,
)
from podium.domain.text import clip


def fork(args: argparse.Namespace) -> int:
    return _guarded(lambda: _fork(Path(args.db_path), args.at, Path(args.new)))


async def _fork(db: Path, at: int, new: Path) -> int:
    from podium.store import files
    from podium.store.db import BUSY_TIMEOUT_S
    from podium.store.events import decode_events

    if at < 1:
        raise BadInput(f"--at {at}: a seq is 1 or more (see `podium log {db}`)")
    await asyncio.to_thread(_check_new, new)
    origin = f"{await asyncio.to_thread(db.resolve)}@{at}"
    store = await _open(db)
    temp = new.with_name(f".{new.name}.fork-{os.getpid()}")
    conn: sqlite3.Connection | None = None
    copied = 0
    run_open = False
    try:
        if at > store.last_seq:
            raise BadInput(f"--at {at}: {db} has events up to #{store.last_seq} only")
        first = await store.read(0, limit=1)
        if not first or not isinstance(first[0].payload, ProductionOpened):
            raise BadInput(f"{db}: this database holds no production yet")
        meta = {k: v for k in ("title", "format") if (v := await store.get_meta(k)) is not None}
        path, fresh = await asyncio.to_thread(files.prepare, temp, True, BUSY_TIMEOUT_S)
        conn = await asyncio.to_thread(files.open_writer, path, BUSY_TIMEOUT_S, fresh)
        since = 0
        while since < at:
            rows = [r for r in await store.read_rows(since, limit=_BATCH) if r[0] <= at]
            if not rows:
                break
            try:
                events = decode_events(rows)  # a damaged row is refused, not copied
            except Exception as exc:  # noqa: BLE001 - UndecodableRow, a newer payload
                raise BadInput(
                    f"{db}: an event up to #{at} cannot be read ({clip(str(exc), 200)}); "
                    f"`podium check {db}` shows what is damaged"
                ) from None
            await asyncio.to_thread(files.write_events, conn, list(rows), False)
            copied += len(rows)
            since = rows[-1][0]
            for event in events:
                if isinstance(event.payload, (RunStarted, RunStopped)):
                    run_open = isinstance(event.payload, RunStarted)
        if run_open:  # the copy's run ends here, as a stop would end it
            ended = _ended(since, f"forked from {origin}")
            await asyncio.to_thread(files.write_events, conn, ended, False)
        commands = await asyncio.to_thread(_commands_upto, db, at)
        for command_id, issued_at, body, taken in commands:
            await asyncio.to_thread(files.insert_command, conn, command_id, issued_at, body)
            await asyncio.to_thread(files.take_command, conn, command_id, taken)
        for key, value in {**meta, "forked_from": origin}.items():
            await asyncio.to_thread(files.upsert_meta, conn, key, value)
        await asyncio.to_thread(_seal, conn)
        conn = None
        await asyncio.to_thread(_publish, temp, new)
    finally:
        await store.close()
        if conn is not None:
            await asyncio.to_thread(conn.close)
        await asyncio.to_thread(_remove, temp)
    note = f"forked {db} at #{at} into {new}: {copied} events, {len(commands)} commands"
    if run_open:
        note += " (a run was open at that point: the fork records it stopped)"
    sys.stdout.write(f"{_to_terminal(note)}\nContinue it with `podium resume {new}`.\n")
    return EXIT_OK


def _ended(last: int, reason: str) -> list[tuple[int, float, str, str]]:
    """The rows that end a run in the copy after `last`: stopped, then the run's stop."""
    payloads: list[Payload] = [
        ProductionStateChanged(state=ProductionState.STOPPED),
        RunStopped(reason=reason),
    ]
    now = time.time()
    return [
        (last + i, now, p.kind, p.__pydantic_serializer__.to_json(p).decode())
        for i, p in enumerate(payloads, 1)
    ]


def _check_new(new: Path) -> None:
    if new.exists() or new.is_symlink():
        raise BadInput(f"--db {new}: it exists already; a fork goes to a new file")
    if not new.parent.is_dir():
        raise BadInput(f"--db {new}: there is no folder {new.parent}")


def _commands_upto(db: Path, at: int) -> list[tuple[str, float, str, int]]:
    """The commands-table rows that the events up to `at` recorded (taken at or before it)."""
    from podium.store.db import BUSY_TIMEOUT_S
    from podium.store.files import read_only_uri

    conn = sqlite3.connect(read_only_uri(db), uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        rows = conn.execute(
            "SELECT id, issued_at, body, taken_seq FROM commands "
            "WHERE taken_seq IS NOT NULL AND taken_seq <= ? ORDER BY taken_seq, rowid",
            (at,),
        ).fetchall()
    except sqlite3.Error as exc:
        raise BadInput(f"{db}: its commands cannot be read ({exc})") from None
    finally:
        conn.close()
    return [(str(i), float(t), str(b), int(s)) for i, t, b, s in rows]


def _seal(conn: sqlite3.Connection) -> None:
    """Everything on disk in the main file (no WAL left beside it), then closed."""
    try:
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _publish(temp: Path, new: Path) -> None:
    """The finished fork under its name, never over a file that appeared meanwhile."""
    try:
        os.link(temp, new)
    except FileExistsError:
        raise BadInput(
            f"--db {new}: it appeared while the fork was made; nothing was replaced"
        ) from None
    except OSError:  # a filesystem without hard links
        if new.exists():
            raise BadInput(f"--db {new}: it appeared while the fork was made") from None
        os.replace(temp, new)


def _remove(temp: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(str(temp) + suffix).unlink()
