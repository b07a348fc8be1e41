"""One agent in full, when it is not working on a task: what it wrote last, and what it costs."""

from __future__ import annotations

from rich.text import Text

from podium.domain.state import ProductionView
from podium.tui.format import clip, flatten, label_row, money, tail, tokens
from podium.tui.screens.dialog import DetailDialog
from podium.tui.widgets.agent_row import prose_of
from podium.tui.widgets.escalation_detail import readable

RECENT = 4


def agent_text(view: ProductionView, agent_id: str) -> Text:
    """Built once from the view; everything the agent wrote is literal text."""
    agent = view.agents.get(agent_id)
    text = Text()
    if agent is None:
        text.append(f"There is no agent {agent_id!r} any more.")
        return text
    spec = agent.spec

    def row(label: str, value: str) -> None:
        label_row(text, label, value)

    text.append(flatten(spec.name) + "\n\n", style="bold")
    role = spec.role.value.replace("_", " ")
    row("role", f"{role} (as {flatten(spec.character)})" if spec.character else role)
    row("state", agent.state.value + (f" on {agent.task_id}" if agent.task_id else ""))
    cost = "$?" if agent.cost_unknown and not agent.cost_usd else money(agent.cost_usd)
    used = tokens(agent.input_tokens + agent.output_tokens)
    row("used", f"{used} tokens · {cost} · {agent.calls} call(s)")
    if agent.failures:
        row("failures", str(agent.failures))
    made = [a for a in view.artifacts.values() if a.provenance.agent_id == agent_id]
    made.sort(key=lambda a: a.created_at)
    if made:
        text.append("\nwhat it made\n", style="bold")
        for artifact in made[-RECENT:]:
            text.append(f"  {artifact.id} · {artifact.task_id} · {artifact.status.value}\n")
    reviews = [r for t in view.tasks.values() for r in t.reviews if r.reviewer == agent_id]
    if reviews:
        text.append("\nreviews it gave\n", style="bold")
        for review in reviews[-RECENT:]:
            text.append(f"  {review.task_id} (round {review.round}): {review.verdict}")
            if review.summary:
                text.append(f" — {clip(review.summary, 160)}")
            text.append("\n")
    if agent.feedback:
        text.append("\nyour notes to it\n", style="bold")
        for note in agent.feedback[-RECENT:]:
            text.append(f"  • {clip(note, 200)}\n")
    if agent.tail:
        text.append("\nwhat it wrote last\n", style="bold")
        text.append(tail(prose_of(agent.tail), 1200) + "\n")
    elif made:
        text.append(f"\nits latest output ({made[-1].id})\n", style="bold")
        text.append(readable(made[-1], 60) + "\n")
    if agent.last_report:
        text.append("\nits last report\n", style="bold")
        text.append(clip(agent.last_report, 600) + "\n")
    if not (made or reviews or agent.tail or agent.last_report):
        text.append("\nIt has not written anything yet.\n", style="italic")
    return text


class AgentDetailScreen(DetailDialog):
    """Read-only; `f` on the agent's row gives it feedback."""

    def __init__(self, view: ProductionView, agent_id: str) -> None:
        super().__init__(f"Agent {agent_id}", agent_text(view, agent_id), name="agent")
        self.view = view
        self.agent_id = agent_id
