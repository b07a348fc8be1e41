"""End-to-end fixtures: Last Light made once per session with the fast rehearsal model, and a
copy of it for each test that changes it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .test_headless_cli import podium

SAMPLE = Path(__file__).resolve().parents[2] / "sample_productions" / "last_light.toml"


def fast_sample(folder: Path) -> Path:
    """Last Light with the rehearsal model sped up: a whole run takes about a second."""
    text = SAMPLE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^latency_ms = .*$", "latency_ms = 2.0", text)
    text = re.sub(r"(?m)^jitter_ms = .*$", "jitter_ms = 1.0", text)
    text = re.sub(r"(?m)^tokens_per_s = .*$", "tokens_per_s = 50000.0", text)
    text = re.sub(r"(?m)^latency_by_kind = .*$", "", text)
    source = folder / "last_light.toml"
    source.write_text(text, encoding="utf-8")
    return source


def env_for(folder: Path) -> dict[str, str]:
    return {**os.environ, "PODIUM_DATA_DIR": str(folder / "data")}


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Last Light made to the end once (`--auto-approve all`); never changed: copy it."""
    folder = tmp_path_factory.mktemp("made")
    db = folder / "last_light.db"
    done = podium(
        "run",
        str(fast_sample(folder)),
        "--headless",
        "--auto-approve",
        "all",
        "--db",
        str(db),
        env=env_for(folder),
    )
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def db(made: Path, tmp_path: Path) -> Path:
    """A copy of the made Last Light for one test to change."""
    copy = tmp_path / made.name
    shutil.copyfile(made, copy)
    return copy
