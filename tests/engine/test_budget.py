"""The dollar budget before any price is known, unknown prices, and who spent what."""

from __future__ import annotations

from pathlib import Path

from podium.domain import health
from podium.domain.escalation import EscalationKind
from podium.domain.events import ProductionState
from podium.domain.health import Level

from .harness import Script, crew, open_engine, production, tasks

REAL = "openai/gpt-test"


def chapters(constraints: str, models: str = "") -> str:
    return (
        crew(("w", "writer"), ("dp", "director_of_photography"))
        + tasks(
            {"id": "c1", "title": "One", "kind": "chapter", "assignee": "w"},
            {"id": "c2", "title": "Two", "kind": "chapter", "assignee": "w"},
            {"id": "look", "title": "Look", "kind": "look", "assignee": "dp"},
        )
        + f'[planner]\nmode = "explicit"\n[constraints]\n{constraints}'
        + (models or f'[models]\ndefault = "{REAL}"\n')
    )


async def test_the_first_call_of_an_unpriced_model_is_checked(tmp_path: Path) -> None:
    script = Script()
    engine = await open_engine(
        production(chapters("budget_usd = 0.01\n")), tmp_path / "p.db", script
    )
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    assert script.calls == []  # nothing was spent: the assumed price alone overruns
    budget = [e for e in engine.view.open_escalations() if e.kind is EscalationKind.BUDGET]
    assert budget and all("assumed high" in e.detail for e in budget)


async def test_a_configured_price_is_used_before_any_call(tmp_path: Path) -> None:
    models = (
        f'[models]\ndefault = "{REAL}"\n[models.settings."{REAL}"]\n'
        "input_cost_per_token = 1e-9\noutput_cost_per_token = 1e-9\n"
    )
    body = chapters("budget_usd = 0.01\n", models)
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()


async def test_the_rehearsal_model_is_free_and_known(tmp_path: Path) -> None:
    body = chapters("budget_usd = 0.0001\n", '[models]\ndefault = "rehearsal/x"\n')
    engine = await open_engine(production(body), tmp_path / "p.db", Script(cost_usd=0.0))
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()


async def test_an_unknown_price_is_said_and_the_token_budget_still_holds(tmp_path: Path) -> None:
    body = chapters("budget_usd = 5.0\n")
    engine = await open_engine(production(body), tmp_path / "p.db", Script(cost_usd=None))
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    [budget] = [s for s in health.signals(view, 0.0) if s.name == "budget"]
    assert "cost unknown" in budget.value and "token budget" not in budget.why
    assert budget.level >= Level.MONITOR_AND_GUIDE
    summary = view.summary()
    assert summary["cost_usd"] is None and not summary["cost_complete"]
    assert summary["agents"]["w"]["cost_usd"] is None

    capped = chapters("budget_usd = 5.0\nbudget_tokens = 1000\n")
    engine = await open_engine(production(capped), tmp_path / "q.db", Script(cost_usd=None))
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    kinds = {e.kind for e in engine.view.open_escalations()}
    assert EscalationKind.BUDGET in kinds  # the tokens still bound it
    [budget] = [s for s in health.signals(engine.view, 0.0) if s.name == "budget"]
    assert "the token budget still applies" in budget.why


async def test_status_shows_spending_per_agent_and_department(tmp_path: Path) -> None:
    body = chapters("", '[models]\ndefault = "rehearsal/x"\n')
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    summary = engine.view.summary()
    writer = summary["agents"]["w"]
    assert writer["department"] == "writing"
    assert writer["calls"] == 2 and writer["tokens"] == 60  # 30 tokens a call
    assert writer["cost_usd"] == 0.002 and writer["cost_complete"]
    departments = summary["departments"]
    assert departments["writing"]["agents"] == ["w"]
    assert departments["camera"]["tokens"] == 30
    assert engine.ledger.by_department() == departments
