"""Planning: the producer (the showrunner for a series) turns the brief into a task tree.

An explicit plan is used as written. Otherwise planning is itself a task, `plan`, visible in the
tree: its output is validated against the plan schema and the crew, repaired once, and then
escalated if still wrong. The tasks it adds wait on it, so the plan is a gate when the policy
says so (by default it does).

Once a plan is in effect (approved, or applied by the policy), a new planning run that adds
tasks changes the agreed scope: that is approval-required whatever the policy says of plans
(the seed's scope change), so the additions wait on a scope-change escalation.
"""

from __future__ import annotations

import re

from podium.domain.assembly import SCREEN_KINDS, screenplay_of
from podium.domain.escalation import Action, EscalationKind, Option
from podium.domain.events import AgentState, AgentStateChanged, TasksPlanned, TerritoryAssigned
from podium.domain.policy import DecisionKind, Territory, classify
from podium.domain.production import Format, PlannerMode, ProductionSpec
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import PlanDraft, TaskKind, TaskSpec, TaskState, dependency_cycle
from podium.domain.validators import CharacterPresence
from podium.domain.versions import current_of
from podium.engine.errors import BudgetHold, TaskFailure
from podium.engine.port import EnginePort
from podium.engine.prompts import build_request
from podium.engine.reply import parser
from podium.llm.types import CompletionRequest

PLAN_TASK_ID = "plan"


def plan_task_id(spec: ProductionSpec) -> str:
    taken = {t.id for t in spec.tasks}
    return PLAN_TASK_ID if PLAN_TASK_ID not in taken else "podium-plan"


def install_plan(engine: EnginePort) -> None:
    """First run only: put the file's tasks, and the planning task unless explicit, in place."""
    spec = engine.spec
    tasks = list(spec.tasks)
    if spec.planner.mode is not PlannerMode.EXPLICIT:
        planner = spec.planner_agent()
        tasks.append(
            TaskSpec(
                id=plan_task_id(spec),
                title="Plan the production",
                kind=TaskKind.PLAN,
                assignee=planner.id,
                phase="planning",
                deliverable="plan",
                brief="Break the brief into phases, deliverables and tasks with dependencies.",
            )
        )
    engine.emit(TasksPlanned(tasks=tasks, source="file"))
    engine.plan_changed()


def check_plan(spec: ProductionSpec, existing: list[TaskSpec], draft: list[TaskSpec]) -> list[str]:
    """What is wrong with a proposed plan, in words the planner can act on."""
    problems: list[str] = []
    crew = {a.id for a in spec.crew}
    gates = spec.gate_ids()
    known = {t.id for t in existing}
    seen: set[str] = set()
    for task in draft:
        if task.id in seen:
            problems.append(f"task {task.id!r} appears twice")
        seen.add(task.id)
        if task.kind is TaskKind.PLAN:
            problems.append(f"task {task.id!r}: the plan cannot contain another plan task")
        if task.assignee not in crew:
            problems.append(f"task {task.id!r}: assignee {task.assignee!r} is not in the crew")
        for reviewer in task.reviewers:
            if reviewer not in crew:
                problems.append(f"task {task.id!r}: reviewer {reviewer!r} is not in the crew")
            elif reviewer == task.assignee:
                problems.append(f"task {task.id!r}: the assignee cannot review their own task")
        if task.gate is not None and task.gate not in gates:
            problems.append(f"task {task.id!r}: unknown milestone {task.gate!r}")
    ids = known | seen
    for task in draft:
        for dep in task.depends_on:
            if dep not in ids:
                problems.append(f"task {task.id!r}: depends on unknown task {dep!r}")
    combined = [t for t in existing if t.id not in seen] + draft
    if not problems and (cycle := dependency_cycle(combined)):
        problems.append(f"dependency cycle: {' → '.join(cycle)}")
    return problems


def _plan_hints(engine: EnginePort) -> dict[str, object]:
    spec = engine.spec
    info = spec.production
    existing = [t for t in engine.view.tasks.values() if t.spec.kind is not TaskKind.PLAN]
    scenes = info.scenes or (None if info.format is not Format.SHORT_FILM else 5)
    return {
        "crew": [
            {"id": a.id, "role": a.role.value, "character": a.character, "brief": a.brief}
            for a in spec.crew
        ],
        "existing_tasks": [
            {
                "id": t.spec.id,
                "kind": t.spec.kind.value,
                "title": t.spec.title,
                "assignee": t.spec.assignee,
                "params": t.spec.params,
                **({"cast": cast} if (cast := cast_of(engine.view, t)) else {}),
            }
            for t in existing
        ],
        "episodes": info.episodes,
        "chapters": info.chapters,
        "scenes": scenes,
        "gates": sorted(spec.gate_ids()),
        "brief": info.brief,
    }


