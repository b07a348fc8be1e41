"""Production health: the figures the Orchestrator watches, each with an intervention level.

The levels are the seed's: let agents work, monitor and guide, direct and correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from podium.domain.debate import DebateState
from podium.domain.escalation import EscalationKind
from podium.domain.events import ProductionState
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState

DEADLINE_NEAR = 0.8  # of the time used: the Orchestrator should be watching by now


class Level(IntEnum):
    LET_AGENTS_WORK = 0
    MONITOR_AND_GUIDE = 1
    DIRECT_AND_CORRECT = 2

    @property
    def label(self) -> str:
        return ("let agents work", "monitor and guide", "direct and correct")[self]


@dataclass(frozen=True)
class Signal:
    name: str
    value: str
    level: Level
    why: str = ""


def _level(value: float, guide: float, correct: float) -> Level:
    if value >= correct:
        return Level.DIRECT_AND_CORRECT
    if value >= guide:
        return Level.MONITOR_AND_GUIDE
    return Level.LET_AGENTS_WORK


def progress(view: ProductionView) -> float:
    if not view.tasks:
        return 0.0
    return sum(1 for r in view.tasks.values() if r.state.settled) / len(view.tasks)


def signals(view: ProductionView, now: float) -> list[Signal]:
    limits = view.constraints
    done = progress(view)
    out: list[Signal] = []
    if limits is not None and (limits.budget_tokens or limits.budget_usd):
        out.append(_budget(view, limits.budget_tokens, limits.budget_usd, done))
    if limits is not None and limits.deadline and view.first_start is not None:
        out.append(_deadline(view, view.first_start, limits.deadline, done, now))
    if view.calls:
        rate = view.failed_calls / view.calls
        out.append(Signal("failures", f"{rate:.0%} of calls failed", _level(rate, 0.1, 0.3)))
    started = [r for r in view.tasks.values() if r.started_at is not None]
    if started:
        retried = sum(1 for r in started if r.failed_calls)
        rate = retried / len(started)
        out.append(
            Signal(
                "retries",
                f"{retried} of {len(started)} started tasks needed a retry",
                _level(rate, 0.15, 0.4),
                "a provider is struggling or a prompt keeps failing" if rate >= 0.15 else "",
            )
        )
    failed = sum(1 for r in view.tasks.values() if r.state is TaskState.FAILED)
    if failed:
        out.append(Signal("failed tasks", str(failed), Level.DIRECT_AND_CORRECT))
    argued = [d for d in view.debates.values() if not d.interrupted]
    if argued:
        stalled = sum(1 for d in argued if d.state is DebateState.STALLED)
        rate = stalled / len(argued)
        out.append(Signal("debates", f"{stalled}/{len(argued)} stalled", _level(rate, 0.2, 0.5)))
    waiting = [e for e in view.open_escalations() if e.kind is not EscalationKind.COLLABORATIVE]
    if waiting:
        oldest = max(now - e.opened_at for e in waiting)
        level = _level(oldest, 120, 900)
        out.append(
            Signal(
                "approvals",
                f"{len(waiting)} open, oldest {_age(oldest)}",
                max(level, Level.MONITOR_AND_GUIDE),
            )
        )
    return out


def _budget(view: ProductionView, tokens: int | None, usd: float | None, done: float) -> Signal:
    used = 0.0
    if tokens:
        used = max(used, view.tokens() / tokens)
    if usd:
        used = max(used, view.cost_usd / usd)
    burn = used - done  # spending ahead of progress
    level = Level.DIRECT_AND_CORRECT if used >= 1 else _level(burn, 0.15, 0.35)
    why = "spending ahead of progress" if burn > 0.15 else ""
    value = f"{used:.0%} used at {done:.0%} done"
    if usd and view.cost_unknown:
        # Some calls' prices are unknown: the dollars counted are a floor, not the spend.
        value += ", cost unknown for some calls"
        why = "cost unknown: the dollar budget counts only priced calls" + (
            "; the token budget still applies" if tokens else "; set budget_tokens to bound it"
        )
        level = max(level, Level.MONITOR_AND_GUIDE)
    return Signal("budget", value, level, why)


def _deadline(
    view: ProductionView, first_start: float, deadline: float, done: float, now: float
) -> Signal:
    """Working time used against the deadline (the clock stops while paused or stopped):
    watch as it nears, direct once it has passed."""
    finished = view.state is ProductionState.COMPLETED and view.last_end is not None
    elapsed = view.working_s(now)
    share = elapsed / deadline
    behind = share - done  # time going faster than the work
    value = f"{share:.0%} of the time at {done:.0%} done"
    if finished:
        level = Level.LET_AGENTS_WORK if share <= 1 else Level.MONITOR_AND_GUIDE
        return Signal("deadline", value, level, "finished late" if share > 1 else "")
    if share >= 1:
        return Signal("deadline", value, Level.DIRECT_AND_CORRECT, "the deadline has passed")
    level = _level(behind, 0.15, 0.35)
    why = "behind schedule" if behind >= 0.15 else ""
    if share >= DEADLINE_NEAR:
        level = max(level, Level.MONITOR_AND_GUIDE)
        why = why or f"the deadline is near: {_age(deadline - elapsed)} left"
    return Signal("deadline", value, level, why)


def overall(view: ProductionView, now: float) -> Level:
    found = signals(view, now)
    return max((s.level for s in found), default=Level.LET_AGENTS_WORK)


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
