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


INTERRUPTED = "interrupted"  # how the reason of a debate cut short by a stop begins
STOPPED_MID_DEBATE = f"{INTERRUPTED}: the run stopped mid-debate; the task argues again"


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
    reason: str = ""  # why it closed without a ruling (the time limit, a failed turn, a stop)

    @property
    def interrupted(self) -> bool:
        """Cut short by a stop or a crash: the task argues it again, so it is no stall."""
        return self.state is DebateState.STALLED and self.reason.startswith(INTERRUPTED)

    def final_positions(self) -> dict[str, Turn]:
        last: dict[str, Turn] = {}
        for turn in self.turns:
            last[turn.speaker] = turn
        return last


def choose_judge(participants: list[AgentSpec], crew: list[AgentSpec]) -> AgentSpec | None:
    """The hierarchy picks the judge: the director for department heads and cast, the
    showrunner or producer above the director. The judge always stands above every
    participant; when nobody does (the producer is arguing), the Orchestrator judges: None."""
    top = min(p.tier for p in participants)
    ids = {p.id for p in participants}
    above = [a for a in crew if a.tier < top and a.id not in ids]
    if not above:
        return None
    # A common boss named by reports_to knows both sides best.
    bosses = {p.reports_to for p in participants}
    if len(bosses) == 1 and (boss := next(iter(bosses))) is not None:
        for agent in above:
            if agent.id == boss:
                return agent
    wanted = (
        (Role.DIRECTOR, Role.SHOWRUNNER, Role.PRODUCER)
        if top >= 2
        else (
            Role.SHOWRUNNER,
            Role.PRODUCER,
        )
    )
    for role in wanted:
        for agent in above:
            if agent.role is role:
                return agent
    return min(above, key=lambda a: a.tier)
