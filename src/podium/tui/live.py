"""Coalescing: many events between two screen refreshes become one set of changes.

The panes always draw from the `ProductionView` (the source of truth); events only say which
parts of it changed since the last tick, so a thousand chunks from one agent cost one redraw
of one row.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from podium.domain.events import (
    AgentStateChanged,
    CallFinished,
    DebateClosed,
    DebateOpened,
    DebateTurnTaken,
    EscalationOpened,
    EscalationResolved,
    Feedback,
    OutputChunk,
    Payload,
    ReviewGiven,
    RunStopped,
    StatusReported,
    TaskDirected,
    TasksPlanned,
    TaskStateChanged,
    ValidationReported,
)
from podium.domain.tasks import TaskState
from podium.seam.stream import ChangeSet

TranscriptPayload = ReviewGiven | DebateOpened | DebateTurnTaken | DebateClosed

SPARK_SECONDS = 30


@dataclass
class Changes:
    """What changed since the last refresh."""

    events: int = 0
    plan: bool = False
    tasks: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
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

    def _one(self, p: Payload, changes: Changes) -> None:  # noqa: C901 - one branch per kind
        if isinstance(p, OutputChunk):
            changes.agents.add(p.agent_id)
            self.written.add(p.task_id)  # its count in the tree moves once a second
            self.activity.count(p.agent_id)
            self.task_chars[p.task_id] += len(p.text)
        elif isinstance(p, TaskStateChanged):
            changes.tasks.add(p.task_id)
            if p.state is TaskState.RUNNING:
                self.task_chars.pop(p.task_id, None)
        elif isinstance(p, AgentStateChanged | Feedback | StatusReported):
            changes.agents.add(p.agent_id)
        elif isinstance(p, CallFinished):
            changes.agents.add(p.agent_id)
            if p.task_id:
                changes.tasks.add(p.task_id)
        elif isinstance(p, TasksPlanned):
            changes.plan = True
        elif isinstance(p, TaskDirected):
            changes.plan = True  # an assignee may have changed
            changes.tasks.add(p.task_id)
        elif isinstance(p, ValidationReported):
            changes.tasks.add(p.task_id)
        elif isinstance(p, EscalationOpened | EscalationResolved):
            changes.escalations = True
        elif isinstance(p, RunStopped):
            changes.all_agents = True
        if isinstance(p, ReviewGiven | DebateOpened | DebateTurnTaken | DebateClosed):
            changes.transcript.append(p)
            if isinstance(p, ReviewGiven):
                changes.tasks.add(p.task_id)
