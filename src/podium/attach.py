"""Following a production that an engine in another process runs, through its store.

This is the second implementation of the TUI's `ProductionSource`: the view is folded from the
committed events, new events are picked up as they are committed (every POLL_S), and commands
travel through the store's command channel, where the engine takes them up durably. Closing
a follower never touches the engine.

The follower also watches the engine's lock (`DB.lock`, read-only): when the engine goes away
(killed, crashed, or stopped from elsewhere) `engine_lost` says so, and commands are still
recorded but reported as waiting for `podium resume`, which applies them.

`deliver` is the one way a command from another process reaches a production (`podium decide`,
`vision`, `constraints`, the attached screen): it says exactly what became of the command —
applied by a running engine, refused (nothing recorded, or the engine's own refusal), or recorded
durably and not yet applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from podium.domain.escalation import Action, Command
from podium.domain.events import CommandApplied, CommandRejected, Payload, ProductionState
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.locks import holder
from podium.seam.protocol import CommandResult
from podium.store import EventStore
from podium.store.errors import CommandConflict

if TYPE_CHECKING:
    from podium.engine.port import EnginePort

Listener = Callable[[int, Payload], None]

POLL_S = 0.03  # about two frames
ANSWER_S = 10.0  # how long `submit` waits for the engine's verdict
LIVENESS_S = 1.0  # how often the engine's lock is looked at

# Actions that decide no escalation: two of them, or one and a decision, do not contradict.
DECIDES_NOTHING = frozenset({Action.FEEDBACK, Action.PAUSE, Action.RESUME, Action.STOP})

Outcome = Literal["applied", "refused", "recorded"]


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What became of a command: applied by a running engine; refused (with why); or recorded
    durably, to be checked and applied when an engine runs (it may still be refused then)."""

    command_id: str
    outcome: Outcome
    detail: str


@dataclasses.dataclass
class _Checker:
    """Just enough of an engine for CommandHandler.rejection, which only reads the view."""

    view: ProductionView


def rejection(view: ProductionView, command: Command) -> str | None:
    """Why an engine resuming this production now would refuse `command`, or None.

    The view is taken as an engine resuming it would see it: what was running when its engine
    stopped is ready again. Applies nothing; the view is not changed.
    """
    from podium.engine.commands import CommandHandler

    recovered = copy.copy(view)
    recovered.tasks = {
        task_id: dataclasses.replace(record, state=TaskState.READY)
        if record.state is TaskState.RUNNING
        else record
        for task_id, record in view.tasks.items()
    }
    return CommandHandler(cast("EnginePort", _Checker(recovered))).rejection(command)


