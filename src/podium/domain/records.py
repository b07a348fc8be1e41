"""The records a `ProductionView` holds for each task, agent and command, the types of
streamed text a replay holds unread, and the shelf of artifact contents kept in the store."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from podium.domain.agents import AgentSpec
from podium.domain.escalation import Command
from podium.domain.events import (
    AgentState,
    ReviewGiven,
)
from podium.domain.policy import Territory
from podium.domain.tasks import TaskSpec, TaskState
from podium.domain.text import sanitize_tree, tree_is_clean
from podium.domain.validators import Finding

if TYPE_CHECKING:
    from podium.domain.artifacts import Artifact

TAIL_CHARS = 400
_STREAMING = AgentState.STREAMING

Unread = tuple[Any, ...]
"""Streamed text still in the store (a replay's row), held unread by the fold until it shows."""

ReadHeld = Callable[[str, Unread], str]
"""How a replay reads (and checks) a held row: (the agent it is held for, the row) -> its text."""


class UnreadableLog(Exception):
    """The log holds a production this version of podium cannot read."""


@dataclass
class TaskRecord:
    spec: TaskSpec
    state: TaskState = TaskState.PENDING
    reason: str = ""
    attempt: int = 0
    calls: int = 0  # model calls that finished (ok or not)
    failed_calls: int = 0  # of which failed (each retried, or the last before an escalation)
    run_base: int = 0  # `calls` when the current run began; an interrupted run keeps it
    interrupted: bool = False
    budget_allowed: bool = False  # an approved overrun its next call may spend (one call)
    claim: Territory | None = None  # the territory its agent claimed, until the task concludes
    started_at: float | None = None
    ended_at: float | None = None
    artifact_ids: list[str] = field(default_factory=list)
    territory: Territory | None = None
    findings: list[Finding] = field(default_factory=list)
    vision_version: int = 0  # the vision this task's current output was made from
    # Its lineage (`podium.domain.lineage`): the current version's number (0: none set, as in
    # a log written before podium recorded it), and what the version its state is about (the
    # current one, or the candidate a run made) was made from: inputs' versions, vision sections.
    current: int = 0
    made_from: dict[str, int] = field(default_factory=dict)
    vision_sections: tuple[str, ...] | None = None
    direction: str = ""  # the Orchestrator's binding direction for the next run
    # The questions its agent asked and the Orchestrator's answers (`Clarified`), in order.
    clarifications: list[tuple[str, str]] = field(default_factory=list)
    reviews: list[ReviewGiven] = field(default_factory=list)
    source: str = "file"

    @property
    def artifact_id(self) -> str | None:
        return self.artifact_ids[-1] if self.artifact_ids else None


@dataclass
class AgentRecord:
    spec: AgentSpec
    state: AgentState = AgentState.IDLE
    task_id: str | None = None
    tail: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: bool = False
    calls: int = 0
    failures: int = 0
    feedback: list[str] = field(default_factory=list)
    last_report: str = ""
    # Streamed text after `tail`, not yet read (a replay hands stored chunks over unread;
    # `ProductionView.settle` reads what still shows). Empty outside a replay.
    held: list[str | Unread] = field(default_factory=list, repr=False, compare=False)


@dataclass
class CommandRecord:
    command: Command
    seq: int
    status: str = "recorded"  # recorded, applied, rejected
    detail: str = ""


def shown(value: Any) -> Any:
    """A stored value with its text sanitized; as it is (no copy) when nothing needs it."""
    return value if tree_is_clean(value, 64) else sanitize_tree(value)


ReadContent = Callable[[int, str], dict[str, Any]]
"""How a shelf reads a content from the store: (the seq of the `ArtifactCreated` event that
holds it, the artifact id) -> the content, as the event recorded it."""

SHELF_KEEPS = 24  # contents kept in memory after they were read (the most recently read)


class ContentShelf:
    """Artifact contents a view keeps in the store instead of in memory (issue 20).

    A big production's versions are most of its view's memory (2,542 versions of a
    1,000,000-event series: 456 MB of Python objects for 76 MB of JSON), and the screen and
    `podium status` never read most of them. An artifact shelved here keeps everything but its
    content; `Artifact.content` reads it back from the event that recorded it (the reference:
    that event's seq and the artifact's id), and the last `keep` contents read stay in memory.
    Thread-safe: exports read contents from worker threads.
    """

    def __init__(self, read: ReadContent, keep: int = SHELF_KEEPS) -> None:
        self._read = read
        self._keep = keep
        self._recent: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def shelve(self, artifact: Artifact, seq: int) -> Artifact:
        """`artifact`, recorded by event `seq`, with its content left in the store."""
        return artifact.held_elsewhere(_Reference(self, seq, artifact.id))

    def content(self, seq: int, artifact_id: str) -> dict[str, Any]:
        with self._lock:
            found = self._recent.get(seq)
            if found is not None:
                self._recent.move_to_end(seq)
                return found
        found = self._read(seq, artifact_id)
        with self._lock:
            self._recent[seq] = found
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        return found


@dataclass(frozen=True)
class _Reference:
    """Where one artifact's content is: the shelf and the event (its seq) that recorded it."""

    shelf: ContentShelf = field(compare=False)
    seq: int
    artifact_id: str

    def __call__(self) -> dict[str, Any]:
        return self.shelf.content(self.seq, self.artifact_id)
