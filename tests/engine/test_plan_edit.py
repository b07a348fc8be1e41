"""The plan escalation's `edit`: the Orchestrator's plan replaces the planner's and is approved
(a typed command in the log, so a resume and a replay see the edited plan)."""

from __future__ import annotations

from pathlib import Path

from podium.domain.escalation import Action, EditPlanCommand, EscalationKind
from podium.domain.events import ProductionState, TasksPlanned
from podium.domain.plan_edit import split_plan
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskSpec, TaskState
from podium.engine.planner import plan_in_effect
from podium.export.human.plan import parse_plan, render_plan
from podium.store.replay import replay

from .harness import open_engine, production
from .test_scope import BODY, chapter, planner


def chapters(*numbers: int, **extra: object) -> list[TaskSpec]:
    return [chapter(n).model_copy(update=extra) for n in numbers]


async def test_the_edited_plan_is_the_one_approved_and_made(tmp_path: Path) -> None:
    engine = await open_engine(production(BODY), tmp_path / "p.db", planner([[2, 3]]))
    assert await engine.run() is ProductionState.WAITING
    [plan] = engine.view.open_escalations()
    assert plan.kind is EscalationKind.PLAN and Action.EDIT_PLAN in plan.actions
    proposed, kept = split_plan(engine.view)
    assert [t.id for t in proposed] == ["c2", "c3"]
    # The Orchestrator keeps chapter 2 (retitled), leaves chapter 3 out and adds chapter 4.
    text = render_plan(proposed).replace('"Chapter 2"', '"The Crossing"')
    text = text.replace('"c3"', '"c4"').replace('"Chapter 3"', '"Chapter 4"')
    assert engine.view.spec is not None
    edited = parse_plan(text, engine.view.spec, kept)
    result = await engine.apply_offline(
        EditPlanCommand(id="mine", escalation_id=plan.id, tasks=edited)
    )
    assert result.applied, result.detail
    assert result.detail == "approved the Orchestrator's plan: 2 tasks, 1 left out"
    assert plan_in_effect(engine.view, "plan")
    assert await engine.run() is ProductionState.COMPLETED
    view = engine.view
    assert view.tasks["c2"].spec.title == "The Crossing"
    assert view.tasks["c2"].state is TaskState.DONE
    assert view.tasks["c4"].state is TaskState.DONE and view.tasks["c4"].source == "orchestrator"
    assert view.tasks["c3"].state is TaskState.SKIPPED
    assert view.tasks["c3"].reason == "left out of the Orchestrator's plan"
    events = await engine.store.read()
    await engine.store.close()
    planned = [e.payload for e in events if isinstance(e.payload, TasksPlanned)]
    assert planned[-1].source == "orchestrator"
    assert [t.id for t in planned[-1].tasks] == ["c2", "c4"]
    # A replay of the log sees the edited plan.
    again = await open_engine(production(BODY), tmp_path / "p.db")
    replayed = ProductionView()
    await replay(again.store, replayed)
    await again.store.close()
    assert replayed.tasks["c4"].state is TaskState.DONE
    assert replayed.tasks["c2"].spec.title == "The Crossing"


async def test_an_invalid_plan_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    engine = await open_engine(production(BODY), tmp_path / "p.db", planner([[2]]))
    assert await engine.run() is ProductionState.WAITING
    [plan] = engine.view.open_escalations()
    bad = chapters(2, assignee="nobody")
    result = await engine.apply_offline(EditPlanCommand(id="bad", escalation_id=plan.id, tasks=bad))
    assert not result.applied
    assert "tasks.0.assignee: unknown agent 'nobody'" in result.detail
    cycle = [
        chapter(2).model_copy(update={"depends_on": ["c5"]}),
        chapter(5).model_copy(update={"depends_on": ["c2"]}),
    ]
    result = await engine.apply_offline(
        EditPlanCommand(id="loop", escalation_id=plan.id, tasks=cycle)
    )
    assert not result.applied and "dependency cycle" in result.detail
    taken = [chapter(1)]  # the file's own task
    result = await engine.apply_offline(
        EditPlanCommand(id="same", escalation_id=plan.id, tasks=taken)
    )
    assert not result.applied and "a file task's id" in result.detail
    nested = [TaskSpec(id="p2", title="Plan", kind=TaskKind.PLAN, assignee="prod")]
    result = await engine.apply_offline(
        EditPlanCommand(id="p", escalation_id=plan.id, tasks=nested)
    )
    assert not result.applied and "another plan task" in result.detail
    await engine.store.close()
    assert engine.view.escalations[plan.id].open
    assert engine.view.tasks["plan"].state is TaskState.AWAITING_APPROVAL
    assert "c5" not in engine.view.tasks
