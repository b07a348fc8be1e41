"""Tasks: what the file or the planner asks for, and the states a task moves through."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from podium.domain.base import Identifier, Model
from podium.domain.policy import DecisionKind


class TaskKind(StrEnum):
    PLAN = "plan"
    TREATMENT = "treatment"
    OUTLINE = "outline"
    EPISODE_ARC = "episode_arc"
    SCENE = "scene"
    SCRIPT = "script"
    DIALOGUE = "dialogue"
    CHAPTER = "chapter"
    ILLUSTRATION = "illustration"
    LOOK = "look"
    SHOT_LIST = "shot_list"
    MUSIC_CUES = "music_cues"
    EDIT = "edit"
    REVIEW = "review"
    REPORT = "report"
    FINAL = "final"


# What each kind decides, for the authority policy, unless the task says otherwise.
DEFAULT_DECISION: dict[TaskKind, DecisionKind] = {
    TaskKind.PLAN: DecisionKind.PLAN,
    TaskKind.TREATMENT: DecisionKind.MAJOR_STORY_BEAT,
    TaskKind.OUTLINE: DecisionKind.SCENE_STRUCTURE,
    TaskKind.EPISODE_ARC: DecisionKind.CHARACTER_ARC,
    TaskKind.SCENE: DecisionKind.SCENE_PACING,
    TaskKind.SCRIPT: DecisionKind.MILESTONE_DELIVERABLE,
    TaskKind.DIALOGUE: DecisionKind.DIALOGUE_REFINEMENT,
    TaskKind.CHAPTER: DecisionKind.TECHNICAL_EXECUTION,
    TaskKind.ILLUSTRATION: DecisionKind.TECHNICAL_EXECUTION,
    TaskKind.LOOK: DecisionKind.VISUAL_STYLE,
    TaskKind.SHOT_LIST: DecisionKind.SHOT_COMPOSITION,
    TaskKind.MUSIC_CUES: DecisionKind.TECHNICAL_EXECUTION,
    TaskKind.EDIT: DecisionKind.SCENE_PACING,
    TaskKind.REVIEW: DecisionKind.PEER_REVIEW,
    TaskKind.REPORT: DecisionKind.SCHEDULING,
    TaskKind.FINAL: DecisionKind.FINAL_SIGNOFF,
}


class TaskState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    STALE = "stale"

    @property
    def settled(self) -> bool:
        """Dependents may go on: the task delivered or was skipped on purpose."""
        # By identity with the members kept below (a member read off the class costs ~80 ns
        # here, and this is asked per dependency when the scheduler is built: 25,000 times
        # for a dense plan of 500 tasks).
        return self is _DONE or self is _SKIPPED


_DONE, _SKIPPED = TaskState.DONE, TaskState.SKIPPED


# Every move the engine may make. Anything else is a bug, and the engine refuses it.
# A task the Orchestrator writes a version of (a replacement, an edit) is DONE from any state:
# one not run yet, sent back for a retry (READY after a failed check or a resume), failed, skipped.
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.PENDING: frozenset(
        {TaskState.READY, TaskState.SKIPPED, TaskState.STALE, TaskState.DONE}
    ),
    TaskState.READY: frozenset(
        {TaskState.RUNNING, TaskState.PENDING, TaskState.SKIPPED, TaskState.STALE, TaskState.DONE}
    ),
    TaskState.RUNNING: frozenset(
        {
            TaskState.DONE,
            TaskState.FAILED,
            TaskState.AWAITING_APPROVAL,
            TaskState.READY,  # interrupted (pause, crash recovery) or retried
            TaskState.STALE,
        }
    ),
    TaskState.AWAITING_APPROVAL: frozenset(
        {TaskState.DONE, TaskState.READY, TaskState.STALE, TaskState.SKIPPED}
    ),
    TaskState.DONE: frozenset({TaskState.STALE}),
    TaskState.FAILED: frozenset({TaskState.READY, TaskState.SKIPPED, TaskState.DONE}),
    TaskState.SKIPPED: frozenset({TaskState.READY, TaskState.DONE}),
    # A stale task is re-run, or kept as it is (DONE) when the Orchestrator says so.
    TaskState.STALE: frozenset(
        {TaskState.READY, TaskState.PENDING, TaskState.SKIPPED, TaskState.DONE}
    ),
}


def can_move(source: TaskState, target: TaskState) -> bool:
    return target in TRANSITIONS[source]


class OnFailure(StrEnum):
    """What happens after a task's last retry fails (the seed's retry / skip / notify)."""

    RETRY = "retry"  # try again later, after a longer pause
    SKIP = "skip"  # dependents go on without it, marked
    ESCALATE = "escalate"  # the Orchestrator decides in the inbox


class TaskSpec(Model):
    """A task as written in the production file (`[[tasks]]`) or proposed by the planner."""

    id: Identifier
    title: str = Field(min_length=1, max_length=200)
    kind: TaskKind
    assignee: Identifier
    depends_on: list[Identifier] = Field(default_factory=list)
    gate: Identifier | None = Field(default=None, description="Milestone this task delivers.")
    reviewers: list[Identifier] = Field(default_factory=list)
    on_failure: OnFailure = OnFailure.ESCALATE
    phase: str = Field(default="", max_length=80)
    deliverable: str = Field(default="", max_length=120)
    decision: DecisionKind | None = None
    brief: str = Field(default="", max_length=20_000)
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Kind-specific details: chapter or episode number, target words, scene…",
    )

    @property
    def decision_kind(self) -> DecisionKind:
        return self.decision or DEFAULT_DECISION[self.kind]


class PlanDraft(Model):
    """The planner's answer: the schema a model must fill (validated, repaired once)."""

    tasks: list[TaskSpec] = Field(min_length=1, max_length=500)
    rationale: str = Field(default="", max_length=4000)


