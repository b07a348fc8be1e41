"""Who may do a task: a reviewer never reviews their own work.

Asked by the engine before it reassigns a task (and by the screen, to leave such agents out
of its picker). A task's work is reviewed by its `reviewers`, and a review task (kind
`review`) reviews the work of the tasks it depends on.
"""

from __future__ import annotations

from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind


def review_conflict(view: ProductionView, task_id: str, agent_id: str) -> str | None:
    """Why `agent_id` may not do `task_id` (it would review its own work), in one sentence;
    None when it may."""
    record = view.tasks.get(task_id)
    if record is None:
        return None
    spec = record.spec
    if agent_id in spec.reviewers:
        return (
            f"{agent_id} reviews {task_id}, so it cannot write it too "
            "(a reviewer never reviews their own work)"
        )
    if spec.kind is TaskKind.REVIEW:
        for needed in spec.depends_on:
            work = view.tasks.get(needed)
            if work is not None and work.spec.assignee == agent_id:
                return (
                    f"{task_id} reviews {needed}, which {agent_id} wrote "
                    "(a reviewer never reviews their own work)"
                )
    for other_id, other in view.tasks.items():
        if (
            other.spec.kind is TaskKind.REVIEW
            and task_id in other.spec.depends_on
            and other.spec.assignee == agent_id
        ):
            return (
                f"{agent_id} reviews {task_id} in {other_id}, so it cannot write it too "
                "(a reviewer never reviews their own work)"
            )
    return None
