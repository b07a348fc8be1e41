"""One escalation in full: what is asked, the options side by side, and the context."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from podium.domain.artifacts import Artifact
from podium.domain.escalation import Action, Escalation
from podium.domain.state import ProductionView
from podium.domain.text import sanitize
from podium.tui.format import TASK_WORDS, clip, flatten, said_once

PREVIEW_CHARS = 600
EXCERPT_LINES = 12  # of an artifact in the inbox's detail; the task's details show it all


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        if value.strip():
            out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def preview(content: dict[str, Any], limit: int = PREVIEW_CHARS) -> str:
    """The words of an artifact, in order, on one line: enough to know what is approved."""
    words: list[str] = []
    _strings(content, words)
    return clip(" / ".join(flatten(w) for w in words), limit)


KEY_OF: dict[Action, str] = {
    Action.APPROVE: "a",
    Action.OVERRIDE: "o",
    Action.REQUEST_ALTERNATIVES: "n",
    Action.RETRY: "r",
    Action.SKIP: "s",
    Action.FEEDBACK: "f",
    Action.ADJUST_CONSTRAINTS: "c",
}
"""The key of each action on an item (the others are in the command palette)."""


def action_words(action: Action) -> str:
    return (
        "alternatives" if action is Action.REQUEST_ALTERNATIVES else action.value.replace("_", " ")
    )


def offered(escalation: Escalation) -> str:
    """What an item offers, each with its key: 'a approve, o override, n alternatives'."""
    said = []
    for action in escalation.actions:
        key = KEY_OF.get(action)
        said.append(f"{key} {action_words(action)}" if key else action_words(action))
    return ", ".join(said) or "nothing"


def not_offered(escalation: Escalation, action: Action) -> str:
    """Why a key did nothing on this item, in one line naming the item and what it offers."""
    kind = escalation.kind.value.replace("_", " ")
    return (
        f"{escalation.id} ({kind}) does not offer {action_words(action)}; "
        f"it offers {offered(escalation)}."
    )


_BY_COMMAND = re.compile(r"\bby command [\w.-]+")


def _readable_detail(detail: str) -> str:
    """An escalation's detail as said to the Orchestrator: commands are theirs, so 'requested
    by command tui-807a…' reads 'requested by you'."""
    return _BY_COMMAND.sub("by you", flatten(detail))


def _unforced(line: str) -> str:
    """A Fountain line as read: `@ELIAS` is the cue ELIAS, `!He turns.` the action, `.INT.
    LAMP ROOM` the scene heading."""
    if line.startswith("@") or (line[:1] in ("!", ".") and line[1:2] not in ("!", ".", "")):
        return line[1:]
    return line


def readable(artifact: Artifact, max_lines: int | None = None) -> str:
    """An artifact as a person reads it, in its human format (a screenplay as Fountain, prose
    and documents as Markdown, tables as CSV: what `podium show` prints), cut to `max_lines`
    with a line saying how many more. Content that cannot be read falls back to its words."""
    from podium.export.human import render  # pure, no I/O: imported when first needed

    try:
        human = render(artifact.parsed())
    except (ValueError, TypeError, KeyError):  # pydantic's ValidationError is a ValueError
        return preview(artifact.content)
    lines = [sanitize(line).rstrip() for line in human.text.strip("\n").splitlines()]
    if human.name == "fountain":  # read, not re-parsed: the forcing marks are noise here
        lines = [_unforced(line) for line in lines]
    if max_lines is not None and len(lines) > max_lines:
        more = len(lines) - max_lines
        lines = [*lines[:max_lines], f"… {more} more line(s): the task's details (⏎) show all"]
    return "\n".join(lines)


@dataclass(frozen=True)
class EscalationCard:
    """Everything the detail shows, resolved from the view once (so drawing does no lookups)."""

    escalation: Escalation
    task: str = ""
    artifacts: tuple[str, ...] = ()
    preview: str = ""
    debate: str = ""
    positions: tuple[str, ...] = field(default_factory=tuple)


