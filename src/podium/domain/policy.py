"""Authority territories: who may settle what.

The territory of a decision comes from the task and the production's policy, never from what
an agent says about it. An agent may raise a decision to a higher territory, never lower it.
The defaults follow the seed on the Orchestrator role.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from podium.domain.base import Model


class Territory(StrEnum):
    AUTONOMOUS = "autonomous"
    COLLABORATIVE = "collaborative"
    APPROVAL_REQUIRED = "approval_required"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Territory.AUTONOMOUS: 0, Territory.COLLABORATIVE: 1, Territory.APPROVAL_REQUIRED: 2}


class DecisionKind(StrEnum):
    # Autonomous agent territory
    TECHNICAL_EXECUTION = "technical_execution"
    SHOT_COMPOSITION = "shot_composition"
    DIALOGUE_REFINEMENT = "dialogue_refinement"
    SCENE_PACING = "scene_pacing"
    CREATIVE_EXPLORATION = "creative_exploration"
    PEER_REVIEW = "peer_review"
    SCHEDULING = "scheduling"
    MINOR_DISAGREEMENT = "minor_disagreement"
    # Collaborative territory
    VISUAL_STYLE = "visual_style"
    CHARACTER_ARC = "character_arc"
    SCENE_STRUCTURE = "scene_structure"
    TONAL_SHIFT = "tonal_shift"
    RESOURCE_TRADEOFF = "resource_tradeoff"
    ESCALATED_CONFLICT = "escalated_conflict"
    # Approval-required territory
    MAJOR_STORY_BEAT = "major_story_beat"
    SCOPE_CHANGE = "scope_change"
    BUDGET_CHANGE = "budget_change"
    MILESTONE_DELIVERABLE = "milestone_deliverable"
    MAJOR_ASSET = "major_asset"
    PLAN = "plan"
    FINAL_SIGNOFF = "final_signoff"


DEFAULT_TERRITORIES: dict[DecisionKind, Territory] = {
    DecisionKind.TECHNICAL_EXECUTION: Territory.AUTONOMOUS,
    DecisionKind.SHOT_COMPOSITION: Territory.AUTONOMOUS,
    DecisionKind.DIALOGUE_REFINEMENT: Territory.AUTONOMOUS,
    DecisionKind.SCENE_PACING: Territory.AUTONOMOUS,
    DecisionKind.CREATIVE_EXPLORATION: Territory.AUTONOMOUS,
    DecisionKind.PEER_REVIEW: Territory.AUTONOMOUS,
    DecisionKind.SCHEDULING: Territory.AUTONOMOUS,
    DecisionKind.MINOR_DISAGREEMENT: Territory.AUTONOMOUS,
    DecisionKind.VISUAL_STYLE: Territory.COLLABORATIVE,
    DecisionKind.CHARACTER_ARC: Territory.COLLABORATIVE,
    DecisionKind.SCENE_STRUCTURE: Territory.COLLABORATIVE,
    DecisionKind.TONAL_SHIFT: Territory.COLLABORATIVE,
    DecisionKind.RESOURCE_TRADEOFF: Territory.COLLABORATIVE,
    DecisionKind.ESCALATED_CONFLICT: Territory.COLLABORATIVE,
    DecisionKind.MAJOR_STORY_BEAT: Territory.APPROVAL_REQUIRED,
    DecisionKind.SCOPE_CHANGE: Territory.APPROVAL_REQUIRED,
    DecisionKind.BUDGET_CHANGE: Territory.APPROVAL_REQUIRED,
    DecisionKind.MILESTONE_DELIVERABLE: Territory.APPROVAL_REQUIRED,
    DecisionKind.MAJOR_ASSET: Territory.APPROVAL_REQUIRED,
    DecisionKind.PLAN: Territory.APPROVAL_REQUIRED,
    DecisionKind.FINAL_SIGNOFF: Territory.APPROVAL_REQUIRED,
}

# Kinds the seed puts in approval-required territory; a policy may not lower them, because a
# production whose file says "major story beats are autonomous" has removed its Orchestrator.
PROTECTED_KINDS = frozenset(
    {
        DecisionKind.MAJOR_STORY_BEAT,
        DecisionKind.SCOPE_CHANGE,
        DecisionKind.BUDGET_CHANGE,
        DecisionKind.FINAL_SIGNOFF,
    }
)


class AuthorityPolicy(Model):
    """Decision kinds mapped to territories; anything not listed takes the seed's default."""

    decisions: dict[DecisionKind, Territory] = Field(default_factory=dict)
    collaborative_timeout_s: float | None = Field(
        default=None,
        gt=0,
        description="Collaborative items left this long take their default action.",
    )

    @model_validator(mode="after")
    def _protected_stay_approval(self) -> AuthorityPolicy:
        for kind, territory in self.decisions.items():
            if kind in PROTECTED_KINDS and territory is not Territory.APPROVAL_REQUIRED:
                raise ValueError(
                    f"{kind.value} must stay approval_required: only the Orchestrator decides it"
                )
        return self

    def territory_for(self, kind: DecisionKind) -> Territory:
        return self.decisions.get(kind, DEFAULT_TERRITORIES[kind])


def classify(
    policy: AuthorityPolicy,
    kind: DecisionKind,
    *,
    gate: Territory | None = None,
    agent_claim: Territory | None = None,
) -> Territory:
    """The territory a decision lands in.

    A task's gate raises it to the gate's territory (approval-required unless the production
    file says otherwise). An agent's claim can only raise the result, never lower it.
    """
    territory = policy.territory_for(kind)
    if gate is not None and gate.rank > territory.rank:
        territory = gate
    if agent_claim is not None and agent_claim.rank > territory.rank:
        territory = agent_claim
    return territory
