"""A real production's database, damaged: `podium check` says what, `export --salvage` saves
what can be read, every other command says so in a sentence, and nothing writes to the file."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_headless_cli import podium

SAMPLE = Path(__file__).resolve().parents[2] / "sample_productions" / "arctic_journey.toml"
PAGE = 4096


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample production run to the end once, quickly (the rehearsal model sped up)."""
    folder = tmp_path_factory.mktemp("made")
    text = SAMPLE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^latency_ms = .*$", "latency_ms = 2.0", text)
    text = re.sub(r"(?m)^jitter_ms = .*$", "jitter_ms = 1.0", text)
    text = re.sub(r"(?m)^tokens_per_s = .*$", "tokens_per_s = 50000.0", text)
    text = re.sub(r"(?m)^latency_by_kind = .*$", "", text)
    source = folder / "arctic.toml"
    source.write_text(text, encoding="utf-8")
    db = folder / "arctic.db"
    env = {**os.environ, "PODIUM_DATA_DIR": str(folder / "data")}
    done = podium(
        "run", str(source), "--headless", "--auto-approve", "all", "--db", str(db), env=env
    )
    assert done.returncode == 0, done.stderr
    yield db


@pytest.fixture
def db(made: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "productions"
    folder.mkdir()
    copy = folder / made.name
    shutil.copyfile(made, copy)
    return copy


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def flip(path: Path, offset: int, count: int = 64) -> None:
    data = bytearray(path.read_bytes())
    for i in range(offset, offset + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def rows(path: Path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


def damage_a_payload(path: Path, kind: str) -> int:
    """Flip 64 bytes in the middle of one row's payload; that row's seq."""
    data = path.read_bytes()
    for seq, found_kind, payload in rows(path):
        if found_kind != kind or len(payload) < 400:
            continue
        piece = payload.encode()[150:250]
        if data.count(piece) == 1:  # within one page, and nowhere else
            flip(path, data.index(piece) + 10, 64)
            return int(seq)
    raise AssertionError(f"no {kind} payload to damage")


def damage_the_middle(path: Path) -> None:
    """64 bytes flipped in the middle of the file, on the events page found there (the cells
    sit at the end of a page, so the flip lands in stored rows, not in a page's free space)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        leaves = [
            int(row[0])
            for row in conn.execute(
                "SELECT pageno FROM dbstat WHERE name = 'events' AND pagetype = 'leaf'"
            )
        ]
    finally:
        conn.close()
    middle = path.stat().st_size // PAGE // 2 + 1
    page = min(leaves, key=lambda p: abs(p - middle))
    flip(path, page * PAGE - 1000, 64)


def one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_an_intact_production_checks_whole(db: Path) -> None:
    before = snapshot(db.parent)
    done = podium("check", str(db))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "whole" in done.stdout
    assert snapshot(db.parent) == before


def test_a_damaged_payload_is_named_and_the_file_left_alone(db: Path) -> None:
    seq = damage_a_payload(db, "artifact_created")
    before = snapshot(db.parent)

    done = podium("check", str(db))

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"event {seq} ('artifact_created')" in done.stdout
    assert "--salvage" in done.stdout
    assert snapshot(db.parent) == before  # same bytes, and no -wal or -shm beside it

    as_json = podium("check", str(db), "--json")
    assert as_json.returncode == 1
    assert f'"first_seq": {seq}' in as_json.stdout


def test_the_middle_of_the_file_flipped(db: Path) -> None:
    total = len(rows(db))
    damage_the_middle(db)
    before = snapshot(db.parent)

    done = podium("check", str(db))

    assert done.returncode == 1, done.stdout + done.stderr
    found = re.search(r"Events: (\d+) events read", done.stdout)
    assert found is not None, done.stdout
    assert total - 30 < int(found.group(1)) < total, done.stdout
    assert snapshot(db.parent) == before


def test_export_refuses_a_damaged_production_in_one_sentence(db: Path, tmp_path: Path) -> None:
    damage_a_payload(db, "artifact_created")
    stored = hashlib.sha256(db.read_bytes()).hexdigest()

    done = podium("export", str(db), "--out", str(tmp_path / "out"))

    assert done.returncode == 2
    sentence = one_sentence(done.stderr)
    assert f"podium check {db}" in sentence
    assert "--salvage" in sentence
    assert hashlib.sha256(db.read_bytes()).hexdigest() == stored


def test_export_salvage_writes_what_reads_and_names_what_it_skipped(
    db: Path, tmp_path: Path
) -> None:
    seq = damage_a_payload(db, "artifact_created")
    damage_the_middle(db)
    before = snapshot(db.parent)
    out = tmp_path / "out"

    done = podium("export", str(db), "--out", str(out), "--salvage")

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert f"event {seq}" in done.stderr
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "Skipped: the database is damaged" in readme
    assert f"event {seq}" in readme
    assert (out / "manuscript.md").stat().st_size > 1000
    assert (out / "decisions.jsonl").exists()
    assert snapshot(db.parent) == before


def test_export_salvage_of_an_intact_production_skips_nothing(db: Path, tmp_path: Path) -> None:
    done = podium("export", str(db), "--out", str(tmp_path / "out"), "--salvage")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Skipped" not in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [["status"], ["inbox"], ["resume", "--headless"]])
def test_other_commands_name_the_damage_and_point_at_check(db: Path, command: list[str]) -> None:
    damage_a_payload(db, "artifact_created")
    stored = hashlib.sha256(db.read_bytes()).hexdigest()

    done = podium(command[0], str(db), *command[1:])

    assert done.returncode in (1, 2)
    sentence = one_sentence(done.stderr)
    assert "damaged" in sentence
    assert f"podium check {db}" in sentence
    assert '"kind"' not in sentence  # the stored text is not shown
    assert hashlib.sha256(db.read_bytes()).hexdigest() == stored


def test_a_file_with_nothing_readable_is_said_so_once(db: Path, tmp_path: Path) -> None:
    db.write_bytes(db.read_bytes()[:5000])

    checked = podium("check", str(db))
    salvaged = podium("export", str(db), "--out", str(tmp_path / "out"), "--salvage")

    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "nothing of it can be read" in checked.stdout
    assert salvaged.returncode == 2
    sentence = one_sentence(salvaged.stderr)
    assert "nothing of it can be exported" in sentence
    assert "--salvage" not in sentence
