"""What the screen may ask of a production, and what comes back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from podium.domain.escalation import Command
from podium.domain.events import ProductionState
from podium.domain.state import ProductionView
from podium.seam.stream import ChangeStream


@dataclass(frozen=True)
class CommandResult:
    """A command's outcome: applied or not, and in one sentence what happened or why not."""

    command_id: str
    applied: bool
    detail: str


class ExportFailed(Exception):
    """The deliverables could not be written; the message says why, in one sentence."""


class ProductionSource(Protocol):
    """A running (or resumable) production, seen as changes and steered by commands.

    `view` is the production as it stands (the panes draw from it); `subscribe()` says what
    changed since; `submit` sends a command and waits for its outcome; `run` runs (or
    follows) the production until `request_stop`; `export` writes the deliverables (blocking:
    the screen calls it from a thread).
    """

    @property
    def view(self) -> ProductionView: ...

    @property
    def attached(self) -> bool:
        """True when the engine runs in another process: quitting detaches, never stops it."""
        ...

    @property
    def engine_lost(self) -> str | None:
        """Why no engine runs what an attached screen follows; None while one does, and
        always for an engine in this process (its failures are the screen's to report)."""
        ...

    @property
    def resume_hint(self) -> str:
        """The command that continues this production later, e.g. `podium resume p.db`."""
        ...

    def subscribe(self) -> ChangeStream: ...

    async def submit(self, command: Command) -> CommandResult: ...

    async def run(self) -> ProductionState: ...

    def request_stop(self, reason: str = ...) -> None: ...

    def export(self, folder: Path) -> list[Path]:
        """Write the deliverables into `folder`; the files written. Raises ExportFailed."""
        ...
