"""The Orchestrator's commands on failed and finished work: retry, reassign, feedback and
request alternatives, each through the engine's command API."""

from __future__ import annotations

from pathlib import Path

from podium.domain.artifacts import ArtifactStatus
from podium.domain.escalation import (
    ApproveCommand,
    EscalationKind,
    FeedbackCommand,
    ReassignCommand,
    RequestAlternativesCommand,
    RetryCommand,
    command_adapter,
)
from podium.domain.events import CurrentVersionSet, ProductionState, VersionCause
from podium.domain.tasks import TaskState
from podium.domain.versions import current, current_number
from podium.llm.types import FailureKind, LLMError

from .harness import Script, crew, open_engine, production, tasks


def failing(*agents: tuple[str, str]) -> str:
    return (
        crew(*(agents or (("w", "writer"),)))
        + tasks(
            {"id": "x", "title": "X", "kind": "chapter", "assignee": "w"},
            {"id": "y", "title": "Y", "kind": "chapter", "assignee": "w", "depends_on": ["x"]},
        )
        + '[planner]\nmode = "explicit"\n[constraints]\nretries = 0\n'
    )


async def test_retry_runs_a_failed_task_again_and_its_dependents_follow(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.TIMEOUT, "slow")]})
    engine = await open_engine(production(failing()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    [failure] = engine.view.open_escalations()
    assert failure.kind is EscalationKind.FAILURE
    result = await engine.apply_offline(RetryCommand(id="r", escalation_id=failure.id))
    assert result.applied, result.detail
    assert engine.view.tasks["x"].state is TaskState.READY
    assert not engine.view.escalations[failure.id].open
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert engine.view.tasks["y"].state is TaskState.DONE
    assert len([c for c in script.calls if c.task_id == "x"]) == 2


async def test_reassign_gives_the_task_to_another_agent(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.BAD_REQUEST, "refused")]})
    body = failing(("w", "writer"), ("w2", "writer"))
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    [failure] = engine.view.open_escalations()
    same = await engine.apply_offline(
        ReassignCommand(id="same", escalation_id=failure.id, agent="w")
    )
    assert not same.applied and "already w's" in same.detail
    # A reassign naming nobody is refused with how to name the agent (it said "no agent ''").
    nobody = await engine.apply_offline(
        ReassignCommand(id="nobody", escalation_id=failure.id, agent="")
    )
    assert not nobody.applied
    assert "decide reassign AGENT, AGENT one of w2" in nobody.detail
    result = await engine.apply_offline(
        ReassignCommand(id="ra", escalation_id=failure.id, agent="w2")
    )
    assert result.applied, result.detail
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    assert view.tasks["x"].spec.assignee == "w2"
    assert view.artifacts[view.tasks["x"].artifact_id or ""].provenance.agent_id == "w2"
    assert [c.agent_id for c in script.calls if c.task_id == "x"] == ["w", "w2"]


async def test_feedback_stays_in_the_agents_context_for_its_next_prompts(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.TIMEOUT, "slow")]})
    engine = await open_engine(production(failing()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    before = len(script.calls)
    result = await engine.apply_offline(
        FeedbackCommand(id="f", text="Shorter sentences, please.", agent="w")
    )
    assert result.applied, result.detail
    assert engine.view.open_escalations()  # feedback decides nothing
    [failure] = engine.view.open_escalations()
    await engine.apply_offline(RetryCommand(id="r", escalation_id=failure.id))
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    later = [c.messages[-1].content for c in script.calls[before:]]
    assert len(later) == 2  # x again, then y: both hear it
    assert all(
        "THE ORCHESTRATOR'S FEEDBACK TO YOU:\n- Shorter sentences, please." in p for p in later
    )
    assert engine.view.agents["w"].feedback == ["Shorter sentences, please."]


async def test_request_alternatives_offers_options_with_reasoning(tmp_path: Path) -> None:
    body = (
        crew(("w", "writer"))
        + tasks({"id": "c1", "title": "Chapter", "kind": "chapter", "assignee": "w"})
        + '[planner]\nmode = "explicit"\n'
    )
    script = Script()
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    # A count of 9 is refused as the command is made; one an older podium recorded (it
    # checked only when applying) still loads, and the engine refuses it as it did then.
    old = command_adapter().validate_json(
        '{"id":"bad","action":"request_alternatives","escalation_id":null,"task_id":"c1",'
        '"option_id":null,"text":"","args":{"count":9},"issued_at":1.0,"origin":"cli"}'
    )
    bad = await engine.apply_offline(old)
    assert not bad.applied and "2 to 6" in bad.detail
    asked = await engine.apply_offline(RequestAlternativesCommand(id="alt", task_id="c1", count=3))
    assert asked.applied
    assert await engine.run() is ProductionState.WAITING  # the choice is the Orchestrator's
    [choice] = engine.view.open_escalations()
    assert choice.kind is EscalationKind.APPROVAL_GATE and choice.task_id == "c1"
    assert [o.id for o in choice.options] == ["alt1", "alt2", "alt3", "keep"]
    assert all(o.proposer == "w" and o.reasoning and o.summary for o in choice.options[:3])
    # Each alternative is a complete draft (a version of the task, not current), not a line.
    drafts = [engine.view.artifacts[a] for a in choice.artifact_ids[:3]]
    assert [d.status for d in drafts] == [ArtifactStatus.PROPOSED] * 3
    assert all(len(d.parsed().plain_text().split()) == 30 for d in drafts)
    assert (
        choice.artifact_ids[3] == "c1-v1"
        and current_number(engine.view, engine.view.tasks["c1"]) == 1
    )
    calls = len(script.calls)
    chosen = await engine.apply_offline(
        ApproveCommand(id="pick", escalation_id=choice.id, option_id="alt2")
    )
    assert chosen.applied, chosen.detail
    assert await engine.run() is ProductionState.COMPLETED
    events = await engine.store.read(kinds={"current_version"})
    causes = [p.cause for e in events if isinstance(p := e.payload, CurrentVersionSet)]
    await engine.store.close()
    assert causes[-1] is VersionCause.ALTERNATIVE
    assert len(script.calls) == calls  # picked, not re-run
    picked = current(engine.view, "c1")
    assert picked is not None and picked.id == drafts[1].id
    assert picked.status is ArtifactStatus.APPROVED
    others = [engine.view.artifacts[d.id].status for d in (drafts[0], drafts[2])]
    assert others == [ArtifactStatus.SUPERSEDED] * 2
