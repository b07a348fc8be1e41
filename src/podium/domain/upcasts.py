"""The upcast for old logs: facts an older podium kept only in prose, read from it once."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from podium.domain.escalation import EscalationKind
from podium.domain.events import EscalationOpened, EscalationResolved, TaskStateChanged

if TYPE_CHECKING:
    from podium.domain.state import ProductionView


_Stored = TypeVar("_Stored", TaskStateChanged, EscalationOpened, EscalationResolved)


def upcast_untyped_facts(view: ProductionView, p: _Stored) -> _Stored:
    """The upcast for old logs: a payload written before podium recorded these facts as typed
    fields (the field is None), with the field derived once from the prose it kept then. The
    only place podium reads a fact from prose; the fold calls it when the field is None.

    * `TaskStateChanged.interrupted`: its reason began "interrupted";
    * `EscalationResolved.allowance`: a budget escalation resolved "allowed … once";
    * `Escalation.task_ids`: `task_id`, and for a vision change or a scope change the task ids
      listed in its `evidence`.
    """
    if isinstance(p, TaskStateChanged):
        return p.model_copy(update={"interrupted": p.reason.startswith("interrupted")})
    if isinstance(p, EscalationResolved):
        about = view.escalations.get(p.escalation_id)
        allowed = (
            about is not None
            and about.kind is EscalationKind.BUDGET
            and p.resolution.startswith("allowed")
        )
        return p.model_copy(update={"allowance": allowed})
    esc = p.escalation
    ids = [esc.task_id] if esc.task_id else []
    if esc.kind in (EscalationKind.VISION_STALE, EscalationKind.SCOPE_CHANGE):
        ids += [t for t in esc.evidence if t in view.tasks and t not in ids]
    return p.model_copy(update={"escalation": esc.model_copy(update={"task_ids": ids})})
