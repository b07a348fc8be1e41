"""The read voiced and cut as it comes (`timeline.read_aloud`, `mp3.stretches`): a reel's
sound is never held whole (issue 20's memory), and what comes out is what the whole reel's
sound, cut at once, gives."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from podium.export import animatic, timeline
from podium.export.mp3 import GRANULE, QUIET_GRANULES, spoken_parts, stretches
from podium.export.timeline import SAMPLE_BYTES, Beat, Read
from podium.export.voices import SAMPLE_RATE, Espeak, Line, VoiceError

from .conftest import Made, load_source
from .test_animatic import Sines, need, reel
from .test_read_stretches import _beats, tone


def _whole_runs(beats: Sequence[Beat], sounds: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """The stretches as they were cut before (f69fd75's `mp3_runs`): each run of sound that
    follows on without a gap held whole, then cut at its pauses."""
    runs: list[tuple[int, bytes]] = []
    end = 0
    start, pending = 0, bytearray()

    def close() -> None:
        nonlocal end
        if not pending:
            return
        data = bytes(pending)
        for first_sample, end_sample in spoken_parts(data):
            first = max(round((start + first_sample) / GRANULE), end)
            part = data[first_sample * SAMPLE_BYTES : end_sample * SAMPLE_BYTES]
            count = -(-len(part) // (GRANULE * SAMPLE_BYTES)) + 1
            runs.append((first, part.ljust(count * GRANULE * SAMPLE_BYTES, b"\0")))
            end = first + count

    for beat, sound in zip(beats, sounds, strict=True):
        if not sound:
            continue
        at = timeline.sample_at(beat.first)
        if not pending or start + len(pending) // SAMPLE_BYTES != at:
            close()
            start, pending = at, bytearray()
        pending += sound
    close()
    return runs


def _follow_on(sound: bytes, first: int, frames: int) -> bytes:
    """`sound` made exactly as long as a beat of `frames` from frame `first`: the next beat's
    sound then follows on without a gap."""
    length = timeline.sample_at(first + frames) - timeline.sample_at(first)
    return sound.ljust(length * SAMPLE_BYTES, b"\0")[: length * SAMPLE_BYTES]


def _track(rng: random.Random) -> tuple[list[Beat], list[bytes]]:
    """Beats whose sounds are lines and pauses of every kind: shorter than a stretch's pause,
    just that, longer; silence at a beat's start or end, a pause across two beats, a sample
    heard only in its high byte, beats that follow on, beats with a gap between, no sound."""
    quiet = QUIET_GRANULES * GRANULE * SAMPLE_BYTES
    pauses = [0, 2, quiet - 2, quiet, quiet + 2, 3 * quiet + 6, 40]
    firsts: list[int] = []
    sounds: list[bytes] = []
    frame = 0
    for _ in range(40):
        parts = []
        for _ in range(rng.randrange(0, 4)):
            parts.append(bytes(rng.choice(pauses)))
            parts.append(tone(rng.uniform(0.01, 0.4), rng.choice([200.0, 330.0, 440.0])))
            if rng.random() < 0.2:
                parts.append(b"\0\x01")
        sound = b"".join(parts) + bytes(rng.choice(pauses))
        frames = max(1, -(-len(sound) // SAMPLE_BYTES * timeline.FPS // SAMPLE_RATE))
        if rng.random() < 0.7:
            sound = _follow_on(sound, frame, frames)
        else:
            frames += rng.randrange(1, 30)
        firsts.append(frame)
        sounds.append(sound if rng.random() > 0.1 else b"")
        frame += frames
    return _beats(firsts), sounds


def test_stretches_cut_as_the_sound_comes_are_the_whole_runs_cut() -> None:
    for seed in range(12):
        beats, sounds = _track(random.Random(seed))
        assert list(stretches(beats, iter(sounds))) == _whole_runs(beats, sounds), seed


def test_a_stretch_is_given_once_its_pause_is_heard() -> None:
    """Three lines in beats that follow on, each with its pause: each stretch comes as soon as
    its beat is read, so a long run of speech is never held whole."""
    pause = bytes((QUIET_GRANULES + 1) * GRANULE * SAMPLE_BYTES)
    firsts = [0, 12, 24]
    lines = [
        _follow_on(tone(0.5, pitch) + pause, at, 12)
        for at, pitch in zip(firsts, [2e2, 3e2, 4e2], strict=True)
    ]
    read: list[int] = []

    def heard() -> Iterator[bytes]:
        for index, sound in enumerate(lines):
            read.append(index)
            yield sound

    given = stretches(_beats(firsts), heard())
    first = next(given)
    assert read == [0] and first[0] == 0
    assert next(given) and read == [0, 1]
    assert len(list(given)) == 1 and read == [0, 1, 2]


class Counted(Sines):
    """Sines that notes which lines it was asked for, and when."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.asked: list[str] = []
        self.fail_on = fail_on

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        if self.fail_on is not None and any(line.text == self.fail_on for line in lines):
            raise VoiceError("the voice stopped.")
        self.asked += [line.text for line in lines]
        return super().speak(lines, folder)


def test_a_scene_is_voiced_when_its_first_beat_comes(tmp_path: Path) -> None:
    r = reel([(1, "A", 2.0), (1, "B", 2.0), (2, "A", 2.0), (1, "C", 2.0)])
    beats, frames = timeline.timeline(r)
    voice, stats = Counted(), Read()
    sounds = timeline.read_aloud(r, beats, voice, tmp_path, stats)
    first = next(sounds)
    assert voice.asked == ["One.", "Two.", "Three."] and first
    rest = list(sounds)
    assert voice.asked == ["One.", "Two.", "Three.", "Four."] and len(rest) == 3
    whole, figures = timeline.table_read(r, beats, frames, Counted(), tmp_path)
    assert [first, *rest] == whole and stats == figures


def test_a_voice_that_fails_half_way_leaves_the_read_to_the_next(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first scene is voiced and its stretches written when the second scene's line fails:
    the animatic is then the fallback voice's, the same bytes as that voice's alone."""
    ffmpeg = need("ffmpeg")
    silent = animatic.silent_frame(ffmpeg)
    if silent is None:
        pytest.skip("this ffmpeg has no libmp3lame")
    source = load_source(sample_db("last_light"))
    r = reel([(1, "A", 6.0), (2, "A", 3.0)])
    monkeypatch.setattr(Espeak, "find", staticmethod(Sines))
    notes: list[str] = []
    failing = tmp_path / "failing.mp4"
    animatic.make_reel_file(source, r, ffmpeg, Counted("Four."), notes, failing, silent=silent)
    assert len(notes) == 1 and "the voice stopped" in notes[0]
    alone = tmp_path / "alone.mp4"
    animatic.make_reel_file(source, r, ffmpeg, Sines(), [], alone, silent=silent)
    assert failing.read_bytes() == alone.read_bytes()
