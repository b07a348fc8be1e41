"""A damaged row is reported by its seq, without echoing what it holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import chunk

from podium.store import CorruptDatabase, EventStore


def insert_raw(path: Path, seq: int, kind: str, payload: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "INSERT INTO events (seq, ts, kind, payload) VALUES (?, 1.0, ?, ?)",
            (seq, kind, payload),
        )
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "payload",
    [
        "{not json",
        '{"kind": "output_chunk", "task_id": "t"}',
        '{"kind": "from_the_future", "secret": "sk-not-a-real-key"}',
        '{"kind": "output_chunk", "task_id": "t", "agent_id": "a", "text": "x"}, "seq": 99',
        "[]",
    ],
)
async def test_unparsable_payload_names_the_seq(
    store: EventStore, db_path: Path, payload: str
) -> None:
    store.emit(chunk("fine"))
    await store.flush()
    insert_raw(db_path, 2, "output_chunk", payload)

    with pytest.raises(CorruptDatabase) as caught:
        await store.read()
    message = str(caught.value)
    assert "event 2" in message
    assert str(db_path) in message
    assert "sk-not-a-real-key" not in message

    assert [e.seq for e in await store.read(limit=1)] == [1]  # what comes before still reads


async def test_a_big_damaged_log_is_reported_too(store: EventStore, db_path: Path) -> None:
    for i in range(3000):
        store.emit(chunk(f"w{i}"))
    await store.flush()
    insert_raw(db_path, 3001, "task_state", "{}")

    with pytest.raises(CorruptDatabase, match="event 3001"):
        await store.read()
