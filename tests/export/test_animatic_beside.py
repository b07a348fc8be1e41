"""The animatics made beside the rest of the export (`podium.export.beside`), the MP3 track's
header probed once, espeak-ng's lines said on one pool, and the export's hook once the
production is read."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import pytest

from podium.export import animatic, beside, mp4
from podium.export.animatic import animatics
from podium.export.beside import Beside
from podium.export.exporter import export_production_sync
from podium.export.voices import Espeak, Line

from .conftest import Made, load_source
from .test_animatic import need

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _animatics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODIUM_NO_ANIMATIC", raising=False)


def test_the_animatics_made_beside_are_those_made_in_the_export_process(
    sample_db: Made,
) -> None:
    need("ffmpeg")
    source = load_source(sample_db("arcadian_summers"))
    here = animatics(source)
    there = Beside(source).made()
    assert there.notes == here.notes
    assert [(n, d) for n, d, _ in there.files] == [(n, d) for n, d, _ in here.files]
    assert len(there.files) == 12
    for (_, _, made_there), (_, _, made_here) in zip(there.files, here.files, strict=True):
        assert made_there.read_bytes() == made_here.read_bytes(), made_there.name
    assert there.folder is not None  # the export's process owns the child's files
    folder = Path(there.folder.name)
    assert all(path.parent == folder for _, _, path in there.files)
    there.folder.cleanup()
    assert not folder.exists()


def test_a_failure_in_the_animatics_process_is_raised_in_the_export(
    sample_db: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_: object) -> animatic.Made:
        raise ValueError("the reels would not cut")

    monkeypatch.setattr(beside, "animatics", failing)
    source = load_source(sample_db("last_light"))
    reels = Beside(source)
    folder = reels._folder
    assert folder is not None
    with pytest.raises(ValueError, match="the reels would not cut"):
        reels.made()
    assert not Path(folder.name).exists()


def test_an_export_that_fails_stops_the_animatics_process(
    sample_db: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(*_: object) -> animatic.Made:
        time.sleep(60)
        return animatic.Made()

    monkeypatch.setattr(beside, "animatics", slow)
    source = load_source(sample_db("last_light"))
    reels = Beside(source)
    folder = reels._folder
    assert folder is not None and reels._pid
    started = time.monotonic()
    reels.close()
    assert time.monotonic() - started < 10
    assert not reels._pid and not Path(folder.name).exists()


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


def test_an_animatics_process_that_is_killed_is_one_sentence(
    sample_db: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*_: object) -> animatic.Made:
        os.kill(os.getpid(), signal.SIGKILL)
        return animatic.Made()

    monkeypatch.setattr(beside, "animatics", killed)
    reels = Beside(load_source(sample_db("last_light")))
    folder = reels._folder
    assert folder is not None
    made = reels.made()
    assert made.files == [] and made.folder is None
    assert made.notes == ["The animatics were not made: their process ended (signal 9)."]
    assert not Path(folder.name).exists()


def test_the_animatics_process_warnings_are_logged_by_the_export(
    sample_db: Made, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def warning(*_: object) -> animatic.Made:
        logging.getLogger("podium.export").warning("podium: the reel was not cut.")
        return animatic.Made(notes=["The reel was not cut."])

    monkeypatch.setattr(beside, "animatics", warning)
    with caplog.at_level(logging.WARNING, logger="podium.export"):
        made = Beside(load_source(sample_db("last_light"))).made()
    assert made.notes == ["The reel was not cut."]
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("podium.export", "podium: the reel was not cut.")
    ]
    if made.folder is not None:
        made.folder.cleanup()
