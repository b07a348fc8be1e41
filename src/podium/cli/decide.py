"""The Orchestrator's commands from the CLI: inbox, decide, vision, constraints.

Each is recorded durably and delivered to the engine that runs the production (or applied
when the next one does). Imported only when one of them runs, so `podium --help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from podium.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_RECORDED, say, warn
from podium.cli.production import _guarded, _not_a_file, _refusal, load_view
from podium.domain.escalation import Action, Command, command_adapter, command_problem
from podium.domain.loading import MAX_NESTING, too_deep
from podium.domain.production import MAX_DIRECTION, MAX_REPLY_BYTES
from podium.domain.state import ProductionView
from podium.domain.text import clip
from podium.seam.validators import Rejected, checked_text
from podium.store import StoreError

if TYPE_CHECKING:
    from podium.attach import Delivery


def escalation_json(view: ProductionView, *, resolved: bool = False) -> list[dict[str, Any]]:
    """The open escalations (by priority and age); with `resolved`, the decided ones after."""
    now = time.time()
    items = []
    chosen = view.open_escalations()
    if resolved:
        chosen += sorted(
            (e for e in view.escalations.values() if not e.open),
            key=lambda e: e.resolved_at or 0.0,
        )
    for esc in chosen:
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
                "timeout_s": esc.timeout_s,
                "default_action": esc.default_action.value if esc.default_action else None,
                "open": esc.open,
                "resolution": esc.resolution,
            }
        )
    return items


def inbox(args: argparse.Namespace) -> int:
    async def go() -> int:
        view = await load_view(Path(args.db_path))
        items = escalation_json(view, resolved=args.all)
        if args.json:
            say(json.dumps(items))
            return EXIT_OK
        if not items:
            say("the inbox is empty")
        for item in items:
            what = (
                f"[{', '.join(item['actions'])}]"
                if item["open"]
                else f"— {clip(item['resolution'] or '', 200)}"
            )
            title = clip(item["title"], 200)
            say(f"{item['id']:<5} {item['priority']:<8} {item['kind']:<14} {title}  {what}")
            if item["detail"] and item["detail"] != item["title"]:
                say(f"        {clip(item['detail'], 400)}")
            for option in item["options"]:
                about = clip(option["summary"] or option["reasoning"], 200)
                label = clip(option["label"], 80)
                if about == label or about.startswith(label.removesuffix("…")):
                    label, about = about, ""  # said once, whole
                say(f"        option {option['id']}: {label}" + (f" — {about}" if about else ""))
            if item["open"] and item["options"] and "approve" in item["actions"]:
                start = f"podium decide {args.db_path} {item['id']}"
                choose = f"        choose: {start} approve --option {item['options'][0]['id']}"
                if item["kind"] == "question" and "override" in item["actions"]:
                    choose += f', or answer in your words: {start} override "…"'
                say(choose)
        return EXIT_OK

    return _guarded(go)


# -- commands from the shell -----------------------------------------------------------------


async def submit(db: Path, command: Command) -> Delivery:
    """Deliver a command through the store: applied by the running engine, refused, or
    recorded for the engine that runs the production next (see `podium.attach.deliver`)."""
    from podium.attach import StoreFollower

    await asyncio.to_thread(_not_a_file, db)
    try:
        follower = await StoreFollower.open(db)
    except StoreError as exc:
        raise _refusal(db, exc) from None
    following = asyncio.create_task(follower.run())
    try:
        return await follower.deliver(command)
    finally:
        follower.request_stop()
        await following
        await follower.close()


def _command_id(args: argparse.Namespace) -> str:
    return str(args.id) if getattr(args, "id", None) else f"cli-{uuid.uuid4().hex[:12]}"


def _deliver(db: Path, command: Command, *, quiet: bool = False) -> int:
    """Submit a command and say what became of it, as DESIGN.md's contract has it: exit 0
    applied by a running engine; 4 recorded durably, checked and applied when an engine runs;
    2 refused, nothing applied; 1 failed, nothing recorded. The one way every command that
    changes a production goes (`decide`, `vision`, `constraints`, and those to come); `quiet`
    for a caller that says the success in its own words."""

    async def go() -> int:
        await load_view(db)  # a clear error for a missing or foreign file
        delivery = await submit(db, command)
        if delivery.outcome == "applied":
            if not quiet:
                say(f"{command.id}: {delivery.detail}")
            return EXIT_OK
        if delivery.outcome == "recorded":
            warn(f"podium: {command.id} {delivery.detail}")
            return EXIT_RECORDED
        warn(f"podium: cannot {command.action.value.replace('_', ' ')}: {delivery.detail}")
        return EXIT_BAD_INPUT

    return _guarded(go)


def _decide_problem(args: argparse.Namespace, action: Action) -> str | None:
    """Bad input `decide` can tell before anything is recorded, in the engine's words."""
    if args.count is not None and not 2 <= args.count <= 6:
        return f"--count {args.count}: ask for 2 to 6 alternatives"
    text = " ".join(args.text)
    if action in (Action.FEEDBACK, Action.OVERRIDE) and text.strip():
        replacing = action is Action.OVERRIDE and args.replace
        what = "feedback" if action is Action.FEEDBACK else "the direction"
        try:
            checked_text(
                "the replacement" if replacing else what,
                text,
                MAX_REPLY_BYTES if replacing else MAX_DIRECTION,
            )
        except Rejected as why:
            return str(why)
    return None


