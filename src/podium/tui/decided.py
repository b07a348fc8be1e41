"""Who decided an inbox item, said in one line to the screens that did not.

Every command records its origin (`BaseCommand.origin`): this screen's own (`SESSION_ORIGIN`
in `podium.tui.screens.conductor_actions`), another screen's (`tui …`), the CLI's `podium
decide` (`cli`), the engine's standing `--auto-approve …`, or a collaborative item's timeout.
A screen compares an item's deciding command's origin with its own, and tells the Orchestrator
what someone else decided; and, when the item it had highlighted left the inbox, where the
highlight went (`podium.tui.widgets.escalation_inbox.Moved`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from podium.domain.escalation import AUTO_ORIGIN, TIMEOUT_ORIGIN, Action, Command
from podium.domain.state import ProductionView
from podium.tui.format import clip, flatten
from podium.tui.widgets.escalation_inbox import Moved

DONE: dict[Action, str] = {
    Action.APPROVE: "approved",
    Action.OVERRIDE: "overridden",
    Action.RETRY: "retried",
    Action.SKIP: "skipped",
    Action.REASSIGN: "reassigned",
    Action.REQUEST_ALTERNATIVES: "sent back for alternatives",
    Action.ADJUST_CONSTRAINTS: "answered with new constraints",
    Action.CLARIFY_VISION: "answered with a clarified vision",
    Action.RERUN_STALE: "re-made",
}

SHOWN = 3  # items named in one line; past that, a count


def decider(origin: str, own: str) -> str | None:
    """Who issued a command, as a reader says it; None when it is this screen's own."""
    if origin == own:
        return None
    if origin == "cli":
        return "by podium decide (CLI)"
    if origin == "tui" or origin.startswith("tui "):
        return "by another screen"
    if origin.startswith(AUTO_ORIGIN):
        return f"automatically by the engine ({clip(flatten(origin), 40)})"
    if origin == TIMEOUT_ORIGIN:
        return "by default, after its timeout"
    return f"by {clip(flatten(origin), 40)}"


def deciding_commands(view: ProductionView, escalation_ids: Iterable[str]) -> dict[str, Command]:
    """The command that decided each of these items (the last one about it not refused);
    an item closed by the engine itself (its task re-run, or superseded) has none."""
    wanted = set(escalation_ids)
    found: dict[str, Command] = {}
    for record in reversed(view.commands.values()):
        esc_id = record.command.escalation_id
        if esc_id in wanted and esc_id not in found and record.status != "rejected":
            found[esc_id] = record.command
            if len(found) == len(wanted):
                break
    return found


def _what(esc_id: str, command: Command | None) -> str:
    done = DONE.get(command.action, "decided") if command is not None else "closed"
    return f"{esc_id} {done}"


def notice(
    view: ProductionView,
    closed: Sequence[str],
    moved: Moved | None,
    own: str,
) -> str | None:
    """One line: what others decided of the items that closed, and where the highlight went
    if its item left; None when there is nothing to say (this screen's own decision, the
    highlight untouched)."""
    ids = list(dict.fromkeys([*closed, *([moved.left] if moved is not None else [])]))
    commands = deciding_commands(view, ids)

    def who(esc_id: str) -> str | None:
        command = commands.get(esc_id)
        return decider(command.origin, own) if command is not None else None

    parts: list[str] = []
    if moved is not None:
        by = who(moved.left)
        parts.append(_what(moved.left, commands.get(moved.left)) + (f" {by}" if by else ""))
    elsewhere = [(i, by) for i in closed if (moved is None or i != moved.left) and (by := who(i))]
    if len(elsewhere) == 1:
        esc_id, by = elsewhere[0]
        parts.append(f"{_what(esc_id, commands.get(esc_id))} {by}")
    elif elsewhere:
        names = [i for i, _ in elsewhere[:SHOWN]]
        more = "…" if len(elsewhere) > SHOWN else ""
        deciders = {by for _, by in elsewhere}
        by = deciders.pop() if len(deciders) == 1 else "elsewhere"
        parts.append(f"{len(elsewhere)} items decided {by} ({', '.join(names)}{more})")
    if moved is not None:
        if moved.now is not None:
            landed = view.escalations.get(moved.now)  # its title: an id alone says nothing
            about = f" ({clip(flatten(landed.title), 48)})" if landed is not None else ""
            parts.append(f"now on {moved.now}{about}")
        else:
            parts.append(f"no other {moved.kind} waits: j/k pick the next item")
    return "; ".join(parts) or None
