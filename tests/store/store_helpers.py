"""Helpers shared by the store tests (fault injection, raw reads, sample payloads)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.domain.events import OutputChunk, TaskStateChanged
from podium.domain.tasks import TaskState
from podium.store import EventStore


def chunk(text: str = "The lamp turns.", task_id: str = "scene-1") -> OutputChunk:
    return OutputChunk(task_id=task_id, agent_id="writer", text=text)


def task_state(task_id: str = "scene-1", state: TaskState = TaskState.RUNNING) -> TaskStateChanged:
    return TaskStateChanged(task_id=task_id, state=state)


async def on_writer(store: EventStore, sql: str) -> None:
    """Fault injection: run a statement on the store's own writing connection (its thread)."""

    def run(conn: sqlite3.Connection) -> None:
        conn.execute(sql)

    await store._write(run)


async def eventually(condition: Callable[[], bool], what: str) -> None:
    """Wait for the background writer to reach a state; a hang guard, not a timing assertion."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"gave up waiting for {what}")


def raw_rows(path: Path, sql: str = "SELECT seq, kind FROM events ORDER BY seq") -> list[Any]:
    """Read through a separate, plain sqlite3 connection: what another process would see."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
