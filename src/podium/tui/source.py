"""Where the conductor's screen gets a production from: the seam between the TUI and an engine.

The app touches a production only through `ProductionSource`. Today that is the in-process
`Engine` (it satisfies the protocol as it is); a later step attaches to an engine running in
another process through the store, as a new implementation of the same five members.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Protocol

from podium.domain.escalation import Command
from podium.domain.events import Payload, ProductionState
from podium.domain.state import ProductionView
from podium.engine.engine import CommandResult

Listener = Callable[[int, Payload], None]


class ProductionSource(Protocol):
    """A running (or resumable) production, seen as events and steered by commands."""

    @property
    def view(self) -> ProductionView: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    async def submit(self, command: Command) -> CommandResult: ...

    async def run(self) -> ProductionState: ...

    def request_stop(self, reason: str = ...) -> None: ...


def engine_lost(source: ProductionSource) -> str | None:
    """Why no engine runs what an attached screen follows; None while one does, and always
    for an engine in this process (its failures are the app's to report)."""
    lost = getattr(source, "engine_lost", None)
    return lost if isinstance(lost, str) else None


class StaticSource:
    """A production as it stands, with nothing running: for snapshots and read-only looks.

    `run` only waits to be stopped, and every command is refused with a reason.
    """

    def __init__(self, view: ProductionView) -> None:
        self._view = view
        self._stopped = asyncio.Event()

    @property
    def view(self) -> ProductionView:
        return self._view

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return lambda: None

    async def submit(self, command: Command) -> CommandResult:
        return CommandResult(command.id, False, "this is a read-only view; nothing is running")

    async def run(self) -> ProductionState:
        await self._stopped.wait()
        return self._view.state

    def request_stop(self, reason: str = "stopped") -> None:
        self._stopped.set()


class Feed:
    """The listener the engine calls for every event: it only appends, the screen drains.

    The engine calls it synchronously, hundreds of times a second while agents stream, so it
    does no work beyond one `deque.append`.
    """

    def __init__(self) -> None:
        self._pending: deque[tuple[int, Payload]] = deque()

    def __call__(self, seq: int, payload: Payload) -> None:
        self._pending.append((seq, payload))

    def __len__(self) -> int:
        return len(self._pending)

    def drain(self) -> list[tuple[int, Payload]]:
        items = list(self._pending)
        self._pending.clear()
        return items