def decide(args: argparse.Namespace) -> int:
    try:
        action = Action(args.action.replace("-", "_"))
    except ValueError:
        warn(
            f"podium: unknown action {args.action!r}; one of " + ", ".join(a.value for a in Action)
        )
        return EXIT_BAD_INPUT
    if (problem := _decide_problem(args, action)) is not None:
        warn(f"podium: {problem}; nothing was recorded")
        return EXIT_BAD_INPUT
    text = " ".join(args.text)
    target = args.escalation_id
    fields: dict[str, Any] = {
        "escalation_id": None if target in ("-", "") else target,
        "task_id": args.task,
    }
    # What each action takes; an option that does not apply to it is ignored, as it always was.
    if action is Action.APPROVE:
        fields["option_id"] = args.option
    elif action is Action.OVERRIDE:
        fields |= {"text": text, "replace": bool(args.replace)}
    elif action is Action.FEEDBACK:
        fields["text"] = text
    elif action is Action.REASSIGN:
        fields["agent"] = text
    elif action is Action.REQUEST_ALTERNATIVES and args.count is not None:
        fields["count"] = args.count
    elif action is Action.ADJUST_CONSTRAINTS and args.text:  # KEY=VALUE ... (a budget's way on)
        changes = _changes(args.text)
        if changes is None:
            return EXIT_BAD_INPUT
        fields["changes"] = changes
    return _deliver_new(args, action, fields)


def _deliver_new(
    args: argparse.Namespace, action: Action, fields: dict[str, Any], *, quiet: bool = False
) -> int:
    """Make the command `action` with `fields` and deliver it; a field it refuses is said in
    one sentence (exit 2) before anything is recorded."""
    common = {"id": _command_id(args), "action": action, "issued_at": time.time(), "origin": "cli"}
    try:
        command = command_adapter().validate_python(common | fields)
    except ValidationError as exc:
        warn(f"podium: {command_problem(exc)}; nothing was recorded")
        return EXIT_BAD_INPUT
    return _deliver(Path(args.db_path), command, quiet=quiet)


def vision(args: argparse.Namespace) -> int:
    fields = {
        "section": args.section,
        "value": " ".join(args.text),
        "rerun": bool(args.rerun),
        "reason": (args.reason or "").strip(),
    }
    return _deliver_new(args, Action.CLARIFY_VISION, fields)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text  # the engine's validation names the key and what it expects


def _changes(pairs: list[str]) -> dict[str, Any] | None:
    """KEY=VALUE pairs as constraint changes; None when one is not (said, on stderr)."""
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            warn(f"podium: {pair!r} is not KEY=VALUE (e.g. max_concurrency=4)")
            return None
        changes[key.strip()] = _value(value.strip())
    if (deep := too_deep(changes)) is not None:  # it could not even be stored
        warn(f"podium: {deep[0]}: nested more than {MAX_NESTING} levels deep; no constraint is")
        return None
    return changes


def constraints(args: argparse.Namespace) -> int:
    changes = _changes(args.pairs)
    if changes is None:
        return EXIT_BAD_INPUT
    # ConstraintChanges checks them as a file's are, against the defaults (the fields are
    # independent), in the engine's words; a refusal is said before anything is recorded.
    return _deliver_new(args, Action.ADJUST_CONSTRAINTS, {"changes": changes})
