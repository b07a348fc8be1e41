"""The production commands of the CLI: run, resume and status (inbox, decide, vision and
constraints are in `podium.cli.decide`).

Imported only when one of them runs, so `podium --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podium.cli import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_WAITING,
    release_collector,
    say,
    settle_collector,
    warn,
)
from podium.domain import health
from podium.domain.events import ProductionOpened, ProductionState
from podium.domain.loading import LoadedProduction, ProductionFileError
from podium.domain.production import ProductionSpec, model_name_problem
from podium.domain.state import ProductionView, UnreadableLog
from podium.engine.engine import AutoApprove, Engine
from podium.llm.types import is_rehearsal
from podium.loader import read_production_file
from podium.locations import default_db_path, remember
from podium.locks import AlreadyRunning, EngineLock, LockError, holder
from podium.store import (
    CorruptDatabase,
    EventStore,
    NewerSchema,
    NotAPodiumDatabase,
    StoreError,
)
from podium.store.db import BUSY_TIMEOUT_S
from podium.store.errors import ENVIRONMENT_ERRORS
from podium.store.files import prepare as prepare_database
from podium.store.files import read_only_uri
from podium.store.replay import replay

if TYPE_CHECKING:
    pass

EXIT_BY_STATE = {
    ProductionState.COMPLETED: EXIT_OK,
    ProductionState.WAITING: EXIT_WAITING,
    ProductionState.FAILED: EXIT_FAILED,
    ProductionState.STOPPED: EXIT_WAITING,
    ProductionState.RUNNING: EXIT_FAILED,
}


class UserError(Exception):
    """Bad input the user can fix: printed as one message, exit 2."""


def _unroutable(models: Iterable[str]) -> dict[str, str]:
    """Why litellm cannot route each model that it cannot; litellm is imported only for real
    models, so a rehearsal production never waits for it."""
    real = sorted({m for m in models if not is_rehearsal(m)})
    if not real:
        return {}
    from podium.llm.litellm_backend import unknown_model_reason

    return {m: reason for m in real if (reason := unknown_model_reason(m))}


def check_models(production: LoadedProduction, override: str | None) -> None:
    """Refuse a model string litellm cannot route before anything starts, saying where it is.

    The file's model names already passed validation's shape check (provider/model); this
    adds what only litellm knows: whether it has heard of the provider.
    """
    if override:
        if reason := model_name_problem(override) or _unroutable([override]).get(override):
            raise UserError(f"--model: {reason}")
        return
    places = production.spec.models_in_use()
    reasons = _unroutable(model for _, model in places)
    issues = [production.issue(loc, reasons[model]) for loc, model in places if model in reasons]
    if issues:
        raise ProductionFileError(issues)


def check_stored_models(db: Path, models: Iterable[str]) -> None:
    """The same check on resume, for the models the database's production calls."""
    if reasons := _unroutable(models):
        raise UserError(f"{db}: " + "; ".join(reasons.values()))


def _refusal(path: Path, exc: StoreError) -> Exception:
    """The store's reason, plus the likely mix-up: a production file given for a database.
    An environment error stays a StoreError (exit 1); the rest is bad input (exit 2)."""
    if isinstance(exc, ENVIRONMENT_ERRORS):
        return exc
    message = str(exc)
    if isinstance(exc, NotAPodiumDatabase) and path.suffix.lower() == ".toml":
        message += f" It looks like a production file: start it with `podium run {path}`."
    return UserError(message)


