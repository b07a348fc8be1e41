"""Productions that outlive the terminal: run in the background, attach, list, stop.

A detached engine is the ordinary headless engine started in its own session, writing its
output to `DB.log`; it holds `DB.lock` while it runs and stays up while it waits on the
Orchestrator. Everything else reaches it through the store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.cli import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_WAITING,
    hold_collector,
    release_collector,
    say,
    settle_collector,
    warn,
)
from podium.locks import holder

if TYPE_CHECKING:
    from podium.domain.state import ProductionView

START_WAIT_S = 15.0


def log_path(db: Path) -> Path:
    return db.with_name(db.name + ".log")


def run(args: argparse.Namespace) -> int:
    hold_collector()
    from podium.cli import production as cli_production

    if not args.detach:
        return cli_production.run(args)
    from podium.domain.loading import ProductionFileError
    from podium.loader import read_production_file
    from podium.locations import default_db_path

    try:
        production = read_production_file(Path(args.file))
        cli_production.check_models(production, args.model)
    except ProductionFileError as exc:
        for issue in exc.issues:
            warn(str(issue))
        return EXIT_BAD_INPUT
    except cli_production.UserError as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    db = Path(args.db) if args.db else default_db_path(production.spec.production.title)
    argv = ["run", str(args.file), "--db", str(db)]
    if args.model:
        argv += ["--model", args.model]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    return _detach(db, argv, args.auto_approve)


def resume(args: argparse.Namespace) -> int:
    hold_collector()
    from podium.cli import production as cli_production

    if not args.detach:
        return cli_production.resume(args)
    db = Path(args.db_path)
    if (refused := _refused(db, create=False)) is not None:
        return refused
    return _detach(db, ["resume", str(db)], args.auto_approve)


def _refused(db: Path, *, create: bool) -> int | None:
    """check_database, said in one sentence: exit 2 for a file that is no usable production,
    1 when the environment refuses (read-only, full, locked); None when it may go ahead."""
    from podium.cli import production as cli_production
    from podium.store import StoreError

    try:
        cli_production.check_database(db, create=create)
    except cli_production.UserError as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    except StoreError as exc:
        warn(f"podium: {exc}")
        return EXIT_FAILED
    return None


def _detach(db: Path, argv: list[str], auto_approve: str) -> int:
    running = holder(db)
    if running is not None:
        warn(
            f"podium: {db} is already running in process {running}; attach with "
            f"`podium attach {db}`"
        )
        return EXIT_BAD_INPUT
    # Here, before the background engine writes DB.log beside a file it will refuse.
    if (refused := _refused(db, create=argv[0] == "run")) is not None:
        return refused
    log = log_path(db)
    command = [
        sys.executable,
        "-m",
        "podium",
        *argv,
        "--headless",
        "--stay",
        "--auto-approve",
        auto_approve,
    ]
    started_at = log.stat().st_size if log.is_file() else 0
    try:
        with log.open("ab") as out:
            out.write(
                f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} podium {' '.join(argv)}\n".encode()
            )
            out.flush()
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,  # no controlling terminal: closing ours does not stop it
                close_fds=True,
            )
    except OSError as exc:
        from podium.locks import unwritable

        warn(f"podium: {unwritable(db, log, exc)}")
        return EXIT_FAILED
    # Ready means the engine holds the lock and has recorded its run in the database: it has
    # opened the production and written to it. Until then it may still die at once.
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return _died(db, log, started_at, child.returncode)
        if holder(db) == child.pid and _run_recorded(db, child.pid):
            say(f"podium: {db} is running in the background (process {child.pid})")
            say(f"  attach:  podium attach {db}")
            say(f"  inbox:   podium inbox {db}")
            say(f"  stop:    podium stop {db}")
            say(f"  log:     {log}")
            return EXIT_OK
        time.sleep(0.05)
    warn(
        f"podium: the background engine (process {child.pid}) has not started running {db} "
        f"within {START_WAIT_S:.0f}s; see {log}, and `podium ps`"
    )
    return EXIT_FAILED


def _run_recorded(db: Path, pid: int) -> bool:
    """Whether the newest run recorded in `db` was started by process `pid` (read-only)."""
    import sqlite3

    from podium.store.files import read_only_uri

    try:
        conn = sqlite3.connect(read_only_uri(db), uri=True, timeout=1.0)
        try:
            row = conn.execute(
                "SELECT json_extract(payload, '$.pid') FROM events WHERE kind = 'run_started' "
                "ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False  # not written yet, or busy: look again
    return row is not None and row[0] == pid


def _died(db: Path, log: Path, since: int, code: int) -> int:
    """The background engine stopped before it ran: why, from what it wrote to its log."""
    try:
        with log.open("rb") as file:
            file.seek(since)
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    from podium.domain.text import sanitize

    lines = [sanitize(line) for line in text.splitlines()[1:] if line.strip()]  # after our header
    reasons = [line for line in lines if line.startswith("podium: ") and "resuming" not in line]
    reason = (reasons or lines or [f"exit {code}, no reason written"])[-1].removeprefix("podium: ")
    warn(f"podium: the background engine for {db} stopped at once: {reason}")
    warn(f"  its log: {log}")
    return EXIT_FAILED


def attach(args: argparse.Namespace) -> int:
    hold_collector()  # as a resume's start: the follower's replay made, then frozen
    db = Path(args.db_path)
    from podium.cli import production as cli_production

    async def go() -> int:
        view = await cli_production.load_view(db)
        if holder(db) is None and view.state.value == "completed" and not view.run_open:
            warn(
                f"podium: {db} is completed; no engine runs it, so there is nothing to attach "
                f"to. `podium resume {db}` opens it in the screen, and "
                f"`podium export {db} --out DIR` writes its deliverables."
            )
            return EXIT_OK
        if holder(db) is None:
            warn(
                f"podium: no engine is running {db} ({_idle(view)}). Resume it with "
                f"`podium resume {db}`, or `podium resume {db} --detach` to keep it running "
                "in the background."
            )
            return EXIT_WAITING
        from podium.attach import StoreFollower

        follower = await StoreFollower.open(db)
        try:
            from podium.seam.sources import AttachedSource
            from podium.tui.app import PodiumApp, run_tui

            PodiumApp.settled = settle_collector
            release_collector()
            await run_tui(AttachedSource(follower), str(db), theme=args.theme)
        finally:
            await follower.close()
        return EXIT_OK

    return cli_production._guarded(go)


def _idle(view: ProductionView) -> str:
    """Why no engine runs a production, in a few words."""
    if view.run_open:
        return "its engine crashed or was killed; nothing acknowledged is lost"
    return f"it is {view.state.value}"


def _describe(db: Path) -> dict[str, Any]:
    from podium.cli import production as cli_production
    from podium.store import StoreError

    try:
        view = asyncio.run(cli_production.load_view(db))
    except (cli_production.UserError, StoreError) as exc:
        return {"db": str(db), "state": "unreadable", "detail": str(exc).splitlines()[0]}
    engine, pid = cli_production.engine_of(db, view)
    counts = view.task_counts()
    total = sum(counts.values())
    settled = counts["done"] + counts["skipped"]
    open_items = len(view.open_escalations())
    if engine == "running":
        state = "waiting" if view.state.value == "waiting" else "running"
    else:
        state = "crashed" if engine == "crashed" else view.state.value
    return {
        "db": str(db),
        "title": view.spec.production.title if view.spec else None,
        "state": state,
        "pid": pid,
        "open_escalations": open_items,
        "tasks_done": settled,
        "tasks": total,
        "age_s": round(time.time() - (view.last_ts or time.time()), 1),
    }


def ps(args: argparse.Namespace) -> int:
    from podium.domain.text import clip, flatten
    from podium.locations import data_dir, known_databases

    folder = data_dir() / "productions"
    found = sorted(folder.glob("*.db")) if folder.is_dir() else []
    # Those run with --db elsewhere too, while they are still there.
    found += [db for db in known_databases() if db.is_file() and db not in found]
    rows = [_describe(db) for db in found]
    if args.json:
        say(json.dumps(rows))
        return EXIT_OK
    if not rows:
        say(f"no productions in {folder}")
        return EXIT_OK
    say(f"{'TITLE':<28} {'STATE':<22} {'TASKS':<12} {'LAST EVENT':<10}  DATABASE")
    for row in rows:
        if row["state"] == "unreadable":
            say(f"{'?':<28} {'unreadable':<22} {'':<12} {'':<10}  {flatten(row['db'])}")
            say(f"  {flatten(row['detail'])}")
            continue
        state = row["state"]
        if state == "waiting":
            state = f"waiting on you ({row['open_escalations']})"
        tasks = f"{row['tasks_done']}/{row['tasks']} done"
        title = clip(row["title"] or "?", 28)  # stored text: shown sanitized
        say(
            f"{title:<28} {state:<22} {tasks:<12} {_age(row['age_s']) + ' ago':<10}  "
            f"{flatten(row['db'])}"
        )
    return EXIT_OK


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def stop(args: argparse.Namespace) -> int:
    from podium.cli import production as cli_production
    from podium.cli.decide import _deliver
    from podium.domain.escalation import StopCommand

    db = Path(args.db_path)
    pid = holder(db)
    if pid is None:

        async def idle() -> int:
            view = await cli_production.load_view(db)  # a clear error for a file not ours
            # Already where `stop` would leave it: success, said plainly.
            say(f"podium: nothing to stop: no engine is running {db} ({_idle(view)})")
            return EXIT_OK

        return cli_production._guarded(idle)
    command = StopCommand(
        id=f"stop-{os.getpid()}-{int(time.time())}", issued_at=time.time(), origin="cli"
    )
    code = _deliver(db, command, quiet=True)
    if code != EXIT_OK:
        return code
    deadline = time.monotonic() + 30
    while holder(db) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if holder(db) is not None:
        warn(f"podium: process {pid} has not stopped yet; it finishes what it was writing first")
        return EXIT_FAILED
    say(f"podium: stopped; continue with `podium resume {db}`")
    return EXIT_OK