def _plan_text(engine: EnginePort, existing: list[TaskSpec]) -> str:
    """What a planner must know to answer with a plan the engine accepts: who may be assigned
    (with what each was briefed to do), the milestones a task may be gated on, the size."""
    spec = engine.spec
    info = spec.production
    crew = "\n".join(
        f"- {a.id}: {a.name}, {a.role.value.replace('_', ' ')}"
        + (f" voicing {a.character}" if a.character else "")
        + (f". {' '.join(a.brief.split())[:300]}" if a.brief else "")
        for a in spec.crew
    )
    counts = (("episodes", info.episodes), ("chapters", info.chapters), ("scenes", info.scenes))
    size = ", ".join(f"{n} {what}" for what, n in counts if n)
    parts = [
        "CREW (assign tasks and reviews to these ids only):\n" + crew,
        "MILESTONES a task may be gated on: " + ", ".join(sorted(spec.gate_ids())),
    ]
    if size:
        parts.append(f"SIZE: {size}")
    parts.append(
        "Existing tasks (keep them; add what is missing):\n"
        + ("\n".join(_existing_line(engine.view, t) for t in existing) or "- none")
    )
    return "\n\n".join(parts)


def _existing_line(view: ProductionView, task: TaskSpec) -> str:
    line = f"- {task.id} ({task.kind.value}) → {task.assignee}"
    record = view.tasks.get(task.id)
    cast = cast_of(view, record) if record is not None else []
    # A character's dialogue pass belongs only to a scene the character is in.
    return line + (f"; in it: {', '.join(cast)}" if cast else "")


def cast_of(view: ProductionView, record: TaskRecord) -> list[str]:
    """Who is in a piece of screen work (a scene, a script, a pass), by the vision's names: on
    the printed page, the characters its current version gives a cue; before it is written,
    those its character-presence rules require and those its brief names, in that order.
    Characters the vision does not name are given as their cue."""
    spec = record.spec
    if spec.kind not in SCREEN_KINDS or view.spec is None:
        return []
    names = [c.name for c in (view.vision or view.spec.vision).characters]
    artifact = current_of(view, record)
    play = screenplay_of(artifact) if artifact is not None else None
    if play is not None:
        cues = play.speakers()
        known = [n for n in names if n.upper() in cues]
        return known + sorted(c.title() for c in cues - {n.upper() for n in known})
    required = [
        name
        for rule in view.spec.validators
        if isinstance(rule, CharacterPresence) and rule.applies_to(spec)
        for name in rule.characters
    ]
    found = [
        (at.start(), n)
        for n in names
        if (at := re.search(rf"(?<!\w){re.escape(n)}(?!\w)", spec.brief)) is not None
    ]
    return list(dict.fromkeys([*required, *(n for _, n in sorted(found))]))


