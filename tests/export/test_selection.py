"""Which artifacts make the screenplay, and how unfinished work is marked."""

from __future__ import annotations

from typing import Any

from podium.domain.artifacts import ArtifactStatus, Prose, Screenplay
from podium.domain.escalation import Action
from podium.domain.events import ArtifactStatusChanged, TasksPlanned
from podium.domain.tasks import TaskKind, TaskSpec, TaskState
from podium.export.documents import documents
from podium.export.fdx import to_fdx
from podium.export.fountain import to_fountain
from podium.export.screenplay import screenplays

from .builder import Log
from .reparse import expected, reread


def play(*headings: str, line: str = "Rain.") -> Screenplay:
    scenes: list[dict[str, Any]] = [
        {"heading": h, "elements": [{"type": "action", "text": f"{line} ({h})"}]} for h in headings
    ]
    return Screenplay.model_validate({"scenes": scenes})


def headings(log: Log) -> dict[str, list[str]]:
    return {p.stem: [s.scene.heading for s in p.slots] for p in screenplays(log.source)}


def test_dialogue_passes_refine_scenes_and_drafts_are_marked() -> None:
    log = Log()
    log.task("scene-1", TaskKind.SCENE, scene=1)
    log.task("scene-2", TaskKind.SCENE, scene=2)
    log.task("dialogue-1", TaskKind.DIALOGUE, scene=1)
    log.deliver("scene-1", play("INT. ONE - DAY"))
    log.deliver("scene-2", play("INT. TWO - DAY"), ArtifactStatus.DRAFT)
    log.state("scene-2", TaskState.AWAITING_APPROVAL)
    log.deliver("dialogue-1", play("INT. ONE, POLISHED - DAY"))
    assert headings(log) == {"screenplay": ["INT. ONE, POLISHED - DAY", "INT. TWO - DAY"]}
    (film,) = screenplays(log.source)
    text = to_fountain(film.script)
    assert text.count("[[DRAFT — awaiting approval]]") == 1
    assert text.index("INT. TWO") < text.index("[[DRAFT")
    assert "Draft: In progress: 1 of 2 scenes not yet approved" in text
    assert "DRAFT — awaiting approval" in to_fdx(film.script)
    assert reread(text) == expected(film.script)


def test_a_characters_dialogue_pass_is_credited_to_the_scenes_writer() -> None:
    """The character agent voices a part; the title page names who wrote the scene."""
    log = Log(extra='[[crew]]\nid = "mara"\nrole = "character"\ncharacter = "Mara"\n')
    log.task("scene-1", TaskKind.SCENE, scene=1)
    log.task("scene-2", TaskKind.SCENE, scene=2)
    log.task("dialogue-1", TaskKind.DIALOGUE, scene=1)
    written = log.deliver("scene-1", play("INT. ONE - DAY"))
    log.deliver("scene-2", play("INT. TWO - DAY"))
    log.deliver("dialogue-1", play("INT. ONE - DAY"), agent="mara", parents=(written.id,))
    (film,) = screenplays(log.source)
    assert film.slots[0].artifact.provenance.agent_id == "mara"  # the pass is what is printed
    assert film.script.title_page.fields[1] == ("Author", "Wes")


def test_a_scene_only_a_character_agent_wrote_credits_it() -> None:
    log = Log(extra='[[crew]]\nid = "mara"\nrole = "character"\ncharacter = "Mara"\n')
    log.task("scene-1", TaskKind.SCENE, scene=1)
    log.deliver("scene-1", play("INT. ONE - DAY"), agent="mara")
    (film,) = screenplays(log.source)
    assert dict(film.script.title_page.fields)["Author"] == "mara"


def test_a_proposal_leaves_applied_work_and_a_later_draft_stands_marked() -> None:
    """The screenplay follows current versions (never the latest task in plan order): a
    proposal, which is not a current version, leaves the approved scene in place; a dialogue
    pass's draft made from that scene is its current version and stands for it, marked as a
    draft on the page."""
    log = Log()
    log.task("scene-1", TaskKind.SCENE, scene=1)
    log.task("dialogue-1", TaskKind.DIALOGUE, scene=1)
    kept = log.deliver("scene-1", play("INT. KEPT - DAY"), ArtifactStatus.APPROVED)
    log.deliver("dialogue-1", play("INT. PROPOSED - DAY"), ArtifactStatus.PROPOSED)
    assert headings(log) == {"screenplay": ["INT. KEPT - DAY"]}
    log.deliver("dialogue-1", play("INT. DRAFT - DAY"), ArtifactStatus.DRAFT, parents=(kept.id,))
    (film,) = screenplays(log.source)
    assert [(s.scene.heading, s.label) for s in film.slots] == [
        ("INT. DRAFT - DAY", "DRAFT — not approved")
    ]
    text = to_fountain(film.script)
    assert "[[DRAFT — not approved]]" in text
    assert "Draft: In progress: 1 of 1 scenes not yet approved" in text


