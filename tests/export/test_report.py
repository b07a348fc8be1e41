"""report.json's figures, recomputed from the exported files (CSV, FDX, PDF), not by its code."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from podium.domain.artifacts import Cue, CueSheet, Shot, ShotList
from podium.domain.tasks import TaskKind
from podium.export.report import report, runtime_target, timecode, to_json, to_markdown

from .builder import Log
from .conftest import Made, load_source
from .test_pdf import pdftotext


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def seconds(text: str) -> float:
    hours, minutes, secs = (float(x) for x in text.split(":"))
    return hours * 3600 + minutes * 60 + secs


def fdx_scenes(path: Path) -> dict[int, list[tuple[str, str]]]:
    """Each numbered scene's printed paragraphs (type, text) as the FDX holds them."""
    scenes: dict[int, list[tuple[str, str]]] = {}
    current: int | None = None
    content = ET.parse(path).getroot().find("Content")
    assert content is not None
    for paragraph in content.iter("Paragraph"):
        kind = paragraph.get("Type", "")
        text = "".join(t.text or "" for t in paragraph.findall("Text"))
        if kind == "Scene Heading":
            current = int(paragraph.get("Number", "0"))
            scenes[current] = []
        elif current is not None and kind:
            scenes[current].append((kind, text))
    return scenes


def on_page(paragraphs: list[tuple[str, str]], characters: list[str]) -> set[str]:
    names = {
        re.sub(r"\s*\(.*\)$", "", text).upper() for kind, text in paragraphs if kind == "Character"
    }
    action = " ".join(text for kind, text in paragraphs if kind == "Action").upper()
    return names | {c.upper() for c in characters if re.search(rf"\b{c.upper()}\b", action)}


@pytest.mark.slow
def test_last_lights_report_adds_up(sample_db: Made, sample_export: Made) -> None:
    out = sample_export("last_light")
    data: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert to_markdown(data) == (out / "report.md").read_text(encoding="utf-8")

    # The cut: the sum of its items, its shots against the shot list.
    edits = rows(out / "edit_plan.csv")
    shots = {(r["scene"], r["shot"]): float(r["duration"]) for r in rows(out / "shot_list.csv")}
    (cut,) = data["cut"]
    assert cut["items"] == len(edits)
    assert cut["seconds"] == pytest.approx(sum(float(r["duration"]) for r in edits))
    missing = [f"{r['scene']}{r['shot']}" for r in edits if (r["scene"], r["shot"]) not in shots]
    assert cut["missing_shots"] == list(dict.fromkeys(missing))
    longer = [
        r
        for r in edits
        if (r["scene"], r["shot"]) in shots
        and float(r["duration"]) > shots[(r["scene"], r["shot"])]
    ]
    assert len(cut["longer_than_shot"]) == len(longer)
    assert cut["target_minutes"] == 12

    # Cues: where each ends, against the cut; where the score enters.
    cues = rows(out / "music_cues.csv")
    ends = {c["cue"]: seconds(c["start"]) + float(c["duration"]) for c in cues}
    (sheet,) = data["cues"]
    assert sheet["last_end_s"] == pytest.approx(max(ends.values()))
    assert sheet["outside_cut"] == [
        c for c, end in ends.items() if end > sum(float(r["duration"]) for r in edits)
    ]
    assert sheet["first_scene"] == min(int(c["scene"]) for c in cues)

    # The production file's rules, which stand for the style guide's prose (read no more).
    rules = {r["rule"]: r for r in data["rules"]}
    assert data["style_rules"] == []
    handheld = [r for r in rows(out / "shot_list.csv") if "handheld" in r["movement"].lower()]
    count = rules["one-handheld-shot"]["figures"]
    assert count["counted"] == len(handheld) and count["max"] == 1
    assert rules["one-handheld-shot"]["holds"] == (len(handheld) <= 1)
    early = [c["cue"] for c in cues if int(c["scene"]) < 5]
    assert rules["score-enters-in-scene-5"]["figures"]["before_scene"] == early
    cut_s = sum(float(r["duration"]) for r in edits)
    last_start = cut_s - float(edits[-1]["duration"])
    late = [c for c, end in ends.items() if end > last_start + 1e-9]
    assert rules["score-enters-in-scene-5"]["figures"]["after_last_shot_start"] == late
    assert rules["score-enters-in-scene-5"]["holds"] == (not early and not late)

    # The script: pages from the PDF itself, scenes and who is on them from the FDX.
    (script,) = data["scripts"]
    pages = pdftotext(out / "screenplay.pdf")
    assert script["pages"] == len(pages) - 1
    assert 0 < script["runtime_minutes"] <= script["pages"]
    assert script["runtime_minutes"] * 8 == sum(s["eighths"] for s in script["scenes"])
    (runtime,) = script["ranges"]
    assert runtime == {
        "rule": "twelve-minutes",
        "unit": "minutes",
        "min": 10,
        "max": 14,
        "holds": 10 <= script["runtime_minutes"] <= 14,
    }
    share = cut_s / (script["runtime_minutes"] * 60) - 1
    assert cut["against_script"]["holds"] == (abs(share) <= 0.15)
    scenes = fdx_scenes(out / "screenplay.fdx")
    assert [s["scene"] for s in script["scenes"]] == sorted(scenes)
    characters = ["Elias", "Morag", "Tam"]
    for scene in script["scenes"]:
        expected = on_page(scenes[scene["scene"]], characters)
        assert {name.upper() for name in scene["on_page"]} == expected, scene["scene"]
    # The rule that scene 2 must show Elias is checked on the printed page.
    (presence,) = data["presence"]
    printed_scene_2 = on_page(scenes[2], characters)
    assert presence["holds"] == ("ELIAS" in printed_scene_2 and "MORAG" in printed_scene_2)


