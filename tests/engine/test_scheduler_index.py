"""The scheduler's readiness index: a settled task names only the dependents it can change."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from podium.domain.tasks import TaskState
from podium.engine.scheduler import Scheduler


def _view(**deps: list[str]) -> Any:
    tasks = {
        tid: SimpleNamespace(spec=SimpleNamespace(depends_on=on), state=TaskState.PENDING)
        for tid, on in deps.items()
    }
    return SimpleNamespace(tasks=tasks)


def _settle(scheduler: Scheduler, task_id: str) -> list[str]:
    record = scheduler.view.tasks[task_id]
    old, record.state = record.state, TaskState.DONE
    return scheduler.on_state(task_id, old, TaskState.DONE)


def test_a_settled_input_names_only_dependents_left_with_nothing_unsettled() -> None:
    view = _view(a=[], b=[], c=["a", "b"], d=["a"], e=["a", "b"])
    scheduler = Scheduler(view, lambda agent: "m")
    # c and e still wait on b: nothing about them can change (they used to be named too).
    assert _settle(scheduler, "a") == ["d"]
    assert _settle(scheduler, "b") == ["c", "e"]
    assert scheduler.deps_settled("c") and scheduler.deps_settled("e")


def test_a_ready_dependent_still_waiting_is_named_so_it_can_wait_again() -> None:
    view = _view(a=[], b=[], c=["a", "b"])
    view.tasks["c"].state = TaskState.READY  # ready before a plan change gave it two inputs
    scheduler = Scheduler(view, lambda agent: "m")
    assert _settle(scheduler, "a") == ["c"]
    assert not scheduler.deps_settled("c")


def test_an_input_unsettled_again_names_every_dependent() -> None:
    view = _view(a=[], c=["a"], d=["a"])
    scheduler = Scheduler(view, lambda agent: "m")
    _settle(scheduler, "a")
    assert scheduler.on_state("a", TaskState.DONE, TaskState.STALE) == ["c", "d"]
    assert not scheduler.deps_settled("c")
