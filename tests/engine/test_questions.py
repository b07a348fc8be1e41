"""Agents that ask and claim (issue 17): a reply's `question` becomes an escalation offering the
agent's options; the answer is recorded (`Clarified`) and the task runs again with it in its
prompt. A reply's `territory` claim is offered by the schema and the prompt, and raises the
decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.domain.artifacts import Prose
from podium.domain.asking import Question, asked, reply_schema
from podium.domain.escalation import ApproveCommand, EscalationKind, OverrideCommand
from podium.domain.events import Clarified, ProductionState
from podium.domain.policy import Territory
from podium.domain.tasks import TaskState
from podium.engine.auto_approve import AutoApprove
from podium.llm.litellm_requests import strict_schema
from podium.llm.rehearsal.asking import QUESTION, protocol_fields
from podium.llm.rehearsal.material import Material
from podium.llm.types import CompletionRequest

from .harness import Script, crew, open_engine, production, tasks

ASK = {"text": "Tension or intimacy?", "options": ["Tension", "Intimacy"]}


def asking(request: CompletionRequest) -> object:
    """Task t asks until it has an answer, then writes; its claim is in `claims`."""
    schema = request.response_schema
    if request.task_id != "t" or request.purpose != "task" or schema is None:
        return None
    answered = request.hints.get("clarifications")
    if not answered:
        return schema.model_validate({"text": "draft", "question": ASK})
    return schema.model_validate({"text": f"Written with {answered[0]['answer']}."})


def one_task(extra: str = "") -> str:
    return (
        crew(("w", "writer"))
        + tasks({"id": "t", "title": "Chapter 1", "kind": "chapter", "assignee": "w"})
        + '[planner]\nmode = "explicit"\n'
        + extra
    )


async def test_a_question_waits_for_the_answer_and_the_task_goes_on_with_it(
    tmp_path: Path,
) -> None:
    script = Script(answer=asking)
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    view = engine.view
    [question] = view.open_escalations()
    assert question.kind is EscalationKind.QUESTION and question.task_id == "t"
    assert question.detail == "Tension or intimacy?"
    assert [o.label for o in question.options] == ["Tension", "Intimacy"]
    assert view.tasks["t"].state is TaskState.AWAITING_APPROVAL
    assert view.tasks["t"].artifact_ids == []  # the asking reply is not a version

    result = await engine.apply_offline(
        ApproveCommand(id="a", escalation_id=question.id, option_id=question.options[1].id)
    )
    assert result.applied, result.detail
    assert await engine.run() is ProductionState.COMPLETED
    [clarified] = [e.payload for e in await engine.store.read(kinds=("clarified",))]
    await engine.store.close()
    assert isinstance(clarified, Clarified)
    assert (clarified.question, clarified.answer) == ("Tension or intimacy?", "Intimacy")
    assert clarified.options == ["Tension", "Intimacy"]
    last = [c for c in script.calls if c.task_id == "t"][-1]
    assert (
        "YOU ASKED THE ORCHESTRATOR: Tension or intimacy?\n"
        "THE ORCHESTRATOR ANSWERED (binding): Intimacy" in last.messages[-1].content
    )
    art = engine.view.artifacts[engine.view.tasks["t"].artifact_id or ""]
    assert art.content_type == "Prose" and art.content["text"] == "Written with Intimacy."
    assert "question" not in art.content and "territory" not in art.content


async def test_a_question_answered_in_words(tmp_path: Path) -> None:
    script = Script(answer=asking)
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script)
    await engine.run()
    [question] = engine.view.open_escalations()
    result = await engine.apply_offline(
        OverrideCommand(id="o", escalation_id=question.id, text="Both, tension first.")
    )
    assert result.applied, result.detail
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert engine.view.tasks["t"].clarifications == [
        ("Tension or intimacy?", "Both, tension first.")
    ]


@pytest.mark.parametrize("auto", [AutoApprove.GATES, AutoApprove.ALL])
async def test_auto_approve_takes_the_agents_first_option(
    auto: AutoApprove, tmp_path: Path
) -> None:
    script = Script(answer=asking)
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script, auto=auto)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert engine.view.tasks["t"].clarifications == [("Tension or intimacy?", "Tension")]


async def test_a_claim_through_the_schema_raises_the_decision(tmp_path: Path) -> None:
    def claiming(request: CompletionRequest) -> object:
        schema = request.response_schema
        if request.purpose == "task" and schema is not None:
            return schema.model_validate({"text": "The ending.", "territory": "approval_required"})
        return None

    script = Script(answer=claiming)
    engine = await open_engine(production(one_task()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    [made] = [e.payload for e in await engine.store.read(kinds=("artifact_created",))]
    await engine.store.close()
    assert made.agent_claim is Territory.APPROVAL_REQUIRED  # type: ignore[union-attr]
    [approval] = engine.view.open_escalations()
    assert approval.task_id == "t" and approval.territory is Territory.APPROVAL_REQUIRED
    prompt = script.calls[0].messages[0].content
    assert '"territory" claims a decision territory' in prompt


def test_the_protocol_is_in_the_strict_schema_and_read_from_a_reply() -> None:
    schema = reply_schema(Prose)
    body, strict = strict_schema(schema)
    assert strict and {"territory", "question"} <= set(body["properties"])
    assert set(body["required"]) >= {"territory", "question", "text"}
    reply = '{"text": "x", "question": {"text": "Which?", "options": ["A", "B", 3]}}'
    assert asked(reply) == Question(text="Which?", options=["A", "B", "3"])
    assert asked('{"text": "x", "question": null}') is None


def test_the_rehearsal_model_asks_on_the_treatment_and_claims_the_ending() -> None:
    base = {"protocol": True, "scenes": 8, "tone": "Quiet.", "themes": ["duty", "care"]}
    ask = Material.from_hints({**base, "kind": "treatment"})
    assert protocol_fields(ask, 1) == {"question": QUESTION.model_dump(mode="json")}
    answered = Material.from_hints(
        {**base, "kind": "treatment", "clarifications": [{"question": "q", "answer": "a"}]}
    )
    assert protocol_fields(answered, 1) == {}
    ending = Material.from_hints({**base, "kind": "scene", "scene": 8})
    assert protocol_fields(ending, 1) == {"territory": "approval_required"}
    assert protocol_fields(Material.from_hints({**base, "kind": "scene", "scene": 3}), 1) == {}
    bare = {"protocol": True, "scenes": 8, "kind": "treatment"}  # a premise only: nothing to ask
    assert protocol_fields(Material.from_hints(bare), 1) == {}


def test_the_rehearsal_models_reviewer_holds_out_on_the_ending() -> None:
    """A review of the ending always asks for a revision, so each sample stages a debate
    there (writer against director in Last Light), whatever the draw; other reviews mostly
    approve, and a bare vision never holds out."""
    from random import Random

    from podium.llm.rehearsal.composer import Composer
    from podium.llm.rehearsal.talk import critique

    base = {"purpose": "review", "scenes": 8, "tone": "Quiet.", "themes": ["duty", "care"]}

    def verdicts(hints: dict[str, object]) -> set[str]:
        m = Material.from_hints(hints)
        return {critique(Composer(Random(n), m)).verdict for n in range(40)}

    assert verdicts({**base, "kind": "scene", "scene": 8}) == {"revise"}
    assert "approve" in verdicts({**base, "kind": "scene", "scene": 3})
    assert "approve" in verdicts({"purpose": "review", "scenes": 8, "kind": "scene", "scene": 8})
