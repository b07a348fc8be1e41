"""A task's versions: which artifact is version N, and which one is current.

The one place that knows how versions are numbered. Version N is the task's N-th artifact in
`TaskRecord.artifact_ids` order (1-based), recorded as `Provenance.version` when it is made
(`next_number`). The current version is set by events (`CurrentVersionSet`, folded into
`TaskRecord.current`); a task that has none set yet (still at its first draft, or in a log
written before podium recorded it) is represented by its latest standing version that was applied
or approved, else its latest standing draft. `podium show`, `diff`, the export
(`ExportSource.current`) and the lineage (`podium.domain.lineage`) all ask here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from podium.domain.artifacts import Artifact, ArtifactStatus
from podium.domain.state import ProductionView, TaskRecord

# Work that stands until the Orchestrator says otherwise; drafts only count when nothing else does.
USABLE = frozenset({ArtifactStatus.APPROVED, ArtifactStatus.ACCEPTED, ArtifactStatus.PROVISIONAL})
REPLACED = frozenset({ArtifactStatus.SUPERSEDED, ArtifactStatus.OVERRIDDEN})
# Never what represents a task until picked: also a proposal or an alternative beside the current.
NOT_STANDING = REPLACED | {ArtifactStatus.PROPOSED}


class VersionError(LookupError):
    """An unknown task or version, said as one sentence a person can act on."""


def task(view: ProductionView, task_id: str) -> TaskRecord:
    """The task `task_id`; VersionError naming the closest ids when there is none."""
    record = view.tasks.get(task_id)
    if record is not None:
        return record
    if not view.tasks:
        raise VersionError(f"there is no task {task_id!r}: the production has no plan yet")
    close = difflib.get_close_matches(task_id, list(view.tasks), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"the tasks are {_some(view.tasks)}"
    raise VersionError(f"there is no task {task_id!r}; {hint}")


def _some(ids: Iterable[str], limit: int = 8) -> str:
    names = list(ids)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def of_record(view: ProductionView, record: TaskRecord) -> list[Artifact]:
    """Every version of a task, version 1 first."""
    found = (view.artifacts.get(a) for a in record.artifact_ids)
    return [a for a in found if a is not None]


def versions(view: ProductionView, task_id: str) -> list[Artifact]:
    """Every version of the task `task_id`, version 1 first (VersionError: no such task)."""
    return of_record(view, task(view, task_id))


def version(view: ProductionView, task_id: str, n: int) -> Artifact:
    """Version `n` (1-based) of the task; VersionError saying how many there are."""
    found = versions(view, task_id)
    if not found:
        raise VersionError(f"{task_id} has no version yet")
    if not 1 <= n <= len(found):
        have = "one version" if len(found) == 1 else f"{len(found)} versions (1 to {len(found)})"
        raise VersionError(f"{task_id} has {have}; there is no version {n}")
    return found[n - 1]


def next_number(record: TaskRecord) -> int:
    """The number the task's next version gets."""
    return len(record.artifact_ids) + 1


def number(view: ProductionView, artifact: Artifact) -> int:
    """The version number of an artifact of its task (0 when its task does not list it)."""
    if artifact.provenance.version:
        return artifact.provenance.version
    record = view.tasks.get(artifact.task_id)
    if record is None:
        return 0
    ids = [a.id for a in of_record(view, record)]
    return ids.index(artifact.id) + 1 if artifact.id in ids else 0


def current_of(view: ProductionView, record: TaskRecord) -> Artifact | None:
    """The version that represents the task: the one set current; when none is set, the latest
    standing one that was applied or approved, else the latest standing draft. None when
    nothing stands."""
    if 1 <= record.current <= len(record.artifact_ids):
        return view.artifacts.get(record.artifact_ids[record.current - 1])
    standing = [a for a in of_record(view, record) if a.status not in NOT_STANDING]
    for artifact in reversed(standing):
        if artifact.status in USABLE:
            return artifact
    return standing[-1] if standing else None


def current_number(view: ProductionView, record: TaskRecord) -> int:
    """The current version's number; 0 when the task has none."""
    found = current_of(view, record)
    return number(view, found) if found is not None else 0


def current(view: ProductionView, task_id: str) -> Artifact | None:
    """The current version of the task `task_id` (VersionError: no such task)."""
    return current_of(view, task(view, task_id))
