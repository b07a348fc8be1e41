"""Answers that say what happened: a command's exit code tells applied (0) from recorded for a
later engine (4) from refused (2); a background start is reported only once the engine runs;
`status` says when the engine died; a failed start leaves nothing behind.

Real processes throughout; an "engine" that must die at a chosen moment is a child holding the
engine lock, killed once the command it should apply is recorded.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from podium.locks import holder

from ..unprivileged import require_unprivileged
from .test_headless_cli import FAST, TWO, explicit, podium, production

DEADLINE_S = 30.0


def wait_for(predicate: Callable[[], bool], what: str, seconds: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def waiting(tmp_path: Path) -> Path:
    """A production stopped waiting on its treatment gate, e1; no engine runs it."""
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    made = podium("run", str(path), "--headless", "--db", str(db))
    assert made.returncode == 3, made.stderr
    return db


def inbox_all(db: Path) -> dict[str, dict[str, object]]:
    out = podium("inbox", str(db), "--json", "--all")
    assert out.returncode == 0, out.stderr
    return {item["id"]: item for item in json.loads(out.stdout)}


def recorded_ids(db: Path) -> list[str]:
    """The commands recorded, in the command channel or in the log."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        channel = [row[0] for row in conn.execute("SELECT id FROM commands ORDER BY rowid")]
        logged = conn.execute(
            "SELECT json_extract(payload, '$.command.id') FROM events "
            "WHERE kind = 'command_recorded' ORDER BY seq"
        )
        return channel + [row[0] for row in logged if row[0] not in channel]
    finally:
        conn.close()


# -- decide, vision, constraints -------------------------------------------------------------


def test_decide_with_a_running_detached_engine_exits_0(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    started = podium("run", str(path), "--detach", "--db", str(db), env=env)
    assert started.returncode == 0, started.stderr
    try:
        wait_for(lambda: "e1" in inbox_all(db), "the gate")
        decided = podium("decide", str(db), "e1", "approve", "--id", "ok-1", env=env)
        assert decided.returncode == 0, decided.stderr
        assert decided.stdout.startswith("ok-1: approved treat")
        again = podium("decide", str(db), "e1", "approve", "--id", "ok-1", env=env)
        assert again.returncode == 0, again.stderr  # the same command again: its outcome
    finally:
        if (pid := holder(db)) is not None:
            os.kill(pid, signal.SIGTERM)


def test_decide_with_no_engine_exits_4_and_applies_on_resume(tmp_path: Path) -> None:
    db = waiting(tmp_path)
    decided = podium("decide", str(db), "e1", "approve", "--id", "later")
    assert decided.returncode == 4, decided.stderr
    assert "recorded" in decided.stderr and "may still be refused" in decided.stderr
    assert f"podium inbox {db} --all" in decided.stderr
    assert inbox_all(db)["e1"]["open"]  # nothing applied yet
    resumed = podium("resume", str(db), "--headless")
    assert resumed.returncode == 0, resumed.stderr
    item = inbox_all(db)["e1"]
    assert not item["open"] and item["resolution"] == "approved treat"
    again = podium("decide", str(db), "e1", "approve", "--id", "later")
    assert again.returncode == 0, again.stderr  # a retried script learns it was applied


def test_two_contradictory_decides_with_no_engine_first_4_then_2(tmp_path: Path) -> None:
    db = waiting(tmp_path)
    first = podium("decide", str(db), "e1", "approve", "--id", "yes")
    assert first.returncode == 4, first.stderr
    second = podium("decide", str(db), "e1", "override", "darker", "--id", "no")
    assert second.returncode == 2, second.stderr
    assert "already being decided by command yes" in second.stderr
    assert recorded_ids(db) == ["yes"]  # the refused one is not recorded
    assert podium("resume", str(db), "--headless").returncode == 0
    assert inbox_all(db)["e1"]["resolution"] == "approved treat"


def test_concurrent_decides_with_no_engine_one_recorded_the_rest_refused(tmp_path: Path) -> None:
    db = waiting(tmp_path)
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "podium", "decide", str(db), "e1", "approve", "--id", f"r{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(5)
    ]
    codes = sorted(racer.wait(timeout=120) for racer in racers)
    for racer in racers:
        assert racer.stderr is not None and "Traceback" not in racer.stderr.read()
        racer.stdout.close() if racer.stdout else None
        racer.stderr.close()
    assert codes == [2, 2, 2, 2, 4]
    assert len(recorded_ids(db)) == 1


