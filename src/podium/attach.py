"""Following a production that an engine in another process runs, through its store.

This is the second implementation of the TUI's `ProductionSource`: the view is folded from the
committed events, new events are picked up as they are committed (every POLL_S), and commands
travel through the store's command channel, where the engine takes them up durably. Closing
a follower never touches the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from podium.domain.escalation import Command
from podium.domain.events import CommandApplied, CommandRejected, Payload, ProductionState
from podium.domain.state import ProductionView
from podium.engine.engine import CommandResult
from podium.store import EventStore

Listener = Callable[[int, Payload], None]

POLL_S = 0.03  # about two frames
ANSWER_S = 10.0  # how long `submit` waits for the engine's verdict


class StoreFollower:
    attached = True  # quitting the screen detaches; it never stops the engine

    def __init__(self, store: EventStore, view: ProductionView) -> None:
        self.store = store
        self._view = view
        self._listeners: list[Listener] = []
        self._answers: dict[str, asyncio.Future[CommandResult]] = {}
        self._stopped = asyncio.Event()

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
        return cls(store, view)

    @property
    def view(self) -> ProductionView:
        return self._view

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def submit(self, command: Command) -> CommandResult:
        known = self._view.commands.get(command.id)
        if known is not None and known.status != "recorded":
            return CommandResult(command.id, known.status == "applied", known.detail)
        answer: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._answers[command.id] = answer
        await self.store.submit_command(command)
        try:
            return await asyncio.wait_for(asyncio.shield(answer), ANSWER_S)
        except TimeoutError:
            return CommandResult(command.id, True, "recorded; the engine will apply it")
        finally:
            self._answers.pop(command.id, None)

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
        while not self._stopped.is_set():
            await self.poll()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), POLL_S)
        return self._view.state

    def request_stop(self, reason: str = "detached") -> None:
        self._stopped.set()

    async def close(self) -> None:
        await self.store.close()
