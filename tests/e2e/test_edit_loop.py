"""The edit → stale → re-made → export loop through the real CLI (issue 16): `podium edit` and
`podium restore`, an export that refuses stale or unfinished work (or marks it), `decide
adjust_constraints KEY=VALUE`, the style guide amended live, and kill -9 while stale work is
made again."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from .conftest import env_for
from .crash_harness import production_text, start
from .test_headless_cli import FAST, TWO, explicit, podium, production
from .test_versions_cli import show_json

pytestmark = pytest.mark.slow

# The events that make a version current: its own, or a task settled with it (`TaskSettled`).
CURRENT = ("current_version", "task_settled")
HAND = "I wrote this line by hand, and it stays."


def events_digest(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
        commands = conn.execute("SELECT * FROM commands").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr((rows, commands)).encode()).hexdigest()


def events(path: Path) -> list[tuple[int, str, dict[str, object]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def hand_edited(path: Path, task: str, folder: Path) -> Path:
    """The task's current version in Fountain, its first line of dialogue rewritten by hand."""
    shown = podium("show", str(path), task)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    cue = next(i for i, line in enumerate(lines) if line.startswith("@"))
    at = cue + 1 + (lines[cue + 1].startswith("(") if cue + 1 < len(lines) else 0)
    lines[at] = HAND
    edited = folder / f"{task}.fountain"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return edited


