"""Debates: named participants argue in rounds; a judge rules, or the stall escalates."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from podium.domain.agents import AgentSpec, Role
from podium.domain.base import Model


class DebateState(StrEnum):
    OPEN = "open"
    RULED = "ruled"
    STALLED = "stalled"  # no ruling within the limits: a conflict escalation
    SETTLED = "settled"  # a participant conceded
    DECIDED = "decided"  # the Orchestrator decided the conflict


class Turn(Model):
    round: int = Field(ge=1)
    speaker: str
    role: Role
    stance: str
    reasoning: str = ""
    concedes: bool = False


class Debate(Model):
    id: str
    task_id: str
    topic: str
    participants: list[str] = Field(min_length=2)
    judge: str
    max_rounds: int = Field(ge=1)
    time_limit_s: float = Field(gt=0)
    turns: list[Turn] = Field(default_factory=list)
    state: DebateState = DebateState.OPEN
    ruling: str = ""
    recommendation: str = ""

    def final_positions(self) -> dict[str, Turn]:
        last: dict[str, Turn] = {}
        for turn in self.turns:
            last[turn.speaker] = turn
        return last


def choose_judge(participants: list[AgentSpec], crew: list[AgentSpec]) -> AgentSpec:
    """The hierarchy picks the judge: the director for department heads, the producer or
    showrunner above them. Never a participant, when anyone else can judge."""
    top = min(p.tier for p in participants)
    # Department heads (tier 2) and cast are judged by the director; the director by the top.
    wanted = (Role.DIRECTOR,) if top >= 2 else (Role.SHOWRUNNER, Role.PRODUCER)
    ids = {p.id for p in participants}
    for role in wanted:
        for agent in crew:
            if agent.role is role and agent.id not in ids:
                return agent
    for agent in sorted(crew, key=lambda a: a.tier):
        if agent.id not in ids:
            return agent
    return min(participants, key=lambda a: a.tier)
