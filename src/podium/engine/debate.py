"""Critique and debate: reviewers critique, authors revise, and disagreements are argued.

critique → revise → verify runs a bounded number of rounds. If the author and reviewers still
disagree, a debate opens between the author and every reviewer who still objects: they argue in
rounds (each turn an event), within the production's round limit and time limit (each turn is
bounded by the time left); a judge chosen by the hierarchy rules. No ruling by the limit is a
stall, and a stall becomes a conflict escalation with each side's final position and the judge's
recommendation. A debate never ends silently: a turn that fails or a stop closes it too, with
the reason, and the escalation that follows names it.
"""

from __future__ import annotations

import asyncio
import time
from typing import NoReturn, TypeVar

from pydantic import BaseModel

from podium.domain.agents import AgentSpec
from podium.domain.artifacts import Artifact, Critique, Position, Ruling
from podium.domain.debate import STOPPED_MID_DEBATE, DebateState, choose_judge
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
from podium.engine.errors import BudgetHold, Escalated, TaskFailure
from podium.engine.port import EnginePort, Revise
from podium.engine.prompts import build_request
from podium.engine.reply import parser
from podium.llm.types import CompletionRequest

M = TypeVar("M", bound=BaseModel)


ORCHESTRATOR = "orchestrator"


class _OutOfTime(Exception):
    """The debate's time limit ran out during (or before) a turn."""