async def run_planner(engine: EnginePort, record: TaskRecord) -> None:
    spec = engine.spec
    task = record.spec
    agent_id = task.assignee
    agent = engine.view.agents[agent_id].spec
    model = engine.model_for(agent_id)
    engine.set_task_state(task.id, TaskState.RUNNING, "planning", attempt=record.attempt + 1)
    engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.THINKING, task_id=task.id))
    existing = [t.spec for t in engine.view.tasks.values() if t.spec.id != task.id]
    feedback: list[str] = []
    problems: list[str] = []
    draft: PlanDraft | None = None
    existing_ids = {e.id for e in existing}
    in_effect = plan_in_effect(engine.view, task.id)
    for _ in (1, 2):  # the plan is repaired once, then escalated

        def request_for(n: int, fb: list[str] = feedback) -> CompletionRequest:
            return build_request(
                engine.view,
                record,
                agent,
                model,
                purpose="plan",
                schema=PlanDraft,
                inputs=[],
                feedback=fb,
                call_number=n,
                extra_hints=_plan_hints(engine),
                extra_text=_plan_text(engine, existing),
            )

        try:
            _, _, proposed = await engine.call(request_for, record, agent_id, _parse_plan)
        except BudgetHold as hold:
            engine.set_task_state(task.id, TaskState.AWAITING_APPROVAL, "budget")
            engine.open_escalation(
                EscalationKind.BUDGET,
                "Budget: planning would overrun",
                task_id=task.id,
                detail=hold.reason,
            )
            return
        except TaskFailure as failure:
            engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.FAILED))
            engine.fail(record, failure)
            return
        existing_ids = {e.id for e in existing}
        draft = proposed
        new = [t for t in proposed.tasks if t.id not in existing_ids]
        problems = check_plan(spec, existing, new)
        if not problems:
            break
        feedback = problems
    engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
    assert draft is not None
    if problems:
        engine.set_task_state(task.id, TaskState.FAILED, "the plan is invalid after one repair")
        engine.open_escalation(
            EscalationKind.PLAN,
            "The plan is invalid after one repair",
            task_id=task.id,
            evidence=problems[:20],
            options=[
                Option(id="retry", label="Plan again", proposer="podium"),
                Option(
                    id="skip",
                    label="Go on with the file's tasks only",
                    proposer="podium",
                    reasoning="nothing the planner proposed is used",
                ),
            ],
            actions=[Action.RETRY, Action.SKIP, Action.OVERRIDE],
        )
        return
    added: list[TaskSpec] = []
    for t in draft.tasks:
        if t.id in existing_ids:
            continue
        if not any(d in {n.id for n in draft.tasks} for d in t.depends_on):
            t = t.model_copy(update={"depends_on": [*t.depends_on, task.id]})
        added.append(t)
    added = wire(spec, existing, added)
    if in_effect and added:
        _propose_scope_change(engine, record, added, draft.rationale)
        return
    engine.emit(TasksPlanned(tasks=added, source="planner", rationale=draft.rationale))
    engine.plan_changed()
    territory = classify(spec.authority, DecisionKind.PLAN, gate=spec.gate_territory(task.gate))
    engine.emit(
        TerritoryAssigned(task_id=task.id, territory=territory, decision_kind=DecisionKind.PLAN)
    )
    summary = f"{len(added)} tasks added by {agent_id}" + (
        f"; {draft.rationale}" if draft.rationale else ""
    )
    if territory is Territory.APPROVAL_REQUIRED:
        engine.set_task_state(task.id, TaskState.AWAITING_APPROVAL, "plan awaits approval")
        engine.open_escalation(
            EscalationKind.PLAN,
            f"Approve the plan: {len(added)} tasks",
            task_id=task.id,
            detail=summary,
            evidence=[f"{t.id} ({t.kind.value}) → {t.assignee}" for t in added[:50]],
        )
    else:
        engine.set_task_state(task.id, TaskState.DONE, territory.value)
        if territory is Territory.COLLABORATIVE:
            engine.open_escalation(
                EscalationKind.COLLABORATIVE,
                f"Plan applied provisionally: {len(added)} tasks",
                task_id=task.id,
                territory=Territory.COLLABORATIVE,
                detail=summary,
            )


_UNITS = ("episode", "chapter", "scene")


def _unnumbered(task: TaskSpec) -> bool:
    return not any(unit in task.params for unit in _UNITS)


def wire(spec: ProductionSpec, existing: list[TaskSpec], added: list[TaskSpec]) -> list[TaskSpec]:
    """What a writer would want to read, whatever the planner wired: the season arc (the
    outline of the whole) to every episode's arc, the previous chapter to the next, the
    outline to each scene of a film; and the newest form of every piece of screen work a task
    reads: a task that reads a scene (or a script) a character's dialogue pass revises reads
    that pass too (the last of a chain of passes), as the deliverables are assembled from it.
    Only the tasks a plan adds are given inputs, and never one that would close a cycle."""
    everything = [*existing, *added]
    outline = next(
        (t.id for t in everything if t.kind is TaskKind.OUTLINE and _unnumbered(t)), None
    )
    chapters = {
        t.params["chapter"]: t.id
        for t in everything
        if t.kind is TaskKind.CHAPTER and isinstance(t.params.get("chapter"), int)
    }
    series = spec.production.format is Format.SERIES
    revised = newest_passes(everything)
    wired = list(added)
    for n, task in enumerate(added):
        wants: list[str] = []
        if task.kind is TaskKind.EPISODE_ARC and outline is not None:
            wants.append(outline)
        elif task.kind is TaskKind.SCENE and outline is not None and not series:
            wants.append(outline)
        elif task.kind is TaskKind.CHAPTER and isinstance(task.params.get("chapter"), int):
            previous = chapters.get(task.params["chapter"] - 1)
            if previous is not None:
                wants.append(previous)
        missing = list(dict.fromkeys(w for w in wants if w not in (task.id, *task.depends_on)))
        if missing:
            trial = task.model_copy(update={"depends_on": [*task.depends_on, *missing]})
            if not dependency_cycle([*existing, *wired[:n], trial, *wired[n + 1 :]]):
                wired[n] = trial
        if task.kind is TaskKind.DIALOGUE:  # a pass reads what it revises, as planned
            continue
        # Each pass just before the text it stands for: a prompt gives the pass, and names the
        # text it revised rather than sending it again (`podium.engine.prompt_inputs.arrange`).
        deps = wired[n].depends_on
        reads: list[str] = []
        for dep in deps:
            reads.extend(p for p in revised.get(dep, ()) if p != task.id and p not in deps)
            reads.append(dep)
        reads = list(dict.fromkeys(reads))
        if reads != deps:
            trial = wired[n].model_copy(update={"depends_on": reads})
            if not dependency_cycle([*existing, *wired[:n], trial, *wired[n + 1 :]]):
                wired[n] = trial
    return wired


