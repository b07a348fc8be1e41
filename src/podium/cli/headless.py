"""Headless runs: no TUI; progress on stderr, a summary at the end, an exit code for scripts.

On a terminal, progress is a live rich display (per phase and overall, tokens, cost, open
escalations); elsewhere (CI, a log file) it is one plain line per notable event, written in
batches (`_Batch`): a Rich print and a flush per finished task cost more than the task's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.text import Text

from podium.domain.events import (
    EscalationOpened,
    Payload,
    ProductionState,
    TaskSettled,
    TaskStateChanged,
)
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.domain.text import clip, flatten, sanitize

if TYPE_CHECKING:
    from podium.engine.engine import Engine

_GLYPH = {
    TaskState.DONE: "✓",
    TaskState.FAILED: "✗",
    TaskState.SKIPPED: "↷",
    TaskState.AWAITING_APPROVAL: "⏸",
    TaskState.STALE: "↺",
}

# A progress line's head for each state that has one: its glyph and the state's name.
_HEADS = {state: (glyph, state.value) for state, glyph in _GLYPH.items()}

FLUSH_AFTER_S = 0.1  # a batch waits at most this long
FLUSH_LINES = 256  # or until it holds this many lines


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


class _Batch:
    """Plain progress lines for a console that is not a terminal, written together.

    A line is flattened (sanitized, one line) before it gets here, so writing it as it is gives
    exactly what printing it as a Rich `Text` wrote, without Rich's rendering and a flush per
    line. Lines go out in order, at most FLUSH_AFTER_S after they came (on the running loop's
    timer), at once when FLUSH_LINES wait, and whenever `flush` is called: before a log line
    and before the summary, so nothing reorders.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lines: list[str] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, line: str) -> None:
        lines = self._lines
        lines.append(line)
        if len(lines) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no loop to flush later: write now
                self.flush()
                return
            self._timer = loop.call_later(FLUSH_AFTER_S, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        text = "\n".join(self._lines) + "\n"
        self._lines.clear()
        out = self.console.file
        out.write(text)
        out.flush()


class Reporter:
    """Turns engine events into progress on stderr. Agent text is never parsed as markup."""

    def __init__(self, engine: Engine, console: Console) -> None:
        self.engine = engine
        self.view = engine.view
        self.console = console
        self.live = console.is_terminal
        self.progress: Progress | None = None
        self._bars: dict[str, TaskID] = {}
        self._overall: TaskID | None = None
        self._last_refresh = 0.0
        self._batch = _Batch(console)

    def flush(self) -> None:
        """Write the progress lines that wait for their batch."""
        self._batch.flush()

    def start(self) -> None:
        self.engine.subscribe(self.on_event)
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[extra]}", markup=False),
                console=self.console,
                transient=False,
            )
            self.progress.start()
            self._overall = self.progress.add_task("overall", total=1, extra="")
            self._refresh(force=True)

    def stop(self) -> None:
        self._batch.flush()
        if self.progress is not None:
            self._refresh(force=True)
            self.progress.stop()

    def on_event(self, seq: int, payload: Payload) -> None:
        # Called for every event of the run: its class looked up once, and without a live
        # display a task's state change is a line or nothing (`_refresh` draws only live).
        kind = type(payload)
        if kind is TaskStateChanged or kind is TaskSettled:  # settled: done, as a state change
            assert isinstance(payload, TaskStateChanged | TaskSettled)
            if self.live:
                self._refresh()
                return
            head = _HEADS.get(payload.state)
            if head is not None:
                record = self.view.tasks.get(payload.task_id)
                who = record.spec.assignee if record else ""
                self._batch.add(
                    f"{head[0]} {payload.task_id} ({who}): {head[1]}; {flatten(payload.reason)}"
                )
        elif kind is EscalationOpened:
            assert isinstance(payload, EscalationOpened)
            esc = payload.escalation
            if not self.live:
                self._batch.add(f"! {esc.id} {esc.kind.value}: {flatten(esc.title)}")
                return
            line = Text(f"! {esc.id} {esc.kind.value}: ", style="bold")
            line.append(flatten(esc.title), style="")
            self.console.print(line, highlight=False)

    def _refresh(self, force: bool = False) -> None:
        if self.progress is None or self._overall is None:
            return
        now = time.monotonic()
        if not force and now - self._last_refresh < 0.1:
            return
        self._last_refresh = now
        phases: dict[str, Counter[str]] = {}
        for record in self.view.tasks.values():
            phase = record.spec.phase or record.spec.kind.value
            phases.setdefault(phase, Counter())["done" if record.state.settled else "open"] += 1
        for phase, counts in phases.items():
            total = counts["done"] + counts["open"]
            if phase not in self._bars:
                self._bars[phase] = self.progress.add_task(
                    f"  {clip(phase, 40)}", total=total, extra=""
                )
            self.progress.update(self._bars[phase], total=total, completed=counts["done"])
        done = sum(c["done"] for c in phases.values())
        total = sum(c["done"] + c["open"] for c in phases.values()) or 1
        extra = (
            f"{self.view.tokens():,} tokens · {_money(self.view.total_cost())} · "
            f"{len(self.view.open_escalations())} open escalation(s)"
        )
        self.progress.update(self._overall, total=total, completed=done, extra=extra)


