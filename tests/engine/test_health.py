"""Production health: each figure's intervention level, from views built by hand."""

from __future__ import annotations

from podium.domain.debate import STOPPED_MID_DEBATE, Debate, DebateState
from podium.domain.escalation import Escalation, EscalationKind, Priority
from podium.domain.events import ProductionState
from podium.domain.health import Level, Signal, overall, signals
from podium.domain.production import Constraints
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind, TaskSpec, TaskState

START = 1000.0


def view(
    states: list[TaskState], *, failed_calls: list[int] | None = None, **limits: object
) -> ProductionView:
    v = ProductionView(constraints=Constraints.model_validate(limits))
    for i, state in enumerate(states):
        spec = TaskSpec(id=f"t{i}", title=f"T{i}", kind=TaskKind.CHAPTER, assignee="w")
        record = TaskRecord(spec=spec, state=state)
        if state is not TaskState.PENDING:
            record.started_at = START
        record.failed_calls = (failed_calls or [])[i] if failed_calls else 0
        v.tasks[spec.id] = record
    v.first_start = START
    v.working_since = START  # a run is under way: the deadline's clock runs
    return v


def signal(v: ProductionView, name: str, now: float = START) -> Signal | None:
    return next((s for s in signals(v, now) if s.name == name), None)


HALF_DONE = [TaskState.DONE, TaskState.DONE, TaskState.RUNNING, TaskState.PENDING]


def test_the_deadline_is_calm_early_watched_near_and_directs_once_passed() -> None:
    v = view([TaskState.DONE] * 3 + [TaskState.RUNNING], deadline=100)
    early = signal(v, "deadline", START + 40)  # 40% of the time, 75% of the work
    near = signal(v, "deadline", START + 85)  # near the end, though not far behind
    passed = signal(v, "deadline", START + 120)
    assert early is not None and early.level is Level.LET_AGENTS_WORK
    assert near is not None and near.level is Level.MONITOR_AND_GUIDE
    assert "near" in near.why
    assert passed is not None and passed.level is Level.DIRECT_AND_CORRECT
    assert "passed" in passed.why


def test_the_deadline_directs_when_time_runs_ahead_of_the_work() -> None:
    v = view([TaskState.DONE] + [TaskState.PENDING] * 9, deadline=100)  # 10% done
    behind = signal(v, "deadline", START + 60)
    assert behind is not None and behind.level is Level.DIRECT_AND_CORRECT


def test_a_finished_production_is_judged_by_when_it_finished() -> None:
    v = view([TaskState.DONE] * 4, deadline=100)
    v.state, v.last_end = ProductionState.COMPLETED, START + 50
    done = signal(v, "deadline", START + 500)
    assert done is not None and done.level is Level.LET_AGENTS_WORK


def test_the_retry_rate_rises_with_tasks_that_needed_retries() -> None:
    calm = view([TaskState.DONE] * 10, failed_calls=[1] + [0] * 9)
    watch = view([TaskState.DONE] * 10, failed_calls=[1, 1] + [0] * 8)
    direct = view([TaskState.DONE] * 10, failed_calls=[2, 1, 1, 1] + [0] * 6)
    levels = [signal(v, "retries") for v in (calm, watch, direct)]
    assert [s.level if s else None for s in levels] == [
        Level.LET_AGENTS_WORK,
        Level.MONITOR_AND_GUIDE,
        Level.DIRECT_AND_CORRECT,
    ]
    assert levels[1] is not None and levels[1].value == "2 of 10 started tasks needed a retry"
    assert signal(view([TaskState.PENDING]), "retries") is None  # nothing started yet


def test_budget_burn_ahead_of_progress_and_over_budget() -> None:
    v = view(HALF_DONE, budget_tokens=1000)
    v.input_tokens = 550  # 55% spent at 50% done
    assert (s := signal(v, "budget")) is not None and s.level is Level.LET_AGENTS_WORK
    v.input_tokens = 750
    assert (s := signal(v, "budget")) is not None and s.level is Level.MONITOR_AND_GUIDE
    v.input_tokens = 1000
    assert (s := signal(v, "budget")) is not None and s.level is Level.DIRECT_AND_CORRECT


def test_failures_debates_and_approvals_have_levels() -> None:
    v = view(HALF_DONE + [TaskState.FAILED])
    v.calls, v.failed_calls = 10, 4
    assert (s := signal(v, "failures")) is not None and s.level is Level.DIRECT_AND_CORRECT
    assert (s := signal(v, "failed tasks")) is not None and s.level is Level.DIRECT_AND_CORRECT
    v.debates = {
        f"d{i}": Debate(
            id=f"d{i}",
            task_id="t0",
            topic="x",
            participants=["w", "dir"],
            judge="prod",
            max_rounds=2,
            time_limit_s=60,
            state=state,
            reason=reason,
        )
        for i, (state, reason) in enumerate(
            [
                (DebateState.RULED, ""),
                (DebateState.RULED, ""),
                (DebateState.STALLED, ""),
                (DebateState.STALLED, STOPPED_MID_DEBATE),  # a stop is not a stall
            ]
        )
    }
    debates = signal(v, "debates")
    assert debates is not None and debates.value == "1/3 stalled"
    assert debates.level is Level.MONITOR_AND_GUIDE
    v.escalations["e1"] = Escalation(
        id="e1",
        kind=EscalationKind.MILESTONE,
        priority=Priority.NORMAL,
        title="Approve",
        opened_at=START,
    )
    fresh = signal(v, "approvals", START + 10)
    stale = signal(v, "approvals", START + 1000)
    assert fresh is not None and fresh.level is Level.MONITOR_AND_GUIDE  # someone must look
    assert stale is not None and stale.level is Level.DIRECT_AND_CORRECT
    assert overall(v, START) is Level.DIRECT_AND_CORRECT


def test_a_quiet_production_lets_the_agents_work() -> None:
    v = view([TaskState.DONE, TaskState.RUNNING], deadline=1000, budget_tokens=10_000)
    v.calls = 4
    assert overall(v, START + 10) is Level.LET_AGENTS_WORK