async def ask(
    engine: EnginePort,
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
        _, _, answer = await engine.call(request_for, record, agent.id, parser(schema))
    finally:
        engine.emit(AgentStateChanged(agent_id=agent.id, state=AgentState.IDLE))
    return answer


async def review(
    engine: EnginePort, record: TaskRecord, artifact: Artifact, author_id: str, revise: Revise
) -> tuple[Artifact, list[Finding]]:
    """Critique → revise → verify, then a debate if the disagreement stands. `revise` is the
    task run's revision (`AgentRunner.revise`)."""
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
        artifact, findings = await revise(record, author_id, notes)
        if findings:
            return artifact, findings
    return await debate(engine, record, artifact, author_id, objections, revise)


async def debate(
    engine: EnginePort,
    record: TaskRecord,
    artifact: Artifact,
    author_id: str,
    objections: dict[str, Critique],
    revise: Revise,
) -> tuple[Artifact, list[Finding]]:
    """Argue it out with every objector; returns the artifact that stands (revised if the
    author lost). Raises Escalated when the Orchestrator must settle it."""
    argument = _Debate(engine, record, artifact, author_id, objections, revise)
    try:
        return await argument.run()
    except (TaskFailure, BudgetHold) as exc:
        # The escalation the runner opens names the debate the failure cut short (or, in the
        # revision that followed it, the debate that asked for the revision).
        exc.debate_id = exc.debate_id or argument.id
        argument.close_stalled(f"a turn could not be taken: {exc}")
        raise
    except asyncio.CancelledError:
        argument.close_stalled(STOPPED_MID_DEBATE)
        raise


class _Debate:
    """One debate: the author against the reviewers who still object, then the judge."""

    def __init__(
        self,
        engine: EnginePort,
        record: TaskRecord,
        artifact: Artifact,
        author_id: str,
        objections: dict[str, Critique],
        revise: Revise,
    ) -> None:
        view = engine.view
        self.engine = engine
        self.revise = revise
        self.record = record
        self.artifact = artifact
        self.author = view.agents[author_id].spec
        self.objections = objections
        self.objectors = [view.agents[r].spec for r in objections]
        participants = [self.author, *self.objectors]
        self.judge = choose_judge(participants, [a.spec for a in view.agents.values()])
        self.topic = "; ".join(
            c.summary or "; ".join(c.issues) or "whether to revise" for c in objections.values()
        )
        self.id = f"d{len(view.debates) + 1}"
        self.limits = engine.limits
        self.last: dict[str, Position] = {}
        self.holding = [o.id for o in self.objectors]  # objectors who have not conceded
        self.withdrawn: dict[str, int] = {}  # objector → the round it conceded in
        self.round = 0
        self.closed = False
        engine.emit(
            DebateOpened(
                debate_id=self.id,
                task_id=record.spec.id,
                topic=self.topic,
                participants=[p.id for p in participants],
                judge=self.judge.id if self.judge else ORCHESTRATOR,
                max_rounds=self.limits.debate_rounds,
                time_limit_s=self.limits.debate_time_limit,
            )
        )
        self.deadline = time.monotonic() + self.limits.debate_time_limit

    # -- the argument ----------------------------------------------------------------------

    async def run(self) -> tuple[Artifact, list[Finding]]:
        author = self.author
        try:
            for round_no in range(1, self.limits.debate_rounds + 1):
                self.round = round_no
                if await self._turn(author, self._opposition(), "author"):
                    return await self._author_conceded()
                for objector in self.objectors:
                    if objector.id in self.holding and await self._turn(
                        objector, self._stance(author.id), "reviewer"
                    ):
                        self.holding.remove(objector.id)
                        self.withdrawn[objector.id] = round_no
                if not self.holding:
                    return self._author_stands(f"{', '.join(self.withdrawn)} conceded")
            return await self._rule()
        except _OutOfTime:
            limit = self.limits.debate_time_limit
            return self._stall(f"the time limit of {limit:g}s ran out in round {self.round}")

    async def _turn(self, speaker: AgentSpec, opponent: str, side: str) -> bool:
        """One bounded turn, an event in the transcript; whether the speaker conceded."""
        position = await self._bounded(
            speaker,
            "debate",
            Position,
            f"DEBATE round {self.round} on: {self.topic}\n"
            f"You argue as {speaker.id}; the other side says: {opponent}",
            {
                "debate": {
                    "topic": self.topic,
                    "side": side,
                    "round": self.round,
                    "max_rounds": self.limits.debate_rounds,
                    "opponent_stance": opponent,
                }
            },
        )
        self.last[speaker.id] = position
        self.engine.emit(
            DebateTurnTaken(
                debate_id=self.id,
                round=self.round,
                speaker=speaker.id,
                role=speaker.role.value,
                stance=position.stance,
                reasoning=position.reasoning,
                concedes=position.concedes,
            )
        )
        return position.concedes

    async def _bounded(
        self,
        speaker: AgentSpec,
        purpose: str,
        schema: type[M],
        text: str,
        hints: dict[str, object],
    ) -> M:
        """A call that may take only the time the debate has left."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _OutOfTime
        with_limit = asyncio.timeout(left)
        try:
            async with with_limit:
                return await ask(
                    self.engine, self.record, speaker, purpose, schema, [self.artifact], text, hints
                )
        except TimeoutError:
            if with_limit.expired():
                raise _OutOfTime from None
            raise

    def _opposition(self) -> str:
        """What the author answers: each objection still standing."""
        if len(self.holding) == 1:
            return self._stance(self.holding[0])
        return "\n".join(f"{who}: {self._stance(who)}" for who in self.holding)

    def _stance(self, who: str) -> str:
        """What `who` holds now: its last turn, or the critique it opened with."""
        if who in self.last:
            return self.last[who].stance
        critique = self.objections.get(who)
        if critique is None:
            return "the draft stands as it is"
        return critique.summary or "; ".join(critique.issues) or "it needs revising"

    def _reasoning(self, who: str) -> str:
        """Why `who` holds it: its last turn's reasoning, or the issues it opened with."""
        if (turn := self.last.get(who)) is not None:
            return turn.reasoning
        critique = self.objections.get(who)
        return "; ".join(critique.issues) if critique is not None else ""

    async def _rule(self) -> tuple[Artifact, list[Finding]]:
        judge = self.judge
        standing = [self.author.id, *self.holding]
        positions = {who: self._stance(who) for who in standing}
        if judge is None:  # nobody stands above both sides: the Orchestrator judges
            return self._stall("")
        ruling = await self._bounded(
            judge,
            "ruling",
            Ruling,
            f"RULE on: {self.topic}\n"
            + "\n".join(
                f"{who}: {p.stance} — {p.reasoning}"
                for who, p in self.last.items()
                if who in positions
            ),
            {"debate": {"topic": self.topic, "positions": positions}},
        )
        if not ruling.decided:
            return self._stall("", ruling)
        winner = ruling.winner if ruling.winner in positions else ""
        self._close(DebateState.RULED, ruling=ruling.decision, winner=winner)
        if ruling.winner != self.author.id:
            judged = f"{judge.id} ruled: {ruling.decision}"
            return await self._revise([judged])
        return self.artifact, []

    # -- endings ---------------------------------------------------------------------------

    async def _author_conceded(self) -> tuple[Artifact, list[Finding]]:
        winner = self.holding[0] if len(self.holding) == 1 else ""
        self._close(DebateState.SETTLED, ruling=f"{self.author.id} conceded", winner=winner)
        if len(self.holding) == 1:
            notes = [self._stance(self.holding[0])]
        else:
            notes = [f"{who}: {self._stance(who)}" for who in self.holding]
        return await self._revise(notes)

    def _author_stands(self, ruling: str) -> tuple[Artifact, list[Finding]]:
        self._close(DebateState.SETTLED, ruling=ruling, winner=self.author.id)
        return self.artifact, []

    async def _revise(self, notes: list[str]) -> tuple[Artifact, list[Finding]]:
        """The author's revision after the debate, which its provenance names."""
        return await self.revise(
            self.record,
            self.author.id,
            notes,
            debate_id=self.id,
            debate_round=max(self.round, 1),
        )

    def _close(self, state: DebateState, **fields: str) -> None:
        self.closed = True
        self.engine.emit(DebateClosed(debate_id=self.id, state=state, **fields))

    def close_stalled(self, reason: str) -> None:
        """Close it, if still open, when it cannot go on: it never ends silently."""
        if not self.closed:
            self._close(DebateState.STALLED, reason=reason)

    def _stall(self, reason: str, ruling: Ruling | None = None) -> NoReturn:
        """No ruling: a conflict escalation with every side's position, for the Orchestrator."""
        engine, spec, judge = self.engine, self.record.spec, self.judge
        decision = ruling.decision if ruling is not None else ""
        self._close(DebateState.STALLED, recommendation=decision, reason=reason)
        engine.set_task_state(spec.id, TaskState.AWAITING_APPROVAL, "debate stalled")
        options: list[Option] = []
        for who in [self.author.id, *self.holding]:
            options.append(
                Option(
                    id=who,
                    label=f"{who}'s position",
                    proposer=who,
                    summary=self._stance(who),
                    reasoning=self._reasoning(who),
                )
            )
        if decision and judge is not None and ruling is not None:
            options.append(
                Option(
                    id="judge",
                    label=f"{judge.id}'s recommendation",
                    proposer=judge.id,
                    summary=decision,
                    reasoning=ruling.reasoning,
                )
            )
        if reason:
            detail = f"stopped: {reason}: {self.topic}"
        elif judge is not None:
            detail = f"no ruling within {self.limits.debate_rounds} round(s): {self.topic}"
        else:
            detail = f"nobody in the crew stands above both sides; yours to judge: {self.topic}"
        engine.open_escalation(
            EscalationKind.CONFLICT,
            f"Conflict on {spec.title}: {self.author.id} vs {', '.join(self.holding)}",
            task_id=spec.id,
            artifact_ids=[self.artifact.id],
            debate_id=self.id,
            detail=detail,
            evidence=[
                f"{who} withdrew its objection in round {n}" for who, n in self.withdrawn.items()
            ],
            options=options,
            actions=[Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES],
        )
        raise Escalated
