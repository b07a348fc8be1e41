"""The two sources the CLI hands to the screen: an engine in this process, and a follower
of an engine in another (`podium attach`). Only the CLI (and tests) import this module; the
screen knows them only as `ProductionSource`.

Both wrap something that calls listeners with each event it has applied to its view (the
engine's `subscribe(listener)`, the follower's); `subscribe()` hands the screen a bounded
`ChangeQueue` fed by such a listener.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from podium.domain.escalation import Command
from podium.domain.events import Payload, ProductionState
from podium.domain.state import ProductionView
from podium.seam.protocol import CommandResult, ExportFailed
from podium.seam.stream import ChangeQueue, ChangeStream

if TYPE_CHECKING:
    from podium.attach import StoreFollower

Listener = Callable[[int, Payload], None]


class Core(Protocol):
    """What an engine and a follower both are: a view, a listener list, commands, a run."""

    @property
    def view(self) -> ProductionView: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    async def submit(self, command: Command) -> CommandResult: ...

    async def run(self) -> ProductionState: ...

    def request_stop(self, reason: str = ...) -> None: ...


def export_deliverables(db: Path | None, folder: Path) -> list[Path]:
    """Write a production's deliverables into `folder` (blocking: call it from a thread), as
    the production stands: unfinished or stale work is exported marked on every page (the
    screen's export promises this), where `podium export` refuses it without --allow-stale."""
    if db is None:
        raise ExportFailed("there is no database to export from")
    from podium.export.exporter import ExportError, export_production_sync
    from podium.store import StoreError

    try:
        return export_production_sync(db, folder, allow_stale=True)
    except (StoreError, ExportError) as exc:
        raise ExportFailed(str(exc)) from None


class InProcessSource:
    """An engine running in this process: quitting stops it (after asking, if work runs)."""

    def __init__(self, core: Core, db: Path | None = None) -> None:
        self.core = core
        self.db = db

    @property
    def view(self) -> ProductionView:
        return self.core.view

    @property
    def attached(self) -> bool:
        return False

    @property
    def engine_lost(self) -> str | None:
        return None

    @property
    def resume_hint(self) -> str:
        return f"podium resume {self.db}" if self.db is not None else "podium resume DB"

    def subscribe(self) -> ChangeStream:
        queue = ChangeQueue()
        queue.when_closed(self.core.subscribe(queue))
        return queue

    async def submit(self, command: Command) -> CommandResult:
        return await self.core.submit(command)

    async def run(self) -> ProductionState:
        return await self.core.run()

    def request_stop(self, reason: str = "stopped by the Orchestrator") -> None:
        self.core.request_stop(reason)

    def export(self, folder: Path) -> list[Path]:
        return export_deliverables(self.db, folder)


class AttachedSource(InProcessSource):
    """A follower of an engine in another process: quitting detaches; the engine runs on."""

    def __init__(self, follower: StoreFollower) -> None:
        super().__init__(follower, follower.db)
        self.follower = follower

    @property
    def attached(self) -> bool:
        return True

    @property
    def engine_lost(self) -> str | None:
        return self.follower.engine_lost

    @property
    def resume_hint(self) -> str:
        return self.follower.resume_hint

    def subscribe(self) -> ChangeStream:
        queue = super().subscribe()
        queue.when_closed(self.follower.watch_engine(queue.poke))
        return queue

    def request_stop(self, reason: str = "detached") -> None:
        self.follower.request_stop(reason)
