"""`E` in the conductor's screen: the app suspends, `$EDITOR` opens on a task's current version
in its human format (or on the plan as TOML, from its escalation), and what is saved goes back
through the screen's `submit` as the command `podium edit` (or `podium decide … edit`) records,
so it works attached or in-process alike.

A parse error reopens the editor with the error on top of the file, naming the line
(`podium.export.human.error_note`); a file saved unchanged records nothing and says so; an
editor that exits non-zero records nothing. Where the app cannot suspend (served in a browser),
it says so and points to the shell's command. While the editor is open the app neither reads
keys nor draws (`App.suspend` inside `App.batch_update`), but its event loop goes on: the editor
runs in a worker thread, so an engine in this process keeps working and the screen shows where
it got to when the editor closes.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from textual.app import App, SuspendNotSupported
from textual.screen import Screen

from podium.domain import versions as versions_of
from podium.domain.artifacts import KIND_CONTENT, Prose
from podium.domain.escalation import Action, Command, Escalation, EscalationKind, command_adapter
from podium.domain.plan_edit import split_plan
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import sanitize
from podium.export import human

T = TypeVar("T")
Fields = dict[str, Any]  # a command's own fields, for the screen to stamp and submit

MAX_EDIT_BYTES = 4 * 1024 * 1024  # as `podium edit` reads a file


@dataclass(frozen=True)
class Saved(Generic[T]):
    """What was saved, read back."""

    value: T


@dataclass(frozen=True)
class Nothing:
    """Nothing to record, and the sentence that says why (a notice, or a warning)."""

    message: str
    warning: bool = False


def editor_command() -> list[str] | None:
    """$EDITOR, then $VISUAL, as a command line; None when neither is set."""
    for name in ("EDITOR", "VISUAL"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError:
                continue
            if words:
                return words
    return None


async def edit_text(
    app: App[object],
    *,
    label: str,
    suffix: str,
    start: str,
    read: Callable[[str], T],
    shell_hint: str,
) -> Saved[T] | Nothing:
    """`start` in the editor until `read` takes it (ParseError reopens it with the error on
    top); `Nothing` for an unchanged file, an editor that gave up, or one that cannot run."""
    command = editor_command()
    if command is None:
        return Nothing(
            "Set $EDITOR (or $VISUAL) to your editor, e.g. `export EDITOR=nano`, and start "
            f"podium again; or edit from a shell with `{shell_hint}`.",
            warning=True,
        )
    path = human.notes.scratch(label, suffix, start)
    shown = start
    for _ in range(human.notes.REOPENS):
        try:
            # no repaint while the editor owns the terminal; the loop (and an engine) goes on
            with app.batch_update(), app.suspend():
                code = await asyncio.to_thread(_run, command, path)
        except SuspendNotSupported:
            _discard(path)
            return Nothing(
                "This screen cannot open an editor (it is served in a browser); edit from a "
                f"shell with `{shell_hint}`.",
                warning=True,
            )
        if isinstance(code, str):
            return Nothing(f"{code}; nothing was recorded. Your text is kept in {path}.", True)
        if code != 0:
            return Nothing(
                f"The editor {command[0]!r} exited with {code}; nothing was recorded. Your "
                f"text is kept in {path}.",
                warning=True,
            )
        text = _read(path)
        if text is None:
            return Nothing(f"{path} cannot be read as UTF-8 text; nothing was recorded.", True)
        if text == start:
            _discard(path)
            return Nothing(f"{label}: saved unchanged; nothing was recorded.")
        try:
            value = read(text)
        except human.ParseError as exc:
            if text == shown:  # saved again as it was shown, error and all: give up
                return Nothing(
                    f"Line {exc.line}: {exc.message}. Nothing was recorded; your text is kept "
                    f"in {path}.",
                    warning=True,
                )
            body, _ = human.without_note(suffix, text)
            shown = human.error_note(suffix, f"line {exc.line}: {exc.message}") + body
            _write(path, shown)
            continue
        _discard(path)
        return Saved(value)
    return Nothing(f"Nothing was recorded; your text is kept in {path}.", warning=True)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _run(command: list[str], path: Path) -> int | str:
    """The editor's exit status, or why it could not start."""
    try:
        return subprocess.run([*command, str(path)], check=False).returncode
    except OSError as exc:
        return f"Cannot start the editor {sanitize(command[0])!r} ({exc.strerror or exc})"


