"""`podium check` and the state snapshots: a snapshot whose bytes are damaged, or whose view is
not the one the log gives up to its seq, is named (exit 1) with what to do; a good one is said
to hold the log's view (exit 0). The file is read, never written."""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import zlib
from pathlib import Path

import pytest
from tests.store.test_snapshot import made, views

from podium.cli.check import check
from podium.store.snapshot_check import check_snapshots


def run_check(
    path: Path, capsys: pytest.CaptureFixture[str], *, as_json: bool = False
) -> tuple[int, str]:
    code = check(argparse.Namespace(db_path=str(path), json=as_json))
    return code, capsys.readouterr().out


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite(path: Path, query: str, *args: object) -> int:
    """Change the snapshot by hand, as damage or a buggy fold would; its seq."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(query, args)
        (seq,) = conn.execute("SELECT seq FROM snapshots").fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(seq)
    finally:
        conn.close()


async def test_a_good_snapshot_is_said_to_hold_the_logs_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.db"
    engine = await made(path)
    code, out = run_check(path, capsys)
    assert code == 0, out
    assert out.startswith(f"{path}: whole.")
    assert f"State snapshot #{engine.view.last_seq}: holds the view the log gives" in out
    code, out = run_check(path, capsys, as_json=True)
    found = json.loads(out)
    assert code == 0 and found["whole"] is True
    assert found["snapshots"]["verified"] == [engine.view.last_seq]


async def test_a_snapshot_with_damaged_bytes_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.db"
    await made(path)
    # a few bytes inside the compressed body flipped: zlib's own check fails
    conn = sqlite3.connect(path)
    (body,) = conn.execute("SELECT body FROM snapshots").fetchone()
    conn.close()
    damaged = bytearray(body)
    for at in range(40, 48):
        damaged[at] ^= 0xFF
    seq = rewrite(path, "UPDATE snapshots SET body = ?", bytes(damaged))
    before = sha(path)
    code, out = run_check(path, capsys)
    assert code == 1, out
    assert out.startswith(f"{path}: damaged: a state snapshot, not the log.")
    assert f"State snapshot #{seq}: its bytes are damaged" in out
    assert "A reload ignores it and folds the whole log" in out
    assert sha(path) == before  # read, never written
    code, out = run_check(path, capsys, as_json=True)
    found = json.loads(out)
    assert code == 1 and found["whole"] is False
    assert [d["where"] for d in found["snapshots"]["damaged"]] == [f"snapshot #{seq}"]
    snapshotted, _, folded = await views(path)  # and a reload does ignore it
    assert snapshotted == folded


async def test_a_snapshot_stored_as_text_is_named_without_its_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A body that became text (a hand edit with SQL's `||`): named as damage, and none of its
    bytes (which may hold terminal escapes) reach the terminal."""
    path = tmp_path / "p.db"
    await made(path)
    seq = rewrite(
        path, "UPDATE snapshots SET body = substr(body, 1, 50) || ? || substr(body, 55)", "\x1b[2J"
    )
    code, out = run_check(path, capsys)
    assert code == 1, out
    assert f"State snapshot #{seq}:" in out
    assert "\x1b" not in out and "\ufffd" not in out, out


async def test_a_snapshot_that_does_not_hold_the_logs_view_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Well-formed, its seq, event and digest the log's: only a fold of the log tells it from a
    good one, and a reload would start from it."""
    path = tmp_path / "p.db"
    await made(path)
    conn = sqlite3.connect(path)
    (body,) = conn.execute("SELECT body FROM snapshots").fetchone()
    conn.close()
    document = json.loads(zlib.decompress(body))
    document["view"]["calls"] += 7  # as a fold that counted wrong would have stored it
    wrong = zlib.compress(json.dumps(document).encode())
    seq = rewrite(path, "UPDATE snapshots SET body = ?", wrong)
    code, out = run_check(path, capsys)
    assert code == 1, out
    assert f"State snapshot #{seq}: it does not hold the view the log gives up to #{seq}" in out
    assert "differs in calls" in out
    assert "DELETE FROM snapshots" in out
    snapshotted, _, folded = await views(path)  # why it matters: a reload starts from it
    assert snapshotted.calls == folded.calls + 7
    report = check_snapshots(path)
    assert report.verified == [] and len(report.damaged) == 1


async def test_a_damaged_log_leaves_the_snapshots_unchecked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.db"
    await made(path)
    rewrite(path, "DROP TRIGGER IF EXISTS events_append_only_update")
    rewrite(path, "UPDATE events SET payload = 'not json' WHERE seq = 3")
    code, out = run_check(path, capsys)
    assert code == 1, out
    assert "State snapshots: not checked" in out
    code, out = run_check(path, capsys, as_json=True)
    assert json.loads(out)["snapshots"] is None
