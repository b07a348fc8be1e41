"""An animatic's MP4 written directly: stills held for their spans and an MP3 read (issue 20).

ffmpeg's own mux of a long cut was most of a big series' export: 2,000,000 MP3 frames for a
14.5-hour episode, each handed between two demuxer threads (12 s of CPU an episode, and the
interleaving depended on thread timing, so the bytes could differ from one run to the next).
Here the file is laid out in one pass, the same bytes every time:

- **Picture.** Each distinct still is stored once (its frame as ffmpeg encoded it, all intra,
  in `stills.mp4`); the video track's samples are the cut's stills in order, each lasting its
  span (variable frame rate, timescale `fps`), each a chunk pointing at its still's bytes.
- **Sound.** The read's spoken stretches are stored once, in order; its silence is one block
  of silent MP3 frames, stored once and pointed at by every chunk of silence (a chunk is an
  offset and a count: ISO/IEC 14496-12 does not ask chunks to be distinct bytes). An hour of
  silence costs its sample table (4 bytes a frame), not 400 KB of frames.

The sample descriptions (`stsd`: the codecs' headers) are ffmpeg's, copied from files it
made, so a player reads exactly the codecs it would have read from ffmpeg's mux.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SILENCE_BLOCK = 4096  # silent frames stored once and pointed at by every chunk of silence
_U32 = 0xFFFFFFFF
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_UND = 0x55C4  # the language 'und', packed


_HEADERS: dict[tuple[str, bytes], bytes] = {}  # the MP3 track's header by ffmpeg and frame


def mp3_header(folder: Path, silent: bytes, ffmpeg: str, run: Callable[[list[str]], None]) -> bytes:
    """The MP3 track's sample description (`stsd`) as this ffmpeg muxes it, from its mux (by
    `run`, in `folder`) of four silent frames: once for all the reels of a process."""
    key = (ffmpeg, silent)
    found = _HEADERS.get(key)
    if found is None:
        (folder / "probe.mp3").write_bytes(silent * 4)
        args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", "probe.mp3"]
        args += ["-c:a", "copy", "-flags:a", "+bitexact", "-map_metadata", "-1", "probe.mp4"]
        run(args)
        found = _HEADERS[key] = read_track(folder / "probe.mp4", b"soun").stsd
    return found


class Mp4Error(Exception):
    """A file ffmpeg made does not hold what the writer needs (its one-sentence reason)."""


# -- reading what ffmpeg made -----------------------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, box end) of each box in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        head = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            head = 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            raise Mp4Error(f"a damaged {kind!r} box at byte {at}")
        yield kind, at + head, at + size
        at += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int]:
    for found, body, stop in _boxes(data, start, end):
        if found == kind:
            return body, stop
    raise Mp4Error(f"no {kind.decode()} box")


@dataclass
class Samples:
    """One track of a file ffmpeg made: its sample description box and its samples' bytes."""

    stsd: bytes
    frames: list[bytes]


def read_track(path: Path, handler: bytes) -> Samples:
    """The first track of `path` whose handler is `handler` (b"vide", b"soun")."""
    data = path.read_bytes()
    moov = _child(data, 0, len(data), b"moov")
    for kind, body, stop in _boxes(data, *moov):
        if kind != b"trak":
            continue
        mdia = _child(data, body, stop, b"mdia")
        hdlr = _child(data, *mdia, b"hdlr")
        if data[hdlr[0] + 8 : hdlr[0] + 12] != handler:
            continue
        stbl = _child(data, *_child(data, *mdia, b"minf"), b"stbl")
        return Samples(_whole(data, stbl, b"stsd"), _frames(data, stbl))
    raise Mp4Error(f"no {handler.decode()} track in {path.name}")


def _whole(data: bytes, within: tuple[int, int], kind: bytes) -> bytes:
    body, stop = _child(data, *within, kind)
    return data[body - 8 : stop]  # ffmpeg writes 32-bit box sizes in the sample table


