"""Where the conductor's screen gets a production from: the seam (`podium.seam`).

The app touches a production only through a `ProductionSource`; the CLI hands it an engine
in this process or a follower of one in another (`podium.seam.sources`). `StaticSource` is a
production as it stands, with nothing running: for snapshots and read-only looks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from podium.domain.escalation import Command
from podium.domain.events import Payload, ProductionState
from podium.domain.state import ProductionView
from podium.seam.protocol import CommandResult, ExportFailed, ProductionSource
from podium.seam.stream import ChangeQueue, ChangeStream

__all__ = ["ProductionSource", "StaticSource"]

Exporter = Callable[[Path], list[Path]]


class StaticSource:
    """A production as it stands, with nothing running.

    `run` only waits to be stopped, and every command is refused with a reason. `announce`
    hands the screen an event the caller has already applied to the view (tests).
    """

    def __init__(self, view: ProductionView, *, exporter: Exporter | None = None) -> None:
        self._view = view
        self._exporter = exporter
        self._stopped = asyncio.Event()
        self._streams: list[ChangeQueue] = []

    @property
    def view(self) -> ProductionView:
        return self._view

    @property
    def attached(self) -> bool:
        return False

    @property
    def engine_lost(self) -> str | None:
        return None

    @property
    def resume_hint(self) -> str:
        return "podium resume DB"

    def subscribe(self) -> ChangeStream:
        queue = ChangeQueue()
        self._streams.append(queue)
        queue.when_closed(lambda: self._streams.remove(queue))
        return queue

    def announce(self, seq: int, payload: Payload) -> None:
        for queue in list(self._streams):
            queue(seq, payload)

    async def submit(self, command: Command) -> CommandResult:
        return CommandResult(command.id, False, "this is a read-only view; nothing is running")

    async def run(self) -> ProductionState:
        await self._stopped.wait()
        return self._view.state

    def request_stop(self, reason: str = "stopped") -> None:
        self._stopped.set()

    def export(self, folder: Path) -> list[Path]:
        if self._exporter is None:
            raise ExportFailed("there is no database to export from")
        return self._exporter(folder)
