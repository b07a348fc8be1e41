"""The animatic's read as MP3 frames (`podium.export.animatic`): the frames of a raw MP3 stream,
and the spoken stretches of a track, each encoded once and laid on the timeline by frame."""

from __future__ import annotations

import hashlib
import re
import wave
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from podium.export.cache import Cache
from podium.export.cache import key as cache_key
from podium.export.timeline import SAMPLE_BYTES, Beat, sample_at
from podium.export.voices import SAMPLE_RATE


class Mp3Error(ValueError):
    """An MP3 stream that is not one (what ffmpeg wrote), as one sentence."""


# The read as MP3 frames that stand alone (no bit reservoir), so frames can be laid end to end.
MP3 = ["-c:a", "libmp3lame", "-b:a", "32k", "-compression_level", "7", "-reservoir", "0"]
MP3_OUT = ["-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"]
GRANULE = 576  # samples in an MP3 frame at 22,050 Hz (MPEG-2 Layer III)
QUIET_GRANULES = 4  # a pause this long (frames of silence, 104 ms) parts two stretches
# 72 * 32 kbit/s / 22,050 Hz = 104 24/49 bytes a frame: LAME pads one frame in about two, in a
# cycle of 49 frames; a stretch encoded from the start of a cycle (after a little silence) is
# the same frames whatever came before it in the file (`Encoder`).
PADDING_CYCLE = 49
_APART = 2  # silent MP3 frames at least between two stretches in speech.wav

_MP3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frames(data: bytes) -> list[bytes]:
    """The Layer III frames of a raw MP3 stream (no tags), each as its bytes."""
    frames: list[bytes] = []
    sizes: dict[bytes, int] = {}  # a stream has a header or two (padded or not): read once
    at = 0
    while at + 4 <= len(data):
        header = data[at : at + 4]
        size = sizes.get(header)
        if size is None:
            size = sizes[header] = _frame_size(header, at)
        frames.append(data[at : at + size])
        at += size
    return frames


def _frame_size(header: bytes, at: int) -> int:
    head = int.from_bytes(header, "big")
    version, layer = (head >> 19) & 3, (head >> 17) & 3
    kbps, rate = (head >> 12) & 15, (head >> 10) & 3
    if head >> 21 != 0x7FF or version == 1 or layer != 1 or kbps in (0, 15) or rate == 3:
        raise Mp3Error(f"ffmpeg wrote an MP3 stream with no frame at byte {at}")
    table = _MP3_KBPS[3 if version == 3 else 2]
    size = (144 if version == 3 else 72) * table[kbps] * 1000 // _MP3_RATES[version][rate]
    return size + ((head >> 9) & 1)


_QUIET = bytes(QUIET_GRANULES * GRANULE * SAMPLE_BYTES)
_SILENCE = re.compile(b"\0*")


_ZEROS = bytes(64)


def _sound_at(pcm: bytes | bytearray, at: int) -> int:
    """The first byte of the first sample from `at` on that is not silent."""
    silence = _SILENCE.match(pcm, at)  # always matches, maybe nothing
    return (silence.end() if silence is not None else at) & ~1


def _pause_at(pcm: bytes | bytearray, at: int) -> int:
    """`pcm.find(_QUIET, at)`: where the first pause from `at` on starts, -1 for none. Found
    as the first 64 zero bytes whose run of zeros is long enough (each too short a run
    stepped over whole): 4x faster than finding 4,608 zero bytes in speech."""
    while (found := pcm.find(_ZEROS, at)) >= 0 and not pcm.startswith(_QUIET, found):
        silence = _SILENCE.match(pcm, found)  # the run stops short of a pause: after it
        at = silence.end() if silence is not None else found + 1
    return found


