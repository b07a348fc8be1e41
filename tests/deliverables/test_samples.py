"""The three samples, made with the rehearsal model, finish within the targets their rules
declare: Last Light 10–14 minutes with a cut on its shot list, Arcadian episodes 25–30 pages,
The Long White's chapters in order and in period. Figures come from the exported report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from podium.export.exporter import export_production_sync
from tests.export.samples import make_sync

pytestmark = pytest.mark.slow


def _report(sample: str, tmp_path: Path) -> dict[str, object]:
    db = tmp_path / f"{sample}.db"
    assert make_sync(sample, db) == "completed"
    out = tmp_path / "out"
    export_production_sync(db, out)
    data: dict[str, object] = json.loads((out / "report.json").read_text())
    return data


def test_last_light_runs_ten_to_fourteen_minutes_and_its_figures_agree(tmp_path: Path) -> None:
    data = _report("last_light", tmp_path)
    (script,) = data["scripts"]  # type: ignore[misc]
    assert 10 <= script["runtime_minutes"] <= 14
    (cut,) = data["cut"]  # type: ignore[misc]
    assert cut["missing_shots"] == [] and cut["longer_than_shot"] == []
    assert abs(cut["minutes"] / script["runtime_minutes"] - 1) <= 0.15
    (cues,) = data["cues"]  # type: ignore[misc]
    assert cues["outside_cut"] == [] and cues["first_scene"] >= 5
    assert all(rule["holds"] for rule in data["style_rules"])  # type: ignore[attr-defined]
    assert all(p["holds"] for p in data["presence"])  # type: ignore[attr-defined]


def test_arcadian_episodes_run_twenty_five_to_thirty_pages(tmp_path: Path) -> None:
    data = _report("arcadian_summers", tmp_path)
    scripts = data["scripts"]
    assert len(scripts) == 12  # type: ignore[arg-type]
    for script in scripts:  # type: ignore[attr-defined]
        assert 25 <= script["eighths"] / 8 <= 30, script["file"]
    for cut in data["cut"]:  # type: ignore[attr-defined]
        assert cut["missing_shots"] == [] and cut["longer_than_shot"] == []


def test_the_long_white_chapters_follow_each_other_with_no_radio(tmp_path: Path) -> None:
    db = tmp_path / "story.db"
    assert make_sync("arctic_journey", db) == "completed"
    out = tmp_path / "out"
    export_production_sync(db, out)
    text = (out / "manuscript.md").read_text()
    titles = re.findall(r"^#+ Chapter (\d+): (.+)$", text, re.MULTILINE)
    assert [int(n) for n, _ in titles] == [1, 2, 3, 4, 5]
    for (_, previous), (number, _) in zip(titles, titles[1:], strict=False):
        chapter = text.split(f"Chapter {number}: ", 1)[1]
        assert f"After {previous.strip()}," in chapter[:2000], number
    assert re.search(r"\bradio\b", text, re.IGNORECASE) is None
