"""A production someone made read-only: status, inbox and export still read it; decide and
resume say it cannot be written, with no traceback and without changing a byte.

As root (CI) the commands run in a child bound by file permissions (tests/unprivileged.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..unprivileged import require_unprivileged
from .test_headless_cli import FAST, TWO, explicit, podium, production

WRITES = (("decide", "DB", "e1", "approve"), ("resume", "DB", "--headless"))


def as_user(prefix: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def archived(tmp_path: Path) -> Iterator[Path]:
    """A production waiting on its treatment gate, in a folder then made read-only (the files
    in it too, the engine lock included)."""
    folder = tmp_path / "archive"
    folder.mkdir()
    db = folder / "p.db"
    path = production(tmp_path, explicit(TWO, FAST))
    made = podium("run", str(path), "--headless", "--db", str(db))
    assert made.returncode == 3, made.stderr
    for file in folder.iterdir():
        file.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield db
    finally:
        folder.chmod(0o755)
        for file in folder.iterdir():
            file.chmod(0o644)


def test_a_read_only_production_can_be_read(archived: Path, tmp_path: Path) -> None:
    prefix = require_unprivileged()
    before = contents(archived.parent)

    status = as_user(prefix, "status", str(archived), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["state"] == "waiting"
    inbox = as_user(prefix, "inbox", str(archived), "--json")
    assert inbox.returncode == 0, inbox.stderr
    assert [item["id"] for item in json.loads(inbox.stdout)] == ["e1"]
    out = tmp_path / "out"
    exported = as_user(prefix, "export", str(archived), "--out", str(out), "--allow-stale")
    assert exported.returncode == 0, exported.stderr
    assert (out / "decisions.jsonl").is_file()
    assert contents(archived.parent) == before


def assert_every_write_refused(prefix: tuple[str, ...], archived: Path) -> None:
    """Each writing command says "read-only" in a sentence and the folder stays as it was."""
    before = contents(archived.parent)
    for args in WRITES:
        result = as_user(prefix, *(str(archived) if a == "DB" else a for a in args))
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (1, 2) and "read-only" in result.stderr, result.stderr
    assert contents(archived.parent) == before


def test_writing_to_a_read_only_production_says_why_it_cannot(archived: Path) -> None:
    assert_every_write_refused(require_unprivileged(), archived)


def test_writing_with_the_engine_lock_still_writable_says_read_only(archived: Path) -> None:
    """A database and folder made read-only, its engine lock left writable (`chmod a-w` on
    the database alone, then on the folder): the store's own words."""
    prefix = require_unprivileged()
    lock = archived.with_name(archived.name + ".lock")
    archived.parent.chmod(0o755)
    lock.chmod(0o644)
    archived.parent.chmod(0o555)
    assert_every_write_refused(prefix, archived)
