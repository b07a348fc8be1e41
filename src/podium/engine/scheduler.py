"""Which tasks may start now: readiness by dependencies, and task slots.

Task slots are not call slots. Every model call (a task's own, and its reviews, debate turns,
rulings, alternatives, plan and images) waits for a slot of the call limiter
(`podium.engine.limiter`), which is what bounds the load on providers. The scheduler only
decides how many tasks are under way: at most `max_concurrency` in all, and, so that slots are
not filled with tasks whose calls could only wait, at most an agent's limit of tasks assigned to
it and a model's limit of tasks whose assignee uses it. Both read the same `Limits`. A running
task holds no call slot between its calls, so a task waiting for its reviews never holds up the
calls that would end the wait.

Bookkeeping is incremental (a count of unsettled dependencies per task and a heap of ready
tasks in plan order), so scheduling costs O(log n) per task, not a scan of the plan per event.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable

from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.engine.limiter import Limits


class Scheduler:
    def __init__(self, view: ProductionView, model_of: Callable[[str], str]) -> None:
        self.view = view
        self._model_of = model_of  # agent id → model string
        self.order: dict[str, int] = {}
        self.unsettled: dict[str, int] = {}
        self.dependents: dict[str, list[str]] = {}
        self._ready: list[tuple[int, str]] = []
        self.running: dict[str, tuple[str, str]] = {}  # task → (agent, model) it started with
        self.by_agent: Counter[str] = Counter()
        self.by_model: Counter[str] = Counter()
        self.rebuild()

    def rebuild(self) -> None:
        """Recompute every index from the view (after a plan change or a load)."""
        tasks = self.view.tasks
        self.order = {tid: i for i, tid in enumerate(tasks)}
        self.dependents = {tid: [] for tid in tasks}
        self.unsettled = {}
        for tid, record in tasks.items():
            count = 0
            for dep in record.spec.depends_on:
                if dep in tasks:
                    self.dependents[dep].append(tid)
                    if not tasks[dep].state.settled:
                        count += 1
            self.unsettled[tid] = count
        self._ready = [(self.order[t], t) for t, r in tasks.items() if r.state is TaskState.READY]
        heapq.heapify(self._ready)

    def deps_settled(self, task_id: str) -> bool:
        return self.unsettled.get(task_id, 0) == 0

    def promotable(self) -> list[str]:
        """Pending tasks whose dependencies are all settled."""
        return [
            tid
            for tid, record in self.view.tasks.items()
            if record.state is TaskState.PENDING and self.unsettled.get(tid, 0) == 0
        ]

    def on_state(self, task_id: str, old: TaskState, new: TaskState) -> list[str]:
        """Update the indices; return dependents whose readiness may have changed (to
        re-check)."""
        if new is TaskState.READY:
            heapq.heappush(self._ready, (self.order.get(task_id, 0), task_id))
        touched: list[str] = []
        if new.settled and not old.settled:
            # Only a dependent with nothing left unsettled can become ready; one still waiting
            # changes nothing, unless it is ready (after a plan change) and must wait again.
            unsettled, tasks, ready = self.unsettled, self.view.tasks, TaskState.READY
            for dep in self.dependents.get(task_id, ()):
                left = unsettled[dep] = unsettled[dep] - 1
                if not left or tasks[dep].state is ready:
                    touched.append(dep)
        elif old.settled and not new.settled:
            for dep in self.dependents.get(task_id, ()):
                self.unsettled[dep] += 1
                touched.append(dep)
        return touched

    def pick(self, limits: Limits) -> list[str]:
        """Ready tasks to start now, in plan order, within the task slots: in all, per
        assignee and per assignee's model."""
        if len(self.running) >= limits.total or not self._ready:
            return []
        chosen: list[str] = []
        held: list[tuple[int, str]] = []
        tasks = self.view.tasks
        while self._ready and len(self.running) < limits.total:
            item = heapq.heappop(self._ready)
            tid = item[1]
            record = tasks.get(tid)
            if record is None or record.state is not TaskState.READY or tid in self.running:
                continue  # stale heap entry
            if tid in chosen:
                continue
            agent_id = record.spec.assignee
            model = self._model_of(agent_id)
            agent_full = self.by_agent[agent_id] >= limits.of_agent(agent_id)
            if agent_full or self.by_model[model] >= limits.of_model(model):
                held.append(item)
                continue
            chosen.append(tid)
            self.running[tid] = (agent_id, model)
            self.by_agent[agent_id] += 1
            self.by_model[model] += 1
        for item in held:
            heapq.heappush(self._ready, item)
        return chosen

    def finished(self, task_id: str) -> None:
        started = self.running.pop(task_id, None)
        if started is not None:
            agent_id, model = started
            self.by_agent[agent_id] -= 1
            self.by_model[model] -= 1

    def has_ready(self) -> bool:
        tasks = self.view.tasks
        return any(
            (r := tasks.get(tid)) is not None and r.state is TaskState.READY
            for _, tid in self._ready
        )
