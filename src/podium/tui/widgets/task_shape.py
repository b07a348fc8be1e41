"""Where each task sits in the task tree: phase → deliverable group → task, in plan order.

Worked out from the plan alone (no widget, no Textual), so the tree can rebuild it on every
sync and compare it with the nodes it has already made.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Literal

from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskSpec, TaskState
from podium.tui.format import TASK_WORDS

SEP = "\x00"  # between the tasks' texts searched as one: a search's words never hold it
ACTIVE = frozenset(
    {TaskState.RUNNING, TaskState.AWAITING_APPROVAL, TaskState.FAILED, TaskState.STALE}
)


@dataclass(frozen=True)
class NodeRef:
    """What a tree node stands for."""

    kind: Literal["phase", "group", "task"]
    key: str


@dataclass
class Shape:
    """Where every task goes: phase → (group or task) → task, in plan order."""

    phases: dict[str, list[NodeRef]]
    groups: dict[str, list[str]]
    parent: dict[str, NodeRef]  # task id → its phase or group

    def tasks_under(self, ref: NodeRef) -> list[str]:
        if ref.kind == "task":
            return [ref.key]
        if ref.kind == "group":
            return list(self.groups.get(ref.key, []))
        out: list[str] = []
        for child in self.phases.get(ref.key, []):
            out.extend(self.tasks_under(child))
        return out


def _phase_of(record: TaskRecord) -> str:
    return record.spec.phase or record.spec.kind.value.replace("_", " ")


def shape(view: ProductionView) -> Shape:
    """Group tasks by phase, then by deliverable when two or more tasks share one."""
    counts: dict[tuple[str, str], int] = {}
    for record in view.tasks.values():
        if record.spec.deliverable:
            key = (_phase_of(record), record.spec.deliverable)
            counts[key] = counts.get(key, 0) + 1
    phases: dict[str, list[NodeRef]] = {}
    groups: dict[str, list[str]] = {}
    parent: dict[str, NodeRef] = {}
    for task_id, record in view.tasks.items():
        phase = _phase_of(record)
        children = phases.setdefault(phase, [])
        deliverable = record.spec.deliverable
        if deliverable and counts[(phase, deliverable)] > 1:
            group_key = f"{phase}\x1f{deliverable}"
            if group_key not in groups:
                groups[group_key] = []
                children.append(NodeRef("group", group_key))
            groups[group_key].append(task_id)
            parent[task_id] = NodeRef("group", group_key)
        else:
            children.append(NodeRef("task", task_id))
            parent[task_id] = NodeRef("phase", phase)
    return Shape(phases, groups, parent)


class TaskSearch:
    """The tasks whose id, title, assignee, state or its reason hold some words (lower case),
    in the tree's order. Each task's text is lowered once and kept until its spec, state or
    reason changes (a search on 2,000 tasks built and lowered 2,000 strings each time), and
    while the view stands where it stood (its `last_seq`: every event folded moves it) they
    are searched as one text, in one pass of `str.find` instead of a test per task."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[TaskSpec, TaskState, str, str]] = {}
        self._order: tuple[Shape | None, list[str]] = (None, [])  # a shape's tasks, in order
        # For one view, seq and shape: the tasks found, each one's text, all of them joined
        # by SEP and where each starts in that.
        self._joined: tuple[object, int, Shape, list[str], list[str], str, list[int]] | None
        self._joined = None

    def find(self, view: ProductionView, shape: Shape, needle: str) -> list[str]:
        joined = self._joined
        if (
            joined is None
            or joined[0] is not view
            or joined[1] != view.last_seq
            or joined[2] is not shape
        ):
            ids, lowered = self._lowered(view, shape)
            starts, at = [], 0
            for text in lowered:
                starts.append(at)
                at += len(text) + 1
            joined = self._joined = (
                view,
                view.last_seq,
                shape,
                ids,
                lowered,
                SEP.join(lowered),
                starts,
            )
        ids, lowered, text, starts = joined[3], joined[4], joined[5], joined[6]
        if not needle or SEP in needle:
            return [i for i, t in zip(ids, lowered, strict=True) if needle in t]
        found: list[str] = []
        at = text.find(needle)
        while at >= 0:
            index = bisect_right(starts, at) - 1
            found.append(ids[index])
            if index + 1 == len(starts):
                break
            at = text.find(needle, starts[index + 1])
        return found

    def _lowered(self, view: ProductionView, shape: Shape) -> tuple[list[str], list[str]]:
        """The shape's tasks in the view, in order, and each one's lowered text."""
        if self._order[0] is not shape:  # a shape is made anew when the plan changes
            ordered = [
                t for phase in shape.phases for t in shape.tasks_under(NodeRef("phase", phase))
            ]
            self._order = (shape, ordered)
        ids: list[str] = []
        lowered: list[str] = []
        texts, tasks = self._texts, view.tasks
        for task_id in self._order[1]:
            record = tasks.get(task_id)
            if record is None:
                continue
            known = texts.get(task_id)
            if (
                known is None
                or known[0] is not record.spec
                or known[1] is not record.state
                or known[2] != record.reason
            ):
                spec, state, reason = record.spec, record.state, record.reason
                words = TASK_WORDS[state]
                text = f"{task_id}\n{spec.title}\n{spec.assignee}\n{words}\n{reason or ''}"
                known = texts[task_id] = (spec, state, reason, text.lower())
            ids.append(task_id)
            lowered.append(known[3])
        return ids, lowered
