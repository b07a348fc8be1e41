"""The plan as the Orchestrator edits it: which tasks are the plan (what the planner added,
waiting on the plan's approval), which stay as they are (the production file's, the planning
task), and what is wrong with an edited plan, checked as a production file's `[[tasks]]` are.

Shared by the engine (which checks a plan edit again when it applies it), the CLI and the
screen (which check it first, and name the line: `podium.export.human.plan`). Pure.
"""

from __future__ import annotations

from podium.domain.production import ProductionSpec, cross_check
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskSpec

Loc = tuple[str | int, ...]


def split_plan(view: ProductionView) -> tuple[list[TaskSpec], list[TaskSpec]]:
    """(the plan: the tasks a planner or an earlier plan edit added, in plan order; the tasks
    that stay: the file's and the planning task)."""
    plan: list[TaskSpec] = []
    kept: list[TaskSpec] = []
    for record in view.tasks.values():
        if record.source != "file" and record.spec.kind is not TaskKind.PLAN:
            plan.append(record.spec)
        else:
            kept.append(record.spec)
    return plan, kept


def plan_problems(
    spec: ProductionSpec, kept: list[TaskSpec], edited: list[TaskSpec]
) -> list[tuple[Loc, str]]:
    """What is wrong with `edited` as the plan beside `kept`, each at its `("tasks", i, …)`
    (i counts the edited tasks, as the `[[tasks]]` entries of the file the user edits)."""
    problems: list[tuple[Loc, str]] = []
    if not edited:
        problems.append((("tasks",), "the plan has no task; give at least one [[tasks]] entry"))
    fixed = {t.id: t for t in kept}
    for i, task in enumerate(edited):
        if task.id in fixed:
            what = "the planning task" if fixed[task.id].kind is TaskKind.PLAN else "a file task"
            problems.append(
                (("tasks", i, "id"), f"{task.id!r} is {what}'s id, which the plan cannot take")
            )
        if task.kind is TaskKind.PLAN:
            problems.append((("tasks", i, "kind"), "the plan cannot contain another plan task"))
    if problems:
        return problems
    whole = spec.model_copy(update={"tasks": [*edited, *kept]})
    for found in cross_check(whole):
        loc = found.loc
        if loc[:1] != ("tasks",):
            continue  # the file's other sections were checked when it was opened
        if len(loc) < 2 or not isinstance(loc[1], int) or loc[1] >= len(edited):
            loc = ("tasks",)  # about a task that stays (a cycle through it): the plan's
        problems.append((loc, found.message))
    return problems
