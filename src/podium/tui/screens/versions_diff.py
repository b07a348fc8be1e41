"""Versions on the screen: a unified diff as plain text (`d` in a task's details), and the
drafts of an alternatives item one at a time, each against the current version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from podium.domain import versions as versions_of
from podium.domain.artifacts import Artifact
from podium.domain.escalation import Escalation
from podium.domain.state import ProductionView
from podium.domain.text import sanitize
from podium.export.human.diff import between
from podium.tui.format import flatten
from podium.tui.screens.alternatives import Picked
from podium.tui.screens.dialog import DetailDialog, Dialog, DialogBox

_STYLES = {"+": "green", "-": "red", "@": "cyan"}


def diff_text(lines: Sequence[str]) -> Text:
    """A unified diff's lines as literal text (never markup), coloured by their first sign."""
    text = Text()
    for line in lines:
        clean = sanitize(line).replace("\n", " ")
        style = "bold" if clean.startswith(("+++", "---")) else _STYLES.get(clean[:1], "")
        text.append(clean + "\n", style=style)
    return text


def previous_and_current(view: ProductionView, task_id: str) -> tuple[Artifact, Artifact] | None:
    """The version before the current one, and the current one; None when there are not two."""
    record = view.tasks.get(task_id)
    if record is None:
        return None
    current = versions_of.current_of(view, record)
    found = versions_of.of_record(view, record)
    if current is None or current not in found:
        return None
    at = found.index(current)
    return (found[at - 1], current) if at > 0 else None


def task_diff(view: ProductionView, task_id: str) -> Text:
    pair = previous_and_current(view, task_id)
    if pair is None:
        return Text(f"{task_id} has no earlier version to compare with its current one.")
    lines = between(*pair)
    if not lines:
        return Text("The previous and the current version read the same.")
    return diff_text(lines)


class DiffScreen(DetailDialog):
    """The previous and the current version of a task, as a scrollable unified diff."""

    def __init__(self, view: ProductionView, task_id: str) -> None:
        super().__init__(f"Diff {task_id}", task_diff(view, task_id), name="diff")


@dataclass(frozen=True)
class Draft:
    option_id: str
    label: str
    body: Text


def is_alternatives(escalation: Escalation) -> bool:
    """An item whose options each pick one version (alt1…altN, keep)."""
    ids = [o.id for o in escalation.options]
    return (
        bool(ids)
        and any(i.startswith("alt") for i in ids)
        and len(escalation.artifact_ids) == len(ids)
    )


def drafts_of(view: ProductionView, escalation: Escalation) -> list[Draft]:
    """Each option of an alternatives item, with its draft's diff against the current."""
    record = view.tasks.get(escalation.task_id or "")
    current = versions_of.current_of(view, record) if record is not None else None
    drafts = []
    for option, artifact_id in zip(escalation.options, escalation.artifact_ids, strict=True):
        artifact = view.artifacts.get(artifact_id)
        if artifact is None or current is None or artifact.id == current.id:
            body = Text(f"{artifact_id} is the current version; choosing it changes nothing.")
        else:
            lines = between(current, artifact)
            body = diff_text(lines) if lines else Text("This draft reads as the current one.")
        drafts.append(Draft(option.id, flatten(option.label), body))
    return drafts


class DraftsScreen(Dialog[Picked]):
    """One draft at a time: `n`/`right` next, `p`/`left` previous, `enter` chooses it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n,right", "turn(1)", "next", id="next-draft", tooltip="Next draft"),
        Binding("p,left", "turn(-1)", "previous", id="previous-draft", tooltip="Previous draft"),
        Binding("enter", "choose", "choose", id="choose-draft", tooltip="Make this draft current"),
    ]

    def __init__(self, title: str, drafts: Sequence[Draft]) -> None:
        super().__init__()
        self.title_text = title
        self.drafts = list(drafts)
        self.at = 0

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog wide", id="drafts-dialog", can_focus=True) as box:
            box.border_title = "Alternatives"
            yield Static(Text(flatten(self.title_text), style="bold"))
            yield Static(id="draft-head")
            yield Static(id="draft-body")
            yield Static(
                Text("n/p or arrows turn · enter chooses · esc cancels"),
                classes="muted dialog-foot",
            )

    def on_mount(self) -> None:
        super().on_mount()
        self._show()
        self.query_one(DialogBox).focus()

    def _show(self) -> None:
        draft = self.drafts[self.at]
        head = Text(f"{self.at + 1} of {len(self.drafts)}  ", style="bold")
        head.append(f"{draft.option_id}: {draft.label}")
        self.query_one("#draft-head", Static).update(head)
        self.query_one("#draft-body", Static).update(draft.body)
        self.query_one(DialogBox).scroll_home(animate=False)

    def action_turn(self, step: int) -> None:
        self.at = (self.at + step) % len(self.drafts)
        self._show()

    def action_choose(self) -> None:
        self.dismiss(Picked(self.drafts[self.at].option_id))
