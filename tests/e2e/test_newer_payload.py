"""A database holding an event a newer podium wrote: `podium status`, `check` and `export`
refuse it in one sentence that says to upgrade (exit 2, as for bad input), and none of them
calls it damaged."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from podium.domain.events import ProductionOpened, RunStarted, RunStopped
from podium.loader import read_production
from podium.store import EventStore

SAMPLE = Path(__file__).resolve().parents[2] / "sample_productions" / "last_light.toml"
SENTENCE = (
    "written by a newer podium (event 4, kind feedback v3; this podium reads up to v1) "
    "— upgrade podium"
)


def podium(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PODIUM_DATA_DIR": str(home / "data")},
        check=False,
    )


async def make(path: Path) -> None:
    spec = read_production(SAMPLE).model_dump(mode="json")
    store = await EventStore.open(path)
    try:
        for payload in (ProductionOpened(spec=spec), RunStarted(), RunStopped(reason="done")):
            store.emit(payload)
        await store.flush()
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "INSERT INTO events (seq, ts, kind, payload) VALUES (4, 1.0, 'feedback', ?)",
            ('{"kind":"feedback","v":3,"agent_id":"writer","text":"from the future"}',),
        )
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def newer(tmp_path: Path) -> Path:
    path = tmp_path / "newer.db"
    asyncio.run(make(path))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["status", "--json"],
        ["check"],
        ["export", "--out", "OUT"],
        ["export", "--out", "OUT", "--salvage"],
        ["resume", "--headless"],  # exited 1, as if the environment had failed
        ["log"],
        ["show", "treatment"],
    ],
)
def test_a_newer_event_is_refused_in_one_sentence(
    newer: Path, tmp_path: Path, command: list[str]
) -> None:
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    done = podium(args[0], str(newer), *args[1:], home=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr == f"podium: {newer}: {SENTENCE} to read it.\n"
    assert "Traceback" not in done.stderr
    assert "damaged" not in done.stdout + done.stderr
