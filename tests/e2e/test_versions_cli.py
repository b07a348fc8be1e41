"""`podium show`, `diff`, `log`, `fork` and status's `last_seq`, on a real (fast) production."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from podium.domain.artifacts import Screenplay
from podium.domain.events import Event
from podium.domain.state import ProductionView
from podium.export import exporter, human
from podium.export.sources import ExportSource
from podium.store.events import decode_events

from .conftest import env_for
from .test_headless_cli import podium

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "sample_productions" / "last_light.toml"


def rows(path: Path, upto: int | None = None) -> list[tuple[int, float, str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT seq, ts, kind, payload FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [r for r in found if upto is None or r[0] <= upto]


def meta(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def show_json(db: Path, task: str, *extra: str) -> dict[str, object]:
    done = podium("show", str(db), task, "--json", *extra)
    assert done.returncode == 0, done.stderr
    record: dict[str, object] = json.loads(done.stdout)
    return record


# -- show ---------------------------------------------------------------------------------------


def test_show_prints_fountain_that_parses_back_to_the_version(db: Path) -> None:
    done = podium("show", str(db), "scene-01")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # The body alone on stdout; what it is on stderr.
    assert done.stdout.startswith("Title: ")
    assert "scene-01" in done.stderr and "version 1 of 1 (current)" in done.stderr
    record = show_json(db, "scene-01")
    assert record["format"] == "fountain" and record["text"] == done.stdout
    stored = Screenplay.model_validate(record["content"])
    assert human.parse("Screenplay", done.stdout) == human.normalise(stored)


def test_show_an_older_version_and_other_formats(db: Path) -> None:
    # A task revised (which one depends on the rehearsal model's reviews and rulings).
    entries = json.loads(podium("log", str(db), "--json").stdout)
    made = [e for e in entries if e["kind"] == "version"]
    revised = next(e["task_id"] for e in made if e["version"] == 2)
    count = sum(1 for e in made if e["task_id"] == revised)
    first = next(e for e in made if e["task_id"] == revised and e["version"] == 1)
    older = show_json(db, revised, "--version", "1")
    assert older["version"] == 1 and older["versions"] == count and older["current"] is False
    assert older["author"] == first["author"] and older["model"] == "rehearsal/last-light"
    shots = podium("show", str(db), "shot_list")
    assert shots.returncode == 0 and shots.stdout.startswith("scene,shot,size"), shots.stderr
    treatment = show_json(db, "treatment")
    assert treatment["format"] == "markdown"


def versions_of(db: Path, task_id: str) -> list[dict[str, object]]:
    entries = json.loads(podium("log", str(db), "--json").stdout)
    return [e for e in entries if e["kind"] == "version" and e.get("task_id") == task_id]


def test_show_a_version_out_of_range_says_how_many_there_are(db: Path) -> None:
    # How many versions a scene has depends on the rehearsal model's reviews: read it back.
    count = len(versions_of(db, "scene-02"))
    has = "one version" if count == 1 else f"{count} versions (1 to {count})"
    done = podium("show", str(db), "scene-02", "--version", "7")
    assert done.returncode == 2
    assert done.stderr.strip() == f"podium: scene-02 has {has}; there is no version 7"
    done = podium("show", str(db), "scene-02", "--version", "0")
    assert done.returncode == 2 and "there is no version 0" in done.stderr


def test_show_an_unknown_task_names_the_closest(db: Path) -> None:
    done = podium("show", str(db), "scene-1")
    assert done.returncode == 2
    assert "there is no task 'scene-1'; did you mean scene-01" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_show_and_log_refuse_what_is_no_production(tmp_path: Path) -> None:
    missing = podium("show", str(tmp_path / "nothing.db"), "scene-01")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    other = tmp_path / "other.txt"
    other.write_text("not a database\n", encoding="utf-8")
    foreign = podium("log", str(other))
    assert foreign.returncode == 2 and "Traceback" not in foreign.stderr


# -- diff ---------------------------------------------------------------------------------------


def test_diff_of_an_overridden_task_shows_the_change(db: Path, tmp_path: Path) -> None:
    content = show_json(db, "scene-01")["content"]
    assert isinstance(content, dict)
    scene = content["scenes"][0]
    scene["elements"].append({"type": "action", "text": "The lamp turns over the empty room."})
    replaced = podium(
        "decide", str(db), "-", "override", "--task", "scene-01", "--replace", json.dumps(content)
    )
    assert replaced.returncode == 4, replaced.stderr  # recorded; applied when the engine runs
    resumed = podium(
        "resume", str(db), "--headless", "--auto-approve", "all", env=env_for(tmp_path)
    )
    assert resumed.returncode in (0, 3), resumed.stderr
    now = show_json(db, "scene-01")
    assert now["version"] == 2 and now["author"] == "orchestrator" and now["current"] is True

    done = podium("diff", str(db), "scene-01")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "--- scene-01 v1 (Callum (writer))"
    assert lines[1] == "+++ scene-01 v2 (the Orchestrator)"
    assert "+!The lamp turns over the empty room." in lines
    # Named versions: the same pair, and a version against itself (no difference, still 0).
    assert podium("diff", str(db), "scene-01", "1", "2").stdout == done.stdout
    same = podium("diff", str(db), "scene-01", "2", "2")
    assert same.returncode == 0 and same.stdout == ""
    bad = podium("diff", str(db), "scene-01", "1", "5")
    assert bad.returncode == 2 and "scene-01 has 2 versions" in bad.stderr


# -- log and status -----------------------------------------------------------------------------


def test_log_lists_decisions_and_versions_with_their_seq(db: Path) -> None:
    done = podium("log", str(db), "--json")
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    stored = {seq: kind for seq, _, kind, _ in rows(db)}
    kinds = {e["kind"] for e in entries}
    assert {"opened", "run_started", "run_stopped", "planned", "command", "version"} <= kinds
    commands = [e for e in entries if e["kind"] == "command"]
    assert commands and all(stored[e["seq"]] == "command_recorded" for e in commands)
    first = commands[0]
    assert first["action"] == "approve" and first["origin"]
    resolved = [e for e in entries if e["kind"] == "escalation_resolved"]
    assert resolved and all(stored[e["seq"]] == "escalation_resolved" for e in resolved)
    versions = [e for e in entries if e["kind"] == "version"]
    assert any(e["version"] == 2 for e in versions)  # a revision is listed with its number
    assert all(isinstance(e["task_id"], str) and e["task_id"] for e in versions)
    assert not {"output_chunk", "task_state", "task_settled", "agent_state"} & kinds
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)

    text = podium("log", str(db))
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.splitlines()) == len(entries)
    line = next(x for x in text.stdout.splitlines() if x.startswith(f"#{first['seq']} "))
    assert f"approve {first['escalation_id']}" in line


def test_status_json_has_last_seq_and_stale(db: Path) -> None:
    done = podium("status", str(db), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["last_seq"] == rows(db)[-1][0]
    assert summary["tasks"]["stale"] == 0
    text = podium("status", str(db))
    assert f"last event: #{summary['last_seq']}" in text.stdout


# -- fork ---------------------------------------------------------------------------------------


def plan_approved_at(db: Path) -> int:
    entries = json.loads(podium("log", str(db), "--json").stdout)
    return int(
        next(
            e["seq"]
            for e in entries
            if e["kind"] == "escalation_resolved" and e.get("task_id") == "plan"
        )
    )


def export_at(db: Path, upto: int) -> dict[str, bytes]:
    """The export a production's log folded up to `upto` renders, file by file."""
    source = ExportSource(ProductionView(), files_root=db.parent)
    for event in decode_events(rows(db, upto)):
        assert isinstance(event, Event)
        source.record(event)
    return {f.name: f.data or b"" for f in exporter.render(source)}


