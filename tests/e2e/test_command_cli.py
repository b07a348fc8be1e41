"""The CLI makes each action's command model; a field it refuses is one sentence, exit 2, and
nothing is recorded (issue 15 §2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from .test_headless_cli import FAST, TWO, explicit, podium, production


@pytest.fixture(scope="module")
def waiting_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("payloads")
    db = root / "p.db"
    path = production(root, explicit(TWO, FAST))
    assert podium("run", str(path), "--headless", "--db", str(db)).returncode == 3
    return db


def _rows(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        commands = conn.execute("SELECT count(*) FROM commands").fetchone()[0]
        return events, commands
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["vision", "DB", "mood", "darker"],
            "podium: unknown vision section 'mood'; one of premise, themes, tone",
        ),
        (["decide", "DB", "-", "clarify_vision", "x"], "podium: section: Field required"),
        (["decide", "DB", "-", "adjust_constraints"], "podium: changes: Field required"),
        (["constraints", "DB", "speed=2"], "podium: unknown constraint 'speed'; one of"),
    ],
)
def test_a_field_the_command_refuses_is_one_sentence(
    waiting_db: Path, args: list[str], message: str
) -> None:
    before = _rows(waiting_db)
    result = podium(*[str(waiting_db) if a == "DB" else a for a in args])
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(message), line
    assert line.endswith("; nothing was recorded"), line
    assert _rows(waiting_db) == before
