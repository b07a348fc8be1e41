"""The Orchestrator's edit and restore (issue 16): an edit is a version written by hand that
becomes current verbatim; a restore makes an earlier version current again as a new event;
either makes what was made from the old one stale, and it is made again."""

from __future__ import annotations

import json
from pathlib import Path

from podium.domain import lineage
from podium.domain.artifacts import ORCHESTRATOR, Screenplay
from podium.domain.escalation import (
    ClarifyVisionCommand,
    EditCommand,
    RestoreCommand,
    command_adapter,
)
from podium.domain.events import CurrentVersionSet, ProductionState, TaskSettled, VersionCause
from podium.domain.state import fold
from podium.domain.tasks import TaskState
from podium.domain.versions import current, current_number
from podium.engine.engine import Engine
from podium.export.screenplay import slots
from podium.export.sources import ExportSource

from .harness import Script, open_engine, production
from .test_lineage import film, scene_json


async def made(tmp_path: Path) -> Engine:
    engine = await open_engine(production(film()), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    return engine


def edit(task_id: str, heading: str, line: str, command_id: str = "e") -> EditCommand:
    return EditCommand(
        id=command_id,
        task_id=task_id,
        content_type="Screenplay",
        content=json.loads(scene_json(heading, line)),
    )


async def causes(engine: Engine) -> list[tuple[str, VersionCause]]:
    return [
        (p.task_id, p.cause)
        for e in await engine.store.read()
        if isinstance(p := e.payload, CurrentVersionSet | TaskSettled)
    ]


async def test_an_edit_is_current_verbatim_and_its_dependents_are_made_again(
    tmp_path: Path,
) -> None:
    engine = await made(tmp_path)
    view = engine.view
    result = await engine.apply_offline(edit("scene-2", "EXT. PIER - DAWN", "Written by hand."))
    assert result.applied, result.detail
    scene = current(view, "scene-2")
    assert scene is not None and scene.provenance.agent_id == ORCHESTRATOR
    assert scene.provenance.version == 2 and scene.provenance.decision_id == "e"
    assert view.tasks["script"].state is TaskState.READY  # podium's assembly: made again
    assert {t: view.tasks[t].state for t in ("shots", "cut")} == {
        "shots": TaskState.STALE,
        "cut": TaskState.STALE,
    }
    assert await engine.run() is ProductionState.COMPLETED
    assert lineage.stale(view) == {}
    assert (await causes(engine))[-4:] == [
        ("scene-2", VersionCause.EDIT),
        ("script", VersionCause.MADE),
        ("shots", VersionCause.MADE),
        ("cut", VersionCause.MADE),
    ]
    chosen = slots(ExportSource(fold(await engine.store.read())))[None]
    hand = chosen[1].scene
    assert hand.heading == "EXT. PIER - DAWN"
    assert [e.text for e in hand.elements] == ["MORAG", "Written by hand."]
    await engine.store.close()


async def test_an_edit_the_same_as_the_current_version_or_of_the_wrong_kind_is_refused(
    tmp_path: Path,
) -> None:
    engine = await made(tmp_path)
    view = engine.view
    scene = current(view, "scene-1")
    assert scene is not None
    same = EditCommand(
        id="same", task_id="scene-1", content_type="Screenplay", content=scene.content
    )
    result = await engine.apply_offline(same)
    assert not result.applied and "no change" in result.detail
    prose = EditCommand(id="p", task_id="scene-1", content_type="Prose", content={"text": "x"})
    result = await engine.apply_offline(prose)
    assert not result.applied and "delivers a Screenplay" in result.detail
    assert current_number(view, view.tasks["scene-1"]) == 1
    assert lineage.stale(view) == {}
    await engine.store.close()


async def test_restore_makes_version_one_current_and_its_dependents_are_made_again(
    tmp_path: Path,
) -> None:
    engine = await made(tmp_path)
    view = engine.view
    assert (await engine.apply_offline(edit("scene-3", "INT. A - DAY", "Edited."))).applied
    assert await engine.run() is ProductionState.COMPLETED
    assert current_number(view, view.tasks["scene-3"]) == 2
    script_before = current_number(view, view.tasks["script"])
    result = await engine.apply_offline(RestoreCommand(id="r", task_id="scene-3", version=1))
    assert result.applied, result.detail
    assert current_number(view, view.tasks["scene-3"]) == 1
    assert len(view.tasks["scene-3"].artifact_ids) == 2  # no new version: v1 is current again
    assert view.tasks["script"].state is TaskState.READY
    assert {view.tasks[t].state for t in ("shots", "cut")} == {TaskState.STALE}
    assert await engine.run() is ProductionState.COMPLETED
    assert lineage.stale(view) == {}
    script = current(view, "script")
    assert script is not None
    assert current_number(view, view.tasks["script"]) == script_before + 1
    assert script.provenance.made_from["scene-3"] == 1
    play = script.parsed()
    assert isinstance(play, Screenplay) and play.scenes[2].heading != "INT. A - DAY"
    assert ("scene-3", VersionCause.RESTORE) in await causes(engine)
    # A version that is already current, or that does not exist, is refused with a reason.
    again = await engine.apply_offline(RestoreCommand(id="r2", task_id="scene-3", version=1))
    assert not again.applied and "already its current one" in again.detail
    missing = await engine.apply_offline(RestoreCommand(id="r3", task_id="scene-3", version=9))
    assert not missing.applied and "there is no version 9" in missing.detail
    await engine.store.close()


def test_commands_carry_a_valid_content_only() -> None:
    adapter = command_adapter()
    good = adapter.validate_python(
        {
            "id": "x",
            "action": "edit",
            "task_id": "t",
            "content_type": "Prose",
            "content": {"text": "hi"},
        }
    )
    assert isinstance(good, EditCommand)
    for bad in (
        {"content_type": "Screenplay", "content": {"scenes": []}},
        {"content_type": "Nope", "content": {}},
    ):
        try:
            adapter.validate_python({"id": "x", "action": "edit", "task_id": "t"} | bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
    restore = adapter.validate_python(
        {"id": "r", "action": "restore", "task_id": "t", "version": 2}
    )
    assert isinstance(restore, RestoreCommand) and restore.version == 2


async def test_the_style_guide_is_amended_live_and_what_read_it_is_made_again(
    tmp_path: Path,
) -> None:
    script = Script()
    engine = await open_engine(production(film()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    view = engine.view
    result = await engine.apply_offline(
        ClarifyVisionCommand(
            id="s", section="style", value="palette: sea grey; lamp amber\nlighting: one lamp"
        )
    )
    assert result.applied, result.detail
    assert view.spec is not None and view.spec.style.palette == ["sea grey", "lamp amber"]
    assert view.spec.style.lighting == "one lamp"
    assert view.vision is not None and view.vision.version == 2
    assert view.tasks["shots"].state is TaskState.STALE  # its prompt held the style guide
    calls = len(script.calls)
    assert await engine.run() is ProductionState.COMPLETED
    assert lineage.stale(view) == {}
    remade = [c for c in script.calls[calls:] if c.task_id == "shots"]
    assert remade and "sea grey" in json.dumps([m for m in remade[-1].messages], default=str)
    # The fold reads it back the same: a replay holds the amended guide.
    assert fold(await engine.store.read()).spec == view.spec
    await engine.store.close()