def rendered(db: Path) -> dict[str, bytes]:
    source = asyncio.run(exporter.load(db))
    return {f.name: f.data or b"" for f in exporter.render(source)}


def test_fork_after_the_plan_is_approved_resumes_and_diverges(db: Path, tmp_path: Path) -> None:
    # After the plan's approval and scene 1's first version (which waits on the treatment).
    at = max(plan_approved_at(db), int(str(versions_of(db, "scene-01")[0]["seq"])))
    before = digest(db)
    new = tmp_path / "fork.db"
    done = podium("fork", str(db), "--at", str(at), "--db", str(new))
    assert done.returncode == 0, done.stderr
    assert f"podium resume {new}" in done.stdout
    # The log up to SEQ, exactly (seq, time, kind, payload), and where it came from; the run
    # open at SEQ ends there in the fork (stopped, not crashed: it was not killed).
    copied = rows(new)
    assert copied[: len(rows(db, at))] == rows(db, at)
    assert [(seq, kind) for seq, _, kind, _ in copied[len(rows(db, at)) :]] == [
        (at + 1, "production_state"),
        (at + 2, "run_stopped"),
    ]
    assert "stopped" in done.stdout
    assert meta(new)["forked_from"] == f"{db.resolve()}@{at}"
    assert meta(new)["title"] == "Last Light"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".fork.db")]
    status = json.loads(podium("status", str(new), "--json").stdout)
    assert status["last_seq"] == at + 2
    assert (status["state"], status["engine"]) == ("stopped", "none")  # it said "crashed"
    # What the fork exports is what the original held at SEQ, stopped where it was running.
    held = {
        name: data.replace(b"state: running", b"state: stopped").replace(
            b"exported: **running**", b"exported: **stopped**"
        )
        for name, data in export_at(db, at).items()
    }
    assert rendered(new) == held
    # It is unfinished at SEQ: refused, unless asked for marked.
    assert podium("export", str(new), "--out", str(tmp_path / "out")).returncode == 2
    marked = podium("export", str(new), "--out", str(tmp_path / "out"), "--allow-stale")
    assert marked.returncode == 0, marked.stderr

    # The fork goes its own way: a replaced scene 1, made to the end; the original untouched.
    content = show_json(new, "scene-01")["content"]
    assert isinstance(content, dict)
    content["scenes"][0]["elements"].append({"type": "action", "text": "A different night."})
    recorded = podium(
        "decide", str(new), "-", "override", "--task", "scene-01", "--replace", json.dumps(content)
    )
    assert recorded.returncode == 4, recorded.stderr
    resumed = podium(
        "resume", str(new), "--headless", "--auto-approve", "all", env=env_for(tmp_path)
    )
    # A dialogue pass over the Orchestrator's scene is proposed beside it, an item that
    # --auto-approve all leaves open (exit 3): the Orchestrator keeps theirs, and it goes on.
    proposals = 0
    while resumed.returncode == 3 and proposals < 3:
        items = json.loads(podium("inbox", str(new), "--json").stdout)
        assert items and all(i["title"].startswith("Proposal: ") for i in items), items
        for item in items:
            kept = podium("decide", str(new), item["id"], "approve", "--option", "keep")
            assert kept.returncode == 4, kept.stderr
            proposals += 1
        resumed = podium(
            "resume", str(new), "--headless", "--auto-approve", "all", env=env_for(tmp_path)
        )
    assert resumed.returncode == 0, resumed.stderr
    assert proposals >= 1  # scene 1's dialogue pass, over the Orchestrator's text
    after = json.loads(podium("status", str(new), "--json").stdout)
    assert after["state"] == "completed" and after["last_seq"] > at
    assert "A different night." in podium("show", str(new), "scene-01").stdout
    assert "A different night." not in podium("show", str(db), "scene-01").stdout
    assert digest(db) == before


