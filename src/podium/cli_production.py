"""The production commands of the CLI: run, resume, status, inbox, decide, vision, constraints.

Imported only when one of them runs, so `podium --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_WAITING, say, warn
from podium.domain import health
from podium.domain.escalation import Action, Command
from podium.domain.events import ProductionOpened, ProductionState, RunStarted, RunStopped
from podium.domain.loading import ProductionFileError
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView
from podium.engine.engine import AutoApprove, Engine
from podium.llm.gateway import is_rehearsal
from podium.loader import read_production
from podium.locations import default_db_path
from podium.store import EventStore, StoreError

EXIT_BY_STATE = {
    ProductionState.COMPLETED: EXIT_OK,
    ProductionState.WAITING: EXIT_WAITING,
    ProductionState.FAILED: EXIT_FAILED,
    ProductionState.STOPPED: EXIT_WAITING,
    ProductionState.RUNNING: EXIT_FAILED,
}


class UserError(Exception):
    """Bad input the user can fix: printed as one message, exit 2."""


def _models_used(spec: ProductionSpec, override: str | None) -> list[str]:
    if override:
        return [override]
    return sorted({a.model or spec.models.default for a in spec.crew})


def check_models(models: list[str]) -> None:
    """Refuse a model string litellm cannot route before anything starts."""
    real = [m for m in models if not is_rehearsal(m)]
    if not real:
        return
    from podium.llm.litellm_backend import unknown_model_reason

    for model in real:
        reason = unknown_model_reason(model)
        if reason:
            raise UserError(reason)


async def _open_store(path: Path, *, create: bool, read_only: bool = False) -> EventStore:
    try:
        return await EventStore.open(path, create=create, read_only=read_only)
    except StoreError as exc:
        raise UserError(str(exc)) from None


async def load_view(path: Path) -> ProductionView:
    store = await _open_store(path, create=False, read_only=True)
    try:
        view = ProductionView()
        async for event in store.iter_events():
            view.apply(event)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    finally:
        await store.close()
    if view.spec is None:
        raise UserError(f"{path}: this database holds no production yet")
    return view


def engine_alive(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _running_pid(store: EventStore) -> int | None:
    """The pid of the engine that started the last run and has not stopped, if any."""
    pid: int | None = None
    for event in await store.read(kinds=("run_started", "run_stopped")):
        payload = event.payload
        if isinstance(payload, RunStarted):
            pid = payload.pid
        elif isinstance(payload, RunStopped):
            pid = None
    return pid


async def _run(args: argparse.Namespace, spec: ProductionSpec | None) -> int:
    resume = spec is None
    if spec is None:
        db = Path(args.db_path)
    else:
        db = Path(args.db) if args.db else default_db_path(spec.production.title)
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
        pid = await _running_pid(store)
        if engine_alive(pid):
            raise UserError(f"{db} is being run by process {pid}; use `podium decide` to steer it")
        try:
            engine = await Engine.open(
                store,
                spec=spec,
                source=str(getattr(args, "file", "")),
                seed=getattr(args, "seed", None),
                model_override=getattr(args, "model", None),
                auto_approve=AutoApprove(args.auto_approve),
                headless=True,
            )
        except ValueError as exc:
            raise UserError(f"{db}: {exc}") from None
        if resume:
            check_models(
                [engine.model_for(a) for a in engine.view.agents] or [engine.spec.models.default]
            )
        if not args.headless:
            warn(
                "podium: the conductor's TUI is not in this build yet; running headless. "
                "Add --headless to silence this notice."
            )
        if existing:
            warn(f"podium: resuming {db} ({engine.view.state.value})")
        from podium.headless import run_headless

        state = await run_headless(engine, str(db))
    finally:
        await store.close()
    return EXIT_BY_STATE[state]


def run(args: argparse.Namespace) -> int:
    def prepare() -> ProductionSpec:
        spec = read_production(Path(args.file))
        check_models(_models_used(spec, args.model))
        return spec

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
    except StoreError as exc:
        warn(f"podium: {exc}")
        return EXIT_FAILED
    return code


# -- status and inbox ----------------------------------------------------------------------


def status(args: argparse.Namespace) -> int:
    async def go() -> int:
        view = await load_view(Path(args.db_path))
        summary = view.summary()
        now = time.time()
        found = health.signals(view, now)
        summary["health"] = {
            "level": health.overall(view, now).label,
            "signals": [
                {"name": s.name, "value": s.value, "level": s.level.label} for s in found
            ],
        }
        if args.json:
            say(json.dumps(summary))
            return EXIT_OK
        from rich.console import Console

        from podium.headless import summary_lines

        console = Console(highlight=False)
        for line in summary_lines(view, args.db_path):
            console.print(line)
        console.print(f"health: {summary['health']['level']}", markup=False)
        for signal in found:
            console.print(f"  {signal.name}: {signal.value} ({signal.level.label})", markup=False)
        return EXIT_OK

    return _guarded(go)


def escalation_json(view: ProductionView) -> list[dict[str, Any]]:
    now = time.time()
    items = []
    for esc in view.open_escalations():
        items.append(
            {
                "id": esc.id,
                "kind": esc.kind.value,
                "priority": esc.priority.name.lower(),
                "title": esc.title,
                "task_id": esc.task_id,
                "territory": esc.territory.value,
                "age_s": round(now - esc.opened_at, 1),
                "actions": [a.value for a in esc.actions],
                "options": [o.model_dump() for o in esc.options],
                "detail": esc.detail,
                "evidence": esc.evidence,
                "artifact_ids": esc.artifact_ids,
                "debate_id": esc.debate_id,
            }
        )
    return items


def inbox(args: argparse.Namespace) -> int:
    async def go() -> int:
        view = await load_view(Path(args.db_path))
        items = escalation_json(view)
        if args.json:
            say(json.dumps(items))
            return EXIT_OK
        if not items:
            say("the inbox is empty")
        for item in items:
            say(
                f"{item['id']:<5} {item['priority']:<8} {item['kind']:<14} {item['title']}"
                f"  [{', '.join(item['actions'])}]"
            )
            for option in item["options"]:
                say(f"        option {option['id']}: {option['label']} — {option['summary']}")
        return EXIT_OK

    return _guarded(go)


# -- commands from the shell -----------------------------------------------------------------


async def submit(db: Path, command: Command) -> tuple[bool, str]:
    """Deliver a command: to the running engine through the store, or apply it here."""
    store = await _open_store(db, create=False)
    try:
        pid = await _running_pid(store)
        if engine_alive(pid):
            await store.submit_command(command)
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                for event in await store.read(kinds=("command_applied", "command_rejected")):
                    p = event.payload
                    if getattr(p, "command_id", None) == command.id:
                        applied = p.kind == "command_applied"
                        return applied, getattr(p, "effect", "") or getattr(p, "reason", "")
            return True, "recorded; the running production will apply it"
        engine = await Engine.open(store, headless=True)
        result = await engine.apply_offline(command)
        return result.applied, result.detail
    finally:
        await store.close()


def _command_id(args: argparse.Namespace) -> str:
    return str(args.id) if getattr(args, "id", None) else f"cli-{uuid.uuid4().hex[:12]}"


def _deliver(db: Path, command: Command) -> int:
    async def go() -> int:
        await load_view(db)  # a clear error for a missing or foreign file
        applied, detail = await submit(db, command)
        if applied:
            say(f"{command.id}: {detail}")
            return EXIT_OK
        warn(f"podium: cannot {command.action.value.replace('_', ' ')}: {detail}")
        return EXIT_BAD_INPUT

    return _guarded(go)


def decide(args: argparse.Namespace) -> int:
    try:
        action = Action(args.action.replace("-", "_"))
    except ValueError:
        warn(
            f"podium: unknown action {args.action!r}; one of " + ", ".join(a.value for a in Action)
        )
        return EXIT_BAD_INPUT
    text = " ".join(args.text)
    target = args.escalation_id
    escalation_id = None if target in ("-", "") else target
    task_id = args.task
    extra: dict[str, Any] = {}
    if action is Action.REASSIGN:
        extra["agent"] = text
    if args.replace:
        extra["replace"] = True
    if args.count:
        extra["count"] = args.count
    command = Command(
        id=_command_id(args),
        action=action,
        escalation_id=escalation_id,
        task_id=task_id,
        option_id=args.option,
        text=text,
        args=extra,
        issued_at=time.time(),
        origin="cli",
    )
    return _deliver(Path(args.db_path), command)


def vision(args: argparse.Namespace) -> int:
    command = Command(
        id=_command_id(args),
        action=Action.CLARIFY_VISION,
        text=" ".join(args.text),
        args={"section": args.section, "value": " ".join(args.text), "rerun": args.rerun},
        issued_at=time.time(),
        origin="cli",
    )
    return _deliver(Path(args.db_path), command)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def constraints(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    for pair in args.pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            warn(f"podium: {pair!r} is not KEY=VALUE (e.g. max_concurrency=4)")
            return EXIT_BAD_INPUT
        changes[key.strip()] = _value(value.strip())
    command = Command(
        id=_command_id(args),
        action=Action.ADJUST_CONSTRAINTS,
        args=changes,
        issued_at=time.time(),
        origin="cli",
    )
    return _deliver(Path(args.db_path), command)