def dependency_cycle(tasks: list[TaskSpec]) -> list[str] | None:
    """The first cycle in depends_on, as a list of ids that closes on itself, or None.

    Depth-first with an explicit stack: a chain of thousands of tasks is a plan, not a
    RecursionError.
    """
    graph = {t.id: list(t.depends_on) for t in tasks}
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in graph:
        if colour[root] != white:
            continue
        path: list[str] = [root]
        edges = [iter(graph[root])]
        colour[root] = grey
        while edges:
            dep = next(edges[-1], None)
            if dep is None:
                colour[path.pop()] = black
                edges.pop()
            elif dep not in colour or colour[dep] == black:
                continue
            elif colour[dep] == grey:
                return path[path.index(dep) :] + [dep]
            else:
                colour[dep] = grey
                path.append(dep)
                edges.append(iter(graph[dep]))
    return None


def topological_order(tasks: list[TaskSpec]) -> list[str]:
    """Ids in an order where each task follows its dependencies; ties keep file order.

    In waves: every task whose dependencies are all placed, in file order, then the next wave.
    """
    position = {t.id: i for i, t in enumerate(tasks)}
    waiting = {t.id: len(set(t.depends_on)) for t in tasks}
    dependents: dict[str, list[str]] = {t.id: [] for t in tasks}
    for t in tasks:
        for dep in set(t.depends_on):
            if dep in dependents:
                dependents[dep].append(t.id)
            else:  # never placed: the task can never be ready
                waiting[t.id] += len(tasks) + 1
    wave = [t.id for t in tasks if waiting[t.id] == 0]
    order: list[str] = []
    while wave:
        order.extend(wave)
        following: list[str] = []
        for tid in wave:
            for dependent in dependents[tid]:
                waiting[dependent] -= 1
                if waiting[dependent] == 0:
                    following.append(dependent)
        wave = sorted(following, key=position.__getitem__)
    if len(order) < len(tasks):
        raise ValueError("dependency cycle")
    return order
