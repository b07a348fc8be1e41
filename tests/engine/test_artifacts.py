"""What a task's output becomes: status reports as events, and one standing version per task."""

from __future__ import annotations

from pathlib import Path

from podium.domain.artifacts import ArtifactStatus
from podium.domain.escalation import ClarifyVisionCommand, OverrideCommand
from podium.domain.events import ProductionState, StatusReported, TaskSettled
from podium.domain.tasks import TaskState

from .harness import Script, crew, open_engine, production, tasks

CREW = crew(("prod", "producer"), ("w", "writer"), ("dp", "director_of_photography"))


async def test_a_report_task_reports_status_as_an_event_and_no_other_task_does(
    tmp_path: Path,
) -> None:
    body = (
        CREW
        + tasks(
            {"id": "c1", "title": "Chapter", "kind": "chapter", "assignee": "w"},
            {
                "id": "r",
                "title": "Status",
                "kind": "report",
                "assignee": "prod",
                "depends_on": ["c1"],
            },
        )
        + '[planner]\nmode = "explicit"\n'
    )
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    stored = await engine.store.read(kinds=("status_report", "task_settled"))
    await engine.store.close()
    # The report as its own event, or in the task's `TaskSettled` when its output stands.
    reports = [
        p.report if isinstance(p := e.payload, TaskSettled) else p
        for e in stored
        if not isinstance(e.payload, TaskSettled) or e.payload.report is not None
    ]
    [report] = reports
    assert isinstance(report, StatusReported)
    assert (report.agent_id, report.task_id) == ("prod", "r")
    assert report.artifact_id == engine.view.tasks["r"].artifact_id
    assert report.summary == "ok"
    assert engine.view.agents["prod"].last_report == "ok"


async def test_a_rerun_look_supersedes_the_earlier_version(tmp_path: Path) -> None:
    body = (
        CREW
        + tasks({"id": "look", "title": "Look", "kind": "look", "assignee": "dp"})
        + '[planner]\nmode = "explicit"\n'
    )
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED  # the look applied provisionally
    view = engine.view
    first = view.tasks["look"].artifact_id or ""
    assert view.artifacts[first].status is ArtifactStatus.PROVISIONAL
    amended = await engine.apply_offline(
        ClarifyVisionCommand(id="v", section="tone", value="colder", rerun=True)
    )
    assert amended.applied, amended.detail
    assert view.tasks["look"].state is TaskState.READY
    await engine.run()
    await engine.store.close()
    v1, v2 = (view.artifacts[a] for a in view.tasks["look"].artifact_ids)
    assert v2.status is ArtifactStatus.PROVISIONAL
    assert v1.status is ArtifactStatus.SUPERSEDED
    assert v2.provenance.vision_version == 2


async def test_an_approved_rerun_supersedes_what_was_accepted_before(tmp_path: Path) -> None:
    body = (
        CREW
        + tasks({"id": "c1", "title": "Chapter", "kind": "chapter", "assignee": "w"})
        + '[planner]\nmode = "explicit"\n'
    )
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    view = engine.view
    retried = await engine.apply_offline(OverrideCommand(id="o", task_id="c1", text="Shorter."))
    assert retried.applied, retried.detail
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    statuses = [view.artifacts[a].status for a in view.tasks["c1"].artifact_ids]
    assert statuses == [ArtifactStatus.SUPERSEDED, ArtifactStatus.ACCEPTED]