def test_a_refusal_that_is_already_known_records_nothing(tmp_path: Path) -> None:
    db = waiting(tmp_path)
    for args, message in (
        (["decide", "DB", "e9", "approve"], "no escalation 'e9'"),
        (["decide", "DB", "e1", "approve", "--option", "nope"], "has no option 'nope'"),
        (["vision", "DB", "nonsense", "x"], "unknown vision section 'nonsense'"),
        (["constraints", "DB", "max_concurrency=-3"], "max_concurrency"),
    ):
        result = podium(*[str(db) if a == "DB" else a for a in args])
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert recorded_ids(db) == []


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from podium.locks import EngineLock
lock = EngineLock.acquire(Path(sys.argv[1]))
print("holding", flush=True)
time.sleep(120)
"""


@pytest.fixture
def stand_in_engine(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A waiting production whose engine lock a child holds: to `decide` an engine runs it,
    one that never answers (as a busy or hung engine would not) until it is killed."""
    db = waiting(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        yield db, child
    finally:
        child.kill()
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()


def test_an_engine_killed_mid_wait_gives_4_never_2_and_resume_applies_it(
    stand_in_engine: tuple[Path, subprocess.Popen[str]],
) -> None:
    db, engine = stand_in_engine
    decide = subprocess.Popen(
        [sys.executable, "-m", "podium", "decide", str(db), "e1", "approve", "--id", "mid"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: recorded_ids(db) == ["mid"], "the command to be recorded")
    engine.kill()  # as kill -9 would: the kernel drops its lock
    out, err = decide.communicate(timeout=60)
    assert decide.returncode == 4, err
    assert "the engine stopped before applying it" in err and "Traceback" not in err
    assert podium("resume", str(db), "--headless").returncode == 0
    assert inbox_all(db)["e1"]["resolution"] == "approved treat"
    retried = podium("decide", str(db), "e1", "approve", "--id", "mid")
    assert retried.returncode == 0, retried.stderr  # applied once; the retry says so


def test_an_engine_that_gives_no_verdict_in_time_gives_4_and_a_contradiction_2(
    stand_in_engine: tuple[Path, subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium import attach
    from podium.cli.decide import submit
    from podium.domain.escalation import ApproveCommand, SkipCommand

    db, _ = stand_in_engine
    monkeypatch.setattr(attach, "ANSWER_S", 0.3)
    approve = ApproveCommand(id="slow", escalation_id="e1", issued_at=1.0)
    first = asyncio.run(submit(db, approve))
    assert first.outcome == "recorded", first.detail
    assert "has not applied it" in first.detail
    skip = SkipCommand(id="other", escalation_id="e1", issued_at=2.0)
    second = asyncio.run(submit(db, skip))
    assert second.outcome == "refused" and "already being decided by command slow" in second.detail


# -- run --detach and resume --detach --------------------------------------------------------


def flip_event_bytes(db: Path) -> None:
    """64 bytes flipped inside a stored event, the file otherwise whole (no -wal)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    at = data.find(b"run_started")
    assert at > 0
    for i in range(at, at + 64):
        data[i] ^= 0xFF
    db.write_bytes(bytes(data))


def test_detach_of_a_damaged_database_exits_1_with_its_reason(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    db = waiting(tmp_path)
    flip_event_bytes(db)
    Path(f"{db}.lock").unlink()
    result = podium("resume", str(db), "--detach", env=env)
    if "is running in the background" in result.stdout:  # before the fix: stop what it left
        os.kill(int(result.stdout.split("(process ")[1].split(")")[0]), signal.SIGKILL)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "is running in the background" not in result.stdout
    assert "stopped at once" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr
    assert not Path(f"{db}.lock").exists()  # the failed start left no lock behind


def test_a_read_only_folder_is_named_in_a_sentence(tmp_path: Path) -> None:
    prefix = require_unprivileged()
    path = production(tmp_path, explicit(TWO, FAST))
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        for mode in ("--headless", "--detach"):
            result = subprocess.run(
                [*prefix, sys.executable, "-m", "podium", "run", str(path), mode]
                + ["--db", str(folder / "prod.db")],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 1, (mode, result.stderr)
            assert f"the folder {folder} is read-only" in result.stderr, result.stderr
            assert "Traceback" not in result.stderr
            assert "No such file" not in result.stderr
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


# -- status ----------------------------------------------------------------------------------


def test_status_on_a_crashed_engines_database_says_crashed(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    assert podium("run", str(path), "--detach", "--db", str(db), env=env).returncode == 0
    pid = holder(db)
    assert pid is not None
    try:
        running = json.loads(podium("status", str(db), "--json").stdout)
        assert running["engine"] == "running" and running["pid"] == pid
    finally:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: holder(db) is None, "the lock to be dropped")
    data = json.loads(podium("status", str(db), "--json").stdout)
    assert data["engine"] == "crashed" and data["pid"] is None
    assert data["state"] in ("running", "waiting")  # DESIGN.md's five states, unchanged
    text = podium("status", str(db))
    assert text.returncode == 0 and text.stdout.startswith("crashed: ")
    [row] = json.loads(podium("ps", "--json", env=env).stdout)
    assert row["state"] == "crashed"


# -- export ----------------------------------------------------------------------------------


def test_export_never_replaces_a_file_it_did_not_write(tmp_path: Path) -> None:
    db = waiting(tmp_path)  # unfinished: exported marked, with --draft
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "README.md"
    mine.write_text("my own notes\n")
    refused = podium("export", str(db), "--out", str(out), "--draft")
    assert refused.returncode == 2, refused.stderr
    assert f"{mine} is not a file podium exported there" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert mine.read_text() == "my own notes\n" and sorted(out.iterdir()) == [mine]
    forced = podium("export", str(db), "--out", str(out), "--force", "--draft")
    assert forced.returncode == 0, forced.stderr
    assert "my own notes" not in mine.read_text()
    # Its own files: replaced freely.
    again = podium("export", str(db), "--out", str(out), "--draft")
    assert again.returncode == 0, again.stderr
    (out / "decisions.jsonl").write_text("edited by hand\n")
    edited = podium("export", str(db), "--out", str(out), "--draft")
    assert edited.returncode == 2 and "decisions.jsonl" in edited.stderr
    assert (out / "decisions.jsonl").read_text() == "edited by hand\n"


# -- a failed start --------------------------------------------------------------------------


def test_a_start_that_fails_leaves_no_empty_database_nor_lock(tmp_path: Path) -> None:
    """SQLite cannot make the database's -wal (a folder stands in its place): the run fails
    after the file was created, and takes away what it made."""
    path = production(tmp_path, explicit(TWO, FAST))
    folder = tmp_path / "dbs"
    folder.mkdir()
    (folder / "p.db-wal").mkdir()
    result = podium("run", str(path), "--headless", "--db", str(folder / "p.db"))
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["p.db-wal"]