def _not_a_file(path: Path) -> None:
    """A pipe or a device given for a database would block the store's first read forever."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreadable: the store says so in its own words
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UserError(f"{path} is not a regular file, so not a production database")


def check_database(path: Path, *, create: bool) -> None:
    """Refuse a foreign, damaged or newer database before anything is written beside it.

    Runs before the engine lock is taken, so a refused command leaves no `DB.lock` (nor a
    `DB.log`) behind. Blocking: a few reads of the file's header.
    """
    _not_a_file(path)
    try:
        prepare_database(path, create, BUSY_TIMEOUT_S)
    except StoreError as exc:
        raise _refusal(path, exc) from None


async def _open_store(path: Path, *, create: bool, read_only: bool = False) -> EventStore:
    await asyncio.to_thread(_not_a_file, path)
    try:
        return await EventStore.open(path, create=create, read_only=read_only)
    except StoreError as exc:
        raise _refusal(path, exc) from None


async def load_view(path: Path) -> ProductionView:
    store = await _open_store(path, create=False, read_only=True)
    try:
        view = ProductionView()
        # The fast fold (streamed chunks read only where they still show): `podium status`
        # on a 1,000,000-event series took 9.2 s decoding every chunk (issue 20).
        await replay(store, view)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    finally:
        await store.close()
    if view.spec is None:
        raise UserError(f"{path}: this database holds no production yet")
    return view


async def _run(args: argparse.Namespace, spec: ProductionSpec | None) -> int:
    resume = spec is None
    if spec is None:
        db = Path(args.db_path)
    else:
        db = Path(args.db) if args.db else default_db_path(spec.production.title)
    await asyncio.to_thread(check_database, db, create=not resume)
    new = not db.exists()
    try:
        lock = EngineLock.acquire(db)
    except AlreadyRunning as exc:
        raise UserError(str(exc)) from None
    opened: list[Engine] = []
    failed = True
    try:
        remember(db)
        code = await _run_locked(args, spec, db, opened)
        failed = False
        return code
    except BaseException:
        if not opened and new:  # a start that failed leaves no empty database behind
            await asyncio.to_thread(_remove_if_empty, db)
        raise
    finally:
        lock.release(remove=failed)  # nor a lock file it made (one that was there stays)


def _remove_if_empty(db: Path) -> None:
    """Delete a database this start created if it holds no event (nor its -wal and -shm)."""
    try:
        if db.stat().st_size:
            conn = sqlite3.connect(read_only_uri(db), uri=True, timeout=BUSY_TIMEOUT_S)
            try:
                if conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is not None:
                    return
            finally:
                conn.close()
    except (OSError, sqlite3.Error):
        return  # unreadable: not ours to judge, so left as it is
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(str(db) + suffix).unlink()


async def _run_locked(
    args: argparse.Namespace, spec: ProductionSpec | None, db: Path, started: list[Engine]
) -> int:
    resume = spec is None
    store = await _open_store(db, create=not resume)
    try:
        existing = await store.read(limit=1)
        if spec is not None and existing:
            opened = existing[0].payload
            if isinstance(opened, ProductionOpened) and opened.spec != spec.model_dump(mode="json"):
                raise UserError(
                    f"{db} holds a different version of this production. Continue it with "
                    f"`podium resume {db}`, or start afresh with `--db NEW.db`."
                )
            if args.model or args.seed is not None:
                warn("podium: resuming an existing production; --model and --seed are ignored")
        try:
            engine = await Engine.open(
                store,
                spec=spec,
                source=str(getattr(args, "file", "")),
                seed=getattr(args, "seed", None),
                model_override=getattr(args, "model", None),
                auto_approve=AutoApprove(args.auto_approve),
                headless=args.headless,
                keep_alive=not args.headless or getattr(args, "stay", False),
                exit_when_done=getattr(args, "stay", False),
            )
        except ValueError as exc:
            raise UserError(f"{db}: {exc}") from None
        if resume:
            check_stored_models(
                db,
                [engine.model_for(a) for a in engine.view.agents] or [engine.spec.models.default],
            )
        if existing:
            warn(f"podium: resuming {db} ({engine.view.state.value})")
        started.append(engine)  # from here on the run has started
        if not args.headless and sys.stdin.isatty() and sys.stdout.isatty():
            state = await _conduct(engine, db, getattr(args, "theme", None))
        else:
            if not args.headless:
                warn("podium: not a terminal, so running headless; add --headless to say so")
                engine.keep_alive = False
            from podium.cli.headless import run_headless

            release_collector()
            state = await run_headless(engine, str(db))
    finally:
        await store.close()
    return EXIT_BY_STATE[state]


async def _conduct(engine: Engine, db: Path, theme: str | None) -> ProductionState:
    """The conductor's screen. An unknown --theme is bad input, said before anything is drawn."""
    from podium.seam.sources import InProcessSource
    from podium.tui.app import PodiumApp, run_tui
    from podium.tui.themes import ThemeError

    PodiumApp.settled = settle_collector
    release_collector()
    try:
        return await run_tui(InProcessSource(engine, db), str(db), theme=theme)
    except ThemeError as exc:
        raise UserError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    def prepare() -> ProductionSpec:
        production = read_production_file(Path(args.file))
        check_models(production, args.model)
        return production.spec

    return _guarded(lambda: _run(args, prepare()))


def resume(args: argparse.Namespace) -> int:
    return _guarded(lambda: _run(args, None))


def _guarded(make: Any) -> int:
    try:
        code: int = asyncio.run(make())
    except ProductionFileError as exc:
        for issue in exc.issues:
            warn(str(issue))
        return EXIT_BAD_INPUT
    except UserError as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    except (NewerSchema, CorruptDatabase, NotAPodiumDatabase) as exc:
        warn(f"podium: {exc}")  # what the database holds, as `status` says it: bad input
        return EXIT_BAD_INPUT
    except (StoreError, LockError) as exc:  # the environment refused: read-only, full, locked
        warn(f"podium: {exc}")
        return EXIT_FAILED
    except UnreadableLog as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    return code


# -- status and inbox ----------------------------------------------------------------------


def engine_of(db: Path, view: ProductionView) -> tuple[str, int | None]:
    """Whether an engine runs the production, and its pid: "running"; "crashed" when the
    engine that held it died mid-run (its run never recorded its end); else "none"."""
    pid = holder(db)
    if pid is not None:
        return "running", pid
    return ("crashed" if view.run_open else "none"), None


def status(args: argparse.Namespace) -> int:
    async def go() -> int:
        db = Path(args.db_path)
        view = await load_view(db)
        engine, pid = engine_of(db, view)
        summary = view.summary()
        # `state` keeps DESIGN.md's five values; whether an engine runs it is said beside it.
        summary["engine"] = engine
        summary["pid"] = pid
        summary["last_seq"] = view.last_seq  # the log's last event (`podium log`, `fork --at`)
        now = time.time()
        found = health.signals(view, now)
        summary["health"] = {
            "level": health.overall(view, now).label,
            "signals": [{"name": s.name, "value": s.value, "level": s.level.label} for s in found],
        }
        if args.json:
            say(json.dumps(summary))
            return EXIT_OK
        from rich.console import Console

        from podium.cli.headless import summary_lines

        console = Console(highlight=False)
        if engine == "crashed":
            console.print(
                f"crashed: the engine running {db} died mid-run; nothing acknowledged is lost. "
                f"Continue with `podium resume {db}`.",
                markup=False,
            )
        for line in summary_lines(view, args.db_path):
            console.print(line)
        console.print(f"last event: #{view.last_seq}", markup=False)
        console.print(f"health: {summary['health']['level']}", markup=False)
        for signal in found:
            console.print(f"  {signal.name}: {signal.value} ({signal.level.label})", markup=False)
        return EXIT_OK

    return _guarded(go)
