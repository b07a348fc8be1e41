"""Critique and debate: reviewers critique, authors revise, and disagreements are argued.

critique → revise → verify runs a bounded number of rounds. If author and reviewer still
disagree, a debate opens: both argue in rounds (each turn an event), within the production's
round and time limits; a judge chosen by the hierarchy rules. No ruling by the limit is a stall,
and a stall becomes a conflict escalation with each side's final position and the judge's
recommendation. A debate never ends silently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from podium.domain.agents import AgentSpec
from podium.domain.artifacts import Artifact, Critique, Position, Ruling
from podium.domain.debate import DebateState, choose_judge
from podium.domain.escalation import Action, EscalationKind, Option
from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    DebateClosed,
    DebateOpened,
    DebateTurnTaken,
    ReviewGiven,
)
from podium.domain.state import TaskRecord
from podium.domain.tasks import TaskState
from podium.domain.validators import Finding
from podium.engine.prompts import build_request
from podium.llm.gateway import CompletionRequest, CompletionResult, FailureKind, LLMError

if TYPE_CHECKING:
    from podium.engine.engine import Engine

M = TypeVar("M", bound=BaseModel)


ORCHESTRATOR = "orchestrator"


class Escalated(Exception):
    """The task now waits on the Orchestrator (the escalation is open)."""


def _parser(schema: type[M]) -> Callable[[CompletionResult], M]:
    def parse(result: CompletionResult) -> M:
        from podium.engine.agent_runner import clean

        if isinstance(result.parsed, schema):
            return clean(result.parsed)
        try:
            return clean(schema.model_validate_json(result.text))
        except ValidationError:
            raise LLMError(
                FailureKind.MALFORMED_OUTPUT, f"the reply is not a valid {schema.__name__}"
            ) from None

    return parse


async def ask(
    engine: Engine,
    record: TaskRecord,
    agent: AgentSpec,
    purpose: str,
    schema: type[M],
    inputs: list[Artifact],
    text: str,
    hints: dict[str, object],
) -> M:
    model = engine.model_for(agent.id)
    engine.emit(
        AgentStateChanged(agent_id=agent.id, state=AgentState.THINKING, task_id=record.spec.id)
    )

    def request_for(n: int) -> CompletionRequest:
        return build_request(
            engine.view,
            record,
            agent,
            model,
            purpose=purpose,
            schema=schema,
            inputs=inputs,
            feedback=[],
            call_number=n,
            extra_hints=hints,
            extra_text=text,
        )

    try:
        _, _, answer = await engine.runner.call(request_for, record, agent.id, _parser(schema))
    finally:
        engine.emit(AgentStateChanged(agent_id=agent.id, state=AgentState.IDLE))
    return answer


async def review(
    engine: Engine, record: TaskRecord, artifact: Artifact, author_id: str
) -> tuple[Artifact, list[Finding]]:
    """Critique → revise → verify, then a debate if the disagreement stands."""
    view = engine.view
    spec = record.spec
    reviewers = [view.agents[r].spec for r in spec.reviewers if r in view.agents]
    findings: list[Finding] = []
    objections: dict[str, Critique] = {}
    for round_no in range(1, engine.limits.review_rounds + 1):
        objections = {}
        for reviewer in reviewers:
            critique = await ask(
                engine,
                record,
                reviewer,
                "review",
                Critique,
                [artifact],
                f"REVIEW round {round_no}: critique the INPUT from {spec.id} against the vision "
                "and style guide. Verdict approve, or revise with concrete issues.",
                {"review_round": round_no},
            )
            engine.emit(
                ReviewGiven(
                    task_id=spec.id,
                    artifact_id=artifact.id,
                    reviewer=reviewer.id,
                    round=round_no,
                    verdict=critique.verdict,
                    summary=critique.summary,
                    issues=list(critique.issues),
                )
            )
            if critique.verdict == "revise":
                objections[reviewer.id] = critique
        if not objections:
            return artifact, findings
        if round_no == engine.limits.review_rounds:
            break
        notes = [
            f"{who}: {issue}"
            for who, c in objections.items()
            for issue in (c.issues or [c.summary])
        ]
        artifact, findings = await engine.runner.revise(record, author_id, notes)
        if findings:
            return artifact, findings
    reviewer_id, critique = next(iter(objections.items()))
    return await debate(engine, record, artifact, author_id, reviewer_id, critique)


async def debate(
    engine: Engine,
    record: TaskRecord,
    artifact: Artifact,
    author_id: str,
    reviewer_id: str,
    critique: Critique,
) -> tuple[Artifact, list[Finding]]:
    """Argue it out; returns the artifact that stands (revised if the author lost)."""
    view = engine.view
    spec = record.spec
    author = view.agents[author_id].spec
    reviewer = view.agents[reviewer_id].spec
    judge = choose_judge([author, reviewer], [a.spec for a in view.agents.values()])
    topic = critique.summary or "; ".join(critique.issues) or "whether to revise"
    debate_id = f"d{len(view.debates) + 1}"
    limits = engine.limits
    engine.emit(
        DebateOpened(
            debate_id=debate_id,
            task_id=spec.id,
            topic=topic,
            participants=[author.id, reviewer.id],
            judge=judge.id if judge else ORCHESTRATOR,
            max_rounds=limits.debate_rounds,
            time_limit_s=limits.debate_time_limit,
        )
    )
    started = time.monotonic()
    last: dict[str, Position] = {}
    conceded: str | None = None
    for round_no in range(1, limits.debate_rounds + 1):
        if time.monotonic() - started > limits.debate_time_limit:
            break
        for speaker, other in ((author, reviewer), (reviewer, author)):
            opponent = last.get(other.id)
            position = await ask(
                engine,
                record,
                speaker,
                "debate",
                Position,
                [artifact],
                f"DEBATE round {round_no} on: {topic}\n"
                f"You argue as {speaker.id}; {other.id} says: "
                f"{opponent.stance if opponent else critique.summary}",
                {
                    "debate": {
                        "topic": topic,
                        "side": "author" if speaker is author else "reviewer",
                        "round": round_no,
                        "max_rounds": limits.debate_rounds,
                        "opponent_stance": opponent.stance if opponent else critique.summary,
                    }
                },
            )
            last[speaker.id] = position
            engine.emit(
                DebateTurnTaken(
                    debate_id=debate_id,
                    round=round_no,
                    speaker=speaker.id,
                    role=speaker.role.value,
                    stance=position.stance,
                    reasoning=position.reasoning,
                    concedes=position.concedes,
                )
            )
            if position.concedes:
                conceded = speaker.id
                break
        if conceded:
            break
    if conceded is not None:
        winner = reviewer.id if conceded == author.id else author.id
        engine.emit(
            DebateClosed(
                debate_id=debate_id,
                state=DebateState.SETTLED,
                ruling=f"{conceded} conceded",
                winner=winner,
            )
        )
        if winner == reviewer.id:
            return await engine.runner.revise(record, author.id, [last[reviewer.id].stance])
        return artifact, []
    positions = {who: p.stance for who, p in last.items()}
    if judge is None:  # nobody stands above both sides: the Orchestrator judges
        ruling = Ruling(decided=False)
    else:
        ruling = await ask(
            engine,
            record,
            judge,
            "ruling",
            Ruling,
            [artifact],
            f"RULE on: {topic}\n"
            + "\n".join(f"{who}: {p.stance} — {p.reasoning}" for who, p in last.items()),
            {"debate": {"topic": topic, "positions": positions}},
        )
    decision = ruling.decision
    reasoning = ruling.reasoning
    in_time = time.monotonic() - started <= limits.debate_time_limit
    if ruling.decided and in_time:
        engine.emit(
            DebateClosed(
                debate_id=debate_id,
                state=DebateState.RULED,
                ruling=decision,
                winner=ruling.winner if ruling.winner in positions else "",
            )
        )
        if ruling.winner != author.id:
            judged = f"{judge.id if judge else ORCHESTRATOR} ruled: {decision}"
            return await engine.runner.revise(record, author.id, [judged])
        return artifact, []
    engine.emit(
        DebateClosed(
            debate_id=debate_id,
            state=DebateState.STALLED,
            ruling="",
            recommendation=decision,
        )
    )
    engine.set_task_state(spec.id, TaskState.AWAITING_APPROVAL, "debate stalled")
    options = [
        Option(
            id=who,
            label=f"{who}'s position",
            proposer=who,
            summary=p.stance,
            reasoning=p.reasoning,
        )
        for who, p in last.items()
    ]
    if decision and judge is not None:
        options.append(
            Option(
                id="judge",
                label=f"{judge.id}'s recommendation",
                proposer=judge.id,
                summary=decision,
                reasoning=reasoning,
            )
        )
    engine.open_escalation(
        EscalationKind.CONFLICT,
        f"Conflict on {spec.title}: {author.id} vs {reviewer.id}",
        task_id=spec.id,
        artifact_ids=[artifact.id],
        debate_id=debate_id,
        detail=(
            f"no ruling within {limits.debate_rounds} round(s): {topic}"
            if judge is not None
            else f"nobody in the crew stands above both sides; yours to judge: {topic}"
        ),
        options=options,
        actions=[Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES],
    )
    raise Escalated