def _frames(data: bytes, stbl: tuple[int, int]) -> list[bytes]:
    body, _ = _child(data, *stbl, b"stsz")
    size, count = struct.unpack_from(">II", data, body + 4)
    sizes = [size] * count if size else list(struct.unpack_from(f">{count}I", data, body + 12))
    body, _ = _child(data, *stbl, b"stsc")
    (runs,) = struct.unpack_from(">I", data, body + 4)
    per_chunk = [struct.unpack_from(">II", data, body + 8 + 12 * i)[:2] for i in range(runs)]
    try:
        body, _ = _child(data, *stbl, b"stco")
        (chunks,) = struct.unpack_from(">I", data, body + 4)
        offsets = list(struct.unpack_from(f">{chunks}I", data, body + 8))
    except Mp4Error:
        body, _ = _child(data, *stbl, b"co64")
        (chunks,) = struct.unpack_from(">I", data, body + 4)
        offsets = list(struct.unpack_from(f">{chunks}Q", data, body + 8))
    frames: list[bytes] = []
    for index, offset in enumerate(offsets, start=1):
        in_chunk = next(n for first, n in reversed(per_chunk) if first <= index)
        for _ in range(in_chunk):
            if len(frames) == len(sizes):
                break
            size = sizes[len(frames)]
            frames.append(data[offset : offset + size])
            offset += size
    if len(frames) != len(sizes):
        raise Mp4Error("its sample table does not add up")
    return frames


# -- writing ---------------------------------------------------------------------------------


Box = list[bytes]  # a box as its pieces in order, its header first: written, never joined


def _box(kind: bytes, *parts: bytes | Box) -> Box:
    """The box around `parts`, each kept as it is (a long episode's sample tables are ~9 MB:
    joined at each of the six levels they sit under, they were copied a dozen times)."""
    pieces: Box = [b"", kind]
    for part in parts:
        if isinstance(part, bytes):
            pieces.append(part)
        else:
            pieces += part
    pieces[0] = struct.pack(">I", 4 + sum(map(len, pieces)))
    return pieces


def _full(kind: bytes, version: int, flags: int, *parts: bytes | Box) -> Box:
    return _box(kind, struct.pack(">I", version << 24 | flags), *parts)


@dataclass
class Track:
    """A track being laid out: its samples' sizes and durations, and its chunks (where each
    starts in the media data, how many samples it holds)."""

    handler: bytes
    timescale: int
    stsd: bytes
    sizes: array[int] = field(default_factory=lambda: array("I"))
    durations: list[tuple[int, int]] = field(default_factory=list)  # (count, delta) runs
    chunks: list[tuple[int, int]] = field(default_factory=list)  # (offset in mdat, samples)
    width: int = 0
    height: int = 0

    def last(self, delta: int, count: int = 1) -> None:
        if self.durations and self.durations[-1][1] == delta:
            self.durations[-1] = (self.durations[-1][0] + count, delta)
        else:
            self.durations.append((count, delta))

    @property
    def duration(self) -> int:
        return sum(count * delta for count, delta in self.durations)


