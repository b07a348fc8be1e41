"""The Orchestrator's read tools on versions: `podium show`, `diff` and `log` (`fork` is in
`podium.cli.fork`).

Each reads the production's log read-only (a running production's too: WAL lets it), folds it,
and asks `podium.domain.versions` which artifact is which version. `show` and `diff` print a
version in its human format (`podium.export.human`); `log` lists the production's history with
each event's `seq`; `fork` copies the log up to a `seq` into a new, independent production.

Untrusted text reaches a terminal only sanitized; a file or pipe gets the stored text as is
(it was sanitized when it was stored). Exit codes as the README's table: 0 done, 1 the
environment refused, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import stat
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, warn
from podium.domain import versions as versions_of
from podium.domain.artifacts import Artifact
from podium.domain.events import (
    ArtifactCreated,
    CommandApplied,
    CommandRecorded,
    CommandRejected,
    ConstraintsAdjusted,
    EscalationResolved,
    Event,
    ProductionOpened,
    RunStarted,
    RunStopped,
    TasksPlanned,
    VisionAmended,
)
from podium.domain.state import ProductionView, UnreadableLog
from podium.domain.text import clip, sanitize
from podium.domain.versions import VersionError
from podium.store import EventStore, StoreError
from podium.store.errors import ENVIRONMENT_ERRORS

_BATCH = 5000  # events read (and, for a fork, written) at a time
_DETAIL = 160  # characters of a command's text or a reason in one line of the log


class BadInput(Exception):
    """Bad input the user can fix: one sentence, exit 2."""


def _guarded(work: Callable[[], Coroutine[Any, Any, int]]) -> int:
    try:
        return asyncio.run(work())
    except (BadInput, VersionError, UnreadableLog) as exc:
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_BAD_INPUT
    except StoreError as exc:  # the environment refused (1), or the file is not ours (2)
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_FAILED if isinstance(exc, ENVIRONMENT_ERRORS) else EXIT_BAD_INPUT
    except OSError as exc:  # the file system refused a write (a fork's folder, a full disk)
        where = f"{exc.filename}: " if exc.filename else ""
        warn(f"podium: {where}{exc.strerror or exc}; nothing was written")
        return EXIT_FAILED


def _regular_file(path: Path) -> None:
    """A pipe or a device given for a database would block the store's first read forever."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreadable: the store says so in its own words
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise BadInput(f"{path} is not a regular file, so not a production database")


async def _open(db: Path) -> EventStore:
    await asyncio.to_thread(_regular_file, db)
    return await EventStore.open(db, create=False, read_only=True)


@dataclass
class _Read:
    view: ProductionView = field(default_factory=ProductionView)
    history: list[dict[str, Any]] = field(default_factory=list)
    made: dict[str, float] = field(default_factory=dict)  # artifact id -> when it was recorded

    def made_at(self, artifact: Artifact) -> float:
        return artifact.created_at or self.made.get(artifact.id, 0.0)


async def _read(db: Path, *, history: bool = False) -> _Read:
    """The production folded from its whole log; with `history`, the log's entries too."""
    store = await _open(db)
    found = _Read()
    try:
        async for event in store.iter_events(batch=_BATCH):
            found.view.apply(event)
            if isinstance(event.payload, ArtifactCreated):
                found.made[event.payload.artifact.id] = event.ts
            if history and (entry := _entry(found.view, event)) is not None:
                found.history.append(entry)
    finally:
        await store.close()
    if found.view.spec is None:
        raise BadInput(f"{db}: this database holds no production yet")
    return found


# -- who made a version, and how it is shown --------------------------------------------------


def _author(view: ProductionView, artifact: Artifact) -> tuple[str, str, str | None]:
    """(agent id, display name, model): the Orchestrator has no model."""
    agent_id = artifact.provenance.agent_id
    if agent_id == "orchestrator":
        return agent_id, "the Orchestrator", None
    record = view.agents.get(agent_id)
    name = record.spec.name if record is not None and record.spec.name else agent_id
    return agent_id, clip(name, 80), clip(artifact.provenance.model, 120) or None


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(sep=" ", timespec="seconds")


@dataclass(frozen=True)
class _Shown:
    text: str
    format: str  # "fountain", "markdown", "csv", or "json" when the human layer cannot
    note: str = ""