def newest_passes(tasks: list[TaskSpec]) -> dict[str, list[str]]:
    """For each piece of screen work a character's dialogue pass revises, the passes that stand
    for it: the last pass of each chain of passes made from it (a pass over a pass)."""
    kinds = {t.id: t.kind for t in tasks}
    over: dict[str, list[str]] = {}
    for task in tasks:
        if task.kind is TaskKind.DIALOGUE:
            for dep in task.depends_on:
                if kinds.get(dep) in SCREEN_KINDS:
                    over.setdefault(dep, []).append(task.id)

    def last(task_id: str, seen: frozenset[str]) -> list[str]:
        found: list[str] = []
        for p in over.get(task_id, ()):
            if p not in seen:
                found.extend(last(p, seen | {p}) or [p])
        return found

    return {x: list(dict.fromkeys(last(x, frozenset({x})))) for x in over}


def plan_in_effect(view: ProductionView, plan_id: str) -> bool:
    """Whether a plan from this task was accepted: applied by the policy as it came, or
    approved by the Orchestrator. From then on, tasks the planner adds change the scope."""
    record = view.tasks[plan_id]
    if record.territory is None:
        return False  # no planning run has finished yet
    if record.territory is not Territory.APPROVAL_REQUIRED:
        return True
    approved = {
        c.command.escalation_id
        for c in view.commands.values()
        if c.status == "applied" and c.command.action in (Action.APPROVE, Action.EDIT_PLAN)
    }
    return any(
        e.id in approved and e.task_id == plan_id and e.kind is EscalationKind.PLAN
        for e in view.escalations.values()
    )


def _propose_scope_change(
    engine: EnginePort, record: TaskRecord, added: list[TaskSpec], rationale: str
) -> None:
    """Tasks beyond the plan in effect join the tree waiting on the planning task, which waits
    on the Orchestrator: approve takes them on, skip declines them, the plan stands."""
    plan_id = record.spec.id
    waiting = [
        t
        if plan_id in t.depends_on
        else t.model_copy(update={"depends_on": [*t.depends_on, plan_id]})
        for t in added
    ]
    engine.emit(TasksPlanned(tasks=waiting, source="planner", rationale=rationale))
    engine.plan_changed()
    engine.emit(
        TerritoryAssigned(
            task_id=plan_id,
            territory=Territory.APPROVAL_REQUIRED,
            decision_kind=DecisionKind.SCOPE_CHANGE,
        )
    )
    engine.set_task_state(plan_id, TaskState.AWAITING_APPROVAL, "scope change awaits approval")
    listing = "; ".join(f"{t.title} ({t.kind.value} → {t.assignee})" for t in waiting[:20])
    engine.open_escalation(
        EscalationKind.SCOPE_CHANGE,
        f"Scope change: {len(waiting)} task(s) beyond the plan in effect",
        task_id=plan_id,
        detail=f"{record.spec.assignee} proposes adding {listing}"
        + (f"; {rationale}" if rationale else "")
        + ". Approve takes them on; skip declines them and the plan stands.",
        task_ids=[plan_id, *(t.id for t in waiting)],
        evidence=[t.id for t in waiting],
    )


_parse_plan = parser(PlanDraft, what="a plan that matches the plan schema")
