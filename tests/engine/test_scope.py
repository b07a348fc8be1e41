"""Scope changes: once a plan is in effect, tasks a new planning run adds wait on approval."""

from __future__ import annotations

from pathlib import Path

from podium.domain.escalation import (
    ApproveCommand,
    EscalationKind,
    OverrideCommand,
    SkipCommand,
)
from podium.domain.events import ProductionState
from podium.domain.policy import Territory
from podium.domain.tasks import PlanDraft, TaskKind, TaskSpec, TaskState
from podium.engine.engine import Engine
from podium.llm.types import CompletionRequest

from .harness import Script, crew, open_engine, production, tasks

BODY = crew(("prod", "producer"), ("w", "writer")) + tasks(
    {"id": "c1", "title": "Chapter 1", "kind": "chapter", "assignee": "w"}
)


def chapter(n: int) -> TaskSpec:
    return TaskSpec(id=f"c{n}", title=f"Chapter {n}", kind=TaskKind.CHAPTER, assignee="w")


def planner(plans: list[list[int]]) -> Script:
    """The producer proposes the chapters of `plans[0]`, then of `plans[1]` when asked again."""

    def answer(request: CompletionRequest) -> PlanDraft | None:
        if request.purpose != "plan":
            return None
        wanted = plans.pop(0) if len(plans) > 1 else plans[0]
        return PlanDraft(tasks=[chapter(n) for n in wanted], rationale="the brief needs it")

    return Script(answer=answer)


async def replanned(tmp_path: Path) -> Engine:
    """A plan approved and made, then planned again: the second run proposes chapter 3."""
    engine = await open_engine(production(BODY), tmp_path / "p.db", planner([[1, 2], [1, 2, 3]]))
    assert await engine.run() is ProductionState.WAITING
    [plan] = engine.view.open_escalations()
    assert plan.kind is EscalationKind.PLAN  # the first plan is a plan, not a scope change
    await engine.apply_offline(ApproveCommand(id="ok", escalation_id=plan.id))
    assert await engine.run() is ProductionState.COMPLETED
    again = await engine.apply_offline(
        OverrideCommand(id="more", task_id="plan", text="Add an epilogue.")
    )
    assert again.applied, again.detail
    assert await engine.run() is ProductionState.WAITING
    return engine


async def test_tasks_added_after_the_plan_was_approved_are_a_scope_change(tmp_path: Path) -> None:
    engine = await replanned(tmp_path)
    view = engine.view
    [scope] = view.open_escalations()
    assert scope.kind is EscalationKind.SCOPE_CHANGE
    assert scope.territory is Territory.APPROVAL_REQUIRED and scope.timeout_s is None
    assert scope.evidence == ["c3"]
    assert view.tasks["c3"].state is TaskState.PENDING  # waits on the Orchestrator
    assert view.tasks["plan"].state is TaskState.AWAITING_APPROVAL
    result = await engine.apply_offline(ApproveCommand(id="yes", escalation_id=scope.id))
    assert result.applied, result.detail
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert view.tasks["c3"].state is TaskState.DONE


async def test_a_declined_scope_change_leaves_the_plan_as_it_was(tmp_path: Path) -> None:
    engine = await replanned(tmp_path)
    [scope] = engine.view.open_escalations()
    result = await engine.apply_offline(SkipCommand(id="no", escalation_id=scope.id))
    assert result.applied, result.detail
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    assert view.tasks["c3"].state is TaskState.SKIPPED
    assert view.tasks["c3"].reason == "scope change declined by the Orchestrator"
    assert view.tasks["plan"].state is TaskState.DONE
    assert view.tasks["c2"].state is TaskState.DONE


async def test_the_planner_is_told_the_crew_ids_their_briefs_and_the_milestones(
    tmp_path: Path,
) -> None:
    """A real model sees only the prompt's text: without the crew's ids it cannot assign."""
    body = crew(("prod", "producer"), ("w", "writer")).replace(
        'id = "w"', 'id = "w"\nbrief = "Writes chapters 1-2 in a dry voice."'
    ) + tasks({"id": "c1", "title": "Chapter 1", "kind": "chapter", "assignee": "w"})
    script = planner([[1, 2]])
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    prompt = next(c for c in script.calls if c.purpose == "plan").messages[-1].content
    assert "CREW (assign tasks and reviews to these ids only):" in prompt
    assert "- w: w, writer. Writes chapters 1-2 in a dry voice." in prompt
    assert "- prod: prod, producer" in prompt
    assert "MILESTONES a task may be gated on: " in prompt and "treatment" in prompt
    assert "- c1 (chapter) → w" in prompt
