"""Debates: every objection is argued, each turn is bounded by the time left, a failed turn
closes the debate, and what a debate decided is named in the revised artifact's provenance."""

from __future__ import annotations

from pathlib import Path

from podium.domain.artifacts import Position
from podium.domain.debate import DebateState
from podium.domain.escalation import EscalationKind
from podium.domain.events import CallFinished, ProductionState
from podium.domain.tasks import TaskState
from podium.llm.types import CompletionRequest, FailureKind, LLMError

from .harness import Script, crew, open_engine, production, tasks

CREW = crew(
    ("prod", "producer"), ("dir", "director"), ("w", "writer"), ("dp", "director_of_photography")
)


def reviewed(*reviewers: str, extra: str = "") -> str:
    scene = {"id": "s1", "title": "Scene 1", "kind": "scene", "assignee": "w"}
    return (
        CREW
        + tasks(scene | {"reviewers": list(reviewers)})
        + '[planner]\nmode = "explicit"\n[constraints]\nreview_rounds = 2\ndebate_rounds = 2\n'
        + extra
    )


async def test_a_ruled_revision_names_the_debate_and_round(tmp_path: Path) -> None:
    script = Script(verdicts=["revise", "revise"], ruling_decided=True)
    engine = await open_engine(production(reviewed("dir")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    [debate] = view.debates.values()
    assert debate.state is DebateState.RULED
    *earlier, last = [view.artifacts[a] for a in view.tasks["s1"].artifact_ids]
    assert (last.provenance.debate_id, last.provenance.debate_round) == (debate.id, 2)
    assert all(a.provenance.debate_id is None for a in earlier)  # drafts before the debate


async def test_a_conceded_debate_names_the_round_it_ended_in(tmp_path: Path) -> None:
    script = Script(verdicts=["revise", "revise"], concede=True)
    engine = await open_engine(production(reviewed("dir")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    [debate] = view.debates.values()
    assert debate.state is DebateState.SETTLED and debate.ruling == "w conceded"
    last = view.artifacts[view.tasks["s1"].artifact_id or ""]
    assert (last.provenance.debate_id, last.provenance.debate_round) == (debate.id, 1)


async def test_a_failed_turn_closes_the_debate_and_the_failure_names_it(tmp_path: Path) -> None:
    script = Script(
        verdicts=["revise", "revise"], failures={"s1:debate": [LLMError(FailureKind.AUTH, "no")]}
    )
    engine = await open_engine(production(reviewed("dir")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    view = engine.view
    [debate] = view.debates.values()
    assert debate.state is DebateState.STALLED
    assert "could not be taken" in debate.reason and "auth" in debate.reason
    [failure] = view.open_escalations()
    assert failure.kind is EscalationKind.FAILURE and failure.debate_id == debate.id
    assert view.tasks["s1"].state is TaskState.FAILED


async def test_every_objector_argues_and_the_stall_lists_them_all(tmp_path: Path) -> None:
    script = Script(verdicts=["revise"] * 4, ruling_decided=False)
    engine = await open_engine(production(reviewed("dir", "dp")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    view = engine.view
    [debate] = view.debates.values()
    assert debate.participants == ["w", "dir", "dp"]
    assert len(debate.turns) == 6  # 2 rounds × 3 participants
    assert "too long" in debate.topic
    [conflict] = view.open_escalations()
    assert conflict.kind is EscalationKind.CONFLICT and conflict.debate_id == debate.id
    assert {o.proposer for o in conflict.options} == {"w", "dir", "dp", "prod"}
    assert "dir" in conflict.title and "dp" in conflict.title


async def test_an_objector_who_concedes_is_recorded_and_the_rest_argue_on(tmp_path: Path) -> None:
    def answer(request: CompletionRequest) -> Position | None:
        if request.purpose == "debate" and request.agent_id == "dp":
            return Position(stance="fine by me", reasoning="the light works", concedes=True)
        return None

    script = Script(verdicts=["revise"] * 4, ruling_decided=False, answer=answer)
    engine = await open_engine(production(reviewed("dir", "dp")), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    view = engine.view
    [debate] = view.debates.values()
    assert [t.speaker for t in debate.turns] == ["w", "dir", "dp", "w", "dir"]
    [conflict] = view.open_escalations()
    assert {o.proposer for o in conflict.options} == {"w", "dir", "prod"}
    assert conflict.evidence == ["dp withdrew its objection in round 1"]


async def test_a_slow_turn_is_cut_at_the_time_limit_and_the_debate_stalls(tmp_path: Path) -> None:
    script = Script(verdicts=["revise", "revise"], delays={"debate": 30.0})
    body = reviewed("dir", extra="debate_time_limit = 0.3\n")
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING  # the 30 s turn is cut, no turn kept
    await engine.store.close()
    view = engine.view
    [debate] = view.debates.values()
    assert debate.state is DebateState.STALLED and not debate.turns
    assert "time limit of 0.3s ran out in round 1" in debate.reason
    [conflict] = view.open_escalations()
    assert conflict.kind is EscalationKind.CONFLICT and conflict.debate_id == debate.id
    assert {o.proposer for o in conflict.options} == {"w", "dir"}  # the opening positions
    assert view.tasks["s1"].state is TaskState.AWAITING_APPROVAL


async def test_a_turn_cut_at_the_time_limit_still_records_what_it_used(tmp_path: Path) -> None:
    """The provider was paid for the prompt and whatever it streamed: the cut call is on the
    books (failed, tokens estimated), not missing from them."""
    script = Script(verdicts=["revise", "revise"], delays={"debate": 30.0})
    body = reviewed("dir", extra="debate_time_limit = 0.3\n")
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    calls = [e.payload async for e in engine.store.iter_events() if e.kind == "call_finished"]
    await engine.store.close()
    cut = [c for c in calls if isinstance(c, CallFinished) and c.error_kind == "cut_off"]
    assert len(cut) == 1 and cut[0].purpose.startswith("debate") and not cut[0].ok
    assert cut[0].input_tokens > 0 and cut[0].cost_usd == 0.0  # the rehearsal model is free
    assert "cut off after 0.3s" in cut[0].error
    assert engine.view.calls == len(calls) and engine.view.failed_calls >= 1
