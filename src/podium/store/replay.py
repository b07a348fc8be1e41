"""Replay: a whole log folded into a view, fast enough for a 100,000-event production.

Folding every event (`view.apply` for each of `store.iter_events()`) gives the production's
state, but most of a long log is streamed text, and all the fold keeps of it is each agent's
last few hundred characters (`AgentRecord.tail`) and whether the agent is still streaming.
Replay gives exactly the same view while parsing only the chunks that still show:

* every other event is decoded and folded in order, as before;
* a chunk row is recognised by the head podium writes (`{"kind":"output_chunk",…`), and only
  its agent, seq and size are noted: an agent's chunks are forgotten when its tail is reset
  (a new call starts: `thinking`) and once later chunks certainly fill the tail;
* at the end the chunks each agent still shows are decoded (and so checked) and joined.

A row whose head is not the one podium writes is decoded in full as before, so an odd or
damaged row is still named by its seq.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    OutputChunk,
    ProductionOpened,
    RunStopped,
)
from podium.domain.state import TAIL_CHARS, ProductionView
from podium.store.db import EventStore
from podium.store.errors import CorruptDatabase, damage_hint
from podium.store.events import UndecodableRow, decode_payload

BATCH = 5000

# Exactly the head pydantic writes for an OutputChunk; ids never need escapes (they are
# identifiers), so a match names the agent without parsing the JSON.
_CHUNK_HEAD = re.compile(
    r'\{"kind":"output_chunk","task_id":"[^"\\]*","agent_id":"([^"\\]*)","attempt":-?\d+,"text":"'
)
_ESCAPE_MAX = 6  # one character of text takes at most this many in JSON (\uXXXX)


_Held = list[tuple[int, float, str, int]]
"""An agent's chunk rows that may still show, oldest first: (seq, ts, payload, text start)."""

_PRUNE_AT = 256  # rows held per agent before the ones that can no longer show are dropped


def _least(row: tuple[int, float, str, int]) -> int:
    """Characters of text the row holds at the least (each may be a 6-character escape)."""
    return (len(row[2]) - row[3] - 2) // _ESCAPE_MAX


def _showing(rows: _Held) -> _Held:
    """The newest rows that certainly hold the tail's characters (all, if they cannot)."""
    total = 0
    for index in range(len(rows) - 1, -1, -1):
        total += _least(rows[index])
        if total >= TAIL_CHARS:
            return rows[index:]
    return rows


class _Replay:
    def __init__(self, view: ProductionView, path: str) -> None:
        self.view = view
        self.path = path
        self.held: dict[str, _Held] = {agent_id: [] for agent_id in view.agents}
        self.state_seq: dict[str, int] = {}  # agent → last event that set its state
        self.everyone_seq = 0  # last event that set every agent's state (opened, stopped)

    def rows(self, rows: Sequence[Sequence[Any]]) -> None:
        view = self.view
        head = _CHUNK_HEAD.match
        held = self.held
        for seq, ts, kind, text in rows:
            if text.startswith('{"kind":"output_chunk"'):
                found = head(text)
                if found is not None and text.endswith('"}'):
                    keep = held.get(found.group(1))
                    if keep is not None:  # the fold ignores chunks of agents not in the crew
                        keep.append((seq, ts, text, found.end()))
                        if len(keep) > _PRUNE_AT:
                            keep[:] = _showing(keep)
                    continue
            payload = self._decode(seq, kind, text)
            if isinstance(payload, OutputChunk):  # written some other way: decode it at the end
                keep = held.get(payload.agent_id)
                if keep is not None:
                    keep.append((seq, ts, text, -1))
                continue
            view.mark(seq, ts)
            view.apply_payload(payload, ts)
            if isinstance(payload, AgentStateChanged):
                self.state_seq[payload.agent_id] = seq
                if payload.state is AgentState.THINKING and payload.agent_id in held:
                    held[payload.agent_id].clear()  # the fold has just emptied the tail
            elif isinstance(payload, ProductionOpened | RunStopped):
                self.everyone_seq = seq
                if isinstance(payload, ProductionOpened):
                    self.held = held = {agent_id: [] for agent_id in view.agents}  # a new crew
        if rows:
            view.mark(rows[-1][0], rows[-1][1])

    def finish(self) -> None:
        """Put back what the skipped chunks left: each agent's tail, and `streaming`."""
        agents = self.view.agents
        for agent_id, keep in self.held.items():
            agent = agents.get(agent_id)
            if agent is None or not keep:
                continue
            parts = []
            for seq, _, text, start in _showing(keep) if all(r[3] >= 0 for r in keep) else keep:
                chunk = self._decode(seq, "output_chunk", text)
                if not isinstance(chunk, OutputChunk) or (
                    start >= 0 and chunk.agent_id != agent_id
                ):
                    raise CorruptDatabase(
                        f"{self.path}: event {seq} is not the output chunk it looks like. "
                        f"The log is damaged. {damage_hint(self.path)}"
                    )
                parts.append(chunk.text)
            agent.tail = (agent.tail + "".join(parts))[-TAIL_CHARS:]
            if keep[-1][0] > max(self.state_seq.get(agent_id, 0), self.everyone_seq):
                agent.state = AgentState.STREAMING

    def _decode(self, seq: int, kind: str, text: str) -> Any:
        try:
            return decode_payload(seq, kind, text)
        except UndecodableRow as exc:
            raise CorruptDatabase(
                f"{self.path}: {exc}. The log is damaged. {damage_hint(self.path)}"
            ) from None


async def replay(store: EventStore, view: ProductionView, since: int = 0) -> None:
    """Fold the log after `since` into `view`: the view `view.apply` of every event gives."""
    work = _Replay(view, str(store.path))
    if since:
        work.everyone_seq = since  # what came before is already in the view
    rows = await store.read_rows(since, limit=BATCH)
    while rows:
        # The next batch is read (in the reader's thread) while this one is folded.
        ahead = (
            asyncio.ensure_future(store.read_rows(rows[-1][0], limit=BATCH))
            if len(rows) == BATCH
            else None
        )
        try:
            work.rows(rows)
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        rows = await ahead if ahead is not None else []
    work.finish()
