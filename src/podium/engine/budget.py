"""The budget ledger: a call that would overrun the budget is stopped before it spends."""

from __future__ import annotations

from dataclasses import dataclass, field

from podium.domain.production import Constraints
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind

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


@dataclass(frozen=True)
class Estimate:
    tokens: int
    cost_usd: float | None


def estimate(prompt_chars: int, kind: TaskKind, target_words: int | None = None) -> Estimate:
    output = EXPECTED_OUTPUT[kind]
    if target_words:
        output = max(output, int(target_words * 1.4))
    return Estimate(tokens=prompt_chars // 4 + output, cost_usd=None)


@dataclass
class Ledger:
    """Reads what was spent from the production view; decides whether a call may go ahead."""

    view: ProductionView
    allowances: set[str] = field(default_factory=set)
    # Cost per token seen so far, to price the estimate when the provider reports costs.
    _cost_per_token: float | None = None

    def overrun(self, task_id: str, est: Estimate, limits: Constraints) -> str | None:
        """Why this call would overrun the budget, or None if it may go ahead."""
        if task_id in self.allowances:
            return None
        spent_tokens = self.view.tokens()
        if limits.budget_tokens is not None and spent_tokens + est.tokens > limits.budget_tokens:
            return (
                f"tokens: {spent_tokens:,} spent + ~{est.tokens:,} for this call "
                f"> budget {limits.budget_tokens:,}"
            )
        if limits.budget_usd is not None:
            spent = self.view.cost_usd
            per_token = self._price()
            if per_token is not None:
                projected = spent + est.tokens * per_token
                if projected > limits.budget_usd:
                    return (
                        f"cost: ${spent:.4f} spent + ~${est.tokens * per_token:.4f} "
                        f"> budget ${limits.budget_usd:.2f}"
                    )
            elif spent > limits.budget_usd:
                return f"cost: ${spent:.4f} spent > budget ${limits.budget_usd:.2f}"
        return None

    def allow_once(self, task_id: str) -> None:
        self.allowances.add(task_id)

    def spent_call(self, task_id: str) -> None:
        self.allowances.discard(task_id)

    def _price(self) -> float | None:
        tokens = self.view.tokens()
        if tokens == 0 or self.view.cost_usd == 0:
            return None
        return self.view.cost_usd / tokens

    def by_department(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for agent in self.view.agents.values():
            dept = out.setdefault(agent.spec.department, {"tokens": 0.0, "cost_usd": 0.0})
            dept["tokens"] += agent.input_tokens + agent.output_tokens
            dept["cost_usd"] += agent.cost_usd
        return out
