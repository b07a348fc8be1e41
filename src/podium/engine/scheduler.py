"""Which tasks may start now: readiness by dependencies, and the concurrency limits.

Bookkeeping is incremental (a count of unsettled dependencies per task and a heap of ready
tasks in plan order), so scheduling costs O(log n) per task, not a scan of the plan per event.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable

from podium.domain.production import Constraints
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState


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
        """Update the indices; return dependents whose readiness changed (to re-check)."""
        if new is TaskState.READY:
            heapq.heappush(self._ready, (self.order.get(task_id, 0), task_id))
        touched: list[str] = []
        if new.settled and not old.settled:
            for dep in self.dependents.get(task_id, ()):
                self.unsettled[dep] -= 1
                touched.append(dep)
        elif old.settled and not new.settled:
            for dep in self.dependents.get(task_id, ()):
                self.unsettled[dep] += 1
                touched.append(dep)
        return touched

    def pick(self, limits: Constraints) -> list[str]:
        """Ready tasks to start now, in plan order, within the global, agent and model limits."""
        if len(self.running) >= limits.max_concurrency or not self._ready:
            return []
        chosen: list[str] = []
        held: list[tuple[int, str]] = []
        tasks = self.view.tasks
        while self._ready and len(self.running) < limits.max_concurrency:
            item = heapq.heappop(self._ready)
            tid = item[1]
            record = tasks.get(tid)
            if record is None or record.state is not TaskState.READY or tid in self.running:
                continue  # stale heap entry
            if tid in chosen:
                continue
            agent_id = record.spec.assignee
            agent = self.view.agents.get(agent_id)
            agent_limit = limits.max_per_agent
            if agent is not None and agent.spec.max_concurrency is not None:
                agent_limit = agent.spec.max_concurrency
            model = self._model_of(agent_id)
            model_limit = limits.max_per_model.get(model)
            if model_limit is None and self.view.spec is not None:
                settings = self.view.spec.models.settings.get(model)
                model_limit = settings.max_concurrency if settings else None
            if self.by_agent[agent_id] >= agent_limit or (
                model_limit is not None and self.by_model[model] >= model_limit
            ):
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
