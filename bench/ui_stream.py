"""A crew streaming at a set rate into the conductor's screen, for the UI benches.

`StreamingSource` is a `ProductionSource` (what `PodiumApp` draws from) whose agents stream
`OutputChunk` events at a fixed total rate, round-robin, each event persisted through a real
`EventStore`, folded into the view and handed to the screen's change streams exactly as
`Engine.emit` and `InProcessSource` do. No model runs, so the figure is the screen's own cost
(and the store's).

`BenchApp` is `PodiumApp` with one extra binding, F12, whose action time-stamps its arrival:
the latency of a key is from the moment it is posted to the driver to that handler.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

from podium.tui.source import StaticSource

AGENTS = 30
CHUNKS_PER_S = 2000
TICK_S = 0.01  # the stream is produced in bursts of CHUNKS_PER_S * TICK_S chunks
SIZE = (160, 48)

WORDS = (
    "the lamp turns slowly over the dark water while Elias counts the seconds between "
    "the flashes and writes each one down in the log he has kept for thirty-one years "
).split()


def production_toml(agents: int = AGENTS) -> str:
    roles = ("writer", "director", "editor", "composer", "director_of_photography", "producer")
    lines = [
        "[production]",
        'title = "UI bench"',
        'format = "series"',
        'brief = "Many agents, all talking at once."',
        "",
        "[vision]",
        'premise = "A lighthouse, a storm, and a crew that never stops writing."',
        "",
        "[planner]",
        'mode = "explicit"',
        "",
    ]
    for index in range(agents):
        lines += ["[[crew]]", f'id = "a{index}"', f'role = "{roles[index % len(roles)]}"', ""]
    for index in range(agents * 3):
        lines += [
            "[[tasks]]",
            f'id = "t{index}"',
            f'title = "Episode {index // 10 + 1}, scene {index % 10 + 1}"',
            'kind = "chapter"',
            f'assignee = "a{index % agents}"',
            "",
        ]
    return "\n".join(lines)


class StreamingSource(StaticSource):
    """A production whose crew streams forever (until stopped), through a real store: the
    read-only source's seam (view, subscribe, refused commands), with a crew that writes."""

    def __init__(self, store: Any, view: Any, *, agents: int, rate: float) -> None:
        super().__init__(view)
        self.store = store
        self.agents = agents
        self.rate = rate
        self.sent = 0

    @classmethod
    async def open(cls, db: Path, *, agents: int = AGENTS, rate: float = CHUNKS_PER_S) -> Any:
        """A fresh production with every agent at work on a task, streaming."""
        from podium.domain.events import (
            AgentState,
            AgentStateChanged,
            ProductionOpened,
            RunStarted,
            TasksPlanned,
            TaskStateChanged,
        )
        from podium.domain.loading import parse_production
        from podium.domain.state import ProductionView
        from podium.domain.tasks import TaskState
        from podium.store import EventStore

        spec = parse_production(production_toml(agents), "ui-bench.toml")
        store = await EventStore.open(db)
        source = cls(store, ProductionView(), agents=agents, rate=rate)
        source.emit(ProductionOpened(spec=spec.model_dump(mode="json")))
        source.emit(RunStarted(pid=os.getpid()))
        source.emit(TasksPlanned(tasks=list(spec.tasks)))
        for index in range(agents):
            task_id = f"t{index}"
            source.emit(TaskStateChanged(task_id=task_id, state=TaskState.READY))
            source.emit(TaskStateChanged(task_id=task_id, state=TaskState.RUNNING, attempt=1))
            source.emit(
                AgentStateChanged(agent_id=f"a{index}", state=AgentState.THINKING, task_id=task_id)
            )
        await store.flush()
        return source

    @property
    def resume_hint(self) -> str:
        return "podium resume ui-bench.db"

    async def submit(self, command: Any) -> Any:
        from podium.seam.protocol import CommandResult

        return CommandResult(command.id, False, "the bench takes no commands")

    async def run(self) -> Any:
        """Stream until stopped: `rate` chunks a second in bursts every TICK_S."""
        from podium.domain.events import OutputChunk

        loop = asyncio.get_running_loop()
        start = loop.time()
        word = 0
        while not self._stopped.is_set():
            due = int((loop.time() - start) * self.rate)
            while self.sent < due:
                agent = self.sent % self.agents
                text = " ".join(WORDS[(word + k) % len(WORDS)] for k in range(4)) + " "
                word += 4
                self.emit(
                    OutputChunk(task_id=f"t{agent}", agent_id=f"a{agent}", attempt=1, text=text)
                )
                self.sent += 1
            try:
                await asyncio.wait_for(self._stopped.wait(), TICK_S)
            except TimeoutError:
                pass
        return self._view.state

    def request_stop(self, reason: str = "stopped") -> None:
        """Stop streaming; the screen's change streams end too (the bench waits for every
        worker to complete)."""
        super().request_stop(reason)
        for queue in list(self._streams):
            queue.close()

    # -- as Engine.emit does -----------------------------------------------------------------

    def emit(self, payload: Any) -> int:
        seq, ts = self.store.emit(payload)
        self._view.mark(seq, ts)
        self._view.apply_payload(payload, ts)
        self.announce(seq, payload)
        return int(seq)


def bench_app(source: Any) -> Any:
    """PodiumApp with F12 bound to an action that notes when it ran."""
    from textual.binding import Binding, BindingType

    from podium.tui import app as tui_app
    from podium.tui.app import PodiumApp

    class BenchApp(PodiumApp):
        CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))  # relative to podium's
        BINDINGS: ClassVar[list[BindingType]] = [
            *PodiumApp.BINDINGS,
            Binding("f12", "bench_key", "bench", show=False, id="bench_key", tooltip="bench"),
        ]

        def __init__(self, source: Any) -> None:
            super().__init__(source, db_label="ui-bench.db", cursor_blink=False, remember=False)
            self.arrivals: list[float] = []

        def action_bench_key(self) -> None:
            self.arrivals.append(time.perf_counter())

    return BenchApp(source)


def private_config() -> tempfile.TemporaryDirectory[str]:
    """The bench never reads or writes the user's config file."""
    folder = tempfile.TemporaryDirectory(prefix="podium-bench-config-")
    os.environ["PODIUM_CONFIG_DIR"] = folder.name
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    return folder


def rss_mb() -> float:
    """Resident memory of this process, in MB (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
