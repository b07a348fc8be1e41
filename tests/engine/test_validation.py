"""Validation and self-correction: findings go back to the agent, a bounded number of times;
then a quality escalation, or a deviation escalation for drift from the vision."""

from __future__ import annotations

from pathlib import Path

from podium.domain.artifacts import Prose
from podium.domain.escalation import EscalationKind
from podium.domain.events import ProductionState, ValidationReported
from podium.domain.tasks import TaskState
from podium.domain.validators import Severity
from podium.llm.types import CompletionRequest

from .harness import Script, crew, open_engine, production, tasks

WORDS = '[[validators]]\ntype = "word_count"\nkinds = ["chapter"]\nmin = 50\nmax = 200\n'


def one_chapter(validators: str) -> str:
    return (
        crew(("w", "writer"))
        + tasks({"id": "c1", "title": "Chapter 1", "kind": "chapter", "assignee": "w"})
        + '[planner]\nmode = "explicit"\n[constraints]\nself_correction_attempts = 2\n'
        + validators
    )


async def validations(engine: object) -> list[ValidationReported]:
    """Each attempt's check, in order: a clean last one is in its task's `TaskSettled`."""
    store = engine.store  # type: ignore[attr-defined]
    read = [e.payload for e in await store.read(kinds=("validation", "task_settled"))]
    return [
        p if isinstance(p, ValidationReported) else p.validation
        for p in read
        if p.kind == "validation" or p.validation
    ]


async def test_feedback_from_the_validators_corrects_the_draft(tmp_path: Path) -> None:
    script = Script(words={"c1": [10, 20, 80]})
    engine = await open_engine(production(one_chapter(WORDS)), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    reports = await validations(engine)
    await engine.store.close()
    assert [bool(r.findings) for r in reports] == [True, True, False]
    assert "10 words" in reports[0].findings[0].message  # recounted, not the agent's claim
    prompts = [c.messages[-1].content for c in script.calls if c.task_id == "c1"]
    assert "CORRECT THESE PROBLEMS" not in prompts[0]
    assert all("CORRECT THESE PROBLEMS" in p for p in prompts[1:])
    assert reports[0].findings[0].message in prompts[1]
    view = engine.view
    final = view.artifacts[view.tasks["c1"].artifact_id or ""]
    assert final.provenance.attempt == 3
    assert view.tasks["c1"].state is TaskState.DONE


async def test_a_draft_that_stays_wrong_becomes_a_quality_escalation(tmp_path: Path) -> None:
    script = Script(words={"c1": [10, 10, 10, 10]})
    engine = await open_engine(production(one_chapter(WORDS)), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    await engine.store.close()
    view = engine.view
    assert len([c for c in script.calls if c.task_id == "c1"]) == 3  # 1 + 2 corrections
    [quality] = view.open_escalations()
    assert quality.kind is EscalationKind.QUALITY and quality.task_id == "c1"
    assert quality.artifact_ids == [view.tasks["c1"].artifact_id]
    assert any("10 words" in line for line in quality.evidence)
    assert view.tasks["c1"].state is TaskState.AWAITING_APPROVAL
    attempts = [view.artifacts[a].provenance.attempt for a in view.tasks["c1"].artifact_ids]
    assert attempts == [1, 2, 3]


async def test_forbidden_terms_become_a_deviation_with_the_evidence(tmp_path: Path) -> None:
    rule = (
        '[[validators]]\ntype = "forbidden_terms"\nterms = ["neon"]\nseverity = "deviation"\n'
        'reason = "the palette is ice and lamplight"\n'
    )

    def answer(request: CompletionRequest) -> Prose | None:
        return Prose(text="The neon hum of the station. " * 10)

    script = Script(answer=answer)
    engine = await open_engine(production(one_chapter(rule)), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    reports = await validations(engine)
    await engine.store.close()
    assert all(f.severity is Severity.DEVIATION for r in reports for f in r.findings)
    [deviation] = engine.view.open_escalations()
    assert deviation.kind is EscalationKind.DEVIATION
    assert "drifts from the vision" in deviation.title
    assert any("neon" in line for line in deviation.evidence)
    prompts = [c.messages[-1].content for c in script.calls if c.task_id == "c1"]
    assert "Never use: neon" in prompts[0]