def test_a_hand_edit_reaches_the_exported_fountain_and_fdx_verbatim(
    db: Path,
    tmp_path: Path,
) -> None:
    task = "dialogue-scene-3-tam"  # what stands for scene 3 in the screenplay
    edited = hand_edited(db, task, tmp_path)
    done = podium("edit", str(db), task, "--file", str(edited))
    assert done.returncode == 4, done.stderr  # recorded: no engine runs
    resumed = podium(
        "resume", str(db), "--headless", "--auto-approve", "all", env=env_for(tmp_path)
    )
    assert resumed.returncode == 0, resumed.stderr
    record = show_json(db, task)
    assert record["author"] == "orchestrator" and record["version"] == 2
    assert HAND in str(record["text"])
    status = json.loads(podium("status", str(db), "--json").stdout)
    assert status["state"] == "completed" and status["tasks"]["stale"] == 0
    script = show_json(db, "script")
    assert script["version"] == 2 and script["author"] == "podium"  # assembled again
    out = tmp_path / "out"
    exported = podium("export", str(db), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert HAND in (out / "screenplay.fountain").read_text(encoding="utf-8")
    assert HAND in (out / "screenplay.fdx").read_text(encoding="utf-8")
    assert "NOT FINAL" not in (out / "README.md").read_text(encoding="utf-8")


def test_an_invalid_fountain_file_records_nothing_and_is_kept(
    db: Path,
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.fountain"
    bad.write_text("Title: x\n\nINT. HOUSE - DAY\n\nHe waits.\n\n[[ a note never closed\n")
    before = events_digest(db)
    done = podium("edit", str(db), "scene-01", "--file", str(bad))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"{bad}:7: this note opens with '[[' but never closes"), line
    assert bad.exists() and events_digest(db) == before
    same = tmp_path / "same.fountain"
    same.write_text(podium("show", str(db), "scene-01").stdout, encoding="utf-8")
    unchanged = podium("edit", str(db), "scene-01", "--file", str(same))
    assert unchanged.returncode == 0, unchanged.stderr
    assert "no change" in unchanged.stdout and events_digest(db) == before


def editor_script(folder: Path, body: str) -> dict[str, str]:
    """EDITOR set to a Python script that rewrites the file it is given."""
    script = folder / "editor.py"
    script.write_text("import sys\nfrom pathlib import Path\npath = Path(sys.argv[1])\n" + body)
    return {**os.environ, "EDITOR": f"{sys.executable} {script}"}


def test_edit_through_the_editor_records_the_edited_file(
    db: Path,
    tmp_path: Path,
) -> None:
    env = editor_script(
        tmp_path,
        "assert path.suffix == '.fountain', path\n"
        "text = path.read_text()\n"
        f"path.write_text(text.replace('\\n@', '\\n{HAND}\\n\\n@', 1))\n",
    )
    done = podium("edit", str(db), "scene-01", "--id", "hand-1", env=env)
    assert done.returncode == 4, done.stderr
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        [(payload,)] = conn.execute("SELECT body FROM commands WHERE id = 'hand-1'").fetchall()
    finally:
        conn.close()
    command = json.loads(payload)
    assert command["action"] == "edit" and command["content_type"] == "Screenplay"
    assert HAND in json.dumps(command["content"])
    # An editor that leaves the file unreadable: named by line, kept, nothing recorded.
    before = events_digest(db)
    broken = editor_script(tmp_path, "path.write_text('no heading here\\n')\n")
    failed = podium("edit", str(db), "scene-02", env=broken)
    assert failed.returncode == 2
    first = failed.stderr.splitlines()[0]
    assert first.endswith(
        ".fountain:1: the action 'no heading here' comes before the first "
        "scene heading; every line belongs to a scene, so start with a "
        "heading like INT. HOUSE - DAY above it"
    ), first
    kept = Path(first.split(".fountain:")[0] + ".fountain")
    assert kept.read_text() == "no heading here\n"
    kept.unlink()
    assert events_digest(db) == before


def test_restore_makes_version_one_current_and_what_was_made_from_it_is_made_again(
    db: Path,
    tmp_path: Path,
) -> None:
    task = "dialogue-scene-3-tam"
    edited = hand_edited(db, task, tmp_path)
    assert podium("edit", str(db), task, "--file", str(edited)).returncode == 4
    env = env_for(tmp_path)
    assert podium("resume", str(db), "--headless", "--auto-approve", "all", env=env).returncode == 0
    assert show_json(db, "script")["version"] == 2  # assembled from the edit
    before = events_digest(db)
    missing = podium("restore", str(db), task, "7")
    assert missing.returncode == 2 and "there is no version 7" in missing.stderr
    assert events_digest(db) == before
    restored = podium("restore", str(db), task, "1")
    assert restored.returncode == 4, restored.stderr
    resumed = podium("resume", str(db), "--headless", "--auto-approve", "all", env=env)
    assert resumed.returncode == 0, resumed.stderr
    record = show_json(db, task)
    assert record["version"] == 1 and record["versions"] == 2 and record["current"] is True
    found = events(db)
    restores = [p for _, k, p in found if k == "current_version" and p["cause"] == "restore"]
    assert [(p["task_id"], p["version"]) for p in restores] == [(task, 1)]
    after = next(seq for seq, k, p in found if k == "current_version" and p in restores)
    scripts = [
        p for seq, k, p in found if seq > after and k in CURRENT and p["task_id"] == "script"
    ]
    assert scripts and scripts[-1]["cause"] in ("made", "approved")  # assembled again, from v1
    assert show_json(db, "script")["version"] == 3
    out = tmp_path / "out"
    assert podium("export", str(db), "--out", str(out)).returncode == 0
    assert HAND not in (out / "screenplay.fountain").read_text(encoding="utf-8")
    assert f"restore {task} — version 1" in podium("log", str(db)).stdout


def test_export_refuses_a_stale_production_and_marks_it_with_allow_stale(
    db: Path,
    tmp_path: Path,
) -> None:
    edited = hand_edited(db, "dialogue-scene-3-tam", tmp_path)
    assert podium("edit", str(db), "dialogue-scene-3-tam", "--file", str(edited)).returncode == 4
    # Without --auto-approve the approved work it made stale asks first: the run waits.
    waited = podium("resume", str(db), "--headless", env=env_for(tmp_path))
    assert waited.returncode == 3, waited.stderr
    status = json.loads(podium("status", str(db), "--json").stdout)
    assert status["tasks"]["stale"] > 0
    out = tmp_path / "out"
    refused = podium("export", str(db), "--out", str(out))
    assert refused.returncode == 2 and not out.exists()
    [line] = refused.stderr.splitlines()
    assert "Last Light is not finished" in line and "stale (" in line
    assert "podium resume" in line and "--allow-stale" in line
    marked = podium("export", str(db), "--out", str(out), "--allow-stale")
    assert marked.returncode == 0, marked.stderr
    mark = "NOT FINAL: stale or unfinished work (see README)"
    fountain = (out / "screenplay.fountain").read_text(encoding="utf-8")
    assert f"Draft: {mark}" in fountain and f"[[{mark}]]" in fountain
    assert mark in (out / "screenplay.fdx").read_text(encoding="utf-8")
    pdf = (out / "screenplay.pdf").read_bytes()
    pages = pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")
    assert pdf.count(b"NOT FINAL: stale or unfinished work") >= pages > 1  # every page's header
    for name in ("documents.md", "bible.md", "README.md"):
        assert "(not final)" in (out / name).read_text(encoding="utf-8").splitlines()[0], name
    assert mark in (out / "storyboard.html").read_text(encoding="utf-8")
    assert "exported with `--allow-stale`" in (out / "README.md").read_text(encoding="utf-8")


def test_decide_adjust_constraints_takes_key_value_pairs(tmp_path: Path) -> None:
    waiting = tmp_path / "p.db"
    path = production(tmp_path, explicit(TWO, FAST + "[constraints]\nbudget_tokens = 50\n"))
    assert podium("run", str(path), "--headless", "--db", str(waiting)).returncode == 3
    inbox = json.loads(podium("inbox", str(waiting), "--json").stdout)
    [budget] = [item for item in inbox if item["kind"] == "budget"]
    assert "adjust_constraints" in budget["actions"]
    bad = podium("decide", str(waiting), budget["id"], "adjust_constraints", "budget_tokens")
    assert bad.returncode == 2 and "is not KEY=VALUE" in bad.stderr
    done = podium(
        "decide", str(waiting), budget["id"], "adjust_constraints", "budget_tokens=10000000"
    )
    assert done.returncode == 4, done.stderr
    podium("resume", str(waiting), "--headless", "--auto-approve", "gates")
    decided = json.loads(podium("inbox", str(waiting), "--json", "--all").stdout)
    [resolved] = [item for item in decided if item["id"] == budget["id"]]
    assert not resolved["open"] and "budget_tokens=10000000" in resolved["resolution"]


def test_kill_nine_while_stale_work_is_made_again_loses_nothing(tmp_path: Path) -> None:
    text = production_text(scenes=3, latency_ms=5.0, tokens_per_s=20000.0)
    text = text.replace(
        "tokens_per_s = 20000.0\n",
        "tokens_per_s = 20000.0\nlatency_by_kind = { shot_list = 3000.0 }\n",
    )
    path = tmp_path / "crash.toml"
    path.write_text(text, encoding="utf-8")
    crash = tmp_path / "crash.db"
    env = env_for(tmp_path)
    first = podium(
        "run",
        str(path),
        "--headless",
        "--auto-approve",
        "all",
        "--db",
        str(crash),
        env=env,
        timeout=180,
    )
    assert first.returncode == 0, first.stderr
    edited = tmp_path / "scene-2.fountain"
    edited.write_text(f"INT. PROJECTION BOOTH - NIGHT\n\n{HAND}\n", encoding="utf-8")
    assert podium("edit", str(crash), "scene-2", "--file", str(edited)).returncode == 4
    since = events(crash)[-1][0]
    engine = start(
        ["resume", str(crash), "--headless", "--auto-approve", "all"], tmp_path / "resume.log", env
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:  # the shot list, stale, is being made again
            running = [
                p
                for seq, kind, p in events(crash)
                if seq > since
                and kind == "task_state"
                and p["task_id"] == "shots"
                and p["state"] == "running"
            ]
            if running:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the stale shot list was never made again")
        os.kill(engine.pid, signal.SIGKILL)
        engine.wait(timeout=30)
    finally:
        if engine.poll() is None:
            engine.kill()
    assert engine.returncode == -signal.SIGKILL
    again = podium(
        "resume", str(crash), "--headless", "--auto-approve", "all", env=env, timeout=180
    )
    assert again.returncode == 0, again.stderr
    after = [(kind, p) for seq, kind, p in events(crash) if seq > since]
    remade = [p["artifact"]["task_id"] for kind, p in after if kind == "artifact_created"]
    assert remade.count("shots") == 1  # made again once, though killed while it was made
    scene = show_json(crash, "scene-2")
    assert scene["author"] == "orchestrator" and scene["current"] is True
    assert HAND in str(scene["text"])
    shots = [p for kind, p in after if kind in CURRENT and p["task_id"] == "shots"]
    assert shots and shots[-1]["cause"] in ("made", "approved")
    status = json.loads(podium("status", str(crash), "--json").stdout)
    assert status["state"] == "completed" and status["tasks"]["stale"] == 0


def test_the_style_guide_is_amended_live_from_the_cli(db: Path, tmp_path: Path) -> None:
    done = podium("vision", str(db), "style", "palette: sea grey; lamp amber", "--reason", "colder")
    assert done.returncode == 4, done.stderr  # recorded (it exited 2 before: no such section)
    resumed = podium(
        "resume", str(db), "--headless", "--auto-approve", "all", env=env_for(tmp_path)
    )
    assert resumed.returncode == 0, resumed.stderr
    status = json.loads(podium("status", str(db), "--json").stdout)
    assert status["vision_version"] == 2 and status["tasks"]["stale"] == 0
    amended = [p for _, k, p in events(db) if k == "vision_amended"]
    assert [(p["section"], p["stale_tasks"] != []) for p in amended] == [("style", True)]
    out = tmp_path / "out"
    assert podium("export", str(db), "--out", str(out)).returncode == 0
    bible = (out / "bible.md").read_text(encoding="utf-8")
    assert "### Version 2: style changed" in bible and "- sea grey\n- lamp amber" in bible


def test_in_a_terminal_the_editor_reopens_with_the_error_on_top(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from podium.cli import main

    seen = tmp_path / "seen.txt"
    env = editor_script(
        tmp_path,
        f"seen = Path({str(seen)!r})\n"
        "text = path.read_text()\n"
        "with seen.open('a') as log:\n"
        "    log.write(text.splitlines()[0] + '\\n')\n"
        "if text.startswith('[[podium: '):\n"  # the second time: fix it, note and all kept
        "    path.write_text(text.replace('no heading here', 'INT. LAMP ROOM - NIGHT'))\n"
        "else:\n"
        "    path.write_text('no heading here\\n\\n' + text.split('\\n', 1)[1])\n",
    )
    monkeypatch.setenv("EDITOR", env["EDITOR"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["edit", str(db), "scene-01", "--id", "reopened"]) == 4
    first, second = seen.read_text().splitlines()
    assert not first.startswith("[[")
    assert second.startswith("[[podium: line 1: the action 'no heading here' comes before")
    assert second.endswith("Fix it and save; podium removes this line.]]")
    err = capsys.readouterr().err
    assert ".fountain:1: the action 'no heading here'" in err
    record = show_json(db, "scene-01")
    assert record["version"] == 1  # recorded only: no engine runs
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        [(body,)] = conn.execute("SELECT body FROM commands WHERE id = 'reopened'").fetchall()
    finally:
        conn.close()
    content = json.loads(body)["content"]
    assert content["scenes"][0]["heading"] == "INT. LAMP ROOM - NIGHT"
    assert "podium:" not in json.dumps(content)  # the note on top was taken off
