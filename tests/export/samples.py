"""Sample productions made in-process, fast: the files' own seeds, with no simulated latency.

The rehearsal model's text depends only on the seed and the request, never on timing, so
dropping latency and streaming delays keeps a run's output and makes it take a second.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from podium.domain.production import ProductionSpec
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import EventStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_productions"
SAMPLE_NAMES = ("last_light", "arctic_journey", "arcadian_summers")


def without_latency(spec: ProductionSpec) -> ProductionSpec:
    """`spec` with the rehearsal model's simulated latency off (its output is the same)."""
    fast = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e7, "latency_by_kind": {}}
    )
    return spec.model_copy(update={"models": spec.models.model_copy(update={"rehearsal": fast})})


async def make(sample: str, db: Path, auto: str = "all") -> str:
    """Run `sample` headless into `db`; the production state it stopped in."""
    spec = without_latency(read_production(SAMPLES / f"{sample}.toml"))
    store = await EventStore.open(db)
    try:
        engine = await Engine.open(
            store, spec=spec, source=f"{sample}.toml", auto_approve=AutoApprove(auto)
        )
        state = await engine.run()
    finally:
        await store.close()
    return state.value


def make_sync(sample: str, db: Path, auto: str = "all") -> str:
    return asyncio.run(make(sample, db, auto))
