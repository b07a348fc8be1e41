"""The animatics' shared work: the MP3 track's header probed once for every reel, espeak-ng's
lines said on one pool, and the export's hook once the production is read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from podium.export import animatic, mp4
from podium.export.animatic import animatics
from podium.export.exporter import export_production_sync
from podium.export.voices import Espeak, Line

from .conftest import Made, load_source
from .test_animatic import need

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _animatics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODIUM_NO_ANIMATIC", raising=False)


def test_the_mp3_tracks_header_is_probed_once_for_every_reel(
    sample_db: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("ffmpeg")
    need("espeak-ng")
    runs: list[list[str]] = []
    real = animatic._run_ffmpeg

    def counted(args: list[str], folder: Path, frames: int, what: str) -> None:
        runs.append(args)
        real(args, folder, frames, what)

    monkeypatch.setattr(animatic, "_run_ffmpeg", counted)
    monkeypatch.setattr(mp4, "_HEADERS", {})
    made = animatics(load_source(sample_db("arcadian_summers")))
    assert len(made.files) == 12
    assert sum(1 for args in runs if "probe.mp3" in args) == 1


def test_espeak_says_every_call_on_one_pool(tmp_path: Path) -> None:
    need("espeak-ng")
    espeak = Espeak.find()
    assert espeak is not None
    try:
        first = espeak.speak([Line("TAM", "Where were you?")], tmp_path)
        pool = espeak._pool
        again = espeak.speak([Line("TAM", "Where were you?"), Line("MARA", "Here.")], tmp_path)
        assert pool is not None and espeak._pool is pool
        assert again[0] == first[0] and again[1]
    finally:
        espeak.close()
    assert espeak._pool is None


def test_the_export_calls_loaded_once_the_production_is_read(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_NO_ANIMATIC", "1")
    calls: list[float] = []
    export_production_sync(
        sample_db("last_light"), tmp_path / "out", loaded=lambda: calls.append(time.monotonic())
    )
    assert len(calls) == 1
