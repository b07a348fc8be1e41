"""One `TaskSettled` for a task whose output stands, where podium recorded four events before.

The log of a run written today, with every `TaskSettled` written out again as the four events
an older podium recorded for it (territory, artifact status, current version, task done; and
first, the clean `ValidationReported` it carries, then a report task's `StatusReported`), is an
old log of the same production: both
must fold to the same view, and the old one must still read and fold.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from podium.domain.events import (
    PAYLOAD_ADAPTER,
    ArtifactStatusChanged,
    CurrentVersionSet,
    Event,
    Payload,
    ProductionState,
    StatusReported,
    TaskSettled,
    TaskStateChanged,
    TerritoryAssigned,
    ValidationReported,
)
from podium.domain.policy import Territory
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView, fold
from podium.domain.tasks import TaskState
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import EventStore
from podium.tui.live import Changes, Digest
from tests.export.samples import without_latency

from .harness import Script, crew, open_engine, production, tasks

SAMPLES = Path(__file__).resolve().parents[2] / "sample_productions"


def reports() -> ProductionSpec:
    """Report tasks in three layers, each on the whole layer before (bench's W3, smaller)."""
    made = [
        {
            "id": f"l{n}-t{i}",
            "title": f"Report {n}.{i}",
            "kind": "report",
            "assignee": f"p{i % 2}",
            "depends_on": [f"l{n - 1}-t{j}" for j in range(3)] if n else [],
        }
        for n in range(3)
        for i in range(3)
    ]
    return production(crew(("p0", "producer"), ("p1", "producer")) + tasks(*made))


def as_four(p: TaskSettled) -> list[Payload]:
    """What a podium before `TaskSettled` recorded for it, in its order (`Verdicts.conclude`):
    the clean check of the version that stands, a report task's report, then the four."""
    first: list[Payload] = [e for e in (p.validation, p.report) if e is not None]
    return first + [
        TerritoryAssigned(
            task_id=p.task_id,
            territory=p.territory,
            decision_kind=p.decision_kind,
            agent_claim=p.agent_claim,
        ),
        ArtifactStatusChanged(artifact_id=p.artifact_id, status=p.status),
        CurrentVersionSet(task_id=p.task_id, version=p.version, cause=p.cause),
        TaskStateChanged(task_id=p.task_id, state=TaskState.DONE, reason=p.reason),
    ]


def written_the_old_way(events: list[Event]) -> tuple[list[Event], dict[int, int]]:
    """The log with each `TaskSettled` as its four events (and its check and report; read back from
    their JSON, as the store reads them), and each new seq → the seq its event has there."""
    old: list[Event] = []
    seqs: dict[int, int] = {}
    for event in events:
        payloads = as_four(event.payload) if isinstance(event.payload, TaskSettled) else None
        for payload in payloads or [event.payload]:
            stored = PAYLOAD_ADAPTER.validate_json(payload.model_dump_json())
            old.append(Event(seq=len(old) + 1, ts=event.ts, payload=stored))
        seqs[event.seq] = len(old) - (len(payloads) - 1 if payloads else 0)
    return old, seqs


async def run_sample(name: str, db: Path) -> list[Event]:
    """The sample production's run, without simulated latency (its output is the same); or
    `reports()`."""
    spec = without_latency(
        reports() if name == "reports" else read_production(SAMPLES / f"{name}.toml")
    )
    store = await EventStore.open(db)
    try:
        engine = await Engine.open(
            store, spec=spec, source=f"{name}.toml", auto_approve=AutoApprove("all")
        )
        await engine.run()
        events = await store.read()
        live = engine.view
    finally:
        await store.close()
    assert same(fold(events), live, {e.seq: e.seq for e in events})  # the live view is the log's
    return events


def same(old: ProductionView, new: ProductionView, seqs: dict[int, int]) -> bool:
    """The two views are equal but for where their log stands (the seqs differ by design)."""
    assert {a: seqs[s] for a, s in new.artifact_seqs.items()} == old.artifact_seqs
    assert seqs[new.last_seq] == old.last_seq
    commands = {i: replace(c, seq=seqs[c.seq]) for i, c in new.commands.items()}
    assert commands == old.commands
    moved = replace(new, artifact_seqs=old.artifact_seqs, last_seq=old.last_seq)
    return replace(moved, commands=old.commands) == old


@pytest.mark.parametrize("sample", ["last_light", "arctic_journey", "reports"])
async def test_a_log_with_task_settled_folds_as_the_four_events_it_stands_for(
    sample: str, tmp_path: Path
) -> None:
    events = await run_sample(sample, tmp_path / "p.db")
    settled = [e.payload for e in events if isinstance(e.payload, TaskSettled)]
    territories = {p.territory for p in settled}
    assert settled and territories <= {Territory.AUTONOMOUS, Territory.COLLABORATIVE}
    # A task that settled records no territory, status or current version of its own for it.
    alone = {p.task_id for e in events if isinstance(p := e.payload, TerritoryAssigned)}
    assert not alone & {p.task_id for p in settled}
    old, seqs = written_the_old_way(events)
    reported = sum(p.report is not None for p in settled)
    # The clean check of a version that settles without review is in its TaskSettled only.
    carried = [(p.task_id, p.artifact_id, p.validation) for p in settled if p.validation]
    assert carried or sample == "arctic_journey"  # where every task is reviewed
    assert all(c.passed and (c.task_id, c.artifact_id) == (t, a) for t, a, c in carried)
    alone_checks = {
        (p.task_id, p.artifact_id) for e in events if isinstance(p := e.payload, ValidationReported)
    }
    assert not alone_checks & {(t, a) for t, a, _ in carried}
    assert len(old) == len(events) + 3 * len(settled) + reported + len(carried)
    assert reported or sample != "reports"
    new_view, old_view = fold(events), fold(old)
    assert same(old_view, new_view, seqs)
    assert all(new_view.tasks[p.task_id].state.settled for p in settled)


async def test_a_corrected_task_folds_its_carried_clean_check_as_its_own(tmp_path: Path) -> None:
    """A draft that fails its check, then one that passes and settles: the clean check is in
    the `TaskSettled`, and folds over the failed one's findings as its own event did."""
    body = crew(("w", "writer")) + tasks(
        {"id": "c1", "title": "Chapter 1", "kind": "chapter", "assignee": "w"}
    )
    rule = '[[validators]]\ntype = "word_count"\nkinds = ["chapter"]\nmin = 50\nmax = 200\n'
    spec = production(body + '[planner]\nmode = "explicit"\n' + rule)
    engine = await open_engine(spec, tmp_path / "p.db", Script(words={"c1": [10, 80]}))
    assert await engine.run() is ProductionState.COMPLETED
    events = await engine.store.read()
    await engine.store.close()
    [failed] = [p for e in events if isinstance(p := e.payload, ValidationReported)]
    [settled] = [p for e in events if isinstance(p := e.payload, TaskSettled)]
    assert failed.findings and settled.validation is not None
    assert (settled.validation.attempt, settled.validation.findings) == (2, [])
    assert settled.validation.artifact_id == settled.artifact_id == "c1-v2"
    old, seqs = written_the_old_way(events)
    new_view, old_view = fold(events), fold(old)
    assert new_view.tasks["c1"].findings == old_view.tasks["c1"].findings == []
    assert same(old_view, new_view, seqs)


def test_the_screen_marks_a_settled_task_as_a_task_that_is_done() -> None:
    settled = TaskSettled(
        task_id="t",
        territory=Territory.AUTONOMOUS,
        decision_kind="minor_story_detail",
        artifact_id="a",
        status="accepted",
        version=1,
        cause="made",
        reason="autonomous",
        validation=ValidationReported(task_id="t", attempt=1, artifact_id="a"),
        report=StatusReported(agent_id="w", task_id="t", summary="on track"),
    )
    marked = []
    for payloads in ([settled], as_four(settled)):
        changes = Changes()
        digest = Digest()
        digest.task_chars["t"] = 5
        for payload in payloads:
            digest._one(payload, changes)
        marked.append((changes.tasks, changes.runs, changes.agents, dict(digest.task_chars)))
    assert marked[0] == marked[1] == ({"t"}, {"t"}, {"w"}, {"t": 5})


async def test_a_verdict_that_fails_still_records_the_clean_check_it_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in the verdict fails the task; the clean check the verdict would have carried is
    recorded, so the task shows its last version's findings (none), not the failed draft's."""
    body = crew(("w", "writer")) + tasks(
        {"id": "c1", "title": "Chapter 1", "kind": "chapter", "assignee": "w"}
    )
    rule = '[[validators]]\ntype = "word_count"\nkinds = ["chapter"]\nmin = 50\nmax = 200\n'
    spec = production(body + '[planner]\nmode = "explicit"\n' + rule)
    engine = await open_engine(spec, tmp_path / "p.db", Script(words={"c1": [10, 80]}))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the verdict")

    monkeypatch.setattr(engine.verdicts, "settle", broken)
    await engine.run()
    events = await engine.store.read()
    await engine.store.close()
    checks = [p for e in events if isinstance(p := e.payload, ValidationReported)]
    assert [(c.attempt, bool(c.findings)) for c in checks] == [(1, True), (2, False)]
    assert engine.view.tasks["c1"].findings == []
    assert engine.view.tasks["c1"].state is not TaskState.DONE
