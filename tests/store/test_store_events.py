"""The event log: what goes in comes back out, in order, and survives a reopen."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from store_helpers import chunk, raw_rows, task_state

from podium.domain.escalation import (
    Action,
    ApproveCommand,
    Escalation,
    EscalationKind,
    Option,
    OverrideCommand,
    PauseCommand,
    Priority,
)
from podium.domain.events import (
    CallFinished,
    CommandRecorded,
    EscalationOpened,
    ProductionOpened,
    RunStarted,
    VisionAmended,
)
from podium.domain.tasks import TaskState
from podium.store import SCHEMA_VERSION, EventStore, ReadOnlyDatabase, StoreError

SAMPLES = [
    ProductionOpened(spec={"title": "The Lighthouse", "crew": [{"id": "writer"}]}, seed=7),
    RunStarted(pid=4242, headless=True),
    task_state("scene-1", TaskState.RUNNING),
    chunk("INT. LAMP ROOM - NIGHT\n\tThe beam sweeps the fog. «ça tourne» 🎬"),
    CallFinished(
        call_id="c1",
        task_id="scene-1",
        agent_id="writer",
        model="rehearsal/default",
        input_tokens=120,
        output_tokens=80,
        cost_usd=None,
        latency_s=0.25,
    ),
    EscalationOpened(
        escalation=Escalation(
            id="esc-1",
            kind=EscalationKind.CONFLICT,
            priority=Priority.HIGH,
            title="Keeper or daughter: whose scene?",
            task_id="scene-1",
            options=[Option(id="a", label="Keeper", reasoning="It is his story.")],
            actions=[Action.APPROVE, Action.OVERRIDE],
        )
    ),
    CommandRecorded(command=ApproveCommand(id="cmd-1", escalation_id="esc-1")),
    VisionAmended(version=2, section="themes", value=["quiet", "salt"], reason="darker"),
]


async def test_round_trip_keeps_order_and_content(store: EventStore) -> None:
    seqs = [store.emit(payload)[0] for payload in SAMPLES]

    events = await store.read()

    assert seqs == list(range(1, len(SAMPLES) + 1))
    assert [event.seq for event in events] == seqs
    assert [event.payload for event in events] == SAMPLES
    assert [event.kind for event in events] == [payload.kind for payload in SAMPLES]
    assert all(event.ts > 0 for event in events)
    assert [event.ts for event in events] == sorted(event.ts for event in events)


async def test_emit_returns_at_once_and_flush_commits(store: EventStore, db_path: Path) -> None:
    for i in range(1200):
        store.emit(chunk(f"word {i}"))
    assert store.last_seq == 1200

    await store.flush()

    assert raw_rows(db_path, "SELECT count(*), min(seq), max(seq) FROM events") == [(1200, 1, 1200)]


async def test_flushed_events_are_seen_by_another_store_and_after_reopen(db_path: Path) -> None:
    store = await EventStore.open(db_path)
    for payload in SAMPLES:
        store.emit(payload)
    await store.flush()
    async with await EventStore.open(db_path, read_only=True) as other:
        assert [event.payload for event in await other.read()] == SAMPLES
    await store.close()

    async with await EventStore.open(db_path, create=False) as reopened:
        assert [event.payload for event in await reopened.read()] == SAMPLES


async def test_append_durable_is_visible_to_another_connection_on_return(
    store: EventStore, db_path: Path
) -> None:
    store.emit(chunk("before the command"))
    command = OverrideCommand(id="cmd-7", text="Make it rain.")

    event = await store.append_durable(CommandRecorded(command=command))

    assert event.seq == 2
    assert event.payload == CommandRecorded(command=command)
    assert raw_rows(db_path) == [(1, "output_chunk"), (2, "command_recorded")]


async def test_append_durable_after_many_queued_events(store: EventStore, db_path: Path) -> None:
    for i in range(3000):
        store.emit(chunk(f"w{i}"))

    event = await store.append_durable(RunStarted(pid=1))

    assert event.seq == 3001
    assert raw_rows(db_path, "SELECT count(*) FROM events") == [(3001,)]


async def test_read_since_limit_and_kinds(store: EventStore) -> None:
    for i in range(10):
        store.emit(chunk(f"c{i}"))
        store.emit(task_state(f"t{i}"))

    assert [e.seq for e in await store.read(since=15)] == [16, 17, 18, 19, 20]
    assert [e.seq for e in await store.read(since=3, limit=4)] == [4, 5, 6, 7]
    states = await store.read(kinds={"task_state"})
    assert [e.seq for e in states] == list(range(2, 21, 2))
    assert {e.kind for e in states} == {"task_state"}
    both = await store.read(since=16, kinds=["task_state", "output_chunk"], limit=3)
    assert [e.seq for e in both] == [17, 18, 19]
    assert await store.read(kinds=[]) == []
    assert await store.read(kinds=["no_such_kind"]) == []
    assert await store.read(limit=0) == []
    assert await store.read(since=20) == []


async def test_read_includes_what_was_just_emitted(store: EventStore) -> None:
    store.emit(chunk("not flushed yet"))

    assert [e.seq for e in await store.read()] == [1]


async def test_iter_events_pages_through_a_long_log(store: EventStore) -> None:
    for i in range(2345):
        store.emit(chunk(f"w{i}"))

    seqs = [event.seq async for event in store.iter_events(since=5, batch=500)]

    assert seqs == list(range(6, 2346))


async def test_reopen_continues_numbering(db_path: Path) -> None:
    async with await EventStore.open(db_path) as store:
        assert store.last_seq == 0
        for payload in SAMPLES[:3]:
            store.emit(payload)

    async with await EventStore.open(db_path) as store:
        assert store.last_seq == 3
        assert store.emit(chunk())[0] == 4
        assert (await store.append_durable(RunStarted(resumed=True))).seq == 5

    assert [seq for seq, _ in raw_rows(db_path)] == [1, 2, 3, 4, 5]


async def test_new_database_is_marked_as_podium_and_keeps_nothing_behind(db_path: Path) -> None:
    async with await EventStore.open(db_path) as store:
        store.emit(chunk())
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x506F6469
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT typeof(payload) FROM events").fetchone()[0] == "text"
    finally:
        conn.close()
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


async def test_events_cannot_be_rewritten(store: EventStore, db_path: Path) -> None:
    store.emit(chunk("original"))
    await store.flush()
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM events")
    finally:
        conn.close()


async def test_meta(store: EventStore) -> None:
    assert await store.get_meta("created_at")
    assert await store.get_meta("podium_version")
    assert await store.get_meta("title") is None

    await store.set_meta("title", "The Lighthouse")
    await store.set_meta("title", "The Lighthouse, Part Two")
    await store.set_meta("format", "film")

    assert await store.get_meta("title") == "The Lighthouse, Part Two"
    assert await store.get_meta("format") == "film"


async def test_read_only_store_reads_and_refuses_every_write(
    store: EventStore, db_path: Path
) -> None:
    store.emit(chunk())
    await store.flush()

    async with await EventStore.open(db_path, read_only=True) as reader:
        assert reader.read_only
        assert reader.last_seq == 1
        with pytest.raises(ReadOnlyDatabase, match="read-only"):
            reader.emit(chunk())
        with pytest.raises(ReadOnlyDatabase):
            await reader.append_durable(chunk())
        with pytest.raises(ReadOnlyDatabase):
            await reader.set_meta("title", "x")
        with pytest.raises(ReadOnlyDatabase):
            await reader.submit_command(PauseCommand(id="c"))
        await reader.flush()  # nothing of its own to commit

        store.emit(task_state())
        await store.flush()
        assert [e.seq for e in await reader.read(since=1)] == [2]
        assert reader.last_seq == 2


async def test_closed_store_says_so(db_path: Path) -> None:
    store = await EventStore.open(db_path)
    await store.close()
    await store.close()  # twice is harmless

    with pytest.raises(StoreError, match="closed"):
        store.emit(chunk())
    with pytest.raises(StoreError, match="closed"):
        await store.read()


async def test_text_that_looks_like_json_or_escapes_round_trips_exactly(
    store: EventStore,
) -> None:
    nasty = 'quote " backslash \\ brace } nul-free \x1b[31m json {"seq": 99}'
    store.emit(chunk(nasty))

    (event,) = await store.read()

    assert event.seq == 1
    assert event.payload == chunk(nasty)


async def test_a_payload_that_cannot_be_serialized_is_refused_without_a_gap(
    store: EventStore,
) -> None:
    with pytest.raises(ValueError):
        store.emit(VisionAmended(version=2, section="tone", value=object()))

    assert store.emit(chunk())[0] == 1
    await store.flush()
    assert [e.seq for e in await store.read()] == [1]


async def test_close_ends_when_an_event_arrives_while_it_closes(db_path: Path) -> None:
    """An engine still winding down may emit after close() flushed: the writer lingers for
    more, close() wakes it, and it must end (it hung here, idle, before) with the event kept."""
    store = await EventStore.open(db_path)
    store.emit(task_state("scene-1"))
    snapshot_at_close = store._snapshot_at_close

    async def an_event_arrives() -> None:
        await snapshot_at_close()
        store.emit(task_state("scene-2"))
        await asyncio.sleep(0)  # the writer wakes for it and lingers for more

    store._snapshot_at_close = an_event_arrives  # type: ignore[method-assign]
    await asyncio.wait_for(store.close(), timeout=10)

    reopened = await EventStore.open(db_path, create=False, read_only=True)
    try:
        assert [e.seq for e in await reopened.read()] == [1, 2]
    finally:
        await reopened.close()
