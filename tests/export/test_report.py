"""report.json's figures, recomputed from the exported files (CSV, FDX, PDF), not by its code."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from podium.export.report import runtime_target, timecode, to_markdown

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
    assert cut["missing_shots"] == list(dict.fromkeys(missing)) and missing
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

    # Style rules: handheld shots counted from the shot list's movement column.
    handheld = [r for r in rows(out / "shot_list.csv") if "handheld" in r["movement"].lower()]
    (rule,) = [r for r in data["style_rules"] if "handheld" in r["measure"]]
    assert rule["counted"] == len(handheld) and rule["expected"] == 1 and not rule["holds"]

    # The script: pages from the PDF itself, scenes and who is on them from the FDX.
    (script,) = data["scripts"]
    pages = pdftotext(out / "screenplay.pdf")
    assert script["pages"] == len(pages) - 1
    assert script["pages"] - 1 < script["runtime_minutes"] <= script["pages"]
    assert script["runtime_minutes"] * 8 == sum(s["eighths"] for s in script["scenes"])
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
