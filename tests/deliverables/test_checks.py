"""Each deliverable validator kind fails on a crafted production and passes once it is fixed,
with the recomputed figures in the finding."""

from __future__ import annotations

from podium.deliverables.checks import check_deliverables
from podium.domain.artifacts import (
    Cue,
    CueSheet,
    EditItem,
    EditPlan,
    ElementType,
    Scene,
    ScreenElement,
    Screenplay,
    Shot,
    ShotList,
)
from podium.domain.tasks import TaskKind
from podium.domain.validators import CharacterPresence, check
from tests.export.builder import Log

RULES = """
[[vision.characters]]
name = "Tom"
description = "A sailor."

[[validators]]
id = "runtime"
type = "runtime"
kinds = ["script"]
min = 2
max = 3

[[validators]]
id = "pages"
type = "pages"
kinds = ["script"]
max = 2.5

[[validators]]
id = "shots"
type = "shot_references"
kinds = ["edit"]
runtime_tolerance = 0.25

[[validators]]
id = "cues"
type = "cue_bounds"
kinds = ["music_cues"]
enters_scene = 2
leaves_before_last_shot = true

[[validators]]
id = "handheld"
type = "count"
kinds = ["shot_list"]
what = "handheld_shots"
max = 1

[[validators]]
id = "both"
type = "character_presence"
kinds = ["scene"]
characters = ["Mara", "Tom"]
"""


def _scene(heading: str, lines: int, who: str = "MARA") -> Scene:
    elements = [ScreenElement(type=ElementType.ACTION, text="The sea, grey and flat.")]
    for _ in range(lines):
        elements += [
            ScreenElement(type=ElementType.CHARACTER, text=who),
            ScreenElement(type=ElementType.DIALOGUE, text="Nothing out there but the water."),
        ]
    return Scene(heading=heading, elements=elements)


def _log() -> Log:
    log = Log(extra=RULES)
    for task_id, kind in (
        ("script", TaskKind.SCRIPT),
        ("shots", TaskKind.SHOT_LIST),
        ("music", TaskKind.MUSIC_CUES),
        ("edit", TaskKind.EDIT),
    ):
        log.task(task_id, kind)
    return log


def _rules(log: Log, task_id: str, **delivered: object) -> dict[str, str]:
    view = log.source.view
    found = check_deliverables(view, view.tasks[task_id].spec)
    return {f.rule: f.message for f in found}


def test_runtime_and_pages_fail_on_a_long_script_and_pass_on_a_short_one() -> None:
    log = _log()
    log.deliver("script", Screenplay(scenes=[_scene("INT. CABIN - NIGHT", 30)] * 2))
    found = _rules(log, "script")
    assert "the film runs" in found["runtime"] and "the range is 2–3 minutes" in found["runtime"]
    assert "pages long; the range is 0–2.5 pages" in found["pages"]

    log.deliver("script", Screenplay(scenes=[_scene("INT. CABIN - NIGHT", 20)] * 2))
    assert _rules(log, "script") == {}


def _shots(*moves: str) -> ShotList:
    return ShotList(
        shots=[
            Shot(scene=1 + i // 2, shot="AB"[i % 2], movement=m, duration_s=60)
            for i, m in enumerate(moves)
        ]
    )


def test_shot_references_name_missing_and_overlong_items_and_a_short_cut() -> None:
    log = _log()
    log.deliver("script", Screenplay(scenes=[_scene("INT. CABIN - NIGHT", 20)] * 2))
    log.deliver("shots", _shots("static", "static", "static", "static"))
    log.deliver(
        "edit",
        EditPlan(
            sequence=[
                EditItem(scene=1, shot="A", duration_s=70),
                EditItem(scene=2, shot="C", duration_s=5),
            ]
        ),
    )
    message = _rules(log, "edit")["shots"]
    assert "the shot list lacks: 2C" in message
    assert "1 of 2 items run longer than their shot: 1A (70 s of a 60 s shot)" in message
    assert "outside ±25%" in message

    log.deliver(
        "edit",
        EditPlan(sequence=[EditItem(scene=s, shot=x, duration_s=40) for s in (1, 2) for x in "AB"]),
    )
    assert "shots" not in _rules(log, "edit")


def test_cue_bounds_hold_cues_inside_the_cut_from_the_scene_the_style_guide_names() -> None:
    log = _log()
    log.deliver("shots", _shots("static", "static", "static", "static"))
    log.deliver(
        "edit",
        EditPlan(sequence=[EditItem(scene=s, shot=x, duration_s=30) for s in (1, 2) for x in "AB"]),
    )
    log.deliver(
        "music",
        CueSheet(
            cues=[
                Cue(cue_id="1M1", scene=1, start="00:00:05", duration_s=10),
                Cue(cue_id="1M2", scene=2, start="00:01:05", duration_s=100),
            ]
        ),
    )
    message = _rules(log, "music")["cues"]
    assert "cues end after the cut (2:00): 1M2 (ends 2:45)" in message
    assert "cues come before it: 1M1 (scene 1)" in message
    assert "cues run past it: 1M2" in message

    log.deliver(
        "music", CueSheet(cues=[Cue(cue_id="1M1", scene=2, start="00:01:02", duration_s=20)])
    )
    assert "cues" not in _rules(log, "music")


def test_count_of_handheld_shots() -> None:
    log = _log()
    log.deliver("shots", _shots("handheld", "static", "hand-held push", "static"))
    assert _rules(log, "shots")["handheld"] == "the film has 2 handheld shots; the rule allows 0–1"

    log.deliver("shots", _shots("handheld", "static", "static", "static"))
    assert _rules(log, "shots") == {}


def test_presence_counts_the_printed_page_not_the_synopsis() -> None:
    log = _log()
    log.task("s1", TaskKind.SCENE, scene=1)
    scene = _scene("INT. CABIN - NIGHT", 2)
    scene.elements.insert(0, ScreenElement(type=ElementType.SYNOPSIS, text="Tom watches Mara."))
    rule = CharacterPresence(type="character_presence", characters=["Mara", "Tom"])
    play = Screenplay(scenes=[scene])
    assert check(rule, play) is not None  # the synopsis is not printed
    log.deliver("s1", play)
    log.task("pass", TaskKind.DIALOGUE, scene=1)  # a pass over the scene is what is printed
    log.deliver("pass", play)
    message = _rules(log, "pass")["both"]
    assert message == "Tom not on the printed page of scene 1 (screenplay.pdf, for s1)"

    scene.elements.append(ScreenElement(type=ElementType.ACTION, text="Tom comes in."))
    assert check(rule, Screenplay(scenes=[scene])) is None
    log.deliver("pass", Screenplay(scenes=[scene]))
    assert "both" not in _rules(log, "pass")