class StoreFollower:
    attached = True  # quitting the screen detaches; it never stops the engine

    def __init__(
        self,
        store: EventStore,
        view: ProductionView,
        *,
        db: Path | None = None,
        engine_alive: Callable[[], bool] | None = None,
    ) -> None:
        self.store = store
        self.db = db
        self._view = view
        self._listeners: list[Listener] = []
        self._answers: dict[str, asyncio.Future[CommandResult]] = {}
        self._stopped = asyncio.Event()
        self._engine_alive = engine_alive or self._holds_lock
        self._alive = True
        self._gone = asyncio.Event()  # set while no engine runs the production
        self._checked = 0.0
        self._watchers: list[Callable[[], None]] = []  # told when the engine goes or comes

    @classmethod
    async def open(cls, db: Path) -> StoreFollower:
        store = await EventStore.open(db, create=False)
        view = ProductionView()
        try:
            async for event in store.iter_events():
                view.apply(event)
        except BaseException:
            await store.close()
            raise
        return cls(store, view, db=db)

    @property
    def view(self) -> ProductionView:
        return self._view

    def _holds_lock(self) -> bool:
        return self.db is None or holder(self.db) is not None

    @property
    def engine_lost(self) -> str | None:
        """Why no engine is running the production (None while one is)."""
        if self._alive:
            return None
        if self._view.run_open:
            return "its engine crashed or was killed"
        return f"its engine has stopped (the production is {self._view.state.value})"

    @property
    def resume_hint(self) -> str:
        return f"podium resume {self.db}" if self.db is not None else "podium resume DB"

    def watch_engine(self, watcher: Callable[[], None]) -> Callable[[], None]:
        """Call `watcher` whenever the engine goes away or comes back; returns the undo."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def check_engine(self) -> bool:
        """Look at the engine's lock now; True while an engine holds it."""
        was = self._alive
        self._alive = self._engine_alive()
        if self._alive != was:
            for watcher in list(self._watchers):
                watcher()
        self._checked = asyncio.get_running_loop().time()
        if self._alive:
            self._gone.clear()
        else:
            self._gone.set()
        return self._alive

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def submit(self, command: Command) -> CommandResult:
        """For the attached screen: `deliver`, with anything not applied said as not applied."""
        delivery = await self.deliver(command)
        return CommandResult(command.id, delivery.outcome == "applied", delivery.detail)

    async def deliver(self, command: Command) -> Delivery:
        """Record `command` durably for the engine and wait for its verdict (ANSWER_S at most).

        Refused at once, with nothing recorded, when the outcome is already known: the
        escalation is decided, or another command recorded before it decides it; and, when no
        engine runs, when the production as it stands would refuse it. Idempotent by command id.
        """
        await self.poll()
        known = self._view.commands.get(command.id)
        if known is not None and known.status != "recorded":
            outcome: Outcome = "applied" if known.status == "applied" else "refused"
            return Delivery(command.id, outcome, known.detail)
        answer: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._answers[command.id] = answer
        try:
            running = self.check_engine()
            if known is None:
                refused = await self._foreseen(command, running=running)
                if refused is not None:
                    return Delivery(command.id, "refused", refused)
                try:
                    await self.store.submit_command(
                        command,
                        seen_seq=self._view.last_seq,
                        inert=[a.value for a in DECIDES_NOTHING],
                    )
                except CommandConflict as exc:
                    return Delivery(command.id, "refused", f"{exc}; {self._outcome_hint}")
            if not running and not self.check_engine():
                return self._waiting_for_resume(command)
            gone: asyncio.Future[Any] = asyncio.ensure_future(self._gone.wait())
            waiting: set[asyncio.Future[Any]] = {answer, gone}
            try:
                await asyncio.wait(waiting, timeout=ANSWER_S, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
            if not answer.done():
                await self.poll()  # a verdict written just before the engine went
            if answer.done():
                result = answer.result()
                return Delivery(
                    command.id, "applied" if result.applied else "refused", result.detail
                )
            if not self._alive:
                return self._waiting_for_resume(command, stopped=True)
            return Delivery(
                command.id,
                "recorded",
                f"recorded; the engine has not applied it within {ANSWER_S:.0f}s and will when "
                f"it gets to it. It may still refuse it: {self._outcome_hint}",
            )
        finally:
            self._answers.pop(command.id, None)

    async def _foreseen(self, command: Command, *, running: bool) -> str | None:
        """Why `command` is refused whatever happens next, or None."""
        view = self._view
        if command.escalation_id is not None:
            escalation = view.escalations.get(command.escalation_id)
            if escalation is None:
                return f"no escalation {command.escalation_id!r}"
            if not escalation.open:
                return (
                    f"{escalation.id} was already decided ({escalation.resolution or 'resolved'})"
                )
            for record in view.commands.values():
                other = record.command
                if (
                    record.status == "recorded"
                    and other.escalation_id == escalation.id
                    and other.action not in DECIDES_NOTHING
                ):
                    return (
                        f"{escalation.id} is already being decided by command {other.id}, "
                        f"recorded and not yet applied; {self._outcome_hint}"
                    )
        if running:
            return None  # the engine's own verdict follows in a moment
        if command.action in (Action.ADJUST_CONSTRAINTS, Action.CLARIFY_VISION):
            return rejection(view, command)  # the value itself is checked, whatever waits
        if any(r.status == "recorded" for r in view.commands.values()):
            return None  # what waits ahead of it may change what it is checked against
        if await self.store.pending_commands():
            return None
        return rejection(view, command)

    @property
    def _outcome_hint(self) -> str:
        db = self.db if self.db is not None else "DB"
        return f"`podium inbox {db} --all` shows the outcome"

    def _waiting_for_resume(self, command: Command, *, stopped: bool = False) -> Delivery:
        why = "the engine stopped before applying it" if stopped else "no engine is running"
        return Delivery(
            command.id,
            "recorded",
            f"recorded, but {why}: it is checked and applies when the production is resumed "
            f"({self.resume_hint}); it may still be refused then: {self._outcome_hint}",
        )

    async def poll(self) -> int:
        """Apply what was committed since the last look; returns how many events."""
        events = await self.store.read(self._view.last_seq)
        for event in events:
            self._view.apply(event)
            payload = event.payload
            for listener in list(self._listeners):
                listener(event.seq, payload)
            if isinstance(payload, CommandApplied | CommandRejected):
                waiting = self._answers.get(payload.command_id)
                if waiting is not None and not waiting.done():
                    applied = isinstance(payload, CommandApplied)
                    detail = (
                        payload.effect if isinstance(payload, CommandApplied) else payload.reason
                    )
                    waiting.set_result(CommandResult(payload.command_id, applied, detail))
        return len(events)

    async def run(self) -> ProductionState:
        """Follow until asked to stop; the engine's own life is not ours to end."""
        loop = asyncio.get_running_loop()
        while not self._stopped.is_set():
            await self.poll()
            if loop.time() - self._checked >= LIVENESS_S:
                self.check_engine()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), POLL_S)
        return self._view.state

    def request_stop(self, reason: str = "detached") -> None:
        self._stopped.set()

    async def close(self) -> None:
        await self.store.close()
