"""Fixtures for the event store: a fresh database path and an open store on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.store import EventStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "productions" / "the-lighthouse.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[EventStore]:
    opened = await EventStore.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()
