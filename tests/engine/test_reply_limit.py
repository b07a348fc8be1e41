"""A model reply longer than its limit (issue 14 §5) is malformed output, its cost booked."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.domain.escalation import EscalationKind
from podium.domain.events import CallFinished, ProductionState
from podium.domain.production import MAX_REPLY_BYTES

from .harness import Script, crew, open_engine, production, tasks

BODY = (
    crew(("w", "writer"))
    + tasks({"id": "x", "title": "X", "kind": "chapter", "assignee": "w"})
    + '[planner]\nmode = "explicit"\n[constraints]\nretries = 0\n'
)
WORDS = MAX_REPLY_BYTES // 5 + 1_000  # "word " five bytes each: just over 256 KB of JSON


async def _calls(engine: object) -> list[CallFinished]:
    store = engine.store  # type: ignore[attr-defined]
    return [e.payload for e in await store.read() if isinstance(e.payload, CallFinished)]


async def test_a_reply_over_the_limit_is_malformed_output_and_its_cost_is_booked(
    tmp_path: Path,
) -> None:
    script = Script(words={"x": [WORDS]}, cost_usd=0.25)
    engine = await open_engine(production(BODY), tmp_path / "p.db", script)
    try:
        assert await engine.run() is ProductionState.WAITING
        [failure] = engine.view.open_escalations()
        assert failure.kind is EscalationKind.FAILURE
        [call] = [c for c in await _calls(engine) if c.task_id == "x"]
        assert (call.ok, call.error_kind, call.cost_usd) == (False, "malformed_output", 0.25)
        assert call.error.startswith("the reply is 2")
        assert "at most 262,144 are taken" in call.error
        assert engine.view.total_cost() == pytest.approx(0.25)
        assert engine.view.tasks["x"].artifact_id is None
    finally:
        await engine.store.close()


async def test_the_limit_is_set_per_model_in_the_file(tmp_path: Path) -> None:
    body = BODY + '[models.settings."rehearsal/default"]\nmax_reply_bytes = 1_000_000\n'
    engine = await open_engine(production(body), tmp_path / "p.db", Script(words={"x": [WORDS]}))
    try:
        assert await engine.run() is ProductionState.COMPLETED
    finally:
        await engine.store.close()