def test_fork_refuses_an_existing_file_and_a_seq_beyond_the_log(db: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"mine")
    done = podium("fork", str(db), "--at", "5", "--db", str(taken))
    assert done.returncode == 2 and "exists already" in done.stderr
    assert taken.read_bytes() == b"mine"
    last = rows(db)[-1][0]
    new = tmp_path / "new.db"
    beyond = podium("fork", str(db), "--at", str(last + 1), "--db", str(new))
    assert beyond.returncode == 2 and f"up to #{last} only" in beyond.stderr
    zero = podium("fork", str(db), "--at", "0", "--db", str(new))
    assert zero.returncode == 2
    nowhere = podium("fork", str(db), "--at", "5", "--db", str(tmp_path / "no" / "new.db"))
    assert nowhere.returncode == 2 and "there is no folder" in nowhere.stderr
    assert not new.exists()
    made = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(db.name))
    assert made == ["taken.db"]  # no half-made fork left behind


def test_fork_of_the_whole_log_is_the_same_production(db: Path, tmp_path: Path) -> None:
    last = rows(db)[-1][0]
    new = tmp_path / "whole.db"
    done = podium("fork", str(db), "--at", str(last), "--db", str(new))
    assert done.returncode == 0, done.stderr
    assert rows(new) == rows(db)
    assert rendered(new) == rendered(db)
    assert podium("check", str(new)).returncode == 0
