"""Following a production that an engine in another process runs, through its store.

This is the second implementation of the TUI's `ProductionSource`: the view is folded from the
committed events, new events are picked up as they are committed (every POLL_S), and commands
travel through the store's command channel, where the engine takes them up durably. Closing
a follower never touches the engine.

The follower also watches the engine's lock (`DB.lock`, read-only): when the engine goes away
(killed, crashed, or stopped from elsewhere) `engine_lost` says so, and commands are still
recorded but reported as waiting for `podium resume`, which applies them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from podium.domain.escalation import Command
from podium.domain.events import CommandApplied, CommandRejected, Payload, ProductionState
from podium.domain.state import ProductionView
from podium.locks import holder
from podium.seam.protocol import CommandResult
from podium.store import EventStore

Listener = Callable[[int, Payload], None]

POLL_S = 0.03  # about two frames
ANSWER_S = 10.0  # how long `submit` waits for the engine's verdict
LIVENESS_S = 1.0  # how often the engine's lock is looked at


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
        known = self._view.commands.get(command.id)
        if known is not None and known.status != "recorded":
            return CommandResult(command.id, known.status == "applied", known.detail)
        answer: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._answers[command.id] = answer
        try:
            await self.store.submit_command(command)
            if not self.check_engine():
                return self._waiting_for_resume(command)
            gone: asyncio.Future[Any] = asyncio.ensure_future(self._gone.wait())
            waiting: set[asyncio.Future[Any]] = {answer, gone}
            try:
                await asyncio.wait(waiting, timeout=ANSWER_S, return_when=asyncio.FIRST_COMPLETED)
            finally:
                gone.cancel()
            if answer.done():
                return answer.result()
            if not self._alive:
                return self._waiting_for_resume(command)
            return CommandResult(command.id, True, "recorded; the engine will apply it")
        finally:
            self._answers.pop(command.id, None)

    def _waiting_for_resume(self, command: Command) -> CommandResult:
        return CommandResult(
            command.id,
            False,
            f"recorded, but no engine is running: it applies when the production is resumed "
            f"({self.resume_hint})",
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
