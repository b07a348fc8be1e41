"""Replay: a whole log folded into a view, fast enough for a 100,000-event production.

Replay is the fold (`ProductionView.apply` of every stored event, in order) with one saving:
most of a long log is streamed text, and all the fold keeps of it is each agent's last few
hundred characters. So a stored chunk goes to the fold's own `stream` unread, as its row, under
the agent it names; the fold holds it, and `settle` reads (and so checks) only the chunks that
still show in a tail. What a chunk does to the view (the agent's tail and `streaming`, cleared
by a new call, nothing for an agent not in the crew) is the fold's alone.

A chunk goes over unread only when its row says `output_chunk` in its `kind` column and at the
head of its JSON, carries no version, and names its agent with a plain identifier; any other
row is decoded in full (a damaged one named by its seq, a newer one refused) as
`EventStore.read` decodes it.

Two more savings for a big production (issue 20). A replay from the start begins at the newest
state snapshot this fold can use (`podium.store.snapshots`) and folds only the events after it:
the view is the one folding them all gives (a test checks it on the samples). And an artifact
whose content is big leaves it in the store (`podium.domain.records.ContentShelf`), read back
when something asks for it. On a store that writes (the engine's), the view replayed is the
one the store snapshots from then on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from podium.domain.events import ArtifactCreated, OutputChunk
from podium.domain.records import ContentShelf
from podium.domain.snapshot import SHELVE_OVER, UnusableSnapshot, decode
from podium.domain.state import ProductionView, ReadHeld, Unread
from podium.store import snapshots
from podium.store.db import EventStore
from podium.store.errors import CorruptDatabase, damage_hint
from podium.store.events import (
    STREAMED_KIND,
    NewerPayload,
    Row,
    UndecodableRow,
    decode_payload,
)
from podium.store.files import read_only_uri
from podium.store.snapshots import ContentReader

log = logging.getLogger("podium.store")

BATCH = 5000

# The head every stored chunk starts with: `kind` comes first in every payload and a version, when
# there is one, right after it (`podium.domain.events.event_kind` checks both). A chunk row with
# this head and no version names its agent by the key below; in JSON a quote inside a string is
# escaped, so the key with its unescaped quotes can only be the object's own.
_HEAD = f'{{"kind":"{STREAMED_KIND}","'
_AFTER = len(_HEAD)
_AGENT_KEY = '"agent_id":"'
_AGENT_SKIP = len(_AGENT_KEY)
HELD_MAX = 1024  # unread chunks an agent may hold at the end of a batch
_ARTIFACT_KIND = ArtifactCreated.model_fields["kind"].default
_SHELVE_ROW = SHELVE_OVER + 1024  # a row this long holds a content worth leaving in the store


def held_reader(path: str) -> ReadHeld:
    def read(agent_id: str, row: Unread) -> str:
        """A held chunk row: it must be the chunk of the agent it named."""
        seq, _, kind, text = row
        chunk = _decode(path, seq, kind, text)
        if not isinstance(chunk, OutputChunk) or chunk.agent_id != agent_id:
            raise CorruptDatabase(
                f"{path}: event {seq} is not the output chunk it looks like. "
                f"The log is damaged. {damage_hint(path)}"
            )
        return chunk.text

    return read


def _decode(path: str, seq: int, kind: str, text: str) -> Any:
    try:
        return decode_payload(seq, kind, text)
    except UndecodableRow as exc:
        raise CorruptDatabase(f"{path}: {exc}. The log is damaged. {damage_hint(path)}") from None
    except NewerPayload as exc:
        raise exc.at(path) from None


def fold_rows(
    view: ProductionView, rows: Sequence[Row], path: str, shelf: ContentShelf | None = None
) -> None:
    """Fold stored rows into `view`, chunks unread (`view.settle` reads what still shows), and
    big artifact contents left on `shelf` (when given)."""
    mark = view.mark
    apply = view.apply_payload
    stream = view.stream
    for row in rows:
        seq, ts, kind, text = row
        if kind == STREAMED_KIND and type(text) is str and text.startswith(_HEAD):
            start = text.find(_AGENT_KEY, _AFTER - 1) + _AGENT_SKIP
            end = text.find('"', start)
            if start >= _AGENT_SKIP and end > 0 and text[_AFTER : _AFTER + 2] != 'v"':
                agent_id = text[start:end]
                if "\\" not in agent_id:
                    stream(agent_id, row)
                    continue
        mark(seq, ts)
        payload = _decode(path, seq, kind, text)
        apply(payload, ts)
        if shelf is not None and kind == _ARTIFACT_KIND and len(text) > _SHELVE_ROW:
            artifact = view.artifacts.get(payload.artifact.id)
            if artifact is not None and artifact.content_held:
                view.artifacts[artifact.id] = shelf.shelve(artifact, seq)
    if rows:  # a chunk changes nothing else: where the log stands is noted once
        mark(rows[-1][0], rows[-1][1])


async def replay(
    store: EventStore, view: ProductionView, since: int = 0, *, snapshot: bool = True
) -> None:
    """Fold the log after `since` into `view`: the view `view.apply` of every event gives.

    From the start of the log (`since` 0, an empty view), the newest usable snapshot is where
    it starts (`snapshot=False`: the whole log, as `podium check` would read it)."""
    path = str(store.path)
    read = held_reader(path)
    shelf = view.contents
    if shelf is None:
        shelf = ContentShelf(ContentReader(store.path, read_only_uri(store.path)))
        view.keep_contents_on(shelf)
    covered = digest = 0
    if snapshot and since == 0 and view.last_seq == 0 and view.spec is None:
        covered, digest = await _from_snapshot(store, view, shelf)
        since = covered
    keeps = not store.read_only and since == covered  # the engine's: snapshots are taken of it
    rows = await store.read_rows(since, limit=BATCH)
    while rows:
        # The next batch is read (in the reader's thread) while this one is folded.
        ahead = (
            asyncio.ensure_future(store.read_rows(rows[-1][0], limit=BATCH))
            if len(rows) == BATCH
            else None
        )
        try:
            if keeps:
                digest = snapshots.digest(rows, digest)
            fold_rows(view, rows, path, shelf)
            view.settle(read, beyond=HELD_MAX)  # memory: what one batch holds, at most
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        rows = await ahead if ahead is not None else []
    view.settle(read)
    if keeps:
        store.keep_snapshots(view, covered, digest)


async def _from_snapshot(
    store: EventStore, view: ProductionView, shelf: ContentShelf
) -> tuple[int, int]:
    """Fill `view` from the newest usable snapshot; the seq it covers and the digest of the log
    up to it ((0, 0): none was usable)."""
    found = await store.read_snapshot()
    if found is None:
        return 0, 0
    seq, _, _, covered, document = found
    try:
        loaded = await asyncio.to_thread(decode, document, shelf)
    except UnusableSnapshot as exc:
        log.info("%s: snapshot #%s is not usable (%s): ignored", store.path, seq, exc)
        return 0, 0
    if loaded.last_seq != seq:
        log.info(
            "%s: snapshot #%s holds the view at #%s: ignored", store.path, seq, loaded.last_seq
        )
        return 0, 0
    for field in dataclasses.fields(view):
        setattr(view, field.name, getattr(loaded, field.name))
    return seq, covered
