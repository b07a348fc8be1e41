"""The report and the engine's checks say the same thing: for each sample's export, every
declared deliverable rule the report holds (`report.json`'s `rules`) is what
`check_deliverables` finds when a task it applies to delivers, and its figures are the
report's own figures (the script's length, the cut, the cues, the shots counted).

The samples finish within their rules, so each is also held to tightened rules (every range
just missed, a character nobody plays): then every rule fails, and the finding the engine sends
back is the sentence the report prints."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from podium.deliverables.checks import check_deliverables, episode_of
from podium.domain.validators import (
    DELIVERABLE_RULES,
    CharacterPresence,
    Count,
    CueBounds,
    PageRange,
    RuntimeRange,
    ShotReferences,
    ValidatorSpec,
    check,
)
from podium.export.manuscript import parsed
from podium.export.pagination import paginate
from podium.export.report import report
from podium.export.screenplay import screenplays
from podium.export.sources import ExportSource
from tests.export.conftest import Made, load_source, sample_db, sample_export
from tests.export.samples import SAMPLE_NAMES

__all__ = ["sample_db", "sample_export"]  # the session's samples, shared with tests/export

pytestmark = pytest.mark.slow
Json = dict[str, Any]


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _by_episode(entries: list[Json]) -> dict[int | None, Json]:
    return {entry["episode"]: entry for entry in entries}


def _agree(source: ExportSource, data: Json) -> None:
    """Every declared deliverable rule: the report's verdict and sentence are the findings of
    `check_deliverables` when a task it applies to delivers, in each film or episode (one task
    for each: the film or episode is assembled the same whichever sets it off)."""
    spec = source.view.spec
    assert spec is not None
    entries = {(e["rule"], e["episode"]): e for e in data["rules"]}
    declared = [r for r in spec.validators if isinstance(r, DELIVERABLE_RULES)]
    seen: set[tuple[str, int | None]] = set()
    for record in source.plan():
        task = record.spec
        rules = [r for r in declared if (r.kinds or r.tasks) and r.applies_to(task)]
        keys = [((r.id or r.type), episode_of(source, task)) for r in rules]
        if all(key in seen for key in keys):
            continue
        found = {f.rule: f for f in check_deliverables(source.view, task)}
        for key in keys:
            seen.add(key)
            entry, finding = entries.get(key), found.get(key[0])
            if entry is None:  # nothing to hold yet (a cue rule with no cue sheet)
                assert finding is None, key
                continue
            assert entry["holds"] == (finding is None), (key, task.id)
            if finding is not None:
                assert finding.message == entry["statement"], (key, task.id)
                assert finding.evidence == entry["evidence"], (key, task.id)
    assert set(entries) <= seen


def _figures_agree(data: Json, out: Path) -> None:
    """Each rule's figures are the figures the report prints elsewhere, and the shot list's."""
    scripts = _by_episode(data["scripts"])
    cuts = _by_episode(data["cut"])
    cues = _by_episode(data["cues"])
    handheld: dict[int | None, int] = {}
    series = data["format"] == "series"
    for row in _rows(out / "shot_list.csv"):
        if "handheld" in row["movement"].lower() or "hand-held" in row["movement"].lower():
            episode = int(row["episode"]) if series else None
            handheld[episode] = handheld.get(episode, 0) + 1
    for entry in data["rules"]:
        episode, numbers = entry["episode"], entry["figures"]
        if entry["type"] in ("runtime", "pages"):
            script = scripts[episode]
            assert numbers["minutes"] == script["runtime_minutes"]
            assert numbers["eighths"] == script["eighths"]
            (declared,) = [r for r in script["ranges"] if r["rule"] == entry["rule"]]
            assert declared["holds"] == entry["holds"]
        elif entry["type"] == "shot_references":
            cut = cuts[episode]
            for field in ("items", "seconds", "missing_shots", "longer_than_shot"):
                assert numbers[field] == cut[field], field
            if numbers["tolerance"] is not None:
                assert cut["against_script"]["holds"] == numbers["within_tolerance"]
                script = scripts[episode]
                share = cut["seconds"] / (script["runtime_minutes"] * 60) - 1
                assert numbers["share_of_script"] == pytest.approx(share, abs=1e-4)
        elif entry["type"] == "cue_bounds":
            sheet = cues[episode]
            for field in ("last_end_s", "cut_seconds", "outside_cut", "first_scene"):
                assert numbers[field] == sheet[field], field
            if numbers["enters_scene"] is not None:
                early = [c["cue"] for c in sheet["cues"] if c["scene"] < numbers["enters_scene"]]
                assert numbers["before_scene"] == early
            if numbers["last_shot_start"] is not None:
                assert numbers["last_shot_start"] == cuts[episode]["last_shot_start"]
        elif entry["type"] == "count" and numbers["what"] == "handheld_shots":
            assert numbers["counted"] == handheld.get(episode, 0)


def _tightened(rule: ValidatorSpec, data: Json) -> ValidatorSpec:
    """The rule just missed by what the report counted."""
    if isinstance(rule, CharacterPresence):
        return rule.model_copy(update={"characters": [*rule.characters, "Nobody"]})
    if not isinstance(rule, DELIVERABLE_RULES):
        return rule
    entry = next((e for e in data["rules"] if e["rule"] == (rule.id or rule.type)), None)
    if entry is None:  # nothing to hold (a cue rule with no cue sheet)
        return rule
    numbers = entry["figures"]
    if isinstance(rule, RuntimeRange):
        smallest = min(e["figures"]["minutes"] for e in data["rules"] if e["rule"] == entry["rule"])
        return rule.model_copy(update={"min": None, "max": smallest - 0.5})
    if isinstance(rule, PageRange):
        smallest = min(e["figures"]["pages"] for e in data["rules"] if e["rule"] == entry["rule"])
        return rule.model_copy(update={"min": None, "max": smallest - 0.5})
    if isinstance(rule, ShotReferences):
        return rule.model_copy(update={"runtime_tolerance": 1e-9})  # 0.1 s in 28 min fails
    if isinstance(rule, CueBounds):
        return rule.model_copy(update={"enters_scene": 99})
    if isinstance(rule, Count):
        return rule.model_copy(update={"min": numbers["counted"] + 1, "max": None})
    return rule


def _presence_agrees(source: ExportSource, data: Json) -> None:
    """A presence rule the report says fails is a finding on the task whose version printed
    the scene (or on the rule's own task's content, when that is what is printed)."""
    plays = {play.stem: play for play in screenplays(source)}
    tasks = {record.spec.id: record.spec for record in source.plan()}
    spec = source.view.spec
    assert spec is not None
    rules = {r.id or r.type: r for r in spec.validators if isinstance(r, CharacterPresence)}
    for entry in data["presence"]:
        play = plays[entry["file"].removesuffix(".pdf")]
        printers = {play.slots[s - 1].artifact.task_id for s in entry["scenes"]}
        failed = False
        for printer in printers:
            if printer == entry["task"]:
                artifact = play.slots[entry["scenes"][0] - 1].artifact
                content = parsed(artifact)
                assert content is not None
                failed |= check(rules[entry["rule"]], content) is not None
            else:
                failed |= any(
                    f"for {entry['task']})" in f.message
                    for f in check_deliverables(source.view, tasks[printer])
                    if f.rule == entry["rule"]
                )
        assert failed == (not entry["holds"]), entry


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_report_and_the_checks_agree_on_each_sample(
    name: str, sample_db: Made, sample_export: Made
) -> None:
    out = sample_export(name)
    data: Json = json.loads((out / "report.json").read_text(encoding="utf-8"))
    source = load_source(sample_db(name))
    spec = source.view.spec
    assert spec is not None
    declared = [r for r in spec.validators if isinstance(r, DELIVERABLE_RULES)]
    assert {e["rule"] for e in data["rules"]} <= {r.id or r.type for r in declared}
    assert all(e["holds"] for e in data["rules"])  # the samples finish within their rules
    _agree(source, data)
    _figures_agree(data, out)
    _presence_agrees(source, data)

    # Every rule just missed: each fails, in the report and in the checks alike.
    tightened = [_tightened(rule, data) for rule in spec.validators]
    source.view.spec = spec.model_copy(update={"validators": tightened})
    plays = [(play, paginate(play.script)) for play in screenplays(source)]
    strict = json.loads(json.dumps(report(source, plays)))
    assert len(strict["rules"]) == len(data["rules"])
    assert not any(e["holds"] for e in strict["rules"])
    _agree(source, strict)
    _figures_agree(strict, out)
    presence = [p for p in strict["presence"] if p["scenes"]]
    assert presence == [] or not any(p["holds"] for p in presence)
    _presence_agrees(source, strict)
