"""A production's state, folded from its events.

The same fold serves the live engine (applied as each event is emitted), a resumed run
(applied to the stored log), `podium status`, the TUI and the exporters, so what one sees is
what the others see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podium.domain.artifacts import Artifact
from podium.domain.debate import Debate, DebateState
from podium.domain.escalation import Escalation
from podium.domain.events import (
    AgentState,
    CharacterSheetMade,
    Event,
    FramesDrawn,
    Payload,
    ProductionState,
    VisionAmended,
)
from podium.domain.folds import _FOLD, fold_for, folds, upcast_untyped_facts
from podium.domain.production import Constraints, ProductionSpec, Vision
from podium.domain.records import (
    TAIL_CHARS,
    AgentRecord,
    CommandRecord,
    ContentShelf,
    ReadHeld,
    TaskRecord,
    Unread,
    UnreadableLog,
)
from podium.domain.tasks import TaskState

_STREAMING = AgentState.STREAMING


@dataclass
class ProductionView:
    spec: ProductionSpec | None = None
    vision: Vision | None = None
    vision_history: list[VisionAmended] = field(default_factory=list)
    constraints: Constraints | None = None
    model_override: str | None = None
    seed: int = 0
    state: ProductionState = ProductionState.RUNNING
    state_reason: str = ""
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    agents: dict[str, AgentRecord] = field(default_factory=dict)
    artifacts: dict[str, Artifact] = field(default_factory=dict)
    # The seq of the event that recorded each artifact (where a shelved content is read from).
    artifact_seqs: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, Escalation] = field(default_factory=dict)
    debates: dict[str, Debate] = field(default_factory=dict)
    commands: dict[str, CommandRecord] = field(default_factory=dict)
    # Summaries of inputs too big to give whole (`SummaryMade`), by (task id, version).
    summaries: dict[tuple[str, int], str] = field(default_factory=dict)
    # Each principal character's look (`CharacterSheetMade`), by name: the latest made.
    character_sheets: dict[str, CharacterSheetMade] = field(default_factory=dict)
    # Storyboard frames an image model drew (`FramesDrawn`), by the shot list's artifact id.
    frames: dict[str, FramesDrawn] = field(default_factory=dict)
    planned: bool = False
    paused: bool = False
    runs: int = 0
    run_open: bool = False  # a run started and has not recorded its stop (running, or crashed)
    last_ts: float | None = None
    last_seq: int = 0
    first_start: float | None = None
    last_end: float | None = None
    # The deadline's clock counts working time: it runs while a run is open and not paused,
    # from the first task start (a run stopped overnight and resumed is not past its deadline).
    worked_s: float = 0.0  # the stretches of work closed so far
    working_since: float | None = None  # the open stretch's start; None: the clock is stopped
    working_to: float | None = None  # the open stretch's last task move (where a crash ends it)
    created_at: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: bool = False
    unpriced_calls: int = 0  # calls whose price nobody knows (their cost is not in cost_usd)
    calls: int = 0
    failed_calls: int = 0
    retried_tasks: int = 0

    # -- where shelved artifact contents are read from ------------------------------------------

    @property
    def contents(self) -> ContentShelf | None:
        """The shelf this view's big artifact contents are kept on (None: all in memory).

        Not a field: a cache of the store's, set by a replay (`podium.store.replay`), so two
        views of one log compare equal whichever holds its contents where."""
        shelf = self.__dict__.get("_contents")
        return shelf if isinstance(shelf, ContentShelf) else None

    def keep_contents_on(self, shelf: ContentShelf | None) -> None:
        self.__dict__["_contents"] = shelf

    def shelve(self, upto: int, *, over: int = 0, sizes: dict[str, int] | None = None) -> int:
        """Leave on the shelf the content of every artifact recorded at or before seq `upto`
        still held in memory (of those whose content is over `over` characters of JSON, by
        `sizes`, when given); how many. Nothing without a shelf."""
        shelf = self.contents
        if shelf is None:
            return 0
        moved = 0
        seqs = self.artifact_seqs
        for artifact_id, artifact in self.artifacts.items():
            seq = seqs.get(artifact_id)
            if seq is None or seq > upto or not artifact.content_held:
                continue
            if sizes is not None and sizes.get(artifact_id, 0) <= over:
                continue
            self.artifacts[artifact_id] = shelf.shelve(artifact, seq)
            moved += 1
        return moved

    # -- derived -----------------------------------------------------------------------------

    def open_escalations(self) -> list[Escalation]:
        open_items = [e for e in self.escalations.values() if e.open]
        return sorted(open_items, key=lambda e: (e.priority, e.opened_at))

    def task_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in TaskState}
        for record in self.tasks.values():
            counts[record.state.value] += 1
        return counts

    def makespan_s(self) -> float | None:
        if self.first_start is None or self.last_end is None:
            return None
        return max(0.0, self.last_end - self.first_start)

    def working_s(self, now: float) -> float:
        """Working time so far, what the deadline counts: the closed stretches and the one
        open now (up to `now`, or to the last task's end once the production completed)."""
        if self.first_start is None:
            return 0.0
        total = self.worked_s
        since = self.working_since
        if since is not None:
            end = now
            if self.state is ProductionState.COMPLETED and self.last_end is not None:
                end = self.last_end
            total += max(0.0, end - max(since, self.first_start))
        return total

    def total_cost(self) -> float | None:
        """Known cost; None when any call's price was unknown and nothing is known."""
        if self.cost_unknown and self.cost_usd == 0:
            return None
        return self.cost_usd

    def agent_totals(self) -> dict[str, dict[str, Any]]:
        """What each agent spent: tokens, cost (None while no price is known) and calls."""
        return {
            agent_id: {
                "department": agent.spec.department,
                "tokens": agent.input_tokens + agent.output_tokens,
                "input_tokens": agent.input_tokens,
                "output_tokens": agent.output_tokens,
                "cost_usd": None if agent.cost_unknown and agent.cost_usd == 0 else agent.cost_usd,
                "cost_complete": not agent.cost_unknown,
                "calls": agent.calls,
                "failed_calls": agent.failures,
            }
            for agent_id, agent in self.agents.items()
        }

    def department_totals(self) -> dict[str, dict[str, Any]]:
        """The same per department, the ledger's view of who spends the budget."""
        out: dict[str, dict[str, Any]] = {}
        for agent_id, agent in self.agents.items():
            dept = out.setdefault(
                agent.spec.department,
                {"agents": [], "tokens": 0, "cost_usd": 0.0, "cost_complete": True, "calls": 0},
            )
            dept["agents"].append(agent_id)
            dept["tokens"] += agent.input_tokens + agent.output_tokens
            dept["cost_usd"] += agent.cost_usd
            dept["cost_complete"] = dept["cost_complete"] and not agent.cost_unknown
            dept["calls"] += agent.calls
        for dept in out.values():
            if not dept["cost_complete"] and dept["cost_usd"] == 0:
                dept["cost_usd"] = None
        return out

    def dependents(self, task_id: str) -> list[str]:
        return [t for t, r in self.tasks.items() if task_id in r.spec.depends_on]

    def all_settled(self) -> bool:
        return bool(self.tasks) and all(r.state.settled for r in self.tasks.values())

    # -- the fold ----------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        self.mark(event.seq, event.ts)
        self.apply_payload(event.payload, event.ts)

    def mark(self, seq: int, ts: float) -> None:
        """Where the log stands: what `apply` notes of every event besides its payload."""
        self.last_seq = seq
        self.last_ts = ts

    def apply_payload(self, p: Payload, ts: float) -> None:
        # One dict lookup by type instead of a chain of isinstance checks: the fold runs for
        # every event, and an isinstance on a pydantic model costs as much as the work.
        fold = _FOLD.get(type(p))
        if fold is None:
            fold = fold_for(type(p))
        fold(self, p, ts)

    def stream(self, agent_id: str, text: str | Unread) -> None:
        """The fold of streamed text (an `OutputChunk`): the agent's tail, and `streaming`.

        Text still in the store (a replay hands stored chunks over unread, `podium.store.replay`)
        waits in the agent's `held` until `settle`, which reads only what still shows: most of a
        long log is streamed text that a later call has long since cleared from the tail.
        """
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        agent.state = _STREAMING
        held = agent.held
        if held or type(text) is not str:
            held.append(text)
        else:
            agent.tail = (agent.tail + text)[-TAIL_CHARS:]

    def settle(self, read: ReadHeld, *, beyond: int = 0) -> None:
        """Read into each agent's tail what of its held text still shows (of the agents holding
        more than `beyond` pieces): the newest pieces, until they fill the tail."""
        for agent_id, agent in self.agents.items():
            if len(agent.held) > beyond:
                _settle(agent_id, agent, read)

    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def summary(self) -> dict[str, Any]:
        """The figures `podium status --json` prints."""
        spec = self.spec
        return {
            "title": spec.production.title if spec else None,
            "state": self.state.value,
            "paused": self.paused,
            "tasks": self.task_counts(),
            "makespan_s": self.makespan_s(),
            "working_s": self.working_s(self.working_to or self.last_ts or 0.0),
            "tokens": self.tokens(),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.total_cost(),
            "cost_complete": not self.cost_unknown,
            "open_escalations": len(self.open_escalations()),
            "artifacts": len(self.artifacts),
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "debates": len(self.debates),
            "vision_version": self.vision.version if self.vision else None,
            "events": self.last_seq,
            "agents": self.agent_totals(),
            "departments": self.department_totals(),
        }


def _settle(agent_id: str, agent: AgentRecord, read: ReadHeld) -> None:
    parts: list[str] = []
    size = 0
    for piece in reversed(agent.held):
        text = piece if isinstance(piece, str) else read(agent_id, piece)
        parts.append(text)
        size += len(text)
        if size >= TAIL_CHARS:
            break
    else:
        parts.append(agent.tail)
    agent.tail = "".join(reversed(parts))[-TAIL_CHARS:]
    agent.held.clear()


def fold(events: list[Event]) -> ProductionView:
    view = ProductionView()
    for event in events:
        view.apply(event)
    return view


__all__ = [
    "TAIL_CHARS",
    "_FOLD",
    "AgentRecord",
    "CommandRecord",
    "ContentShelf",
    "DebateState",
    "ProductionView",
    "ReadHeld",
    "TaskRecord",
    "Unread",
    "UnreadableLog",
    "fold",
    "folds",
    "upcast_untyped_facts",
]
