"""`podium edit` and `podium restore`: the Orchestrator's own version of a task's output,
written in an editor in its human format (or an earlier version made current again), recorded
as a command like any."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_RECORDED, say, warn
from podium.cli.versions import BadInput, _read
from podium.domain import versions as versions_of
from podium.domain.artifacts import Artifact
from podium.domain.state import ProductionView, UnreadableLog
from podium.domain.text import sanitize
from podium.domain.versions import VersionError
from podium.store import StoreError
from podium.store.errors import ENVIRONMENT_ERRORS

_MAX_EDIT_BYTES = 4 * 1024 * 1024  # a file read for an edit; the engine caps the content itself


def _kind_of(view: ProductionView, task_id: str) -> str:
    """The content type the task's versions have (Screenplay, Prose, ShotList, …)."""
    from podium.domain.artifacts import KIND_CONTENT, Prose
    from podium.domain.tasks import TaskKind

    record = versions_of.task(view, task_id)
    if record.spec.kind is TaskKind.PLAN:
        raise BadInput(f"{task_id} is the plan, which is not edited as a version")
    return KIND_CONTENT.get(record.spec.kind, Prose).__name__


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_EDIT_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"{path}: {exc.strerror or exc}; nothing was recorded") from None
    if len(data) > _MAX_EDIT_BYTES:
        raise BadInput(f"{path} is over {_MAX_EDIT_BYTES // 1024 // 1024} MB; nothing was recorded")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{path}: byte {exc.start + 1} is not UTF-8; save the file as UTF-8 "
            "(nothing was recorded)"
        ) from None


def _editor() -> list[str]:
    """The editor's command line: $EDITOR, then $VISUAL, then vi."""
    import os
    import shlex

    for name in ("EDITOR", "VISUAL"):
        if value := os.environ.get(name, "").strip():
            try:
                words = shlex.split(value)
            except ValueError:
                raise BadInput(f"${name} ({value!r}) cannot be read as a command line") from None
            if words:
                return words
    return ["vi"]


def _run_editor(path: Path) -> None:
    import subprocess

    command = _editor()
    try:
        done = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        raise _EditorFailed(
            f"cannot start the editor {command[0]!r} ({exc.strerror or exc}); set $EDITOR "
            f"to one, or give the file with --file. Your text is kept in {path}"
        ) from None
    if done.returncode != 0:
        raise _EditorFailed(
            f"the editor {command[0]!r} exited with {done.returncode}; nothing was recorded. "
            f"Your text is kept in {path}"
        )


class _EditorFailed(Exception):
    """The editor could not run or gave up: the environment, exit 1."""


def edit(args: argparse.Namespace) -> int:
    from podium.export import human

    db = Path(args.db_path)
    try:
        view = asyncio.run(_read(db)).view
        content_type = _kind_of(view, args.task)
        current = versions_of.current(view, args.task)
    except (BadInput, VersionError, UnreadableLog) as exc:
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_BAD_INPUT
    except StoreError as exc:
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_FAILED if isinstance(exc, ENVIRONMENT_ERRORS) else EXIT_BAD_INPUT
    before = human.normalise(current.parsed()) if current is not None else None
    if args.file is not None:
        path = Path(args.file)
        try:
            content = human.parse_edited(content_type, _read_text(path))
        except BadInput as exc:
            warn(f"podium: {sanitize(str(exc))}")
            return EXIT_BAD_INPUT
        except human.ParseError as exc:
            warn(sanitize(f"{path}:{exc.line}: {exc.message}"))
            return EXIT_BAD_INPUT
        return _record_edit(args, content_type, content, before)
    return _edit_in_editor(args, content_type, current, before)


def _edit_in_editor(
    args: argparse.Namespace, content_type: str, current: Artifact | None, before: Any
) -> int:
    from podium.export import human

    start = human.render(current.parsed()).text if current is not None else ""
    suffix = human.human_format(content_type).suffix

    def read(text: str) -> Any:
        return human.parse_edited(content_type, text)

    def record(content: Any) -> int:
        return _record_edit(args, content_type, content, before)

    return _in_editor(args.task, suffix, start, read, record)