def summary_lines(view: ProductionView, db: str) -> list[Text]:
    counts = {k: v for k, v in view.task_counts().items() if v}
    makespan = view.makespan_s()
    lines = [
        Text(
            f"{flatten(view.spec.production.title) if view.spec else 'production'}: "
            f"{view.state.value} ({flatten(view.state_reason)})",
            style="bold",
        ),
        Text("tasks: " + ", ".join(f"{v} {k}" for k, v in counts.items())),
        Text(
            f"tokens: {view.tokens():,} · cost: {_money(view.total_cost())}"
            + (f" (price unknown for {view.unpriced_calls} calls)" if view.unpriced_calls else "")
            + f" · calls: {view.calls} ({view.failed_calls} failed) · "
            f"makespan: {'-' if makespan is None else f'{makespan:.2f}s'}"
        ),
    ]
    waiting = view.open_escalations()
    if waiting:
        lines.append(Text(f"waiting on the Orchestrator ({len(waiting)}):", style="bold"))
        for esc in waiting:
            line = Text(f"  {esc.id}  {esc.kind.value:<14} ")
            line.append(flatten(esc.title))
            line.append(f"  [{', '.join(a.value for a in esc.actions)}]", style="dim")
            lines.append(line)
        lines.append(Text(f"decide with: podium decide {db} ID ACTION [TEXT]", style="dim"))
    lines.append(Text(f"database: {db}", style="dim"))
    return lines


class _OneLine(logging.Handler):
    """A log record as one line on stderr: what went wrong, never a traceback."""

    def __init__(self, before: Callable[[], None] | None = None) -> None:
        super().__init__(logging.WARNING)
        self.before = before  # writes what waits to be written first, so nothing reorders

    def emit(self, record: logging.LogRecord) -> None:
        if self.before is not None:
            self.before()
        line = f"podium: {record.levelname.lower()}: {sanitize(record.getMessage())}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f": {type(error).__name__}: {sanitize(str(error))}"
        sys.stderr.write(line[:2000] + "\n")


@contextlib.contextmanager
def _one_line_logs(before: Callable[[], None] | None = None) -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [_OneLine(before)]
    try:
        yield
    finally:
        root.handlers = saved


async def run_headless(engine: Engine, db: str) -> ProductionState:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    reporter = Reporter(engine, console)
    with _one_line_logs(reporter.flush):
        return await _run_headless(engine, db, reporter)


async def _run_headless(engine: Engine, db: str, reporter: Reporter) -> ProductionState:
    console = reporter.console
    reporter.start()
    loop = asyncio.get_running_loop()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        engine.request_stop("interrupted (Ctrl-C)")

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
        loop.add_signal_handler(signal.SIGTERM, interrupt)
    try:
        state = await engine.run()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
        reporter.stop()
    for line in summary_lines(engine.view, db):
        console.print(line, highlight=False)
    if interrupted:
        console.print(Text(f"stopped; continue with: podium resume {db} --headless"))
    sys.stderr.flush()
    return state
