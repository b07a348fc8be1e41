"""A disk that fills while a production runs: a clear error, no traceback, nothing saved is
lost, and once space is freed the database opens and the production finishes as if nothing
had happened.

The disk is a small tmpfs mounted for the test; where mounting is not allowed (not root, a
locked-down container) the tests skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import SAMPLES
from .crash_harness import deliverables, production_text

SIZE = 4 * 1024 * 1024
PRODUCTION = production_text(latency_ms=5.0, tokens_per_s=20000.0)


@dataclass
class SmallDisk:
    root: Path

    def fill(self, leave: int) -> None:
        """Take all the free space but `leave` bytes."""
        stats = os.statvfs(self.root)
        free = stats.f_bavail * stats.f_frsize
        with (self.root / "filler").open("ab") as filler:
            with contextlib.suppress(OSError):  # ENOSPC: as full as it gets
                filler.write(b"\0" * max(free - leave, 0))
                filler.flush()

    def free(self) -> None:
        (self.root / "filler").unlink()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("needs Linux and mount(8) for a small tmpfs")
    root = tmp_path / "disk"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(root)
    finally:
        if subprocess.run(["umount", str(root)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(root)], capture_output=True)


def podium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args], capture_output=True, text=True, timeout=120
    )


def saved(db: Path) -> list[tuple[int, str, str]]:
    """Every event as another process reads it (read-only: this changes nothing on disk)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


def test_a_full_disk_stops_the_run_and_frees_up_whole(
    small_disk: SmallDisk, tmp_path: Path
) -> None:
    spec = tmp_path / "crash.toml"
    spec.write_text(PRODUCTION, encoding="utf-8")
    reference = tmp_path / "reference.db"
    done = podium("run", str(spec), "--headless", "--auto-approve", "all", "--db", str(reference))
    assert done.returncode == 0, done.stderr

    db = small_disk.root / "p.db"
    small_disk.fill(leave=120 * 1024)  # the production needs several times that
    full = podium("run", str(spec), "--headless", "--auto-approve", "all", "--db", str(db))
    assert full.returncode == 1, full.stderr
    assert "Traceback" not in full.stderr, full.stderr
    assert f"{db}: the disk is full. Free some space and try again" in full.stderr
    kept = saved(db)
    assert kept and [seq for seq, _, _ in kept] == list(range(1, len(kept) + 1))

    small_disk.free()
    status = podium("status", str(db), "--json")
    assert status.returncode == 0, status.stderr  # not "truncated … restore it from a backup"
    assert saved(db) == kept
    resumed = podium("resume", str(db), "--headless", "--auto-approve", "all")
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert saved(db)[: len(kept)] == kept  # nothing saved before the disk filled was lost
    assert deliverables(db) == deliverables(reference)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_a_disk_that_fills_while_an_agent_streams_prints_no_traceback(
    small_disk: SmallDisk,
) -> None:
    db = small_disk.root / "p.db"
    small_disk.fill(leave=260 * 1024)  # fills while the producer streams the plan
    full = podium("run", str(SAMPLES / "arctic_journey.toml"), "--headless", "--db", str(db))
    assert full.returncode == 1, full.stderr
    assert "the disk is full" in full.stderr
    assert "Traceback" not in full.stderr, full.stderr
    assert "failure" not in full.stderr  # the disk failed, not the plan


def test_resuming_on_a_full_disk_says_so(small_disk: SmallDisk, tmp_path: Path) -> None:
    spec = tmp_path / "crash.toml"
    spec.write_text(PRODUCTION, encoding="utf-8")
    db = small_disk.root / "p.db"
    small_disk.fill(leave=120 * 1024)
    podium("run", str(spec), "--headless", "--auto-approve", "all", "--db", str(db))
    small_disk.fill(leave=0)
    resumed = podium("resume", str(db), "--headless", "--auto-approve", "all")
    assert "Traceback" not in resumed.stderr, resumed.stderr
    assert resumed.returncode == 1 and "the disk is full" in resumed.stderr
