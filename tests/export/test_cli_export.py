"""`podium export` as a user runs it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from podium.store import EventStore

from .conftest import Made
from .samples import SAMPLES


def podium(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def fast_copy(sample: str, folder: Path) -> Path:
    """The sample production file with the rehearsal model's delays taken out."""
    text = (SAMPLES / f"{sample}.toml").read_text(encoding="utf-8")
    for key, value in (("latency_ms", "0.0"), ("jitter_ms", "0.0"), ("tokens_per_s", "1e7")):
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    text = re.sub(r"(?m)^latency_by_kind = .*$", "", text)
    path = folder / f"{sample}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_export_writes_every_file_and_lists_them(sample_db: Made, tmp_path: Path) -> None:
    out = tmp_path / "out"
    secret = "sk-podium-test-0123456789abcdef"
    done = podium(
        "export",
        str(sample_db("last_light")),
        "--out",
        str(out),
        env={**os.environ, "OPENAI_API_KEY": secret, "ANTHROPIC_API_KEY": secret},
    )
    assert done.returncode == 0, done.stderr
    listed = done.stdout.splitlines()
    assert listed == [str(out / name) for name in listed_names(listed)]
    names = sorted(p.name for p in out.iterdir() if p.name != ".podium-export.json")
    assert names == sorted(Path(line).name for line in listed)
    manifest = json.loads((out / ".podium-export.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == names  # what the export wrote, for the next one
    for expected in ("screenplay.fountain", "screenplay.fdx", "shot_list.csv", "music_cues.csv"):
        assert expected in names
    assert {"bible.md", "decisions.jsonl", "README.md", "documents.md"} <= set(names)
    for path in out.iterdir():
        assert secret.encode() not in path.read_bytes()  # the PDF's text is not compressed
    for line in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)


def listed_names(lines: list[str]) -> list[str]:
    return [Path(line).name for line in lines]


def test_missing_database_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    done = podium("export", str(missing), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert str(missing) in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_podium_database_is_bad_input(tmp_path: Path) -> None:
    other = tmp_path / "notes.db"
    other.write_text("just some notes\n")
    done = podium("export", str(other), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "not a podium production database" in done.stderr
    assert "Traceback" not in done.stderr
    assert other.read_text() == "just some notes\n"


def test_a_database_without_a_production_is_bad_input(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"

    async def create() -> None:
        store = await EventStore.open(empty)
        await store.close()

    asyncio.run(create())
    done = podium("export", str(empty), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "holds no production yet" in done.stderr and "Traceback" not in done.stderr


def test_a_write_failure_names_the_file_and_exits_1(sample_db: Made, tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file where the folder should be")
    done = podium("export", str(sample_db("arctic_journey")), "--out", str(blocker))
    assert done.returncode == 1
    assert f"cannot write {blocker}" in done.stderr and "Traceback" not in done.stderr


def test_a_production_stopped_at_its_first_gates_exports_what_is_done(tmp_path: Path) -> None:
    db = tmp_path / "waiting.db"
    run = podium(
        "run",
        str(fast_copy("last_light", tmp_path)),
        "--headless",
        "--auto-approve",
        "none",
        "--db",
        str(db),
    )
    assert run.returncode == 3, run.stderr  # waiting on the Orchestrator
    # the writer's question on the treatment comes first: answered, the treatment is drafted
    # and waits at its milestone gate, with the plan's
    inbox = json.loads(podium("inbox", str(db), "--json").stdout)
    [question] = [item for item in inbox if item["kind"] == "question"]
    answer = question["options"][0]["id"]
    # the inbox says how to answer, and that command answers it
    shown = podium("inbox", str(db)).stdout
    choose = f"choose: podium decide {db} {question['id']} approve --option {answer}"
    assert choose in shown and "or answer in your words: " in shown
    decided = podium(*choose.split(", or")[0].split()[2:])
    assert decided.returncode == 4, decided.stderr  # recorded for the next engine
    resumed = podium("resume", str(db), "--headless", "--auto-approve", "none")
    assert resumed.returncode == 3, resumed.stderr
    out = tmp_path / "out"
    refused = podium("export", str(db), "--out", str(out))
    assert refused.returncode == 2 and not out.exists()
    [line] = refused.stderr.splitlines()
    assert "Last Light is not finished" in line and "treatment awaiting approval" in line
    assert "--allow-stale" in line
    done = podium("export", str(db), "--out", str(out), "--allow-stale")
    assert done.returncode == 0, done.stderr
    assert not list(out.glob("*.fountain"))  # no scene is written yet
    documents = (out / "documents.md").read_text(encoding="utf-8")
    assert "## Treatment (draft)" in documents
    assert "DRAFT — awaiting approval" in documents
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "State when exported: **waiting**" in readme
    assert "- Treatment (`treatment`): awaiting approval" in readme
    lines = [json.loads(x) for x in (out / "decisions.jsonl").read_text().splitlines()]
    treatment = [x for x in lines if x.get("task_id") == "treatment" and x["type"] == "artifact"]
    assert treatment and treatment[-1]["status"] == "draft"
    assert treatment[-1]["label"] == "DRAFT — awaiting approval"
    assert treatment[-1]["decision"] is None


GATED_SCENES = """
[production]
title = "Night Ferry"
format = "short_film"
brief = "A crossing at night."

[vision]
premise = "Two strangers share a cabin on the night ferry."

[[crew]]
id = "prod"
role = "producer"

[[crew]]
id = "w"
role = "writer"

[[tasks]]
id = "scene-1"
title = "Scene 1"
kind = "scene"
assignee = "w"
params = { scene = 1 }

[[tasks]]
id = "scene-2"
title = "Scene 2"
kind = "scene"
assignee = "w"
gate = "script"
params = { scene = 2 }

[planner]
mode = "explicit"

[models.rehearsal]
latency_ms = 0.0
jitter_ms = 0.0
tokens_per_s = 1e7
"""


def test_a_scene_awaiting_approval_is_a_marked_draft_until_approved(tmp_path: Path) -> None:
    production = tmp_path / "ferry.toml"
    production.write_text(GATED_SCENES, encoding="utf-8")
    db = tmp_path / "ferry.db"
    run = podium("run", str(production), "--headless", "--auto-approve", "none", "--db", str(db))
    assert run.returncode == 3, run.stderr
    out = tmp_path / "out"
    assert podium("export", str(db), "--out", str(out)).returncode == 2  # unfinished
    assert podium("export", str(db), "--out", str(out), "--draft").returncode == 0
    fountain = (out / "screenplay.fountain").read_text(encoding="utf-8")
    assert fountain.count("[[DRAFT — awaiting approval]]") == 1
    assert "Draft: NOT FINAL" in fountain  # the whole export is marked, not only the scene
    assert "<Text>DRAFT — awaiting approval</Text>" in (out / "screenplay.fdx").read_text()
    assert "- Scene 2 (`scene-2`): awaiting approval" in (out / "README.md").read_text()

    inbox = json.loads(podium("inbox", str(db), "--json").stdout)
    (gate,) = [item for item in inbox if item["task_id"] == "scene-2"]
    decided = podium("decide", str(db), gate["id"], "approve", "--id", "cmd-approve-scene-2")
    assert decided.returncode == 4, decided.stderr  # recorded; the resume applies it
    assert podium("resume", str(db), "--headless").returncode in (0, 3)
    assert podium("export", str(db), "--out", str(out)).returncode == 0
    fountain = (out / "screenplay.fountain").read_text(encoding="utf-8")
    assert "DRAFT" not in fountain and "Draft: Complete" in fountain
    lines = [json.loads(x) for x in (out / "decisions.jsonl").read_text().splitlines()]
    (scene,) = [x for x in lines if x["type"] == "artifact" and x["task_id"] == "scene-2"]
    assert scene["status"] == "approved"
    assert scene["decision"]["command_id"] == "cmd-approve-scene-2"
    assert scene["decision"]["origin"] == "cli"


@pytest.mark.parametrize("name", ["last_light", "arctic_journey"])
def test_export_reads_the_log_without_changing_it(
    name: str, sample_db: Made, tmp_path: Path
) -> None:
    db = sample_db(name)
    before = db.read_bytes()
    assert podium("export", str(db), "--out", str(tmp_path / "out")).returncode == 0
    assert db.read_bytes() == before


def test_no_animatic_leaves_the_animatic_out_and_says_so(sample_db: Made, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = podium("export", str(sample_db("last_light")), "--out", str(out), "--no-animatic")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(out.glob("*.mp4"))
    assert "screenplay.fountain" in listed_names(done.stdout.splitlines())
    assert "No animatic: left out (--no-animatic)." in (out / "README.md").read_text("utf-8")
