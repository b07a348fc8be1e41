"""Production health: the figures the Orchestrator watches, each with an intervention level.

The levels are the seed's: let agents work, monitor and guide, direct and correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from podium.domain.debate import DebateState
from podium.domain.escalation import EscalationKind
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState


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
        used = 0.0
        if limits.budget_tokens:
            used = max(used, view.tokens() / limits.budget_tokens)
        if limits.budget_usd:
            used = max(used, view.cost_usd / limits.budget_usd)
        burn = used - done  # spending ahead of progress
        level = Level.DIRECT_AND_CORRECT if used >= 1 else _level(burn, 0.15, 0.35)
        out.append(
            Signal(
                "budget",
                f"{used:.0%} used at {done:.0%} done",
                level,
                "spending ahead of progress" if burn > 0.15 else "",
            )
        )
    if limits is not None and limits.deadline and view.first_start is not None:
        elapsed = (
            view.last_end if view.state.value == "completed" and view.last_end else now
        ) - view.first_start
        share = elapsed / limits.deadline
        behind = share - done
        level = Level.DIRECT_AND_CORRECT if share >= 1 else _level(behind, 0.15, 0.35)
        out.append(Signal("deadline", f"{share:.0%} of the time at {done:.0%} done", level))
    if view.calls:
        rate = view.failed_calls / view.calls
        out.append(Signal("failures", f"{rate:.0%} of calls failed", _level(rate, 0.1, 0.3)))
    failed = sum(1 for r in view.tasks.values() if r.state is TaskState.FAILED)
    if failed:
        out.append(Signal("failed tasks", str(failed), Level.DIRECT_AND_CORRECT))
    if view.debates:
        stalled = sum(1 for d in view.debates.values() if d.state is DebateState.STALLED)
        rate = stalled / len(view.debates)
        out.append(
            Signal("debates", f"{stalled}/{len(view.debates)} stalled", _level(rate, 0.2, 0.5))
        )
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


def overall(view: ProductionView, now: float) -> Level:
    found = signals(view, now)
    return max((s.level for s in found), default=Level.LET_AGENTS_WORK)


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
