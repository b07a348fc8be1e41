"""`podium status` (and every command that reads a production through `load_view`) folds the log
as replay does: a streamed chunk is read only where it still shows, so a long log of streamed
text is not decoded row by row (issue 20: 9.2 s for a 1,000,000-event series)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.cli import production as cli_production
from podium.domain.events import AgentState, AgentStateChanged, OutputChunk
from podium.domain.production import ProductionSpec
from podium.domain.state import fold
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import EventStore
from podium.store import db as store_db

SAMPLE = Path(__file__).resolve().parents[2] / "sample_productions" / "last_light.toml"


def quick() -> ProductionSpec:
    spec = read_production(SAMPLE)
    settings = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e5, "latency_by_kind": {}}
    )
    return spec.model_copy(
        update={"models": spec.models.model_copy(update={"rehearsal": settings})}
    )


async def test_status_reads_streamed_chunks_unread_and_gives_the_full_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.db"
    store = await EventStore.open(path)
    try:
        engine = await Engine.open(store, spec=quick(), auto_approve=AutoApprove.ALL)
        await engine.run()
        agent = next(iter(engine.view.agents))
        engine.emit(AgentStateChanged(agent_id=agent, state=AgentState.THINKING))
        for number in range(3000):
            engine.emit(OutputChunk(task_id="t", agent_id=agent, text=f"word {number} "))
        await store.flush()
        folded = fold(await store.read())
    finally:
        await store.close()

    decoded: list[int] = []
    real = store_db.decode_events

    def counting(rows: list[tuple[int, float, str, str]]) -> object:
        decoded.append(sum(1 for row in rows if row[2] == "output_chunk"))
        return real(rows)

    monkeypatch.setattr(store_db, "decode_events", counting)
    view = await cli_production.load_view(path)
    assert view == folded
    assert sum(decoded) < 100  # only what shows in the agent's tail, not 3,000 chunks
