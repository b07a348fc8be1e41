"""The stream of changes a screen reads: bounded, and coalescing streamed output.

A source calls a `ChangeQueue` for every event it has applied to its view (the queue is a
listener, `(seq, payload) -> None`, and does little more than an append); the screen reads it
as an async iterator of `ChangeSet`s, each holding everything that arrived since the last.

While a reader keeps up, every event comes through as it was. When more than `mark` changes
wait, streamed output (`OutputChunk`) merges per (agent, task) into one chunk, so a flood of
thirty agents writing costs thirty entries, not thousands. A chunk never merges past another
event, so the order of everything else is kept, and no other event is ever dropped. If even
so more than `limit` changes wait, the queue gives them up for one `resync`: the reader
draws everything again from the view, which already holds what those events did.

Call it from the event loop that reads it (a source on another thread hands events over with
`loop.call_soon_threadsafe`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from podium.domain.events import OutputChunk, Payload

MARK = 512  # changes waiting before streamed output merges per (agent, task)
LIMIT = 8192  # changes waiting before they give way to one resync


@dataclass
class ChangeSet:
    """What changed since the reader last looked.

    `events` are (seq, payload) in order, chunks merged as above. `extra_chunks` counts, per
    agent, the chunks that were merged into another or given up to a resync (the activity
    sparklines count chunks); `extra_chars` the characters of chunks given up, per task.
    An empty set with nothing else says something outside the log changed (an attached
    engine went away): look at the source again.
    """

    events: list[tuple[int, Payload]] = field(default_factory=list)
    resync: bool = False
    extra_chunks: Counter[str] = field(default_factory=Counter)
    extra_chars: Counter[str] = field(default_factory=Counter)


class _Merged:
    """Chunks of one agent on one task, merged while the reader is behind."""

    __slots__ = ("agent_id", "attempt", "seq", "task_id", "texts")

    def __init__(self, seq: int, chunk: OutputChunk) -> None:
        self.seq = seq
        self.agent_id = chunk.agent_id
        self.task_id = chunk.task_id
        self.attempt = chunk.attempt
        self.texts = [chunk.text]

    def event(self) -> tuple[int, Payload]:
        if len(self.texts) == 1:
            text = self.texts[0]
        else:
            text = "".join(self.texts)
        chunk = OutputChunk(
            task_id=self.task_id, agent_id=self.agent_id, attempt=self.attempt, text=text
        )
        return self.seq, chunk


class ChangeQueue:
    """A listener for a source's events and an async iterator of `ChangeSet`s for a screen."""

    def __init__(self, *, mark: int = MARK, limit: int = LIMIT) -> None:
        if not 0 <= mark <= limit:
            raise ValueError(f"mark ({mark}) must be between 0 and limit ({limit})")
        self.mark = mark
        self.limit = limit
        self._items: list[tuple[int, Payload] | _Merged] = []
        self._open: dict[tuple[str, str], _Merged] = {}  # slots later chunks merge into
        self._extra_chunks: Counter[str] = Counter()
        self._extra_chars: Counter[str] = Counter()
        self._resync = False
        self._poked = False
        self._closed = False
        self._ready = asyncio.Event()
        self._on_close: list[Callable[[], None]] = []

    def __len__(self) -> int:
        """Changes waiting (a merged run of chunks counts once)."""
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the source's side ---------------------------------------------------------------------

    def __call__(self, seq: int, payload: Payload) -> None:
        if self._closed:
            return
        self._ready.set()
        if self._resync:  # everything is drawn again anyway; keep only the chunk counts
            if isinstance(payload, OutputChunk):
                self._extra_chunks[payload.agent_id] += 1
                self._extra_chars[payload.task_id] += len(payload.text)
            return
        if isinstance(payload, OutputChunk):
            if len(self._items) >= self.mark:
                key = (payload.agent_id, payload.task_id)
                slot = self._open.get(key)
                if slot is not None and slot.attempt == payload.attempt:
                    slot.texts.append(payload.text)
                    slot.seq = seq
                    self._extra_chunks[payload.agent_id] += 1
                    return
                slot = _Merged(seq, payload)
                self._open[key] = slot
                self._items.append(slot)
            else:
                self._items.append((seq, payload))
        else:
            self._open.clear()  # a chunk never moves past another event
            self._items.append((seq, payload))
        if len(self._items) > self.limit:
            self._overflow()

    def poke(self) -> None:
        """Wake the reader with an empty set: something outside the log changed."""
        if not self._closed:
            self._poked = True
            self._ready.set()

    def _overflow(self) -> None:
        for item in self._items:
            if isinstance(item, _Merged):
                self._extra_chunks[item.agent_id] += 1
                self._extra_chars[item.task_id] += sum(len(t) for t in item.texts)
            elif isinstance(item[1], OutputChunk):
                self._extra_chunks[item[1].agent_id] += 1
                self._extra_chars[item[1].task_id] += len(item[1].text)
        self._items.clear()
        self._open.clear()
        self._resync = True

    # -- the reader's side -----------------------------------------------------------------

    def take(self) -> ChangeSet:
        """Everything waiting, now (possibly nothing)."""
        events = [item.event() if isinstance(item, _Merged) else item for item in self._items]
        changes = ChangeSet(events, self._resync, self._extra_chunks, self._extra_chars)
        self._items = []
        self._open.clear()
        self._extra_chunks = Counter()
        self._extra_chars = Counter()
        self._resync = False
        self._poked = False
        self._ready.clear()
        return changes

    def __aiter__(self) -> ChangeQueue:
        return self

    async def __anext__(self) -> ChangeSet:
        while not self._closed:
            if self._items or self._resync or self._poked:
                return self.take()
            self._ready.clear()
            await self._ready.wait()
        raise StopAsyncIteration

    def when_closed(self, callback: Callable[[], None]) -> None:
        """Call `callback` (e.g. the source's unsubscribe) when the reader closes the queue."""
        self._on_close.append(callback)

    def close(self) -> None:
        """No more changes: the reader's loop ends, and the source forgets this queue."""
        if self._closed:
            return
        self._closed = True
        self._items = []
        self._open.clear()
        self._ready.set()
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            callback()


ChangeStream = ChangeQueue