def _in_editor(
    label: str,
    suffix: str,
    start: str,
    read: Callable[[str], Any],
    record: Callable[[Any], int],
) -> int:
    """`start` in $EDITOR until `read` takes what was saved (a parse error reopens it with
    the error on top, naming the line), then `record` it; the file is kept unless recorded."""

    from podium.export import human

    path = human.notes.scratch(label, suffix, start)
    shown = start
    for _ in range(human.notes.REOPENS):
        try:
            _run_editor(path)
            text = _read_text(path)
        except _EditorFailed as exc:
            warn(f"podium: {sanitize(str(exc))}")
            return EXIT_FAILED
        except BadInput as exc:
            warn(f"podium: {sanitize(str(exc))}; your text is kept in {path}")
            return EXIT_BAD_INPUT
        try:
            content = read(text)
        except human.ParseError as exc:
            where = sanitize(f"{path}:{exc.line}: {exc.message}")
            if not sys.stdin.isatty() or text == shown:
                # No one to reopen it for, or saved unchanged after an error: stop here.
                warn(f"{where}\npodium: nothing was recorded; your text is kept in {path}")
                return EXIT_BAD_INPUT
            warn(where)
            body, _ = human.without_note(suffix, text)
            shown = human.error_note(suffix, f"line {exc.line}: {exc.message}") + body
            path.write_text(shown, encoding="utf-8")
            continue
        code = record(content)
        if code in (EXIT_OK, EXIT_RECORDED):
            path.unlink(missing_ok=True)
        else:
            warn(f"podium: your text is kept in {path}")
        return code
    warn(f"podium: nothing was recorded; your text is kept in {path}")
    return EXIT_BAD_INPUT


def _record_edit(args: argparse.Namespace, content_type: str, content: Any, before: Any) -> int:
    from podium.cli.decide import _deliver_new
    from podium.domain.escalation import Action

    if before is not None and content == before:
        say(f"{args.task}: no change; nothing was recorded")
        return EXIT_OK
    fields = {
        "task_id": args.task,
        "content_type": content_type,
        "content": content.model_dump(mode="json"),
    }
    return _deliver_new(args, Action.EDIT, fields)


def restore(args: argparse.Namespace) -> int:
    from podium.cli.decide import _deliver_new
    from podium.domain.escalation import Action

    try:
        view = asyncio.run(_read(Path(args.db_path))).view
        versions_of.version(view, args.task, args.version)
    except (BadInput, VersionError, UnreadableLog) as exc:
        warn(f"podium: {sanitize(str(exc))}; nothing was recorded")
        return EXIT_BAD_INPUT
    except StoreError as exc:
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_FAILED if isinstance(exc, ENVIRONMENT_ERRORS) else EXIT_BAD_INPUT
    return _deliver_new(args, Action.RESTORE, {"task_id": args.task, "version": args.version})


# -- the plan escalation's edit (`podium decide DB ESC edit [--file F]`) ------------------------


def edit_plan(args: argparse.Namespace) -> int:
    """The plan as TOML (`--file`, or $EDITOR on the proposed one), checked as a production
    file's `[[tasks]]`; on save it is what gets approved (an `edit_plan` command)."""
    from podium.domain.escalation import EscalationKind
    from podium.domain.plan_edit import split_plan
    from podium.export import human
    from podium.export.human.plan import TOML, parse_plan, plan_file

    db = Path(args.db_path)
    target = str(args.escalation_id)
    try:
        view = asyncio.run(_read(db)).view
    except (BadInput, UnreadableLog) as exc:
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_BAD_INPUT
    except StoreError as exc:
        warn(f"podium: {sanitize(str(exc))}")
        return EXIT_FAILED if isinstance(exc, ENVIRONMENT_ERRORS) else EXIT_BAD_INPUT
    escalation = view.escalations.get(target)
    problem = None
    if escalation is None:
        problem = f"no escalation {target!r}; `podium inbox {db}` lists them"
    elif escalation.kind is not EscalationKind.PLAN:
        problem = (
            f"{escalation.id} is a {escalation.kind.value} escalation; edit decides a plan "
            "escalation (a task's version is edited with `podium edit DB TASK`)"
        )
    elif not escalation.open:
        problem = f"{escalation.id} was already decided ({escalation.resolution or 'resolved'})"
    if problem is not None or escalation is None or view.spec is None:
        warn(f"podium: {sanitize(problem or 'no production')}; nothing was recorded")
        return EXIT_BAD_INPUT
    from podium.cli.decide import _deliver_new
    from podium.domain.escalation import Action

    spec = view.spec
    proposed, kept = split_plan(view)
    esc_id = escalation.id

    def record(tasks: Any) -> int:
        if tasks == proposed:
            say(
                f"{esc_id}: the plan is unchanged; nothing was recorded "
                f"(approve it with `podium decide DB {esc_id} approve`)"
            )
            return EXIT_OK
        fields = {"escalation_id": esc_id, "tasks": [t.model_dump(mode="json") for t in tasks]}
        return _deliver_new(args, Action.EDIT_PLAN, fields)

    if args.file is not None:
        path = Path(args.file)
        try:
            tasks = parse_plan(_read_text(path), spec, kept, source=str(path))
        except BadInput as exc:
            warn(f"podium: {sanitize(str(exc))}")
            return EXIT_BAD_INPUT
        except human.ParseError as exc:
            warn(sanitize(f"{path}:{exc.line}: {exc.message}") + "\npodium: nothing was recorded")
            return EXIT_BAD_INPUT
        return record(tasks)

    def read(text: str) -> Any:
        return parse_plan(text, spec, kept)

    return _in_editor(f"plan-{esc_id}", TOML.suffix, plan_file(view), read, record)
