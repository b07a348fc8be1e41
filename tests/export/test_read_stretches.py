"""The read's stretches (`podium.export.mp3.mp3_runs`, `mp3.Encoder`): each line a stretch
of its own, the same PCM wherever it is read, encoded to the same MP3 frames whatever is encoded
with it, so a line said in many scenes (or episodes, or exports) is encoded once."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from podium.export import animatic, mp3
from podium.export.mp3 import GRANULE, QUIET_GRANULES, mp3_runs, spoken_parts
from podium.export.timeline import SAMPLE_BYTES, Beat

from .test_animatic import need


def tone(seconds: float, pitch: float = 440.0) -> bytes:
    count = round(seconds * 22050)
    return struct.pack(
        f"<{count}h",
        *(round(8000 * math.sin(2 * math.pi * pitch * i / 22050)) for i in range(count)),
    )


def test_a_read_is_cut_at_its_pauses_into_parts_that_start_at_their_sound() -> None:
    pause = bytes(QUIET_GRANULES * GRANULE * SAMPLE_BYTES)
    short = bytes(GRANULE * SAMPLE_BYTES)  # a pause shorter than a part's: inside a part
    one, two = tone(0.5), tone(0.3, 330.0)
    pcm = bytes(1000) + one + short + one + pause + two + pause
    parts = spoken_parts(pcm)
    assert len(parts) == 2
    (a, b), (c, d) = parts
    assert pcm[a * 2 : b * 2] == (one + short + one).lstrip(b"\0").rstrip(b"\0")[: (b - a) * 2]
    assert pcm[c * 2 : d * 2].rstrip(b"\0") == two.lstrip(b"\0").rstrip(b"\0")
    assert spoken_parts(bytes(5000)) == []


def _beats(starts: list[int]) -> list[Beat]:
    """Beats at these first video frames (only `first` is read by `mp3_runs`)."""

    class At:
        def __init__(self, first: int) -> None:
            self.first = first

    return [At(s) for s in starts]  # type: ignore[misc]


def test_a_line_read_in_two_places_is_the_same_stretch() -> None:
    line = tone(1.0)
    gap = bytes(round(0.4 * 22050) * SAMPLE_BYTES)
    first = line + gap + tone(0.7, 330.0) + gap
    second = tone(0.2, 550.0) + gap + line + gap
    runs = mp3_runs(_beats([0, 120]), [first, second])
    pcms = [pcm for _, pcm in runs]
    assert len(runs) == 4 and pcms[0] == pcms[3]
    assert [at for at, _ in runs] == sorted(at for at, _ in runs)


def encoded(runs: list[tuple[int, bytes]], ffmpeg: str, folder: Path) -> list[list[bytes]]:
    """Each stretch's MP3 frames, the stretches encoded together as an animatic encodes them."""
    coder = animatic._encoder(ffmpeg, folder, 600, "A", None)
    digests = [coder.add(pcm) for _, pcm in runs]
    done = animatic._finish(coder, "A")
    return [done[digest][1] for digest in digests]


def test_a_stretch_is_the_same_frames_whatever_is_encoded_with_it(tmp_path: Path) -> None:
    ffmpeg = need("ffmpeg")
    if animatic.silent_frame(ffmpeg) is None:
        pytest.skip("this ffmpeg has no libmp3lame")
    line = tone(1.3).ljust(50 * GRANULE * SAMPLE_BYTES, b"\0")
    before = [tone(0.37, 200.0), tone(2.9, 700.0)]
    made = []
    for k, other in enumerate(before):
        other = other.ljust(-(-len(other) // (GRANULE * 2)) * GRANULE * 2, b"\0")
        folder = tmp_path / str(k)
        folder.mkdir()
        made.append(encoded([(0, other), (200, line)], ffmpeg, folder)[1])
    folder = tmp_path / "alone"
    folder.mkdir()
    alone = encoded([(0, line)], ffmpeg, folder)[0]
    assert made[0] == made[1] == alone
    assert len(alone) == len(line) // (GRANULE * SAMPLE_BYTES)


def test_a_pause_is_found_where_a_search_for_its_silence_finds_it() -> None:
    """`mp3._pause_at` steps over runs of zeros too short to be a pause; it finds what
    `find(_QUIET)` finds in each case: a run one byte short, one just long enough, a search
    starting inside a run, a run cut off by the end, speech with its own short zeros."""
    quiet = QUIET_GRANULES * GRANULE * SAMPLE_BYTES
    voiced = tone(0.05)
    cases = [
        voiced + bytes(quiet - 1) + voiced + bytes(quiet) + voiced,
        voiced + bytes(100) + voiced + bytes(quiet + 7) + voiced,
        bytes(quiet + 3) + voiced,
        voiced + bytes(quiet - 2),
        voiced + bytes(64) + b"\1" + bytes(quiet) + voiced,
        voiced,
    ]
    for pcm in cases:
        for at in (0, 1, len(voiced) - 1, len(voiced) + 50, len(pcm) - 10, len(pcm)):
            assert mp3._pause_at(pcm, at) == pcm.find(bytes(quiet), at), (len(pcm), at)
            assert mp3._pause_at(bytearray(pcm), at) == pcm.find(bytes(quiet), at)
