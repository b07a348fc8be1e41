"""Facts a decision reads are typed event fields, folded from the log, never read from prose
nor kept only in memory: a budget allowance, an auto-approve retry, the tasks an escalation is
about, an interrupted task, an agent's territory claim. Each survives a resume, and a log
written before they were typed still reads the same (the one upcast from its prose)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from podium.domain.escalation import (
    Action,
    ApproveCommand,
    EscalationKind,
    OverrideCommand,
    SkipCommand,
)
from podium.domain.events import (
    PAYLOAD_ADAPTER,
    ArtifactCreated,
    Payload,
    ProductionState,
    TaskStateChanged,
    TerritoryAssigned,
)
from podium.domain.policy import Territory
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.engine.engine import AutoApprove, Engine
from podium.llm.types import FailureKind, LLMError
from podium.store import EventStore

from .harness import Script, ScriptedGateway, crew, open_engine, production, tasks

DEADLINE_S = 30.0


def plan(*items: dict[str, Any], constraints: str = "retries = 0\n") -> str:
    return (
        crew(("w", "writer"))
        + tasks(*items)
        + f'[planner]\nmode = "explicit"\n[constraints]\n{constraints}'
    )


def chapter(task_id: str, **more: Any) -> dict[str, Any]:
    return {"id": task_id, "title": task_id.upper(), "kind": "chapter", "assignee": "w", **more}


async def reopen(engine: Engine, script: Script, auto: AutoApprove = AutoApprove.NONE) -> Engine:
    """The same database in a new engine, as `podium resume` opens it."""
    path = engine.store.path
    await engine.store.close()
    store = await EventStore.open(path)
    return await Engine.open(store, gateway=ScriptedGateway(script), auto_approve=auto)


async def run(engine: Engine) -> ProductionState:
    async with asyncio.timeout(DEADLINE_S):
        return await engine.run()


def budget_escalations(engine: Engine, task_id: str) -> list[str]:
    return [
        e.id
        for e in engine.view.escalations.values()
        if e.kind is EscalationKind.BUDGET and e.task_id == task_id
    ]


# -- budget allowances ------------------------------------------------------------------------


async def test_an_allowance_granted_before_a_resume_is_spent_after_it(tmp_path: Path) -> None:
    script = Script()
    body = plan(chapter("x"), constraints="retries = 0\nbudget_tokens = 100\n")
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await run(engine) is ProductionState.WAITING
    [hold] = budget_escalations(engine, "x")
    assert (await engine.apply_offline(ApproveCommand(id="allow", escalation_id=hold))).applied
    assert engine.view.tasks["x"].budget_allowed

    resumed = await reopen(engine, script)
    assert resumed.view.tasks["x"].budget_allowed
    assert await run(resumed) is ProductionState.COMPLETED
    await resumed.store.close()
    assert budget_escalations(resumed, "x") == [hold]  # it was not asked again
    assert not resumed.view.tasks["x"].budget_allowed  # the one call spent it


async def test_an_allowance_spent_before_a_resume_is_not_granted_again(tmp_path: Path) -> None:
    script = Script()
    body = plan(chapter("x"), constraints="retries = 0\nbudget_tokens = 100\n")
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await run(engine) is ProductionState.WAITING
    [hold] = budget_escalations(engine, "x")
    await engine.apply_offline(ApproveCommand(id="allow", escalation_id=hold))
    assert await run(engine) is ProductionState.COMPLETED  # over budget, once, as allowed
    redo = OverrideCommand(id="redo", task_id="x", text="Again, and colder.")
    assert (await engine.apply_offline(redo)).applied
    assert engine.view.tasks["x"].state is TaskState.READY

    resumed = await reopen(engine, script)
    assert await run(resumed) is ProductionState.WAITING
    await resumed.store.close()
    # The re-run would overrun again: it asks, rather than spending the allowance twice.
    again = budget_escalations(resumed, "x")
    assert len(again) == 2 and resumed.view.escalations[again[1]].open
    assert len([c for c in script.calls if c.task_id == "x"]) == 1


# -- auto-approve's retries ---------------------------------------------------------------------


async def test_a_resumed_run_does_not_retry_a_failure_auto_approve_already_retried(
    tmp_path: Path,
) -> None:
    malformed = LLMError(FailureKind.MALFORMED_OUTPUT, "not the schema")
    script = Script(failures={"x": [malformed, malformed]})
    body = plan(chapter("x"), chapter("y"))
    engine = await open_engine(production(body), tmp_path / "p.db", script, auto=AutoApprove.ALL)
    runner = asyncio.create_task(engine.run())
    starts = 0

    def kill_on_second_start(seq: int, payload: Payload) -> None:
        nonlocal starts
        if isinstance(payload, TaskStateChanged) and payload.task_id == "x":
            if payload.state is TaskState.RUNNING:
                starts += 1
                if starts == 2:  # the retry auto-approve decided is under way
                    runner.cancel()

    engine.subscribe(kill_on_second_start)
    async with asyncio.timeout(DEADLINE_S):
        await asyncio.gather(runner, return_exceptions=True)
    assert runner.cancelled()
    assert engine.view.tasks["x"].interrupted

    resumed = await reopen(engine, script, AutoApprove.ALL)
    assert await run(resumed) is ProductionState.COMPLETED
    await resumed.store.close()
    view = resumed.view
    retries = [
        r.command
        for r in view.commands.values()
        if r.command.action is Action.RETRY and r.command.task_id == "x"
    ]
    assert len(retries) == 1 and retries[0].automatic
    assert view.tasks["x"].state is TaskState.SKIPPED  # failed again: skipped, not retried
    assert view.tasks["x"].reason == "skipped automatically (--auto-approve all)"
    assert view.tasks["y"].state is TaskState.DONE


# -- the tasks an escalation is about -----------------------------------------------------------


async def test_a_decision_acts_on_the_tasks_named_as_such_not_on_its_evidence(
    tmp_path: Path,
) -> None:
    refused = LLMError(FailureKind.BAD_REQUEST, "refused")
    script = Script(failures={"a": [refused]})
    body = plan(chapter("a"), chapter("b", depends_on=["a"]), chapter("c", depends_on=["a"]))
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await run(engine) is ProductionState.WAITING
    assert engine.view.tasks["b"].state is TaskState.PENDING
    # Its evidence (text for a reader) names b, which the proposal is not about.
    scope = engine.open_escalation(
        EscalationKind.SCOPE_CHANGE,
        "Scope change: c",
        task_ids=["c"],
        evidence=["c", "b"],
    )
    result = await engine.apply_offline(SkipCommand(id="decline", escalation_id=scope.id))
    assert result.applied, result.detail
    await engine.store.close()
    assert engine.view.tasks["c"].state is TaskState.SKIPPED
    assert engine.view.tasks["b"].state is TaskState.PENDING


async def test_an_escalation_is_about_its_task_unless_told_more(tmp_path: Path) -> None:
    refused = LLMError(FailureKind.BAD_REQUEST, "refused")
    script = Script(failures={"a": [refused]})
    engine = await open_engine(production(plan(chapter("a"))), tmp_path / "p.db", script)
    assert await run(engine) is ProductionState.WAITING
    await engine.store.close()
    [failure] = engine.view.open_escalations()
    assert failure.task_ids == ["a"]


# -- an agent's territory claim ----------------------------------------------------------------


def test_a_claim_is_folded_with_its_draft_and_weighed_once() -> None:
    view = opened_view()
    view.apply_payload(
        PAYLOAD_ADAPTER.validate_python(
            {
                "kind": "artifact_created",
                "artifact": draft("a"),
                "agent_claim": "approval_required",
            }
        ),
        2.0,
    )
    assert view.tasks["a"].claim is Territory.APPROVAL_REQUIRED
    view.apply_payload(
        PAYLOAD_ADAPTER.validate_python({"kind": "artifact_created", "artifact": draft("a", 2)}),
        3.0,
    )
    assert view.tasks["a"].claim is Territory.APPROVAL_REQUIRED  # a later draft claimed nothing
    view.apply_payload(
        TerritoryAssigned(
            task_id="a",
            territory=Territory.APPROVAL_REQUIRED,
            decision_kind="story_beat",
            agent_claim=Territory.APPROVAL_REQUIRED,
        ),
        4.0,
    )
    assert view.tasks["a"].claim is None
    assert ArtifactCreated.model_fields["agent_claim"].default is None


# -- logs written before the facts were typed --------------------------------------------------


def opened_view() -> ProductionView:
    spec = production(plan(chapter("a"), chapter("b")))
    view = ProductionView()
    view.apply_payload(
        PAYLOAD_ADAPTER.validate_python(
            {"kind": "production_opened", "spec": spec.model_dump(mode="json")}
        ),
        0.0,
    )
    view.apply_payload(
        PAYLOAD_ADAPTER.validate_python(
            {"kind": "tasks_planned", "tasks": [t.model_dump(mode="json") for t in spec.tasks]}
        ),
        1.0,
    )
    return view


def draft(task_id: str, version: int = 1) -> dict[str, Any]:
    return {
        "id": f"{task_id}-v{version}",
        "task_id": task_id,
        "kind": "chapter",
        "content_type": "Prose",
        "content": {"text": "words"},
        "provenance": {"agent_id": "w", "model": "m", "prompt_hash": "", "attempt": 1},
        "created_at": 1.0,
    }


def old(text: str) -> Payload:
    """A stored payload as an older podium wrote it (JSON without today's typed fields)."""
    return PAYLOAD_ADAPTER.validate_json(text)


def test_an_old_log_reads_the_same_facts_from_its_prose() -> None:
    view = opened_view()
    for ts, text in enumerate(
        [
            '{"kind":"task_state","task_id":"a","state":"running","reason":"started"}',
            '{"kind":"task_state","task_id":"a","state":"ready","reason":"interrupted; resumed"}',
            '{"kind":"task_state","task_id":"b","state":"running","reason":"started"}',
            '{"kind":"task_state","task_id":"b","state":"ready","reason":"paused"}',
            '{"kind":"escalation_opened","escalation":{"id":"e1","kind":"vision_stale",'
            '"priority":1,"title":"Re-run?","evidence":["a","b","not-a-task"]}}',
            '{"kind":"escalation_opened","escalation":{"id":"e2","kind":"budget",'
            '"priority":0,"title":"Budget","task_id":"b","evidence":["a"]}}',
            '{"kind":"escalation_resolved","escalation_id":"e2","action":"approve",'
            '"resolution":"allowed b to go over budget once"}',
        ],
        start=2,
    ):
        view.apply_payload(old(text), float(ts))
    assert view.tasks["a"].interrupted and not view.tasks["b"].interrupted
    assert view.escalations["e1"].task_ids == ["a", "b"]  # the ids it listed, as then
    assert view.escalations["e2"].task_ids == ["b"]  # a budget item was about its task only
    assert view.tasks["b"].budget_allowed and not view.tasks["a"].budget_allowed


def test_a_typed_fact_wins_over_the_prose_beside_it() -> None:
    view = opened_view()
    for ts, text in enumerate(
        [
            '{"kind":"task_state","task_id":"a","state":"running","reason":"started"}',
            '{"kind":"task_state","task_id":"a","state":"ready",'
            '"reason":"interrupted by nothing","interrupted":false}',
            '{"kind":"escalation_opened","escalation":{"id":"e1","kind":"vision_stale",'
            '"priority":1,"title":"Re-run?","evidence":["a","b"],"task_ids":["b"]}}',
            '{"kind":"escalation_opened","escalation":{"id":"e2","kind":"budget",'
            '"priority":0,"title":"Budget","task_id":"b"}}',
            '{"kind":"escalation_resolved","escalation_id":"e2","action":"approve",'
            '"resolution":"allowed, but not as an allowance","allowance":false}',
        ],
        start=2,
    ):
        view.apply_payload(old(text), float(ts))
    assert not view.tasks["a"].interrupted
    assert view.escalations["e1"].task_ids == ["b"]
    assert not view.tasks["b"].budget_allowed
