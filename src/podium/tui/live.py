"""Coalescing: many events between two screen refreshes become one set of changes.

The panes always draw from the `ProductionView` (the source of truth); events only say which
parts of it changed since the last tick, so a thousand chunks from one agent cost one redraw
of one row.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from podium.domain.events import (
    AgentStateChanged,
    ArtifactCreated,
    ArtifactStatusChanged,
    CallFinished,
    CharacterSheetMade,
    Clarified,
    CommandApplied,
    CommandRecorded,
    CommandRejected,
    ConstraintsAdjusted,
    CurrentVersionSet,
    DebateClosed,
    DebateOpened,
    DebateTurnTaken,
    EscalationOpened,
    EscalationResolved,
    Feedback,
    FramesDrawn,
    OutputChunk,
    Payload,
    ProductionOpened,
    ProductionStateChanged,
    ReviewGiven,
    RunStarted,
    RunStopped,
    StatusReported,
    SummaryMade,
    TaskDirected,
    TaskSettled,
    TasksPlanned,
    TaskStateChanged,
    TerritoryAssigned,
    ValidationReported,
    VisionAmended,
)
from podium.domain.tasks import TaskState
from podium.seam.stream import ChangeSet

TranscriptPayload = ReviewGiven | DebateOpened | DebateTurnTaken | DebateClosed

_F = TypeVar("_F", bound=Callable[..., None])

_MARKS: dict[type[Any], Callable[[Digest, Any, Changes], None]] = {}
"""What each kind of event changes on the screen, registered by `@marks` beside it: with QUIET,
every kind in `podium.domain.events.EVENT_TYPES` exactly once (a test checks it)."""

QUIET: frozenset[type[Any]] = frozenset(
    {
        ProductionOpened,
        RunStarted,
        ProductionStateChanged,
        ArtifactCreated,
        ArtifactStatusChanged,
        TerritoryAssigned,
        CommandRecorded,
        CommandApplied,
        CommandRejected,
        VisionAmended,
        ConstraintsAdjusted,
        CurrentVersionSet,
        Clarified,  # the task's clarifications: drawn from the view
        SummaryMade,  # an input's summary: nothing on screen
        CharacterSheetMade,  # a character's look for image prompts: nothing on screen
        FramesDrawn,  # storyboard frames on disk: the export reads them
    }
)
"""Kinds that mark no pane: what they change, the panes draw from the view on every refresh."""


def marks(*kinds: type[Any]) -> Callable[[_F], _F]:
    """Register the decorated method as what events of these kinds change on the screen."""

    def register(mark: _F) -> _F:
        for kind in kinds:
            if kind in _MARKS or kind in QUIET:
                raise TypeError(f"{kind.__name__} is marked twice")
            _MARKS[kind] = mark
        return mark

    return register


SPARK_SECONDS = 30


@dataclass
class Changes:
    """What changed since the last refresh."""

    events: int = 0
    plan: bool = False
    tasks: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    # Tasks whose run started or ended: their agents' rows change too (the fold derives the
    # agent's thinking/idle from the task's own state; no agent event is recorded beside it).
    runs: set[str] = field(default_factory=set)
    escalations: bool = False
    transcript: list[TranscriptPayload] = field(default_factory=list)
    all_agents: bool = False
    resync: bool = False  # the stream fell behind: draw everything again from the view

    @property
    def any(self) -> bool:
        return self.events > 0 or self.resync


class Activity:
    """Per-agent output chunks per second over the last half minute, for the sparklines."""

    def __init__(self, seconds: int = SPARK_SECONDS) -> None:
        self.seconds = seconds
        self._buckets: dict[str, deque[int]] = {}
        self._current: Counter[str] = Counter()
        self._second: int | None = None

    def count(self, agent_id: str, chunks: int = 1) -> None:
        self._current[agent_id] += chunks

    def tick(self, now: float) -> bool:
        """Close the current second when the clock has moved on; True when it did."""
        second = int(now)
        if self._second is None:
            self._second = second
            return False
        if second == self._second:
            return False
        gap = min(second - self._second, self.seconds)
        for agent_id in set(self._buckets) | set(self._current):
            row = self._row(agent_id)
            row.append(self._current.get(agent_id, 0))
            for _ in range(gap - 1):
                row.append(0)
        self._current.clear()
        self._second = second
        return True

    def series(self, agent_id: str) -> list[float]:
        return [float(v) for v in self._row(agent_id)]

    def _row(self, agent_id: str) -> deque[int]:
        row = self._buckets.get(agent_id)
        if row is None:
            row = deque([0] * self.seconds, maxlen=self.seconds)
            self._buckets[agent_id] = row
        return row


class Digest:
    """Folds drained events into `Changes`, plus what only the screen tracks (chars per task)."""

    def __init__(self) -> None:
        self.activity = Activity()
        self.task_chars: Counter[str] = Counter()
        # Tasks whose character count moved since `take_written`: the agent rows show the
        # writing live; the tree's counts need not redraw thirty lines at frame rate.
        self.written: set[str] = set()

    def take_written(self) -> set[str]:
        written, self.written = self.written, set()
        return written

    def digest(self, change_set: ChangeSet) -> Changes:
        changes = Changes(resync=change_set.resync)
        for _seq, payload in change_set.events:
            changes.events += 1
            self._one(payload, changes)
        for agent_id, chunks in change_set.extra_chunks.items():  # merged or given up
            self.activity.count(agent_id, chunks)
            changes.agents.add(agent_id)
        for task_id, chars in change_set.extra_chars.items():
            self.task_chars[task_id] += chars
            self.written.add(task_id)
        return changes

    def _one(self, p: Payload, changes: Changes) -> None:
        mark = _MARKS.get(type(p))
        if mark is not None:
            mark(self, p, changes)

    @marks(OutputChunk)
    def _chunk(self, p: OutputChunk, changes: Changes) -> None:
        changes.agents.add(p.agent_id)
        self.written.add(p.task_id)  # its count in the tree moves once a second
        self.activity.count(p.agent_id)
        self.task_chars[p.task_id] += len(p.text)

    @marks(TaskStateChanged, TaskSettled)  # settled: done (and its status, current version)
    def _task_state(self, p: TaskStateChanged | TaskSettled, changes: Changes) -> None:
        changes.tasks.add(p.task_id)
        changes.runs.add(p.task_id)
        if type(p) is TaskSettled and p.report is not None:  # a report task's report in it
            changes.agents.add(p.report.agent_id)
        if p.state is TaskState.RUNNING:
            self.task_chars.pop(p.task_id, None)

    @marks(AgentStateChanged, Feedback, StatusReported)
    def _agent(self, p: AgentStateChanged | Feedback | StatusReported, changes: Changes) -> None:
        changes.agents.add(p.agent_id)

    @marks(CallFinished)
    def _call(self, p: CallFinished, changes: Changes) -> None:
        changes.agents.add(p.agent_id)
        if p.task_id:
            changes.tasks.add(p.task_id)

    @marks(TasksPlanned)
    def _plan(self, p: TasksPlanned, changes: Changes) -> None:
        changes.plan = True

    @marks(TaskDirected)
    def _directed(self, p: TaskDirected, changes: Changes) -> None:
        changes.plan = True  # an assignee may have changed
        changes.tasks.add(p.task_id)

    @marks(ValidationReported)
    def _validation(self, p: ValidationReported, changes: Changes) -> None:
        changes.tasks.add(p.task_id)

    @marks(EscalationOpened, EscalationResolved)
    def _escalation(self, p: EscalationOpened | EscalationResolved, changes: Changes) -> None:
        changes.escalations = True

    @marks(RunStopped)
    def _stopped(self, p: RunStopped, changes: Changes) -> None:
        changes.all_agents = True

    @marks(ReviewGiven, DebateOpened, DebateTurnTaken, DebateClosed)
    def _transcript(self, p: TranscriptPayload, changes: Changes) -> None:
        changes.transcript.append(p)
        if isinstance(p, ReviewGiven):
            changes.tasks.add(p.task_id)