@pytest.mark.slow
def test_series_and_story_reports(sample_db: Made, sample_export: Made) -> None:
    series = json.loads((sample_export("arcadian_summers") / "report.json").read_text("utf-8"))
    assert series["target"]["runtime_minutes"] == 28 and series["target"]["per"] == "episode"
    assert [s["file"] for s in series["scripts"]] == [f"episode-{n:02d}.pdf" for n in range(1, 13)]
    for script in series["scripts"]:
        assert script["target_minutes"] == 28
        assert script["difference_minutes"] == pytest.approx(script["runtime_minutes"] - 28)
    story = json.loads((sample_export("arctic_journey") / "report.json").read_text("utf-8"))
    assert story["story"]["chapter_count"] == story["story"]["target_chapters"] == 5
    assert story["story"]["target_words"]["value"] == 3000
    assert story["scripts"] == [] and story["target"] is None


def test_targets_are_read_only_where_stated(sample_db: Made) -> None:
    film = runtime_target(load_source(sample_db("last_light")))
    assert film is not None and film.value == 12 and "twelve-minute" in film.source
    assert runtime_target(load_source(sample_db("arctic_journey"))) is None


def test_timecodes() -> None:
    assert timecode("00:02:06") == 126
    assert timecode("2:06") == 126
    assert timecode("00:00:01:12") == 1.5
    assert timecode("soon") is None and timecode("-1:00") is None


STYLE = """
[style]
camera = "No handheld shots."
music = "The score enters in scene 2."
"""
DECLARED = """
[[validators]]
id = "steady"
type = "count"
kinds = ["shot_list"]
what = "handheld_shots"
max = 1

[[validators]]
id = "score"
type = "cue_bounds"
kinds = ["music_cues"]
enters_scene = 2
"""


def _styled(extra: str) -> dict[str, Any]:
    log = Log(extra=STYLE + extra)
    log.task("shots", TaskKind.SHOT_LIST)
    log.task("music", TaskKind.MUSIC_CUES)
    moves = ("handheld", "static", "hand-held push")
    log.deliver(
        "shots",
        ShotList(shots=[Shot(scene=1, shot="ABC"[i], movement=m) for i, m in enumerate(moves)]),
    )
    log.deliver("music", CueSheet(cues=[Cue(cue_id="1M1", scene=1, start="0:05", duration_s=9)]))
    data: dict[str, Any] = json.loads(to_json(report(log.source, [])))
    assert to_markdown(data)  # renders
    return data


def test_the_style_guide_is_read_only_where_the_production_file_declares_no_rule() -> None:
    prose = _styled("")
    assert prose["rules"] == []
    handheld, enters = prose["style_rules"]
    assert (handheld["counted"], handheld["expected"], handheld["holds"]) == (2, 0, False)
    assert handheld["offending"] == ["1A", "1C"]
    assert (enters["counted"], enters["expected"], enters["offending"]) == (1, 2, ["1M1"])

    declared = _styled(DECLARED)
    assert declared["style_rules"] == []  # the declared rules stand for the prose
    steady, score = declared["rules"]
    assert (steady["figures"]["counted"], steady["figures"]["max"], steady["holds"]) == (
        2,
        1,
        False,
    )
    assert steady["statement"] == "the film has 2 handheld shots; the rule allows 0–1"
    assert score["figures"]["before_scene"] == ["1M1"] and not score["holds"]
    text = to_markdown(declared)
    assert "**fails**: steady (count): the film has 2 handheld shots" in text
    assert "No handheld shots" not in text