class Media:
    """The media data (`mdat`), each piece stored once; offsets are within it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> int:
        at = self.size
        self.parts.append(data)
        self.size += len(data)
        return at


def video_track(
    stills: Samples, held: Sequence[tuple[int, int]], fps: int, size: tuple[int, int], media: Media
) -> Track:
    """The picture: still `k` of `stills` held `count` frames, for each (k, count) in order."""
    track = Track(b"vide", fps, stills.stsd, width=size[0], height=size[1])
    stored: dict[int, int] = {}
    for still, count in held:
        if not 0 <= still < len(stills.frames):
            raise Mp4Error(f"no still {still} in the stills")
        at = stored.get(still)
        if at is None:
            at = stored[still] = media.add(stills.frames[still])
        track.sizes.append(len(stills.frames[still]))
        track.chunks.append((at, 1))
        track.last(count)
    return track


def audio_track(
    stsd: bytes,
    rate: int,
    granule: int,
    silent: bytes,
    pieces: Sequence[int | Sequence[bytes]],
    media: Media,
) -> Track:
    """The sound: each piece a count of silent frames or the spoken frames, in order; every
    chunk of silence points at one block of silent frames, stored once."""
    track = Track(b"soun", rate, stsd)
    block = min(SILENCE_BLOCK, max((p for p in pieces if isinstance(p, int)), default=0))
    quiet = media.add(silent * block) if block > 0 else 0
    total = 0
    for piece in pieces:
        if isinstance(piece, int):
            left = piece
            while left > 0:
                take = min(left, block)
                track.chunks.append((quiet, take))
                left -= take
            if piece > 0:
                track.sizes.extend(array("I", [len(silent)]) * piece)
                total += piece
        elif piece:
            track.chunks.append((media.add(b"".join(piece)), len(piece)))
            track.sizes.extend(array("I", [len(frame) for frame in piece]))
            total += len(piece)
    if total:
        track.last(granule, total)
    return track


def write(target: Path, tracks: Sequence[Track], media: Media) -> None:
    """The file: ftyp, the media data, then the movie box."""
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")
    large = media.size + 8 > _U32
    start = sum(map(len, ftyp)) + (16 if large else 8)
    movie = 1000
    seconds = max((t.duration / t.timescale for t in tracks), default=0.0)
    traks = [_trak(i, t, start, movie) for i, t in enumerate(tracks, start=1)]
    length = round(seconds * movie)
    v1 = length > _U32
    mvhd = _full(
        b"mvhd",
        int(v1),
        0,
        struct.pack(">QQIQ" if v1 else ">IIII", 0, 0, movie, length),
        struct.pack(">IH10x", 0x10000, 0x100),
        _MATRIX,
        bytes(24),
        struct.pack(">I", len(tracks) + 1),
    )
    moov = _box(b"moov", mvhd, *traks)
    with target.open("wb") as out:
        out.writelines(ftyp)
        if large:
            out.write(struct.pack(">I4sQ", 1, b"mdat", media.size + 16))
        else:
            out.write(struct.pack(">I4s", media.size + 8, b"mdat"))
        out.writelines(media.parts)
        out.writelines(moov)


def _trak(number: int, track: Track, start: int, movie: int) -> Box:
    length = track.duration
    in_movie = round(length * movie / track.timescale)
    v1 = max(length, in_movie) > _U32
    audio = track.handler == b"soun"
    tkhd = _full(
        b"tkhd",
        int(v1),
        3,  # enabled, in the movie
        struct.pack(">QQIIQ" if v1 else ">IIIII", 0, 0, number, 0, in_movie),
        struct.pack(">8xhhH2x", 0, 0, 0x100 if audio else 0),
        _MATRIX,
        struct.pack(">II", track.width << 16, track.height << 16),
    )
    mdhd = _full(
        b"mdhd",
        int(v1),
        0,
        struct.pack(">QQIQ" if v1 else ">IIII", 0, 0, track.timescale, length),
        struct.pack(">HH", _UND, 0),
    )
    name = b"SoundHandler\0" if audio else b"VideoHandler\0"
    hdlr = _full(b"hdlr", 0, 0, struct.pack(">I", 0), track.handler, bytes(12), name)
    header = _full(b"smhd", 0, 0, bytes(4)) if audio else _full(b"vmhd", 0, 1, bytes(8))
    dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
    minf = _box(b"minf", header, dinf, _stbl(track, start))
    return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))


def _stbl(track: Track, start: int) -> Box:
    stts = _full(
        b"stts",
        0,
        0,
        struct.pack(">I", len(track.durations)),
        b"".join(struct.pack(">II", count, delta) for count, delta in track.durations),
    )
    runs: list[tuple[int, int]] = []  # (first chunk, samples per chunk)
    for index, (_, count) in enumerate(track.chunks, start=1):
        if not runs or runs[-1][1] != count:
            runs.append((index, count))
    stsc = _full(
        b"stsc",
        0,
        0,
        struct.pack(">I", len(runs)),
        b"".join(struct.pack(">III", first, count, 1) for first, count in runs),
    )
    sizes = array("I", track.sizes)
    if struct.pack("=I", 1) != struct.pack(">I", 1):
        sizes.byteswap()
    stsz = _full(b"stsz", 0, 0, struct.pack(">II", 0, len(track.sizes)), sizes.tobytes())
    offsets = [start + at for at, _ in track.chunks]
    wide = bool(offsets) and max(offsets) > _U32
    table = array("Q" if wide else "I", offsets)
    if struct.pack("=I", 1) != struct.pack(">I", 1):
        table.byteswap()
    stco = _full(
        b"co64" if wide else b"stco", 0, 0, struct.pack(">I", len(offsets)), table.tobytes()
    )
    return _box(b"stbl", track.stsd, stts, stsc, stsz, stco)
