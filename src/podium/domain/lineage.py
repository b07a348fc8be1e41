"""Lineage: which work is stale, as a query over the versions graph (pure).

Each version records the versions of its inputs it was made from and the vision version and
sections it used (`Provenance`, folded into the task's `TaskRecord.made_from`,
`vision_version`, `vision_sections`). A task's work is stale when

* an input's current version is not the one it was made from (`INPUT_CHANGED`);
* an input is itself stale, or is being made again (`INPUT_STALE`): staleness is transitive;
* a vision section it used changed after the vision version it used (`VISION`).

Nothing sets "stale" by hand: the engine asks `stale` after anything that can change the
answer and moves the tasks it names (`podium.engine.lineage`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from podium.domain.artifacts import PODIUM, Artifact, ArtifactStatus
from podium.domain.events import StaleCause
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind, TaskState, topological_order
from podium.domain.versions import current_number, current_of, number
from podium.domain.vision_uses import LIVE_SECTIONS, uses_section

# The states whose work can be stale: made (done, or already stale), or made and waiting on the
# Orchestrator's approval (its candidate can be outdated too).
MADE = frozenset({TaskState.DONE, TaskState.STALE, TaskState.AWAITING_APPROVAL})
_DONE, _SKIPPED = TaskState.DONE, TaskState.SKIPPED  # the settled states (`TaskState.settled`)


def sections_used(kind: TaskKind) -> tuple[str, ...]:
    """The vision sections a task of this kind reads (its prompt holds only these)."""
    return tuple(s for s in LIVE_SECTIONS if uses_section(kind, s))


def made_from(view: ProductionView, inputs: Iterable[Artifact]) -> dict[str, int]:
    """The lineage of a version made from `inputs`: each input task's version number."""
    # `number`, without a call for the usual artifact that knows its own (50 a dense plan's task)
    return {a.task_id: a.provenance.version or number(view, a) for a in inputs}


def plan_order(view: ProductionView) -> list[str]:
    """Task ids with every task after its inputs (plan order for ties)."""
    specs = [r.spec for r in view.tasks.values()]
    try:
        return topological_order(specs)
    except ValueError:  # a cycle is refused when planned; never loop on one here
        return list(view.tasks)


def stale(view: ProductionView, *, changed: Collection[str] = ()) -> dict[str, StaleCause]:
    """Every task whose work is stale, with why, inputs before the tasks made from them.

    `changed`: vision sections to count as changed since every task was made, to say what an
    amendment not yet made would make stale (the clarify-vision dialog's preview).
    """
    found: dict[str, StaleCause] = {}
    if not any(record.state in MADE for record in view.tasks.values()):
        return found  # nothing made: nothing to order (a dense plan's order costs ~10 ms)
    for task_id in plan_order(view):
        record = view.tasks[task_id]
        if record.state not in MADE or record.spec.kind is TaskKind.PLAN:
            continue
        cause = _cause(view, record, found, changed)
        if cause is not None:
            found[task_id] = cause
    return found


def _cause(
    view: ProductionView,
    record: TaskRecord,
    found: Collection[str],
    changed: Collection[str],
) -> StaleCause | None:
    cause = inputs_cause(view, record, found)
    return cause if cause is not None else vision_cause(view, record, changed)


def inputs_cause(
    view: ProductionView, record: TaskRecord, found: Collection[str] = ()
) -> StaleCause | None:
    """Why this task's work is stale by its inputs (their states and current versions,
    against the versions it was made from), `found` counting as stale; None: they stand."""
    tasks, artifacts, made_from = view.tasks, view.artifacts, record.made_from
    for dep in record.spec.depends_on:  # a dense plan's task has many: kept to plain lookups
        source = tasks.get(dep)
        if source is None:
            continue
        state = source.state
        if state is not _DONE:
            if state is _SKIPPED:
                continue
            return StaleCause.INPUT_STALE  # not settled
        if dep in found:
            return StaleCause.INPUT_STALE
        made = made_from.get(dep)
        if made is None:
            continue
        # `current_number`, inlined for the usual case: a current version is set, and its
        # artifact knows its number.
        ids, at = source.artifact_ids, source.current
        if 1 <= at <= len(ids):
            artifact = artifacts.get(ids[at - 1])
            now = 0 if artifact is None else artifact.provenance.version or number(view, artifact)
        else:
            now = current_number(view, source)
        if now != made:
            return StaleCause.INPUT_CHANGED
    return None


def vision_cause(
    view: ProductionView, record: TaskRecord, changed: Collection[str] = ()
) -> StaleCause | None:
    """Why this task's work is stale by the vision (a section it used amended since, or among
    `changed`); None: it stands."""
    used = record.vision_sections
    if used is None:
        used = sections_used(record.spec.kind)
    if any(s in used for s in changed):
        return StaleCause.VISION
    if record.vision_version and any(
        amended.version > record.vision_version and amended.section in used
        for amended in view.vision_history
    ):
        return StaleCause.VISION
    return None


def cause_of(view: ProductionView, record: TaskRecord) -> StaleCause | None:
    """Why this task's work is stale, judged by itself: its inputs' states and current
    versions and the vision (an input counts as stale when it is not settled, as it is once
    the engine has moved it). None: it stands."""
    return _cause(view, record, (), ())


def dependents(view: ProductionView) -> dict[str, list[str]]:
    """Each task's id → the ids of the tasks made from it (its direct dependents)."""
    found: dict[str, list[str]] = {task_id: [] for task_id in view.tasks}
    for task_id, record in view.tasks.items():
        for dep in record.spec.depends_on:
            if dep in found:
                found[dep].append(task_id)
    return found


def asks_first(view: ProductionView, record: TaskRecord) -> bool:
    """Stale work that is re-made only after asking: the Orchestrator approved or wrote it."""
    if record.state is TaskState.AWAITING_APPROVAL:
        return False  # a candidate nobody approved yet
    artifact = current_of(view, record)
    if artifact is None or artifact.provenance.agent_id == PODIUM:
        return False  # podium's assembly is made again as it was made: from its inputs
    return artifact.status is ArtifactStatus.APPROVED or artifact.provenance.by_orchestrator


def inputs_settled(view: ProductionView, record: TaskRecord, found: Collection[str]) -> bool:
    """Every input is made and not stale: the task can be made again (or kept) now."""
    return all(
        dep not in found and (dep not in view.tasks or view.tasks[dep].state.settled)
        for dep in record.spec.depends_on
    )


def described(view: ProductionView, task_id: str, cause: StaleCause) -> str:
    """Why a task is stale, in words for the Orchestrator (its state's reason)."""
    record = view.tasks[task_id]
    if cause is StaleCause.VISION:
        return f"the vision changed since it was made (v{record.vision_version})"
    names = [
        dep
        for dep in record.spec.depends_on
        if dep in view.tasks
        and (
            not view.tasks[dep].state.settled
            or (
                dep in record.made_from
                and current_number(view, view.tasks[dep]) != record.made_from[dep]
            )
        )
    ]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    if cause is StaleCause.INPUT_CHANGED:
        return f"made from an earlier version of {shown or 'an input'}"
    return f"{shown or 'an input'} is being made again"
