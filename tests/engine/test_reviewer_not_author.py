"""A reviewer never reviews their own work: reassigning a task to one of its reviewers, or a
review task to the author of the work it reviews, is refused with the agents that may take it
(issue 19 §11: reassigning made the director review his own work)."""

from __future__ import annotations

from pathlib import Path

from podium.domain.escalation import EscalationKind, ReassignCommand
from podium.domain.events import ProductionState
from podium.llm.types import FailureKind, LLMError

from .harness import Script, crew, open_engine, production, tasks

CREW = (("dir", "director"), ("w", "writer"), ("w2", "writer"))


def reviewed() -> str:
    """`x` is w's, reviewed by dir; `notes` is a review task of x's work, dir's."""
    return (
        crew(*CREW)
        + tasks(
            {"id": "x", "title": "X", "kind": "chapter", "assignee": "w", "reviewers": ["dir"]},
            {
                "id": "notes",
                "title": "Notes on X",
                "kind": "review",
                "assignee": "dir",
                "depends_on": ["x"],
            },
        )
        + '[planner]\nmode = "explicit"\n[constraints]\nretries = 0\n'
    )


async def test_a_task_is_never_reassigned_to_its_reviewer(tmp_path: Path) -> None:
    script = Script(failures={"x": [LLMError(FailureKind.BAD_REQUEST, "refused")]})
    engine = await open_engine(production(reviewed()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    [failure] = engine.view.open_escalations()
    assert failure.kind is EscalationKind.FAILURE and failure.task_id == "x"
    refused = await engine.apply_offline(
        ReassignCommand(id="to-dir", escalation_id=failure.id, agent="dir")
    )
    assert not refused.applied
    assert "dir reviews x" in refused.detail
    assert "choose another agent: w2" in refused.detail
    assert engine.view.tasks["x"].spec.assignee == "w"
    assert engine.view.escalations[failure.id].open
    taken = await engine.apply_offline(
        ReassignCommand(id="to-w2", escalation_id=failure.id, agent="w2")
    )
    assert taken.applied, taken.detail
    await engine.store.close()


async def test_a_review_task_is_never_given_to_the_author_of_what_it_reviews(
    tmp_path: Path,
) -> None:
    script = Script(failures={"notes": [LLMError(FailureKind.BAD_REQUEST, "refused")]})
    engine = await open_engine(production(reviewed()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    [failure] = engine.view.open_escalations()
    assert failure.task_id == "notes"
    refused = await engine.apply_offline(ReassignCommand(id="to-w", task_id="notes", agent="w"))
    assert not refused.applied
    assert "notes reviews x, which w wrote" in refused.detail
    assert engine.view.tasks["notes"].spec.assignee == "dir"
    taken = await engine.apply_offline(ReassignCommand(id="to-w2", task_id="notes", agent="w2"))
    assert taken.applied, taken.detail
    await engine.store.close()
