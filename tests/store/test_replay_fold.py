"""Replay is the fold: the view `replay` makes equals the fold of every stored event, on the
sample productions' logs and on logs of streamed text built to catch every way a chunk is
stored (escapes, keys in another order, agents not in the crew, calls cleared mid-stream), with
batches and the chunks held per agent small enough that every boundary is crossed."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    OutputChunk,
    ProductionOpened,
    RunStarted,
    RunStopped,
)
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView, fold
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import CorruptDatabase, EventStore
from podium.store import replay as replay_module
from podium.store.replay import replay

SAMPLES = Path(__file__).resolve().parents[2] / "sample_productions"


def quick(name: str) -> ProductionSpec:
    spec = read_production(SAMPLES / f"{name}.toml")
    settings = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e5, "latency_by_kind": {}}
    )
    return spec.model_copy(
        update={"models": spec.models.model_copy(update={"rehearsal": settings})}
    )


async def both_ways(path: Path) -> tuple[ProductionView, ProductionView]:
    store = await EventStore.open(path, read_only=True)
    try:
        replayed = ProductionView()
        await replay(store, replayed)
        folded = fold(await store.read())
    finally:
        await store.close()
    return replayed, folded


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay_module, "BATCH", 7)
    monkeypatch.setattr(replay_module, "HELD_MAX", 3)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["last_light", "arctic_journey", "arcadian_summers"])
async def test_every_sample_log_replays_to_its_fold(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / f"{name}.db"
    store = await EventStore.open(path)
    try:
        engine = await Engine.open(store, spec=quick(name), auto_approve=AutoApprove.ALL)
        await engine.run()
    finally:
        await store.close()
    replayed, folded = await both_ways(path)
    assert folded.state.value == "completed"
    assert replayed == folded
    assert [a.tail for a in replayed.agents.values()] == [a.tail for a in folded.agents.values()]
    monkeypatch.setattr(replay_module, "BATCH", 7)
    monkeypatch.setattr(replay_module, "HELD_MAX", 3)
    assert (await both_ways(path))[0] == folded


# -- logs of streamed text -------------------------------------------------------------------

TEXTS = [
    "The lamp turns.",
    'She said "no" twice',
    'back\\slash and \\" a quote after it',
    "tab\tnew\nline",
    "unicode: é ☂ 雨 \U0001f30a",
    "x" * 500,
    "",
    '"agent_id":"intruder" inside the text',
]


def crew_spec() -> dict[str, Any]:
    return quick("last_light").model_dump(mode="json")


def build_log(path: Path, seed: int) -> None:
    """A random log: opened, then chunks (some stored with their keys in another order, or for
    an agent not in the crew), agents thinking, streaming and idle, runs stopping."""
    rng = random.Random(seed)
    spec = crew_spec()
    crew = [agent["id"] for agent in spec["crew"]]
    rows: list[tuple[str, str]] = []

    def add(payload: Any, text: str | None = None) -> None:
        rows.append(
            (payload.kind, text or payload.__pydantic_serializer__.to_json(payload).decode())
        )

    add(ProductionOpened(spec=spec))
    add(RunStarted())
    for _ in range(rng.randint(50, 400)):
        roll = rng.random()
        agent = rng.choice(crew[:3]) if rng.random() < 0.95 else "not-in-the-crew"
        if roll < 0.75:
            chunk = OutputChunk(task_id="t1", agent_id=agent, text=rng.choice(TEXTS))
            if rng.random() < 0.1:  # written by something other than pydantic: any key order
                fields = chunk.model_dump()
                keys = list(fields)
                rng.shuffle(keys)
                text = json.dumps({k: fields[k] for k in keys})
                if rng.random() < 0.5:  # its agent's id escaped: the same id once decoded
                    escaped = f"\\u{ord(agent[0]):04x}{agent[1:]}"
                    text = text.replace(f'"agent_id": "{agent}"', f'"agent_id": "{escaped}"')
                add(chunk, text)
            elif rng.random() < 0.05:  # pydantic's order, the agent's id escaped
                text = chunk.__pydantic_serializer__.to_json(chunk).decode()
                escaped = f"\\u{ord(agent[0]):04x}{agent[1:]}"
                add(chunk, text.replace(f'"agent_id":"{agent}"', f'"agent_id":"{escaped}"'))
            else:
                add(chunk)
        elif roll < 0.93:
            state = rng.choice(list(AgentState))
            add(AgentStateChanged(agent_id=agent, state=state))
        elif roll < 0.97:
            add(RunStopped())
        else:
            add(RunStarted())
    write_rows(path, rows)


def write_rows(path: Path, rows: list[tuple[str, str]]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executemany(
            "INSERT INTO events (seq, ts, kind, payload) VALUES (?, ?, ?, ?)",
            [(seq, 1000.0 + seq, kind, text) for seq, (kind, text) in enumerate(rows, start=1)],
        )
        conn.commit()
    finally:
        conn.close()


async def empty_database(path: Path) -> None:
    store = await EventStore.open(path)
    await store.close()


@pytest.mark.parametrize("seed", range(12))
async def test_a_log_of_streamed_text_replays_to_its_fold(
    seed: int, tmp_path: Path, small_batches: None
) -> None:
    path = tmp_path / "stream.db"
    await empty_database(path)
    build_log(path, seed)
    replayed, folded = await both_ways(path)
    assert replayed == folded
    for agent_id, agent in folded.agents.items():
        assert replayed.agents[agent_id].tail == agent.tail, agent_id
        assert replayed.agents[agent_id].state is agent.state, agent_id
        assert not replayed.agents[agent_id].held


async def test_a_damaged_chunk_that_still_shows_is_named(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    await empty_database(path)
    spec = crew_spec()
    agent = spec["crew"][0]["id"]
    opened = ProductionOpened(spec=spec)
    good = OutputChunk(task_id="t1", agent_id=agent, text="fine")
    write_rows(
        path,
        [
            (opened.kind, opened.model_dump_json()),
            (good.kind, good.__pydantic_serializer__.to_json(good).decode()),
            (
                "output_chunk",
                f'{{"kind":"output_chunk","task_id":"t1","agent_id":"{agent}","text":7}}',
            ),
        ],
    )
    store = await EventStore.open(path, read_only=True)
    try:
        with pytest.raises(CorruptDatabase, match=r"event 3 .*damaged"):
            await replay(store, ProductionView())
    finally:
        await store.close()
