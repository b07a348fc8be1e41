"""One task in full: state, inputs, reviews, findings, the Orchestrator's direction, output."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from podium.domain.state import ProductionView
from podium.tui.format import TASK_GLYPH, TASK_WORDS, clip, flatten, label_row
from podium.tui.screens.dialog import DetailDialog
from podium.tui.widgets.escalation_detail import readable

FULL_LINES = 400  # the dialog scrolls; a longer output is in `podium show` / the export


def task_text(view: ProductionView, task_id: str) -> Text:
    """What the detail says, built once; every value that an agent wrote is literal text."""
    record = view.tasks.get(task_id)
    text = Text()
    if record is None:
        text.append(f"There is no task {task_id!r} any more.")
        return text
    spec = record.spec

    def row(label: str, value: str) -> None:
        label_row(text, label, value)

    text.append(f"{TASK_GLYPH[record.state]} {spec.id}: ", style="bold")
    text.append(flatten(spec.title) + "\n\n", style="bold")
    state = TASK_WORDS[record.state] + (f" ({flatten(record.reason)})" if record.reason else "")
    row("state", state)
    row("kind", spec.kind.value.replace("_", " "))
    row("phase", spec.phase or "—")
    row("assignee", spec.assignee)
    if spec.reviewers:
        row("reviewers", ", ".join(spec.reviewers))
    if spec.gate:
        row("milestone", spec.gate)
    if record.territory is not None:
        row("territory", record.territory.value.replace("_", " "))
    row("attempt", str(record.attempt or 0))
    if spec.depends_on:
        deps = [
            f"{d} ({TASK_WORDS[view.tasks[d].state]})" if d in view.tasks else d
            for d in spec.depends_on
        ]
        row("needs", ", ".join(deps))
    dependents = view.dependents(task_id)
    if dependents:
        row("feeds", ", ".join(dependents))
    if record.direction:
        row("direction", flatten(record.direction))
    if spec.brief:
        row("brief", clip(spec.brief, 400))
    if record.findings:
        text.append("\nvalidator findings\n", style="bold")
        for finding in record.findings[:8]:
            text.append(f"  • {clip(str(finding.message), 200)}\n")
    if record.reviews:
        text.append("\nreviews\n", style="bold")
        for review in record.reviews[-4:]:
            text.append(f"  {review.reviewer} (round {review.round}): {review.verdict}")
            if review.summary:
                text.append(f" — {clip(review.summary, 200)}")
            text.append("\n")
    if record.artifact_ids:
        text.append("\noutput\n", style="bold")
        for artifact_id in record.artifact_ids[-4:]:
            artifact = view.artifacts.get(artifact_id)
            if artifact is not None:
                text.append(f"  {artifact.id} · {artifact.status.value}\n")
        latest = view.artifacts.get(record.artifact_ids[-1])
        if latest is not None:
            text.append("\n" + readable(latest, FULL_LINES) + "\n")
    return text


class TaskDetailScreen(DetailDialog):
    """Read-only; act on the task from the tree (`o`, `r`, `s`, `n`, `f`); `d` shows the diff
    of its previous and current versions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "diff", "diff", id="diff", tooltip="The previous and the current version"),
    ]

    def __init__(self, view: ProductionView, task_id: str) -> None:
        super().__init__(f"Task {task_id}", task_text(view, task_id), name="task")
        self.view = view
        self.task_id = task_id

    def action_diff(self) -> None:
        from podium.tui.screens.versions_diff import DiffScreen

        self.app.push_screen(DiffScreen(self.view, self.task_id))
