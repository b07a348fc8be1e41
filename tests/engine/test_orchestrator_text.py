"""The Orchestrator's text reaches the deliverables verbatim; a character's dialogue pass changes
only its character's lines; deliverable rules are checked as the production goes (issues 16, 18).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from podium.domain.artifacts import (
    ORCHESTRATOR,
    ArtifactStatus,
    Screenplay,
    ShotList,
)
from podium.domain.escalation import ApproveCommand, EscalationKind, OverrideCommand
from podium.domain.events import CurrentVersionSet, ProductionState, VersionCause
from podium.domain.state import fold
from podium.domain.tasks import TaskState
from podium.domain.validators import DIALOGUE_PASS_RULE, spoken_lines
from podium.engine.engine import AutoApprove, Engine
from podium.export.screenplay import slots
from podium.export.sources import ExportSource
from podium.llm.types import CompletionRequest

from .harness import Script, crew, open_engine, production, tasks

CREW = (
    crew(("w", "writer"), ("dp", "director_of_photography"))
    + '[[crew]]\nid = "elias"\nrole = "character"\ncharacter = "Elias"\n'
    + '[[vision.characters]]\nname = "Elias"\n[[vision.characters]]\nname = "Morag"\n'
)


def film(extra: str = "") -> str:
    return (
        CREW
        + tasks(
            {"id": "scene-1", "title": "S1", "kind": "scene", "assignee": "w"},
            {
                "id": "pass-elias",
                "title": "Dialogue pass: Elias",
                "kind": "dialogue",
                "assignee": "elias",
                "depends_on": ["scene-1"],
            },
            {
                "id": "script",
                "title": "Script",
                "kind": "script",
                "assignee": "w",
                "depends_on": ["scene-1", "pass-elias"],
            },
        ).replace(
            'assignee = "elias"\n',
            'assignee = "elias"\nparams = { scene = 1, character = "Elias" }\n',
        )
        + '[planner]\nmode = "explicit"\n'
        + extra
    )


def scene(*lines: tuple[str, str], heading: str = "INT. LAMP ROOM - NIGHT") -> dict[str, Any]:
    elements: list[dict[str, str]] = [{"type": "action", "text": "The lamp turns."}]
    for who, line in lines:
        elements += [{"type": "character", "text": who}, {"type": "dialogue", "text": line}]
    return {"title": "Last Light", "scenes": [{"heading": heading, "elements": elements}]}


REVIEWED = scene(("ELIAS", "Light's lit."), ("MORAG", "It always is."), ("MORAG", "Come down."))


def revising(request: CompletionRequest) -> Screenplay:
    given = request.hints.get("revising")
    assert isinstance(given, dict), "a dialogue pass is given the scene it revises, in full"
    return Screenplay.model_validate(given)


def own_lines_only(request: CompletionRequest) -> Screenplay:
    """A well-behaved pass: ELIAS's lines said again, everyone else's as they were."""
    play = revising(request).model_copy(deep=True)
    for s in play.scenes:
        after_elias = False
        for e in s.elements:
            if e.type.value == "character":
                after_elias = e.text == "ELIAS"
            elif e.type.value == "dialogue" and after_elias:
                e.text = "The light's lit, and I'm staying."
    return play


def answers(pass_answer: Any) -> Any:
    def answer(request: CompletionRequest) -> Any:
        if request.purpose != "task":
            return None
        if request.task_id == "scene-1":
            return Screenplay.model_validate(REVIEWED)
        if request.task_id == "pass-elias":
            return pass_answer(request)
        return None

    return answer


def printed(engine: Engine) -> Screenplay:
    source = ExportSource(engine.view)
    chosen = slots(source)[None]
    return Screenplay(title="", scenes=[s.scene for s in chosen])


async def test_a_pass_that_swaps_a_speaker_is_sent_back_and_the_reviewed_scene_stands(
    tmp_path: Path,
) -> None:
    """Issue 16, case 3: an automatic dialogue pass gave Morag's lines to Tam."""

    def swap(request: CompletionRequest) -> Screenplay:
        return Screenplay.model_validate(
            scene(("ELIAS", "Light's lit."), ("TAM", "It always is."), ("TAM", "Come down."))
        )

    script = Script(answer=answers(swap))
    engine = await open_engine(production(film()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    view = engine.view
    passes = [c for c in script.calls if c.task_id == "pass-elias"]
    assert len(passes) == 1 + view.constraints.self_correction_attempts  # sent back each time
    told = "\n".join(m.content for m in passes[1].messages)
    assert "MORAG dropped (all 2 line(s))" in told and "TAM added (2 line(s)" in told
    [item] = view.open_escalations()
    assert item.kind is EscalationKind.QUALITY and item.task_id == "pass-elias"
    assert any(e.startswith(f"{DIALOGUE_PASS_RULE}:") and "MORAG" in e for e in item.evidence)
    assert "approve" not in [a.value for a in item.actions]  # it can never override the scene
    assert view.artifacts[item.artifact_ids[0]].status is ArtifactStatus.SUPERSEDED
    # The standing instruction skips it; the reviewed scene is what is printed.
    await engine.store.close()
    engine = await open_engine(
        production(film()), tmp_path / "p.db", Script(answer=answers(swap)), auto=AutoApprove.ALL
    )
    assert await engine.run() is ProductionState.COMPLETED
    assert engine.view.tasks["pass-elias"].state is TaskState.SKIPPED
    lines = spoken_lines(printed(engine))
    assert lines == {"ELIAS": ["Light's lit."], "MORAG": ["It always is.", "Come down."]}
    await engine.store.close()


async def test_a_pass_over_the_orchestrators_text_is_a_proposal_auto_approve_leaves_open(
    tmp_path: Path,
) -> None:
    script = Script(answer=answers(own_lines_only))
    engine = await open_engine(production(film()), tmp_path / "p.db", script, auto=AutoApprove.ALL)
    assert await engine.run() is ProductionState.COMPLETED
    assert spoken_lines(printed(engine))["ELIAS"] == ["The light's lit, and I'm staying."]
    mine = scene(("ELIAS", "Leave it burning."), ("MORAG", "Then I'll stay."), heading="EXT. PIER")
    done = await engine.apply_offline(
        OverrideCommand(id="edit", task_id="scene-1", text=json.dumps(mine), replace=True)
    )
    assert done.applied, done.detail
    # The pass is made again over the Orchestrator's text: a proposal, never auto-accepted.
    assert await engine.run() is ProductionState.WAITING
    view = engine.view
    [item] = view.open_escalations()
    assert item.task_id == "pass-elias" and [o.id for o in item.options] == ["accept", "keep"]
    assert "auto-" + item.id not in view.commands
    proposal = view.artifacts[item.artifact_ids[0]]
    assert proposal.status is ArtifactStatus.PROPOSED
    standing = view.artifacts[item.artifact_ids[1]]  # meanwhile the pass stands on your text
    assert standing.task_id == "pass-elias" and standing.provenance.agent_id == ORCHESTRATOR
    assert view.tasks["pass-elias"].state is TaskState.DONE
    assert "-Leave it burning." in item.evidence and "+The light's lit, and I'm staying." in (
        item.evidence
    )
    assert printed(engine).scenes[0].heading == "EXT. PIER"  # the Orchestrator's text, verbatim
    assert spoken_lines(printed(engine))["ELIAS"] == ["Leave it burning."]
    # Accept: the proposal is current, what was made from it is made again.
    accepted = await engine.apply_offline(
        ApproveCommand(id="yes", escalation_id=item.id, option_id="accept")
    )
    assert accepted.applied, accepted.detail
    assert view.tasks["pass-elias"].state is TaskState.DONE
    assert view.tasks["script"].state in (TaskState.READY, TaskState.STALE)
    assert await engine.run() is ProductionState.COMPLETED
    assert spoken_lines(printed(engine))["ELIAS"] == ["The light's lit, and I'm staying."]
    events = await engine.store.read(kinds={"current_version"})
    causes = [(p.task_id, p.cause) for e in events if isinstance(p := e.payload, CurrentVersionSet)]
    assert ("pass-elias", VersionCause.ALTERNATIVE) in causes
    assert causes[-1][0] == "script"  # made again from the accepted pass
    await engine.store.close()


async def test_keep_yours_makes_the_orchestrators_text_the_pass_version(tmp_path: Path) -> None:
    script = Script(answer=answers(own_lines_only))
    engine = await open_engine(production(film()), tmp_path / "p.db", script, auto=AutoApprove.ALL)
    assert await engine.run() is ProductionState.COMPLETED
    mine = scene(("ELIAS", "Leave it burning."), ("MORAG", "Then I'll stay."))
    await engine.apply_offline(
        OverrideCommand(id="edit", task_id="scene-1", text=json.dumps(mine), replace=True)
    )
    assert await engine.run() is ProductionState.WAITING
    [item] = engine.view.open_escalations()
    kept = await engine.apply_offline(
        ApproveCommand(id="no", escalation_id=item.id, option_id="keep")
    )
    assert kept.applied, kept.detail
    assert await engine.run() is ProductionState.COMPLETED
    view = fold(await engine.store.read())
    record = view.tasks["pass-elias"]
    version = view.artifacts[record.artifact_ids[record.current - 1]]
    assert version.provenance.agent_id == ORCHESTRATOR
    assert version.parsed() == Screenplay.model_validate(mine)
    assert view.artifacts[item.artifact_ids[0]].status is ArtifactStatus.OVERRIDDEN
    assert spoken_lines(printed(engine))["ELIAS"] == ["Leave it burning."]
    await engine.store.close()


# -- deliverable rules while the production runs ------------------------------------------------

SHOTS = (
    CREW
    + tasks(
        {"id": "scene-1", "title": "S1", "kind": "scene", "assignee": "w"},
        {
            "id": "script",
            "title": "Script",
            "kind": "script",
            "assignee": "w",
            "depends_on": ["scene-1"],
        },
        {
            "id": "shots",
            "title": "Shots",
            "kind": "shot_list",
            "assignee": "dp",
            "depends_on": ["script"],
        },
    )
    + '[planner]\nmode = "explicit"\n'
    + '[authority.decisions]\nmilestone_deliverable = "autonomous"\n'
    + 'shot_composition = "autonomous"\n'
    + '[[validators]]\nid = "one-handheld"\ntype = "count"\nkinds = ["shot_list"]\n'
    + 'what = "handheld_shots"\nmax = 1\n'
)


def shot_list(handheld: int) -> ShotList:
    moves = ["handheld"] * handheld + ["static"] * (4 - handheld)
    return ShotList.model_validate(
        {
            "shots": [
                {"scene": 1, "shot": c, "movement": m, "duration_s": 5}
                for c, m in zip("ABCD", moves, strict=True)
            ]
        }
    )


def shots_answer(counts: list[int]) -> Any:
    def answer(request: CompletionRequest) -> Any:
        if request.purpose == "task" and request.task_id == "scene-1":
            return Screenplay.model_validate(REVIEWED)
        if request.purpose == "task" and request.task_id == "shots":
            return shot_list(counts.pop(0) if len(counts) > 1 else counts[0])
        return None

    return answer


async def test_a_deliverable_rule_sends_the_shot_list_back_with_the_figures(tmp_path: Path) -> None:
    script = Script(answer=shots_answer([3, 1]))
    engine = await open_engine(production(SHOTS), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    asked = [c for c in script.calls if c.task_id == "shots" and c.purpose == "task"]
    assert len(asked) == 2
    told = "\n".join(m.content for m in asked[1].messages)
    assert "the film has 3 handheld shots; the rule allows 0–1" in told
    await engine.store.close()


async def test_a_deliverable_rule_that_persists_is_a_quality_item_with_the_figures(
    tmp_path: Path,
) -> None:
    script = Script(answer=shots_answer([3]))
    engine = await open_engine(production(SHOTS), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    view = engine.view
    attempts = 1 + view.constraints.self_correction_attempts
    assert len([c for c in script.calls if c.task_id == "shots"]) == attempts
    [item] = view.open_escalations()
    assert item.kind is EscalationKind.QUALITY and item.task_id == "shots"
    assert any("3 handheld shots" in e and "counted: 1A, 1B, 1C" in e for e in item.evidence)
    await engine.store.close()


async def test_the_script_assembly_is_checked_too(tmp_path: Path) -> None:
    """Podium's assembly makes no call: a rule it fails is the Orchestrator's, with figures."""
    body = SHOTS + '[[validators]]\nid = "long"\ntype = "runtime"\nkinds = ["script"]\nmin = 10\n'
    script = Script(answer=shots_answer([0]))
    engine = await open_engine(production(body), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.WAITING
    [item] = engine.view.open_escalations()
    assert item.kind is EscalationKind.QUALITY and item.task_id == "script"
    assert "podium assembled it from the current scene-1" in item.detail
    assert any("the range is ≥ 10 minutes" in e for e in item.evidence)
    assert not [c for c in script.calls if c.task_id == "script"]
    await engine.store.close()
