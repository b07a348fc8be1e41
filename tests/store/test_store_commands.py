"""The command channel: another process (podium decide) hands commands to the running engine."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from podium.domain.escalation import ApproveCommand, PauseCommand
from podium.domain.events import CommandRecorded
from podium.store import CorruptDatabase, EventStore, StoreError


def approve(command_id: str, issued_at: float, text: str = "") -> ApproveCommand:
    return ApproveCommand(
        id=command_id,
        escalation_id="esc-1",
        option_id=text or None,
        issued_at=issued_at,
        origin="cli",
    )


async def test_submit_pending_and_take(store: EventStore, db_path: Path) -> None:
    async with await EventStore.open(db_path, create=False) as cli:
        assert await cli.submit_command(approve("cmd-b", issued_at=20.0))
        assert await cli.submit_command(approve("cmd-a", issued_at=10.0, text="Ship it."))

    pending = await store.pending_commands()
    assert [c.id for c in pending] == ["cmd-a", "cmd-b"]  # oldest first
    assert pending[0] == approve("cmd-a", issued_at=10.0, text="Ship it.")

    recorded = await store.append_durable(CommandRecorded(command=pending[0]))
    await store.mark_command_taken("cmd-a", recorded.seq)
    await store.mark_command_taken("cmd-a", recorded.seq)  # again: no change, no error

    assert [c.id for c in await store.pending_commands()] == ["cmd-b"]
    conn = sqlite3.connect(db_path)
    try:
        taken = conn.execute("SELECT id, taken_seq FROM commands ORDER BY id").fetchall()
    finally:
        conn.close()
    assert taken == [("cmd-a", recorded.seq), ("cmd-b", None)]


async def test_submitting_the_same_id_twice_is_idempotent(store: EventStore) -> None:
    first = approve("cmd-1", issued_at=1.0, text="first")

    assert await store.submit_command(first) is True
    assert await store.submit_command(approve("cmd-1", issued_at=2.0, text="second")) is False

    assert await store.pending_commands() == [first]
    await store.mark_command_taken("cmd-1", 1)
    assert await store.submit_command(first) is False
    assert await store.pending_commands() == []


async def test_a_command_without_a_time_is_stamped(store: EventStore) -> None:
    await store.submit_command(PauseCommand(id="now"))
    await store.submit_command(approve("past", issued_at=1.0))

    assert [c.id for c in await store.pending_commands()] == ["past", "now"]


async def test_taking_an_unknown_command(store: EventStore) -> None:
    with pytest.raises(StoreError, match="no command 'ghost'"):
        await store.mark_command_taken("ghost", 1)


async def test_a_submitted_command_is_on_disk_when_submit_returns(
    store: EventStore, db_path: Path
) -> None:
    await store.submit_command(approve("cmd-1", issued_at=1.0))

    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT id FROM commands").fetchall() == [("cmd-1",)]
    finally:
        conn.close()


async def test_an_unreadable_command_is_reported(store: EventStore, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO commands (id, issued_at, body) VALUES ('bad\x1b[2J', 1.0, '{\"id\": 3}')"
    )
    conn.commit()
    conn.close()

    with pytest.raises(CorruptDatabase) as caught:
        await store.pending_commands()
    message = str(caught.value)
    assert str(db_path) in message
    assert "command 'bad" in message
    assert "\x1b" not in message
