"""The headless standing instruction (--auto-approve) and what a run that made nothing reports."""

from __future__ import annotations

from pathlib import Path

from podium.domain.escalation import Action, EscalationKind
from podium.domain.events import ProductionState
from podium.domain.tasks import TaskState
from podium.engine.engine import AutoApprove
from podium.llm.types import FailureKind, LLMError

from .harness import Script, crew, open_engine, production, tasks
from .test_authority import gated
from .test_scheduler import one_task

FAILING_PLANNER = (
    crew(("prod", "producer"), ("w", "writer"))
    + "[constraints]\nretries = 0\nretry_backoff = 0.01\n"
    + "[models.rehearsal]\nlatency_ms = 0.0\njitter_ms = 0.0\nfailure_rate = 1.0\n"
)


async def test_a_failing_plan_is_never_skipped_and_the_run_fails(tmp_path: Path) -> None:
    engine = await open_engine(production(FAILING_PLANNER), tmp_path / "p.db", auto=AutoApprove.ALL)
    assert await engine.run() is ProductionState.FAILED
    await engine.store.close()
    view = engine.view
    assert view.tasks["plan"].state is TaskState.FAILED  # not skipped
    assert "leaves" in view.state_reason and "to the Orchestrator" in view.state_reason
    failures = [e for e in view.escalations.values() if e.kind is EscalationKind.FAILURE]
    assert len(failures) == 2  # retried once automatically, then left open for a person
    assert not failures[0].open and failures[1].open
    [auto] = [c.command for c in view.commands.values()]
    assert auto.action is Action.RETRY and auto.origin == "--auto-approve all"


async def test_a_failure_that_cannot_pass_is_not_retried_and_the_skip_says_who(
    tmp_path: Path,
) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.AUTH, "bad key")] * 3})
    engine = await open_engine(
        production(one_task()), tmp_path / "p.db", script, auto=AutoApprove.ALL
    )
    assert await engine.run() is ProductionState.COMPLETED  # y and z were made without x
    await engine.store.close()
    view = engine.view
    assert len([c for c in script.calls if c.task_id == "x"]) == 1
    assert view.tasks["x"].state is TaskState.SKIPPED
    assert view.tasks["x"].reason == "skipped automatically (--auto-approve all)"
    assert "Orchestrator" not in view.tasks["x"].reason
    assert view.tasks["y"].state is TaskState.DONE


async def test_a_production_that_made_nothing_has_failed(tmp_path: Path) -> None:
    body = crew(("w", "writer")) + tasks(
        {"id": "x", "title": "X", "kind": "chapter", "assignee": "w", "on_failure": "skip"}
    )
    body += '[planner]\nmode = "explicit"\n[constraints]\nretries = 0\n'
    script = Script(failures={"x": [LLMError(FailureKind.TIMEOUT, "slow")]})
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.FAILED  # not "completed (0 done, 1 skipped)"
    await engine.store.close()
    assert engine.view.tasks["x"].state is TaskState.SKIPPED
    assert engine.view.state_reason == "nothing was made: 1 task(s) skipped"


async def test_resume_applies_the_instruction_to_what_was_left_open(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    spec = production(gated())
    engine = await open_engine(spec, db, Script())
    assert await engine.run() is ProductionState.WAITING  # a milestone and a provisional look
    await engine.store.close()
    left = {e.id for e in engine.view.open_escalations()}
    assert len(left) == 2

    resumed = await open_engine(spec, db, Script(), auto=AutoApprove.ALL)
    assert await resumed.run() is ProductionState.COMPLETED
    await resumed.store.close()
    view = resumed.view
    decided = [c.command for c in view.commands.values() if c.command.escalation_id in left]
    assert sorted(c.escalation_id or "" for c in decided) == sorted(left)  # once each
    assert all(c.id.startswith("auto-") and c.automatic for c in decided)
    assert view.tasks["treat"].reason == "approved automatically (--auto-approve all)"
