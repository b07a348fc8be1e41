"""The headless progress printer off a terminal: lines written in batches, each exactly what one
Rich print per line wrote, in the same order (log lines included)."""

from __future__ import annotations

import asyncio
import io
import logging
from types import SimpleNamespace
from typing import Any

from rich.console import Console
from rich.text import Text

from podium.cli import headless
from podium.cli.headless import Reporter
from podium.domain.escalation import Escalation, EscalationKind
from podium.domain.events import EscalationOpened, Payload, TaskStateChanged
from podium.domain.tasks import TaskState
from podium.domain.text import flatten

HOSTILE = "\x1b[31mred\x1b[0m [bold]b[/bold]\n\tline two \u202eevil\u202c \x07 :smile: done"


class _Counting(io.StringIO):
    """A file that counts the writes it gets."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _engine(tasks: int) -> Any:
    view = SimpleNamespace(
        tasks={
            f"t{i}": SimpleNamespace(spec=SimpleNamespace(assignee=f"w{i % 3}"))
            for i in range(tasks)
        }
    )
    return SimpleNamespace(view=view, subscribe=lambda callback: None)


def _events(tasks: int) -> list[Payload]:
    states = [TaskState.DONE, TaskState.FAILED, TaskState.SKIPPED, TaskState.STALE]
    events: list[Payload] = []
    for i in range(tasks):
        events.append(TaskStateChanged(task_id=f"t{i}", state=TaskState.RUNNING, reason="x"))
        reason = HOSTILE if i % 7 == 3 else f"finished after {i} calls"
        events.append(TaskStateChanged(task_id=f"t{i}", state=states[i % 4], reason=reason))
        if i % 10 == 5:
            esc = Escalation(
                id=f"e{i}", kind=EscalationKind.FAILURE, priority=2, title=f"Stuck {HOSTILE}"
            )
            events.append(EscalationOpened(escalation=esc))
    events.append(TaskStateChanged(task_id="gone", state=TaskState.DONE, reason="unknown task"))
    return events


def _one_print_per_line(events: list[Payload], engine: Any) -> str:
    """What the printer wrote before it batched: one Rich `Text` printed per line."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, highlight=False, soft_wrap=True)
    glyphs = headless._GLYPH
    for payload in events:
        if isinstance(payload, TaskStateChanged) and payload.state in glyphs:
            record = engine.view.tasks.get(payload.task_id)
            who = record.spec.assignee if record else ""
            line = Text(f"{glyphs[payload.state]} {payload.task_id} ({who}): ")
            line.append(f"{payload.state.value}; {flatten(payload.reason)}")
            console.print(line, highlight=False)
        elif isinstance(payload, EscalationOpened):
            esc = payload.escalation
            line = Text(f"! {esc.id} {esc.kind.value}: ", style="bold")
            line.append(flatten(esc.title), style="")
            console.print(line, highlight=False)
    return out.getvalue()


def _reporter(out: io.StringIO, tasks: int) -> Reporter:
    console = Console(file=out, force_terminal=False, highlight=False, soft_wrap=True)
    reporter = Reporter(_engine(tasks), console)
    reporter.start()
    return reporter


async def test_batched_lines_equal_one_print_per_line_in_order() -> None:
    tasks = 600  # more than one full batch
    events = _events(tasks)
    out = _Counting()
    reporter = _reporter(out, tasks)
    for seq, payload in enumerate(events):
        reporter.on_event(seq, payload)
    reporter.stop()
    expected = _one_print_per_line(events, _engine(tasks))
    assert out.getvalue().splitlines() == expected.splitlines()
    assert out.getvalue() == expected
    lines = len(expected.splitlines())
    assert out.writes < lines / 100  # batches, not a write per line


async def test_a_batch_goes_out_on_its_own_without_a_flush() -> None:
    out = _Counting()
    reporter = _reporter(out, 3)
    for seq, payload in enumerate(_events(3)):
        reporter.on_event(seq, payload)
    assert out.getvalue() == ""  # waiting for its batch
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not out.getvalue() and loop.time() < deadline:
        await asyncio.sleep(0.02)
    assert out.getvalue() == _one_print_per_line(_events(3), _engine(3))
    assert out.writes == 1


async def test_a_log_line_comes_after_the_progress_before_it(monkeypatch: Any) -> None:
    out = _Counting()
    monkeypatch.setattr(headless.sys, "stderr", out)  # where the one-line log handler writes
    reporter = _reporter(out, 2)
    events = _events(2)
    with headless._one_line_logs(reporter.flush):
        reporter.on_event(1, events[1])
        logging.getLogger("podium.test").warning("the disk is slow")
        reporter.on_event(3, events[3])
    reporter.stop()
    lines = out.getvalue().splitlines()
    assert lines[0] == "✓ t0 (w0): done; finished after 0 calls"
    assert lines[1] == "podium: warning: the disk is slow"
    assert lines[2] == "✗ t1 (w1): failed; finished after 1 calls"
