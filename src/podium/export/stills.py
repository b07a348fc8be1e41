"""An animatic's stills (`podium.export.animatic`): each distinct picture of the reel drawn once
and encoded once by ffmpeg into `stills.mp4` (all intra, a frame a still), and the cut as the
stills in order, each held for its frames.

The encoded stills are kept in the export's cache (`podium.export.cache`) under the hash of
every still's key in order (the sketch or the model picture's hash, the cue labels on it), the
size, the drawing code's source and this ffmpeg's version: an episode whose pictures did not
change is neither drawn nor encoded again. A kept file is used only when it reads back as one
frame per still; otherwise it is made again.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from podium.export import mp4
from podium.export.cache import Cache, code_digest
from podium.export.cache import key as cache_key
from podium.export.sources import ExportSource
from podium.export.storyboard import Pictures
from podium.export.timeline import FPS, SIZE, Band, Beat, Reel, segments, still, with_band

if TYPE_CHECKING:
    from PIL import Image as PILImage

# What draws a still: a change to any of these names new cache entries.
_DRAWING = (
    "podium.export.timeline",
    "podium.export.storyboard",
    "podium.llm.rehearsal.illustrator",
    "podium.llm.rehearsal.lettering",
    "podium.llm.rehearsal.sketch",
)
FRAMES = "frames.ppm"  # the stills, one PPM after another, for ffmpeg (`draw`)


def stills_args(ffmpeg: str) -> list[str]:
    """The distinct stills encoded once, each a frame that stands alone (all intra), so the
    animatic copies a still's frame wherever the cut shows it instead of encoding it again
    (a big series' episode shows 117 stills 3,600 times)."""
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "ppm_pipe", "-framerate", str(FPS), "-i", FRAMES,
        "-vf", "format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-crf", "30",
        "-g", "1", "-bf", "0", "-threads", "1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
        "stills.mp4",
    ]  # fmt: skip


def still_entry(k: int) -> list[str]:
    """A still as a concat entry: its one frame of `stills.mp4` (frame k of it at k/FPS s)."""
    return ["file 'stills.mp4'", f"inpoint {k / FPS:.6f}", f"outpoint {(k + 0.5) / FPS:.6f}"]


Maker = tuple[object, tuple[str, ...], Callable[[], "PILImage.Image"]]


def plan(
    source: ExportSource, reel: Reel, beats: Sequence[Beat], marks: Sequence[Band],
    pictures: Pictures,
) -> tuple[list[tuple[int, int]], list[Maker]]:  # fmt: skip
    """The reel's stills in cut order, each as (its number, the frames it is held), and each
    distinct still's (key, cue labels, how to draw it), by number: a shot the cut uses again,
    or the same picture under the same cue, is one still; the last slot a frame of its own,
    so the video lasts the whole cut. Nothing is drawn here."""
    numbers: dict[tuple[object, tuple[str, ...]], int] = {}
    makers: list[Maker] = []
    held: list[tuple[int, int]] = []  # still, frames
    # A shot's still worked out once: the cut shows a big series' episode's 117 shots in
    # 3,300 segments, and each asked again read the shot's words (0.4 s of the twelve).
    by_shot: dict[int, tuple[object, Callable[[], PILImage.Image]]] = {}
    for first, last, index, labels in segments(beats, marks):
        beat = beats[index]
        if beat.shot is None:
            key, make = still(source, reel, beat, pictures)
        elif (known := by_shot.get(id(beat.shot))) is not None:
            key, make = known
        else:
            key, make = by_shot[id(beat.shot)] = still(source, reel, beat, pictures)
        number = numbers.get((key, labels))
        if number is None:
            number = numbers[(key, labels)] = len(makers)
            makers.append((key, labels, make))
        if held and held[-1][0] == number:
            held[-1] = (number, held[-1][1] + last - first)
        else:
            held.append((number, last - first))
    if held and held[-1][1] > 1:  # a frame in the last slot, so the video lasts the whole cut
        number, count = held.pop()
        held += [(number, count - 1), (number, 1)]
    return held, makers


def draw(makers: Sequence[Maker], folder: Path) -> None:
    """Every distinct still, in order, as binary PPM in one file, `FRAMES` (no compression:
    ffmpeg reads it fast), each picture drawn once whatever cue bands go over it, and let go
    after the last still that shows it (a big series' episode: hundreds of pictures, each
    0.9 MB drawn). One file, not a PPM file a still: creating and removing 1,267 files of
    0.7 MB cost the big series' export about twice the kernel time of writing their bytes.
    Pillow writes each still's pixels into the file itself (no 0.7 MB `bytes` a still made
    on the reels' threads: those raised the export's peak by 30-60 MB)."""
    last = {key: number for number, (key, _, _) in enumerate(makers)}
    bases: dict[object, PILImage.Image] = {}
    with (folder / FRAMES).open("wb") as file:
        for number, (key, labels, make) in enumerate(makers):
            base = bases.get(key)
            if base is None:
                base = bases[key] = make()
            with_band(base, labels).save(file, format="PPM")
            if last[key] == number:
                del bases[key]


def encode(
    makers: Sequence[Maker], folder: Path, ffmpeg: str, identity: str, kept: Cache | None,
    run: Callable[[list[str]], None],
) -> None:  # fmt: skip
    """`stills.mp4` in `folder`: the kept one when it reads back as one frame per still, else
    drawn (`draw`) and encoded by `run` (ffmpeg), then kept."""
    name = ""
    if kept is not None and identity:
        keys = [(key, labels) for key, labels, _ in makers]
        name = cache_key("stills", identity, stills_args(""), SIZE, code_digest(*_DRAWING), keys)
        data = kept.get("stills", name)
        if data is not None:
            (folder / "stills.mp4").write_bytes(data)
            try:
                if len(mp4.read_track(folder / "stills.mp4", b"vide").frames) == len(makers):
                    return
            except (mp4.Mp4Error, struct.error, StopIteration):
                pass  # not what it should be: made again
    draw(makers, folder)
    run(stills_args(ffmpeg))
    if name:
        try:
            kept.put("stills", name, (folder / "stills.mp4").read_bytes())  # type: ignore[union-attr]
        except OSError:
            pass