def test_an_assembled_script_replaces_the_scenes_and_superseded_versions_never_count() -> None:
    log = Log()
    log.task("scene-1", TaskKind.SCENE, scene=1)
    log.task("script", TaskKind.SCRIPT)
    log.deliver("scene-1", play("INT. SCENE - DAY"))
    log.deliver("script", play("INT. OLD - DAY"), ArtifactStatus.DRAFT)
    log.deliver("script", play("INT. A - DAY", "INT. B - DAY", "INT. C - DAY"))
    assert log.source.view.artifacts["script-v1"].status is ArtifactStatus.SUPERSEDED
    assert headings(log) == {"screenplay": ["INT. A - DAY", "INT. B - DAY", "INT. C - DAY"]}


def test_the_orchestrators_replacement_wins_over_the_overridden_scene() -> None:
    log = Log()
    log.task("scene-1", TaskKind.SCENE, scene=1)
    first = log.deliver("scene-1", play("INT. AGENT - DAY"))
    log.command("cmd-1", Action.OVERRIDE, task_id="scene-1", text="replace")
    log.add(ArtifactStatusChanged(artifact_id=first.id, status="overridden", decision_id="cmd-1"))
    log.deliver(
        "scene-1",
        play("INT. HUMAN - DAY"),
        ArtifactStatus.APPROVED,
        agent="orchestrator",
        decision_id="cmd-1",
    )
    (film,) = screenplays(log.source)
    assert [s.scene.heading for s in film.slots] == ["INT. HUMAN - DAY"]
    assert "Author: the Orchestrator" in to_fountain(film.script)


def test_a_series_gets_one_screenplay_per_episode_in_order() -> None:
    log = Log("series")
    log.task("ep2", TaskKind.SCRIPT, episode=2)
    log.task("ep1", TaskKind.SCRIPT, episode="1")
    log.task("ep1-dialogue", TaskKind.DIALOGUE, episode=1)
    log.task("pending", TaskKind.SCRIPT, episode=3)
    log.deliver("ep2", play("INT. TWO - DAY"))
    log.deliver("ep1", play("INT. ONE A - DAY", "INT. ONE B - DAY"))
    log.deliver("ep1-dialogue", play("INT. ONE A, POLISHED - DAY"))
    assert headings(log) == {
        "episode-01": ["INT. ONE A, POLISHED - DAY", "INT. ONE B - DAY"],
        "episode-02": ["INT. TWO - DAY"],
    }
    text = to_fountain(screenplays(log.source)[0].script)
    assert text.startswith("Title:\n    Night Ferry\n    Episode 1\n")


def test_unreadable_content_is_skipped_not_fatal() -> None:
    log = Log()
    log.task("scene-1", TaskKind.SCENE, scene=1)
    log.task("scene-2", TaskKind.SCENE, scene=2)
    log.deliver("scene-1", play("INT. GOOD - DAY"))
    broken = log.deliver("scene-2", play("INT. X - DAY"))
    log.source.view.artifacts[broken.id] = broken.model_copy(update={"content": {"scenes": 3}})
    assert headings(log) == {"screenplay": ["INT. GOOD - DAY"]}


def test_documents_mark_drafts_in_headings() -> None:
    log = Log()
    log.task("treatment", TaskKind.TREATMENT, title="Treatment")
    log.deliver("treatment", Prose(text="It begins.", beats=["one", "# two"]), ArtifactStatus.DRAFT)
    log.state("treatment", TaskState.AWAITING_APPROVAL)
    text = documents(log.source)
    assert text is not None
    assert "## Treatment (draft)" in text
    assert "DRAFT — awaiting approval" in text
    assert "1. \\# two" in text


def test_plan_order_puts_inputs_first_and_survives_a_cycle() -> None:
    log = Log()
    specs = [
        TaskSpec(id="script", title="s", kind=TaskKind.SCRIPT, assignee="w", depends_on=["b"]),
        TaskSpec(id="b", title="b", kind=TaskKind.SCENE, assignee="w", depends_on=["a"]),
        TaskSpec(id="a", title="a", kind=TaskKind.SCENE, assignee="w"),
        TaskSpec(id="x", title="x", kind=TaskKind.SCENE, assignee="w", depends_on=["y"]),
        TaskSpec(id="y", title="y", kind=TaskKind.SCENE, assignee="w", depends_on=["x"]),
    ]
    log.add(TasksPlanned(tasks=specs))
    assert [r.spec.id for r in log.source.plan()] == ["a", "b", "script", "y", "x"]
