"""The animatic's read as MP3 frames (`podium.export.animatic`): the frames of a raw MP3 stream,
and the spoken stretches of a track, each encoded once and laid on the timeline by frame."""

from __future__ import annotations

import re
from collections.abc import Sequence

from podium.export.timeline import SAMPLE_BYTES, Beat, sample_at


class Mp3Error(ValueError):
    """An MP3 stream that is not one (what ffmpeg wrote), as one sentence."""


# The read as MP3 frames that stand alone (no bit reservoir), so frames can be laid end to end.
MP3 = ["-c:a", "libmp3lame", "-b:a", "32k", "-compression_level", "7", "-reservoir", "0"]
MP3_OUT = ["-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"]
GRANULE = 576  # samples in an MP3 frame at 22,050 Hz (MPEG-2 Layer III)
QUIET_GRANULES = 4  # a pause this long (frames of silence, 104 ms) parts two stretches
# 72 * 32 kbit/s / 22,050 Hz = 104 24/49 bytes a frame: LAME pads one frame in about two, in a
# cycle of 49 frames; a stretch encoded from the start of a cycle (after a little silence) is
# the same frames whatever came before it in the file (`animatic._encoded`).
PADDING_CYCLE = 49

_MP3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frames(data: bytes) -> list[bytes]:
    """The Layer III frames of a raw MP3 stream (no tags), each as its bytes."""
    frames: list[bytes] = []
    at = 0
    while at + 4 <= len(data):
        head = int.from_bytes(data[at : at + 4], "big")
        version, layer = (head >> 19) & 3, (head >> 17) & 3
        kbps, rate = (head >> 12) & 15, (head >> 10) & 3
        if head >> 21 != 0x7FF or version == 1 or layer != 1 or kbps in (0, 15) or rate == 3:
            raise Mp3Error(f"ffmpeg wrote an MP3 stream with no frame at byte {at}")
        table = _MP3_KBPS[3 if version == 3 else 2]
        size = (144 if version == 3 else 72) * table[kbps] * 1000 // _MP3_RATES[version][rate]
        size += (head >> 9) & 1
        frames.append(data[at : at + size])
        at += size
    return frames


_QUIET = bytes(QUIET_GRANULES * GRANULE * SAMPLE_BYTES)
_SILENCE = re.compile(b"\0*")


def _sound_at(pcm: bytes, at: int) -> int:
    """The first byte of the first sample from `at` on that is not silent."""
    silence = _SILENCE.match(pcm, at)  # always matches, maybe nothing
    return (silence.end() if silence is not None else at) & ~1


def spoken_parts(pcm: bytes) -> list[tuple[int, int]]:
    """Where `pcm` (s16le) is not silent: each part's first and end sample, parts apart by
    `QUIET_GRANULES` frames of digital silence or more (the pause between two lines of the
    read), each starting at its first sound, so a line sounds the same wherever it is read."""
    parts: list[tuple[int, int]] = []
    at = 0
    while (first := _sound_at(pcm, at)) < len(pcm) - 1:
        quiet = pcm.find(_QUIET, first)
        end = len(pcm) if quiet < 0 else quiet + (quiet & 1)
        parts.append((first // SAMPLE_BYTES, end // SAMPLE_BYTES))
        at = end
    return parts


def mp3_runs(
    beats: Sequence[Beat], sounds: Sequence[bytes], *, release: bool = False
) -> list[tuple[int, bytes]]:
    """The spoken stretches of the track, each as (its first MP3 frame on the timeline, its
    PCM padded to whole frames): beats whose sounds follow on without a gap are one piece of
    sound, cut at its pauses (`spoken_parts`) so each line is a stretch of its own, starting
    on the MP3 frame nearest its start (within 13 ms): a line said in many scenes is then the
    same stretch each time, encoded once. With `release` (`sounds` a list), each beat's sound
    is let go once it is in a stretch: the reel's PCM is held once, not twice (a big series'
    episode: 77 MB)."""
    runs: list[tuple[int, bytes]] = []
    end = 0  # the first frame after the last stretch
    start, pending = 0, bytearray()

    def close() -> None:
        nonlocal end
        if not pending:
            return
        data = bytes(pending)
        for first_sample, end_sample in spoken_parts(data):
            first = max(round((start + first_sample) / GRANULE), end)
            # and a frame of the pause after it: the encoder's delay carries its end there
            part = data[first_sample * SAMPLE_BYTES : end_sample * SAMPLE_BYTES]
            count = -(-len(part) // (GRANULE * SAMPLE_BYTES)) + 1
            runs.append((first, part.ljust(count * GRANULE * SAMPLE_BYTES, b"\0")))
            end = first + count

    held = sounds if release and isinstance(sounds, list) else None
    for index, (beat, sound) in enumerate(zip(beats, sounds, strict=True)):
        if not sound:
            continue
        at = sample_at(beat.first)
        if not pending or start + len(pending) // SAMPLE_BYTES != at:
            close()
            start, pending = at, bytearray()
        pending += sound
        if held is not None:
            held[index] = b""
    close()
    return runs