def card_for(view: ProductionView, escalation: Escalation) -> EscalationCard:
    task = ""
    record = view.tasks.get(escalation.task_id or "")
    if record is not None:
        task = (
            f"{record.spec.id}: {record.spec.title} · {record.spec.assignee} · "
            f"{TASK_WORDS[record.state]}"
        )
    artifact_ids = list(escalation.artifact_ids)
    if not artifact_ids and record is not None and record.artifact_id:
        artifact_ids = [record.artifact_id]
    artifacts: list[str] = []
    text = ""
    for artifact_id in artifact_ids:
        artifact = view.artifacts.get(artifact_id)
        if artifact is None:
            artifacts.append(artifact_id)
            continue
        who = artifact.provenance.agent_id
        artifacts.append(f"{artifact.id} · {artifact.status.value} · by {who}")
        text = readable(artifact, EXCERPT_LINES)
    debate_line = ""
    positions: list[str] = []
    debate = view.debates.get(escalation.debate_id or "")
    if debate is not None:
        debate_line = (
            f"{debate.id}: {flatten(debate.topic)} · {debate.state.value} · "
            f"{len(debate.turns)} turns · judge {debate.judge}"
        )
        if debate.recommendation:
            positions.append(f"judge recommends: {flatten(debate.recommendation)}")
    return EscalationCard(
        escalation=escalation,
        task=task,
        artifacts=tuple(artifacts),
        preview=text,
        debate=debate_line,
        positions=tuple(positions),
    )


def _line(label: str, value: str) -> Text:
    text = Text()
    text.append(f"{label} ", style="bold")
    text.append(value)
    return text


class EscalationDetail(VerticalScroll, can_focus=False):
    """The selected escalation. Agent text arrives as plain strings and is shown literally."""

    card: reactive[EscalationCard | None] = reactive(None, recompose=True)
    """The escalation shown, with its context; None shows a hint."""

    def compose(self) -> ComposeResult:
        card = self.card
        if card is None:
            yield Static(
                Text("Select an item in the inbox to see its options and context.", "italic"),
                classes="detail-hint",
            )
            return
        esc = card.escalation
        head = Text()
        head.append(flatten(esc.title), style="bold")
        kind, territory = esc.kind.value.replace("_", " "), esc.territory.value.replace("_", " ")
        said = [kind, f"{esc.priority.name.lower()} priority"]
        if territory != kind:  # not 'collaborative · low priority · collaborative'
            said.append(territory)
        offers = ", ".join(a.value.replace("_", " ") for a in esc.actions)
        head.append("\n" + " · ".join(said) + f" · offers: {offers}")
        yield Static(head, classes="detail-head")
        if esc.detail:
            yield Static(Text(_readable_detail(esc.detail)), classes="detail-text")
        if esc.options:
            with Horizontal(classes="detail-options"):
                for option in esc.options:
                    with Vertical(classes="detail-option"):
                        label, summary = said_once(option.label, option.summary)
                        title = Text()
                        title.append(f"{option.id}: ", style="bold")
                        title.append(label, style="bold")
                        if option.proposer:
                            title.append(f"\nproposed by {option.proposer}", style="italic")
                        yield Static(title)
                        if summary:
                            yield Static(Text(summary))
                        if option.reasoning:
                            yield Static(
                                _line("why:", flatten(option.reasoning)), classes="detail-why"
                            )
        parts: list[Text] = []
        if card.task:
            parts.append(_line("task:", card.task))
        for artifact in card.artifacts:
            parts.append(_line("artifact:", artifact))
        if card.debate:
            parts.append(_line("debate:", card.debate))
        for position in card.positions:
            parts.append(Text(position))
        for item in esc.evidence[:8]:
            parts.append(_line("evidence:", clip(item, 300)))
        if card.preview:
            parts.append(_line("excerpt:", "\n" + card.preview))  # its lines as written
        if parts:
            yield Static(Text("\n").join(parts), classes="detail-context")
