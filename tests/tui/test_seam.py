"""The seam between engine and screen: a bounded change stream that coalesces streamed output
and never loses another event, and a screen that imports neither the engine nor the store."""

from __future__ import annotations

import asyncio
import pkgutil
import subprocess
import sys

import pytest

import podium.tui
from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    OutputChunk,
    Payload,
    TaskStateChanged,
)
from podium.domain.tasks import TaskState
from podium.seam.stream import ChangeQueue


def chunk(agent: int, text: str = "word ", task: int | None = None) -> OutputChunk:
    return OutputChunk(
        task_id=f"t{agent if task is None else task}", agent_id=f"a{agent}", text=text
    )


def feed(queue: ChangeQueue, payloads: list[Payload], start: int = 1) -> int:
    for seq, payload in enumerate(payloads, start=start):
        queue(seq, payload)
    return start + len(payloads)


def test_below_the_mark_every_event_comes_through_as_it_was() -> None:
    queue = ChangeQueue(mark=100, limit=1000)
    payloads: list[Payload] = [chunk(i % 3) for i in range(50)]
    feed(queue, payloads)
    changes = queue.take()
    assert [p for _, p in changes.events] == payloads
    assert [s for s, _ in changes.events] == list(range(1, 51))
    assert not changes.resync and not changes.extra_chunks


def test_a_flood_of_chunks_coalesces_per_agent_and_task() -> None:
    queue = ChangeQueue(mark=10, limit=100)
    agents = 30
    sent: dict[str, list[str]] = {f"a{i}": [] for i in range(agents)}
    for n in range(20_000):
        agent = n % agents
        text = f"{n} "
        sent[f"a{agent}"].append(text)
        queue(n + 1, chunk(agent, text))
    assert len(queue) <= 10 + agents  # the mark, then one merged run per (agent, task)
    changes = queue.take()
    assert not changes.resync
    text: dict[str, str] = {}
    count: dict[str, int] = {}
    for _, payload in changes.events:
        assert isinstance(payload, OutputChunk)
        text[payload.agent_id] = text.get(payload.agent_id, "") + payload.text
        count[payload.agent_id] = count.get(payload.agent_id, 0) + 1
    for agent_id, texts in sent.items():
        assert text[agent_id] == "".join(texts)  # nothing lost, in order
        assert count[agent_id] + changes.extra_chunks[agent_id] == len(texts)
    assert max(s for s, _ in changes.events) == 20_000  # a merged run carries its latest seq


def test_a_non_stream_event_is_never_lost_and_chunks_never_pass_it() -> None:
    queue = ChangeQueue(mark=5, limit=10_000)
    seq = feed(queue, [chunk(0) for _ in range(10)])
    done = TaskStateChanged(task_id="t0", state=TaskState.DONE)
    queue(seq, done)
    seq = feed(queue, [chunk(0, "after ") for _ in range(10)], start=seq + 1)
    busy = AgentStateChanged(agent_id="a1", state=AgentState.THINKING, task_id="t1")
    queue(seq, busy)
    changes = queue.take()
    payloads = [p for _, p in changes.events]
    assert done in payloads and busy in payloads
    at = payloads.index(done)
    assert all(isinstance(p, OutputChunk) and "after" not in p.text for p in payloads[:at])
    later = payloads[at + 1 : -1]
    assert later and all(isinstance(p, OutputChunk) and p.text.startswith("after") for p in later)
    assert payloads[-1] == busy
    assert not changes.resync


def test_overflow_gives_way_to_one_resync_that_keeps_the_chunk_counts() -> None:
    queue = ChangeQueue(mark=4, limit=20)
    feed(queue, [chunk(0, "abc") for _ in range(3)])
    states: list[Payload] = [
        TaskStateChanged(task_id=f"t{i}", state=TaskState.READY) for i in range(30)
    ]
    seq = feed(queue, states, start=10)
    feed(queue, [chunk(1, "xy")], start=seq)
    changes = queue.take()
    assert changes.resync  # the screen draws everything again from the view
    assert changes.events == []
    assert changes.extra_chunks == {"a0": 3, "a1": 1}
    assert changes.extra_chars == {"t0": 9, "t1": 2}
    queue(99, chunk(2))
    after = queue.take()
    assert not after.resync and [s for s, _ in after.events] == [99]  # back to normal


async def test_the_reader_waits_for_changes_and_ends_when_closed() -> None:
    queue = ChangeQueue()
    closed: list[bool] = []
    queue.when_closed(lambda: closed.append(True))
    reader = asyncio.ensure_future(anext(queue))
    await asyncio.sleep(0)
    assert not reader.done()
    queue(1, chunk(0))
    queue(2, chunk(1))
    changes = await asyncio.wait_for(reader, 5)
    assert [s for s, _ in changes.events] == [1, 2]
    queue.poke()
    assert (await asyncio.wait_for(anext(queue), 5)).events == []  # look again
    queue.close()
    queue(3, chunk(0))
    assert closed == [True]
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(queue), 5)


def test_a_mark_above_the_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="mark"):
        ChangeQueue(mark=10, limit=5)


def test_no_module_of_the_screen_loads_the_engine_or_the_store() -> None:
    """Every module of podium.tui, loaded (and its dialogs' validators with it): not one
    module of podium.engine or podium.store comes along."""
    modules = sorted(
        info.name for info in pkgutil.walk_packages(podium.tui.__path__, prefix="podium.tui.")
    )
    assert "podium.tui.screens.clarify_vision" in modules
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(' '.join(sorted(m for m in sys.modules"
        " if m.startswith(('podium.engine', 'podium.store')))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [], f"podium.tui loads {done.stdout.strip()}"


def test_a_task_starting_or_ending_marks_its_agents_row_for_a_redraw() -> None:
    """The engine records no agent event beside a task's start and end (the fold derives the
    agent's thinking and idle from the task's state), so the screen learns which agent rows
    to draw from the task's own event, not a second later at its once-a-second sync."""
    from podium.seam.stream import ChangeSet
    from podium.tui.live import Digest

    digest = Digest()
    started = TaskStateChanged(task_id="t1", state=TaskState.RUNNING)
    ended = TaskStateChanged(task_id="t2", state=TaskState.DONE)
    changes = digest.digest(ChangeSet(events=[(1, started), (2, ended)]))
    assert changes.runs == {"t1", "t2"}
    assert changes.tasks == {"t1", "t2"}
