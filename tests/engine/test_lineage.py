"""Versions and lineage: a new current version makes what was made from it stale, transitively;
stale work is made again in dependency order (approved work asks first); the screenplay is
assembled by podium from the current scenes (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

from podium.domain import lineage
from podium.domain.artifacts import PODIUM, Screenplay
from podium.domain.escalation import ApproveCommand, EscalationKind, OverrideCommand, SkipCommand
from podium.domain.events import (
    CurrentVersionSet,
    ProductionState,
    StaleCause,
    TaskSettled,
    TaskStateChanged,
    VersionCause,
)
from podium.domain.state import fold
from podium.domain.tasks import TaskState
from podium.domain.versions import current, current_number
from podium.engine.engine import Engine
from podium.export.screenplay import slots
from podium.export.sources import ExportSource

from .harness import Script, crew, open_engine, production, tasks

CREW = crew(("w", "writer"), ("dp", "director_of_photography"), ("ed", "editor"))


def film(shots: str = "autonomous") -> str:
    scene = {"kind": "scene", "assignee": "w"}
    return (
        CREW
        + tasks(
            scene | {"id": "scene-1", "title": "S1", "params": {"scene": 1}},
            scene | {"id": "scene-2", "title": "S2", "params": {"scene": 2}},
            scene | {"id": "scene-3", "title": "S3", "params": {"scene": 3}},
            {
                "id": "script",
                "title": "Script",
                "kind": "script",
                "assignee": "w",
                "depends_on": ["scene-1", "scene-2", "scene-3"],
            },
            {
                "id": "shots",
                "title": "Shots",
                "kind": "shot_list",
                "assignee": "dp",
                "depends_on": ["script"],
            },
            {
                "id": "cut",
                "title": "Cut",
                "kind": "edit",
                "assignee": "ed",
                "depends_on": ["shots"],
            },
        ).replace('params = {"scene": ', "params = { scene = ")
        + '[planner]\nmode = "explicit"\n[authority.decisions]\n'
        + 'scene_pacing = "autonomous"\nmilestone_deliverable = "autonomous"\n'
        + f'shot_composition = "{shots}"\n'
    )


def scene_json(heading: str, line: str) -> str:
    return json.dumps(
        {
            "scenes": [
                {
                    "heading": heading,
                    "elements": [
                        {"type": "character", "text": "MORAG"},
                        {"type": "dialogue", "text": line},
                    ],
                }
            ]
        }
    )


async def done(tmp_path: Path, body: str) -> Engine:
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    return engine


async def test_an_override_makes_three_levels_stale_and_they_are_made_again_in_order(
    tmp_path: Path,
) -> None:
    engine = await done(tmp_path, film())
    view = engine.view
    assert current_number(view, view.tasks["shots"]) == 1
    result = await engine.apply_offline(
        OverrideCommand(
            id="o",
            task_id="scene-3",
            text=scene_json("EXT. HARBOUR - NIGHT", "Move it."),
            replace=True,
        )
    )
    assert result.applied, result.detail
    states = {t: view.tasks[t].state for t in ("script", "shots", "cut")}
    assert states == {"script": TaskState.READY, "shots": TaskState.STALE, "cut": TaskState.STALE}
    assert lineage.stale(view) == {
        "shots": StaleCause.INPUT_STALE,
        "cut": StaleCause.INPUT_STALE,
    }
    assert await engine.run() is ProductionState.COMPLETED
    assert lineage.stale(view) == {}
    script = current(view, "script")
    assert script is not None and script.provenance.agent_id == PODIUM
    assert script.provenance.made_from == {"scene-1": 1, "scene-2": 1, "scene-3": 2}
    play = script.parsed()
    assert isinstance(play, Screenplay)
    assert [s.heading for s in play.scenes][2] == "EXT. HARBOUR - NIGHT"
    shots = current(view, "shots")
    assert shots is not None and shots.provenance.made_from == {"script": 2}
    cut = current(view, "cut")
    assert cut is not None and cut.provenance.made_from == {"shots": 2}
    events = [e.payload for e in await engine.store.read()]
    went_stale = [
        (p.task_id, p.stale_cause)
        for p in events
        if isinstance(p, TaskStateChanged) and p.state is TaskState.STALE
    ]
    assert went_stale == [
        ("script", StaleCause.INPUT_CHANGED),
        ("shots", StaleCause.INPUT_STALE),
        ("cut", StaleCause.INPUT_STALE),
    ]
    order = [
        p.task_id
        for p in events
        if isinstance(p, TaskStateChanged) and p.state is TaskState.RUNNING
    ][-3:]
    assert order == ["script", "shots", "cut"]  # each waited for its stale input
    made = [(p.task_id, p.cause) for p in events if isinstance(p, CurrentVersionSet | TaskSettled)][
        -4:
    ]
    assert made == [
        ("scene-3", VersionCause.REPLACE),
        ("script", VersionCause.MADE),
        ("shots", VersionCause.MADE),
        ("cut", VersionCause.MADE),
    ]
    source = ExportSource(fold(await engine.store.read()))
    chosen = slots(source)[None]
    assert [s.scene.heading for s in chosen][2] == "EXT. HARBOUR - NIGHT"
    assert all(s.artifact.task_id == "script" and s.label is None for s in chosen)
    await engine.store.close()


async def test_a_two_scene_replacement_of_the_script_is_the_screenplay(tmp_path: Path) -> None:
    engine = await done(tmp_path, film())
    two = json.loads(scene_json("INT. CROFT - DAY", "One."))
    two["scenes"].append(json.loads(scene_json("EXT. SHORE - DUSK", "Two."))["scenes"][0])
    result = await engine.apply_offline(
        OverrideCommand(id="o", task_id="script", text=json.dumps(two), replace=True)
    )
    assert result.applied, result.detail
    assert engine.view.tasks["shots"].state is TaskState.READY
    assert await engine.run() is ProductionState.COMPLETED
    source = ExportSource(fold(await engine.store.read()))
    chosen = slots(source)[None]
    assert [s.scene.heading for s in chosen] == ["INT. CROFT - DAY", "EXT. SHORE - DUSK"]
    shots = current(source.view, "shots")
    assert shots is not None and shots.provenance.made_from == {"script": 2}
    await engine.store.close()


async def test_approved_stale_work_asks_once_and_keep_rebases_it(tmp_path: Path) -> None:
    body = film(shots="approval_required")
    engine = await open_engine(production(body), tmp_path / "p.db", Script())
    await engine.run()
    view = engine.view
    gate = next(e for e in view.open_escalations() if e.task_id == "shots")
    await engine.apply_offline(ApproveCommand(id="a", escalation_id=gate.id))
    assert await engine.run() is ProductionState.COMPLETED
    await engine.apply_offline(
        OverrideCommand(
            id="o", task_id="scene-1", text=scene_json("INT. A - DAY", "New."), replace=True
        )
    )
    assert await engine.run() is ProductionState.WAITING
    asks = [e for e in view.open_escalations() if e.kind is EscalationKind.VISION_STALE]
    assert len(asks) == 1 and asks[0].task_ids == ["shots"]
    assert view.tasks["shots"].state is TaskState.STALE
    assert view.tasks["cut"].state is TaskState.STALE  # waits on its stale input
    result = await engine.apply_offline(SkipCommand(id="k", escalation_id=asks[0].id))
    assert result.applied, result.detail
    assert view.tasks["shots"].state is TaskState.DONE
    assert view.tasks["shots"].made_from == {"script": 2}
    assert view.tasks["cut"].state is TaskState.DONE  # its input was kept: not made again
    assert lineage.stale(view) == {}
    assert await engine.run() is ProductionState.COMPLETED
    assert current_number(view, view.tasks["shots"]) == 1
    await engine.store.close()


async def test_a_replacement_of_a_task_not_yet_done_finishes_it(tmp_path: Path) -> None:
    """A task that is ready (not run yet, or sent back for a retry, or interrupted by a resume)
    can be replaced: the Orchestrator's version finishes it (it raised ready → done before)."""
    engine = await done(tmp_path, film())
    engine.set_task_state("scene-1", TaskState.STALE, "sent back")
    engine.set_task_state("scene-1", TaskState.READY, "sent back")
    result = await engine.apply_offline(
        OverrideCommand(
            id="o", task_id="scene-1", text=scene_json("INT. A - DAY", "Mine."), replace=True
        )
    )
    assert result.applied, result.detail
    assert engine.view.tasks["scene-1"].state is TaskState.DONE
    assert await engine.run() is ProductionState.COMPLETED
    written = current(engine.view, "scene-1")
    assert written is not None and written.provenance.by_orchestrator
    assert written.provenance.version == 2
    await engine.store.close()