def spoken_parts(pcm: bytes) -> list[tuple[int, int]]:
    """Where `pcm` (s16le) is not silent: each part's first and end sample, parts apart by
    `QUIET_GRANULES` frames of digital silence or more (the pause between two lines of the
    read), each starting at its first sound, so a line sounds the same wherever it is read."""
    parts: list[tuple[int, int]] = []
    at = 0
    while (first := _sound_at(pcm, at)) < len(pcm) - 1:
        quiet = _pause_at(pcm, first)
        end = len(pcm) if quiet < 0 else quiet + (quiet & 1)
        parts.append((first // SAMPLE_BYTES, end // SAMPLE_BYTES))
        at = end
    return parts


def mp3_runs(beats: Sequence[Beat], sounds: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """The spoken stretches of the track (`stretches`), all of them."""
    return list(stretches(beats, sounds))


def stretches(beats: Sequence[Beat], sounds: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The spoken stretches of the track, one at a time, each as (its first MP3 frame on the
    timeline, its PCM padded to whole frames): beats whose sounds follow on without a gap are
    one piece of sound, cut at its pauses (`spoken_parts`) so each line is a stretch of its
    own, starting on the MP3 frame nearest its start (within 13 ms): a line said in many
    scenes is then the same stretch each time, encoded once.

    `sounds` is read a beat at a time (it may be an iterator voicing each scene as its beats
    come), and each stretch is given as soon as the pause after it is heard: what is held is
    the sound not yet cut, never the reel's (a big series' episode: 77 MB of PCM)."""
    end = 0  # the first frame after the last stretch
    base: int | None = None  # the sample `pending` starts at (None: no piece of sound yet)
    pending = bytearray()
    search = 0  # where the pause after the sound at the start of `pending` may start

    def cut(final: bool) -> Iterator[tuple[int, bytes]]:
        """The stretches `pending` holds whole (all of it when `final`), dropped from it."""
        nonlocal end, base, search
        assert base is not None
        at = 0
        while (first := _sound_at(pending, at)) < len(pending) - 1:
            quiet = _pause_at(pending, max(first, search))
            if quiet < 0 and not final:  # its pause not heard yet: wait for more sound
                at, search = first, max(first, len(pending) - len(_QUIET) + 1)
                break
            stop = len(pending) if quiet < 0 else quiet + (quiet & 1)
            frame = max(round((base + first // SAMPLE_BYTES) / GRANULE), end)
            # and a frame of the pause after it: the encoder's delay carries its end there
            count = -(-(stop - first) // (GRANULE * SAMPLE_BYTES)) + 1
            pad = bytes(count * GRANULE * SAMPLE_BYTES - (stop - first))
            with memoryview(pending) as view, view[first:stop] as part:
                padded = b"".join((part, pad))  # one copy of the stretch, not three
            yield frame, padded
            end = frame + count
            at = search = stop
        else:
            at = len(pending)  # silence to the end: nothing of it is needed
        del pending[:at]  # `at` is even: whole samples
        base += at // SAMPLE_BYTES
        search -= at

    for beat, sound in zip(beats, sounds, strict=True):
        if not sound:
            continue
        at = sample_at(beat.first)
        if base is None or base + len(pending) // SAMPLE_BYTES != at:
            if base is not None:
                yield from cut(final=True)
            base, search = at, 0
            pending.clear()
        pending += sound
        yield from cut(final=False)
    if base is not None:
        yield from cut(final=True)


class Encoder:
    """The stretches of a reel (or several) encoded to MP3 frames, a stretch handed at a time
    (`add`, its PCM not kept): a stretch said before (the same PCM, in this reel or kept by an
    earlier export in `kept`) is encoded once; the others are written to `speech.wav` as they
    come and encoded in one ffmpeg run (`finish`), each from the start of LAME's padding cycle
    (`PADDING_CYCLE`) at least `_APART` silent frames after the one before, so each one's
    frames are its own sound only, and the same frames whatever was encoded with it (another
    reel, another export: the file is the same). `identity` names this ffmpeg in the cache
    ("": nothing is kept); `run` runs ffmpeg with the arguments it is given in `folder`."""

    def __init__(
        self, folder: Path, kept: Cache | None, identity: str, run: Callable[[list[str]], None]
    ) -> None:
        self.folder, self.kept, self.identity, self.run = folder, kept, identity, run
        self.names: dict[str, str] = {}  # each stretch's `mp3` entry, by its PCM's digest
        self.found: dict[str, list[bytes]] = {}
        self.todo: dict[str, tuple[int, int]] = {}  # first frame in speech.wav, frame count
        self._sound: wave.Wave_write | None = None
        self._at = 0

    def add(self, pcm: bytes) -> str:
        """The stretch's digest (what `finish` gives its frames by)."""
        digest = hashlib.sha256(pcm).hexdigest()
        if digest in self.found or digest in self.todo:
            return digest
        name = cache_key("mp3", self.identity, MP3, MP3_OUT, PADDING_CYCLE, digest)
        self.names[digest] = name
        count = len(pcm) // (GRANULE * SAMPLE_BYTES)
        kept = self.kept if self.identity else None
        data = kept.get("mp3", name) if kept is not None else None
        try:
            stored = mp3_frames(data) if data is not None else []
        except Mp3Error:
            stored = []
        if stored and len(stored) == count:
            self.found[digest] = stored
            return digest
        if self._sound is None:
            self._sound = wave.open(str(self.folder / "speech.wav"), "wb")
            self._sound.setnchannels(1)
            self._sound.setsampwidth(SAMPLE_BYTES)
            self._sound.setframerate(SAMPLE_RATE)
        # each stretch at the start of a padding cycle, silence before it
        start = -(-(self._at + _APART) // PADDING_CYCLE) * PADDING_CYCLE
        self._sound.writeframesraw(bytes((start - self._at) * GRANULE * SAMPLE_BYTES))
        self._sound.writeframesraw(pcm)
        self.todo[digest] = (start, count)
        self._at = start + count
        return digest

    def close(self) -> None:
        """Let `speech.wav` go unencoded (a read that failed half way)."""
        if self._sound is not None:
            self._sound.close()
            self._sound = None

    def finish(self) -> dict[str, tuple[str, list[bytes]]]:
        """Each stretch's `mp3` entry name and MP3 frames, by digest; Mp3Error when ffmpeg's
        MP3 does not read."""
        if self._sound is not None:
            self._sound.writeframesraw(bytes(_APART * GRANULE * SAMPLE_BYTES))
            self.close()
            args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
            self.run([*args, "-i", "speech.wav", *MP3, *MP3_OUT, "speech.mp3"])
            spoken = mp3_frames((self.folder / "speech.mp3").read_bytes())[1:]  # its delay
            for digest, (start, count) in self.todo.items():
                self.found[digest] = spoken[start : start + count]
                if self.kept is not None and self.identity and len(self.found[digest]) == count:
                    self.kept.put("mp3", self.names[digest], b"".join(self.found[digest]))
            self.todo.clear()
        return {digest: (self.names[digest], frames) for digest, frames in self.found.items()}
