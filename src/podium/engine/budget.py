"""The budget ledger: a call that would overrun the budget is stopped before it spends.

A dollar budget needs a price before the first call is made. The rehearsal model costs nothing
(known); a model with prices in the production file uses them; a model that has been called
uses what its calls cost; a model nobody has priced yet is assumed to be as dear as the dearest
common models, so its first call is checked rather than waved through. A model whose provider
reports no price at all cannot be held to dollars: the token budget still applies, and the
status says the cost is unknown (`ProductionView.cost_unknown`, `health.signals`).
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.domain.production import Constraints
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind
from podium.llm.types import is_rehearsal

# Rough output sizes, in tokens, used to estimate a call before it is made.
EXPECTED_OUTPUT: dict[TaskKind, int] = {
    TaskKind.PLAN: 1500,
    TaskKind.TREATMENT: 900,
    TaskKind.OUTLINE: 800,
    TaskKind.EPISODE_ARC: 700,
    TaskKind.SCENE: 900,
    TaskKind.SCRIPT: 2500,
    TaskKind.DIALOGUE: 700,
    TaskKind.CHAPTER: 900,
    TaskKind.ILLUSTRATION: 300,
    TaskKind.LOOK: 500,
    TaskKind.SHOT_LIST: 900,
    TaskKind.MUSIC_CUES: 600,
    TaskKind.EDIT: 700,
    TaskKind.REVIEW: 300,
    TaskKind.REPORT: 200,
    TaskKind.FINAL: 600,
}

# Per-token prices assumed for a model nobody has priced yet: the dearest common list prices
# (USD 15 per million tokens in, 75 out), so an estimate errs on the side of asking first.
ASSUMED_INPUT_USD = 15e-6
ASSUMED_OUTPUT_USD = 75e-6


@dataclass(frozen=True)
class Estimate:
    input_tokens: int
    output_tokens: int

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Price:
    """USD per token, and where the figure comes from (said in a budget escalation)."""

    input_usd: float
    output_usd: float
    basis: str

    def of(self, est: Estimate) -> float:
        return est.input_tokens * self.input_usd + est.output_tokens * self.output_usd


FREE = Price(0.0, 0.0, "the rehearsal model costs nothing")
ASSUMED = Price(ASSUMED_INPUT_USD, ASSUMED_OUTPUT_USD, "price unknown yet, assumed high")


CHARS_PER_TOKEN = 4  # the rough rule for text no provider has counted


def estimate(prompt_chars: int, kind: TaskKind, target_words: int | None = None) -> Estimate:
    output = EXPECTED_OUTPUT[kind]
    if target_words:
        output = max(output, int(target_words * 1.4))
    return Estimate(input_tokens=prompt_chars // CHARS_PER_TOKEN, output_tokens=output)


def counted(prompt_chars: int, output_chars: int) -> Estimate:
    """What text already sent and received comes to, when no provider reported the usage."""
    return Estimate(prompt_chars // CHARS_PER_TOKEN, output_chars // CHARS_PER_TOKEN)


@dataclass
class Ledger:
    """Reads what was spent from the production view; decides whether a call may go ahead.

    An overrun the Orchestrator allowed is the view's too (`TaskRecord.budget_allowed`, folded
    from the approval and spent by the task's next call), so a resumed run knows it exactly.
    """

    view: ProductionView

    def overrun(
        self, task_id: str, est: Estimate, limits: Constraints, agent_id: str, model: str
    ) -> str | None:
        """Why this call would overrun the budget, or None if it may go ahead."""
        task = self.view.tasks.get(task_id)
        if task is not None and task.budget_allowed:
            return None
        spent_tokens = self.view.tokens()
        if limits.budget_tokens is not None and spent_tokens + est.tokens > limits.budget_tokens:
            return (
                f"tokens: {spent_tokens:,} spent + ~{est.tokens:,} for this call "
                f"> budget {limits.budget_tokens:,}"
            )
        if limits.budget_usd is not None:
            spent = self.view.cost_usd
            if spent > limits.budget_usd:
                return f"cost: ${spent:.4f} spent > budget ${limits.budget_usd:.2f}"
            price = self.price(agent_id, model)
            if price is not None and spent + price.of(est) > limits.budget_usd:
                return (
                    f"cost: ${spent:.4f} spent + ~${price.of(est):.4f} for this call "
                    f"({model}: {price.basis}) > budget ${limits.budget_usd:.2f}"
                )
        return None

    def price(self, agent_id: str, model: str) -> Price | None:
        """The prices to estimate `agent_id`'s next call on `model` with; None when its
        provider reports no price, so no dollar figure can be known (tokens still count)."""
        if is_rehearsal(model):
            return FREE
        spec = self.view.spec
        settings = spec.models.settings.get(model) if spec is not None else None
        if (
            settings is not None
            and settings.input_cost_per_token is not None
            and settings.output_cost_per_token is not None
        ):
            return Price(
                settings.input_cost_per_token, settings.output_cost_per_token, "configured price"
            )
        agent = self.view.agents.get(agent_id)
        if agent is not None:
            if agent.cost_unknown:
                return None
            tokens = agent.input_tokens + agent.output_tokens
            if tokens:
                per_token = agent.cost_usd / tokens
                return Price(per_token, per_token, "priced from its calls so far")
        return ASSUMED

    def by_department(self) -> dict[str, dict[str, object]]:
        """Tokens and cost per department (`podium status --json` prints the same)."""
        return self.view.department_totals()