def _human(artifact: Artifact) -> _Shown:
    """The version in its human format; as JSON, with a note, when that cannot be made."""
    from podium.export import human

    try:
        rendered = human.render(artifact.parsed())
    except Exception as exc:  # noqa: BLE001 - an old or odd content must still be shown
        why = sanitize(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
        text = json.dumps(artifact.content, indent=2, ensure_ascii=False) + "\n"
        note = f"shown as JSON: its {artifact.content_type} content has no human format ({why})"
        return _Shown(text, "json", clip(note, 300))
    return _Shown(rendered.text, rendered.name)


def _to_terminal(text: str) -> str:
    """Text for stdout: sanitized when stdout is a terminal, else exactly as stored."""
    return sanitize(text) if sys.stdout.isatty() else text


def _write_out(text: str) -> None:
    sys.stdout.write(_to_terminal(text))
    sys.stdout.flush()


# -- show ---------------------------------------------------------------------------------------


def _is_plan(view: ProductionView, task_id: str) -> bool:
    from podium.domain.tasks import TaskKind

    record = view.tasks.get(task_id)
    return record is not None and record.spec.kind is TaskKind.PLAN


def _show_plan(view: ProductionView, args: argparse.Namespace) -> int:
    """The planning task's plan as TOML `[[tasks]]` (what the plan escalation's `edit` reads)."""
    from podium.domain.plan_edit import split_plan
    from podium.export.human.plan import plan_file

    text = plan_file(view)
    if args.json:
        tasks = [t.model_dump(mode="json") for t in split_plan(view)[0]]
        record = {"task": args.task, "format": "toml", "text": text, "tasks": tasks}
        sys.stdout.write(json.dumps(record) + "\n")
        return EXIT_OK
    warn(f"{clip(args.task, 120)} · the plan as TOML (`podium decide DB ESC edit --file F`)")
    _write_out(text)
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    async def go() -> int:
        found = await _read(Path(args.db_path))
        view = found.view
        if _is_plan(view, args.task) and args.version is None:
            return _show_plan(view, args)
        all_versions = versions_of.versions(view, args.task)
        current = versions_of.current(view, args.task)
        if args.version is not None:
            artifact = versions_of.version(view, args.task, args.version)
        elif current is not None:
            artifact = current
        else:
            raise VersionError(f"{args.task} has no version yet")
        n = all_versions.index(artifact) + 1
        shown = _human(artifact)
        agent_id, name, model = _author(view, artifact)
        is_current = current is not None and artifact.id == current.id
        if args.json:
            record = {
                "task": args.task,
                "title": view.tasks[args.task].spec.title,
                "version": n,
                "versions": len(all_versions),
                "current": is_current,
                "author": agent_id,
                "author_name": name,
                "model": model,
                "status": artifact.status.value,
                "created_at": found.made_at(artifact),
                "artifact_id": artifact.id,
                "content_type": artifact.content_type,
                "format": shown.format,
                "text": shown.text,
                "content": artifact.content,
            }
            sys.stdout.write(json.dumps(record) + "\n")  # ASCII: no escape reaches a terminal
            return EXIT_OK
        title = clip(view.tasks[args.task].spec.title, 120)
        by = name + (f", {model}" if model else "")
        warn(f"{clip(args.task, 120)} · {title}")
        warn(
            f"version {n} of {len(all_versions)}{' (current)' if is_current else ' (not current)'}"
            f" · by {by} · {artifact.status.value} · made {_when(found.made_at(artifact))}"
        )
        if shown.note:
            warn(f"podium: {shown.note}")
        _write_out(shown.text)
        return EXIT_OK

    return _guarded(go)


# -- diff ---------------------------------------------------------------------------------------


def diff(args: argparse.Namespace) -> int:
    async def go() -> int:
        view = (await _read(Path(args.db_path))).view
        found = versions_of.versions(view, args.task)
        if args.a is not None:
            a = args.a
            b = args.b if args.b is not None else _current_number(view, args.task, found)
        else:
            b = _current_number(view, args.task, found)
            a = b - 1
            if a < 1:
                warn(
                    f"podium: {args.task} has no version before its current one "
                    f"(version {b}); name two: podium diff DB {args.task} A B"
                )
                return EXIT_OK
        older = versions_of.version(view, args.task, a)
        newer = versions_of.version(view, args.task, b)
        left, right = _human(older), _human(newer)
        lines = difflib.unified_diff(
            left.text.splitlines(keepends=True),
            right.text.splitlines(keepends=True),
            fromfile=f"{args.task} v{a} ({_author(view, older)[1]})",
            tofile=f"{args.task} v{b} ({_author(view, newer)[1]})",
        )
        _print_diff([line if line.endswith("\n") else line + "\n" for line in lines])
        return EXIT_OK

    return _guarded(go)


def _current_number(view: ProductionView, task_id: str, found: list[Artifact]) -> int:
    current = versions_of.current(view, task_id)
    if current is None:
        raise VersionError(f"{task_id} has no version yet")
    return found.index(current) + 1


def _print_diff(lines: list[str]) -> None:
    """The diff on stdout: coloured (Rich, never markup) on a terminal, plain otherwise."""
    if not sys.stdout.isatty():
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        console.print(Text(sanitize(line.rstrip("\n")), style=style))


# -- log ----------------------------------------------------------------------------------------


def log(args: argparse.Namespace) -> int:
    async def go() -> int:
        entries = (await _read(Path(args.db_path), history=True)).history
        if args.json:
            sys.stdout.write(json.dumps(entries) + "\n")
            return EXIT_OK
        out = [f"#{e['seq']:<6} {_when(e['ts'])}  {e['summary']}\n" for e in entries]
        _write_out("".join(out))
        return EXIT_OK

    return _guarded(go)


def _entry(view: ProductionView, event: Event) -> dict[str, Any] | None:
    """One line of the production's history, or None for what is not history (output chunks,
    task and agent states, calls, reviews). Called after `view` has folded `event`."""
    p = event.payload
    fields: dict[str, Any]
    if isinstance(p, ProductionOpened):
        title = view.spec.production.title if view.spec else ""
        fields = {"kind": "opened", "summary": f"production opened: {clip(title, _DETAIL)}"}
    elif isinstance(p, RunStarted):
        how = ", ".join(w for w, on in (("resumed", p.resumed), ("headless", p.headless)) if on)
        fields = {
            "kind": "run_started",
            "pid": p.pid,
            "summary": "run started" + (f" ({how})" if how else ""),
        }
    elif isinstance(p, RunStopped):
        fields = {"kind": "run_stopped", "summary": f"run stopped: {clip(p.reason, _DETAIL)}"}
    elif isinstance(p, TasksPlanned):
        ids = [t.id for t in p.tasks]
        fields = {
            "kind": "planned",
            "source": p.source,
            "tasks": ids,
            "summary": f"{len(ids)} tasks planned ({p.source}): {clip(', '.join(ids), _DETAIL)}",
        }
    elif isinstance(p, CommandRecorded):
        fields = _command(p)
    elif isinstance(p, CommandApplied):
        fields = {
            "kind": "command_applied",
            "command_id": p.command_id,
            "summary": f"applied {clip(p.command_id, 80)}"
            + (f": {clip(p.effect, _DETAIL)}" if p.effect else ""),
        }
    elif isinstance(p, CommandRejected):
        fields = {
            "kind": "command_rejected",
            "command_id": p.command_id,
            "summary": f"rejected {clip(p.command_id, 80)}: {clip(p.reason, _DETAIL)}",
        }
    elif isinstance(p, EscalationResolved):
        esc = view.escalations.get(p.escalation_id)
        title = f" ({clip(esc.title, 80)})" if esc is not None else ""
        fields = {
            "kind": "escalation_resolved",
            "escalation_id": p.escalation_id,
            "task_id": esc.task_id if esc is not None else None,
            "action": p.action.value,
            "command_id": p.command_id,
            "summary": f"{clip(p.escalation_id, 40)}{title} resolved: {p.action.value}"
            + (f" — {clip(p.resolution, _DETAIL)}" if p.resolution else ""),
        }
    elif isinstance(p, ArtifactCreated):
        fields = _version_entry(view, p.artifact)
    elif isinstance(p, VisionAmended):
        fields = {
            "kind": "vision",
            "version": p.version,
            "section": str(p.section),
            "command_id": p.command_id,
            "summary": f"vision v{p.version}: {p.section} amended"
            + (f" — {clip(p.reason, _DETAIL)}" if p.reason else ""),
        }
    elif isinstance(p, ConstraintsAdjusted):
        changes = p.changes.model_dump(mode="json", exclude_none=True)
        pairs = ", ".join(f"{k}={json.dumps(v)}" for k, v in changes.items())
        fields = {
            "kind": "constraints",
            "changes": changes,
            "command_id": p.command_id,
            "summary": f"constraints adjusted: {clip(pairs, _DETAIL)}",
        }
    else:
        return None
    return {"seq": event.seq, "ts": event.ts, **_clean(fields)}


def _command(p: CommandRecorded) -> dict[str, Any]:
    command = p.command
    action = command.action.value
    target = command.escalation_id or command.task_id or ""
    said = getattr(command, "text", None) or getattr(command, "agent", None) or ""
    if not said and (value := getattr(command, "value", None)) is not None:
        said = f"{getattr(command, 'section', '')}: {value}"
    if not said and isinstance(number := getattr(command, "version", None), int):
        said = f"version {number}"  # a restore
    return {
        "kind": "command",
        "command_id": command.id,
        "action": action,
        "escalation_id": command.escalation_id,
        "task_id": command.task_id,
        "origin": command.origin,
        "summary": f"command {clip(command.id, 80)} ({clip(command.origin, 40)}): {action}"
        + (f" {clip(target, 80)}" if target else "")
        + (f" — {clip(str(said), _DETAIL)}" if said else ""),
    }


def _version_entry(view: ProductionView, artifact: Artifact) -> dict[str, Any]:
    n = versions_of.number(view, artifact)
    agent_id, name, model = _author(view, artifact)
    by = name + (f", {model}" if model else "")
    return {
        "kind": "version",
        "task_id": artifact.task_id,
        "version": n,
        "artifact_id": artifact.id,
        "author": agent_id,
        "model": model,
        "status": artifact.status.value,
        "summary": f"{clip(artifact.task_id, 80)} v{n} by {by}: {artifact.status.value}",
    }


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Every string sanitized (the summary is already one clipped line)."""
    return {k: sanitize(v) if isinstance(v, str) else v for k, v in fields.items()}