def _read(path: Path) -> str | None:
    """The saved text; None when it cannot be read, is not UTF-8 or is over the size."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_EDIT_BYTES + 1)
        return None if len(data) > MAX_EDIT_BYTES else data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


# -- what `E` edits ------------------------------------------------------------------------------


async def task_edit(
    app: App[object], view: ProductionView, task_id: str, db: str
) -> Fields | Nothing:
    """A task's current version in the editor: the fields of the `edit` command that records
    what was saved (as `podium edit` does), or why there is nothing to record."""
    record = view.tasks.get(task_id)
    if record is None:
        return Nothing("Select a task in the tree first.")
    if record.spec.kind is TaskKind.PLAN:
        return Nothing(
            f"{task_id} is the plan: edit it from its escalation in the inbox (E there, or the "
            "Edit plan button), before it is approved."
        )
    if record.state is TaskState.RUNNING:
        return Nothing(f"{task_id} is running; edit it when it delivers.")
    current = versions_of.current(view, task_id)
    if current is None:
        return Nothing(f"{task_id} has no version yet; there is nothing to edit.")
    content_type = KIND_CONTENT.get(record.spec.kind, Prose).__name__
    before = human.normalise(current.parsed())
    hint = f"podium edit {db} {task_id}"
    saved = await edit_text(
        app,
        label=task_id,
        suffix=human.human_format(content_type).suffix,
        start=human.render(current.parsed()).text,
        read=lambda text: human.parse_edited(content_type, text),
        shell_hint=hint,
    )
    if isinstance(saved, Nothing):
        return saved
    if saved.value == before:
        return Nothing(f"{task_id}: no change; nothing was recorded.")
    content = saved.value.model_dump(mode="json")
    return {"task_id": task_id, "content_type": content_type, "content": content}


async def plan_edit(
    app: App[object], view: ProductionView, escalation: Escalation, db: str
) -> Fields | Nothing:
    """The plan escalation's edit: the proposed plan as TOML in the editor, checked as a
    production file's `[[tasks]]`; the fields of the `edit_plan` command that approves it."""
    from podium.export.human.plan import TOML, parse_plan, plan_file

    if escalation.kind is not EscalationKind.PLAN:
        return Nothing(f"{escalation.id} is not a plan escalation; only the plan is edited here.")
    spec = view.spec
    if spec is None:
        return Nothing("This production has no plan to edit yet.")
    proposed, kept = split_plan(view)
    saved = await edit_text(
        app,
        label=f"plan-{escalation.id}",
        suffix=TOML.suffix,
        start=plan_file(view),
        read=lambda text: parse_plan(text, spec, kept),
        shell_hint=f"podium decide {db} {escalation.id} edit",
    )
    if isinstance(saved, Nothing):
        return saved
    if saved.value == proposed:
        return Nothing(f"{escalation.id}: the plan is unchanged; nothing was recorded.")
    tasks = [t.model_dump(mode="json") for t in saved.value]
    return {"escalation_id": escalation.id, "tasks": tasks}


async def edit(
    screen: Screen[Any],
    view: ProductionView,
    escalation: Escalation | None,
    task_id: str | None,
    stamp: Fields,
) -> Command | None:
    """`E` (or the plan escalation's `Edit plan`): the command recording what was saved, or
    None, said in a notice (nothing saved, nothing to edit, no editor)."""
    db = str(getattr(screen.app, "db_label", "") or "DB")
    record = view.tasks.get(task_id or "")
    if escalation is None and record is not None and record.spec.kind is TaskKind.PLAN:
        escalation = next(
            (
                e
                for e in view.open_escalations()
                if e.kind is EscalationKind.PLAN and e.task_id == task_id
            ),
            None,
        )
    result: Fields | Nothing
    if escalation is not None and escalation.kind is EscalationKind.PLAN:
        result, action = await plan_edit(screen.app, view, escalation, db), Action.EDIT_PLAN
    elif task_id is not None:
        result, action = await task_edit(screen.app, view, task_id, db), Action.EDIT
    else:
        result, action = Nothing("Select a task in the tree (or the plan in the inbox)."), None
    if isinstance(result, Nothing) or action is None:
        message = result.message if isinstance(result, Nothing) else ""
        warning = isinstance(result, Nothing) and result.warning
        screen.notify(message, severity="warning" if warning else "information", markup=False)
        return None
    return command_adapter().validate_python(stamp | {"action": action} | result)
