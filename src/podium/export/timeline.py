"""The animatic's timeline, before ffmpeg: what each reel shows and says, frame by frame.

- **The reels.** A film's cut or each episode's (`Reel`, `reels`), its items as beats in frames
  (`FPS` a second) from the running sum of their durations (`timeline`), the music cues as
  bands on them (`bands`), and the timeline cut wherever the picture changes (`segments`).
- **The table read.** Each scene's dialogue (`dialogue`), voiced by a `voices.Speaker` a few
  lines at a time and laid over that scene's beats as s16le PCM, trimmed or padded to their
  span (`table_read`, with `Read` saying how it went).
- **The stills.** Each beat's picture at `SIZE`: the storyboard's picture of its shot
  (`reel_pictures`), or a title card for a shot the shot list lacks (`still`), and the "♪ cue"
  band drawn over it (`with_band`).

Nothing here runs ffmpeg or writes the animatic; `animatic` lists these pieces for ffmpeg and
makes the files from them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from podium.domain.artifacts import (
    Cue,
    CueSheet,
    EditItem,
    EditPlan,
    ElementType,
    Scene,
    Shot,
    ShotList,
)
from podium.domain.production import Format
from podium.domain.state import TaskRecord
from podium.domain.tasks import TaskKind
from podium.export.manuscript import parsed
from podium.export.report import timecode
from podium.export.screenplay import slots
from podium.export.sources import ExportSource, number, one_line
from podium.export.storyboard import Pictures, drawn_for
from podium.export.voices import SAMPLE_RATE, Line, Speaker

if TYPE_CHECKING:
    from PIL import Image as PILImage

T = TypeVar("T")
FPS = 12
SIZE = (640, 360)
GAP_S = 0.4  # silence between two lines of the read
_BATCH = 4  # lines voiced at a time, until a scene's span is full
SAMPLE_BYTES = 2  # 16-bit samples


@dataclass(frozen=True)
class Reel:
    """What one animatic is made of: a film's cut, or one episode's."""

    episode: int | None
    items: list[EditItem]
    shots: dict[tuple[int, str], Shot] | None  # None: there is no shot list to draw from
    cues: list[Cue]
    scenes: dict[int, Scene]  # by the scene number the cut uses
    # The shot list version each shot is from (the image model's frames are recorded by it).
    lists: dict[tuple[int, str], str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return (
            "animatic.mp4" if self.episode is None else f"animatic-episode-{self.episode:02d}.mp4"
        )

    @property
    def what(self) -> str:
        return "the animatic" if self.episode is None else f"episode {self.episode}'s animatic"

    def shot(self, item: EditItem) -> Shot | None:
        if self.shots is None:
            return None
        return self.shots.get((item.scene, item.shot.strip().upper()))


@dataclass(frozen=True)
class Beat:
    """A cut item on the timeline, in frames: [first, last)."""

    item: EditItem
    shot: Shot | None
    first: int
    last: int


@dataclass(frozen=True)
class Band:
    """A music cue's span on the timeline, in frames: [first, last)."""

    label: str
    first: int
    last: int


@dataclass
class Read:
    """How the table read went, for the README."""

    lines: int = 0  # lines of dialogue in the cut's scenes
    voiced: int = 0  # lines that start inside their scene's span
    trimmed: list[int] = field(default_factory=list)  # scenes whose read was cut off
    padded: list[int] = field(default_factory=list)  # scenes whose read ends in silence


# -- what the cut holds ---------------------------------------------------------------------


def reels(source: ExportSource) -> list[Reel]:
    """One reel per film, or per episode with an edit plan, in episode order."""
    return [make() for make in reel_makers(source)]


def reel_makers(source: ExportSource) -> list[Callable[[], Reel]]:
    """What `reels` gives, one maker per reel: the edit plans are read now (which episodes
    have a cut), each reel's shot lists and music cues only when its maker is called, so a
    series' animatics hold one reel's at a time while it is made, not all of them."""
    series = source.format is Format.SERIES
    plans: dict[int | None, list[EditItem]] = {}
    others: dict[int | None, list[TaskRecord]] = {}
    for record in source.plan():
        kind = record.spec.kind
        if kind not in (TaskKind.EDIT, TaskKind.SHOT_LIST, TaskKind.MUSIC_CUES):
            continue
        episode = number(record.spec.params.get("episode")) if series else None
        if kind is not TaskKind.EDIT:
            others.setdefault(episode, []).append(record)
            continue
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        if isinstance(content, EditPlan):
            plans.setdefault(episode, []).extend(content.sequence)
    chosen = slots(source)
    return [
        partial(
            _reel,
            source,
            episode,
            items,
            others.get(episode, []),
            {slot.number: slot.scene for slot in chosen.get(episode, [])},
        )
        for episode, items in sorted(plans.items(), key=lambda kv: kv[0] or 0)
        if items
    ]


def in_turn(
    makers: Sequence[Callable[[], Reel]], work: Callable[[Reel], T], workers: int
) -> list[T]:
    """`work` on each maker's reel, up to `workers` at a time on threads, its results in the
    makers' order. A reel is made (on this thread) only when a place frees, not all of them up
    front, and let go when its work is done (keep only what `work` returns)."""
    workers = max(1, min(len(makers), workers))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures: list[Future[T]] = []
        for make in makers:
            while len(running := [f for f in futures if not f.done()]) >= workers:
                wait(running, return_when=FIRST_COMPLETED)
            futures.append(pool.submit(work, make()))
        return [future.result() for future in futures]


def _reel(
    source: ExportSource,
    episode: int | None,
    items: list[EditItem],
    records: list[TaskRecord],
    scenes: dict[int, Scene],
) -> Reel:
    shots: dict[tuple[int, str], Shot] | None = None
    lists: dict[tuple[int, str], str] = {}
    cues: list[Cue] = []
    for record in records:  # in the plan's order: a shot's first list wins
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        if isinstance(content, ShotList) and artifact is not None:
            if shots is None:
                shots = {}
            for shot in content.shots:
                key = (shot.scene, shot.shot.strip().upper())
                if key not in shots:
                    shots[key], lists[key] = shot, artifact.id
        elif isinstance(content, CueSheet):
            cues.extend(content.cues)
    return Reel(episode, items, shots, cues, scenes, lists)


def frame_at(seconds: float) -> int:
    return round(seconds * FPS)


def sample_at(frame: int) -> int:
    return round(frame * SAMPLE_RATE / FPS)


def timeline(reel: Reel) -> tuple[list[Beat], int]:
    """The cut items in frames, from the running sum of their durations; the frame count."""
    beats: list[Beat] = []
    elapsed = 0.0
    for item in reel.items:
        start = frame_at(elapsed)
        elapsed += item.duration_s
        beats.append(Beat(item, reel.shot(item), start, frame_at(elapsed)))
    return beats, frame_at(elapsed)


def bands(reel: Reel, frames: int) -> list[Band]:
    """Each cue with a readable start, as frames inside the cut (a cue past its end: none)."""
    found: list[Band] = []
    for cue in reel.cues:
        start = timecode(cue.start)
        if start is None:
            continue
        first, last = frame_at(start), min(frame_at(start + cue.duration_s), frames)
        if first < last:
            title = one_line(cue.title)
            label = f"{one_line(cue.cue_id)} {title}".strip() if title else one_line(cue.cue_id)
            found.append(Band(label, first, last))
    return found


def segments(
    beats: Sequence[Beat], marks: Sequence[Band]
) -> list[tuple[int, int, int, tuple[str, ...]]]:
    """The timeline cut wherever the picture changes: (first, last, beat index, cue labels)."""
    edges = {b.first for b in beats} | {b.last for b in beats}
    edges |= {m.first for m in marks} | {m.last for m in marks}
    cuts = sorted(edges)
    out: list[tuple[int, int, int, tuple[str, ...]]] = []
    beat = 0
    for first, last in zip(cuts, cuts[1:], strict=False):
        while beat < len(beats) - 1 and beats[beat].last <= first:
            beat += 1
        if first >= beats[-1].last:
            break
        labels = tuple(m.label for m in marks if m.first <= first < m.last)
        out.append((first, last, beat, labels))
    return out


# -- the table read -------------------------------------------------------------------------


_EXTENSION = re.compile(r"\s*\([^()]*\)\s*$")


def speaker_name(cue: str) -> str:
    """`MARA (V.O.) (CONT'D) ^` → `MARA`."""
    name = cue.strip().rstrip("^").strip()
    while (stripped := _EXTENSION.sub("", name)) != name:
        name = stripped
    return " ".join(name.split()).upper()


def dialogue(scene: Scene) -> list[Line]:
    """A scene's spoken lines in order: each dialogue block with the cue above it."""
    lines: list[Line] = []
    speaker = ""
    for element in scene.elements:
        if element.type is ElementType.CHARACTER:
            speaker = speaker_name(element.text)
        elif element.type is ElementType.DIALOGUE and speaker and one_line(element.text):
            lines.append(Line(speaker, one_line(element.text)))
    return lines


def _scene_read(
    lines: Sequence[Line], span: int, voice: Speaker, folder: Path
) -> tuple[bytearray, int]:
    """The scene's read fitted to `span` samples, and how many lines start inside it.

    Lines are voiced a few at a time, only until the span is full (a speech model is paid by
    the line)."""
    gap = b"\0" * (round(GAP_S * SAMPLE_RATE) * SAMPLE_BYTES)
    read = bytearray()
    started = 0
    limit = span * SAMPLE_BYTES
    for at in range(0, len(lines), _BATCH):
        if len(read) >= limit:
            break
        for sound in voice.speak(lines[at : at + _BATCH], folder):
            if len(read) >= limit:
                break
            started += 1
            read += sound  # a scene's read is megabytes: no copy of it made on the way
            read += gap
    return read, started


def table_read(
    reel: Reel, beats: Sequence[Beat], frames: int, voice: Speaker | None, folder: Path
) -> tuple[list[bytes], Read]:
    """The reel's sound, beat by beat: each scene's read laid over that scene's items in cut
    order, as each beat's slice of it (s16le PCM; shorter than the beat, or empty, where the
    rest of the beat is silence). Only the spoken part is held, never the silence."""
    stats = Read()
    return list(read_aloud(reel, beats, voice, folder, stats)), stats


def read_aloud(
    reel: Reel, beats: Sequence[Beat], voice: Speaker | None, folder: Path, stats: Read
) -> Iterator[bytes]:
    """`table_read`'s sounds one beat at a time, in beat order, `stats` filled as they come:
    a scene is voiced when its first beat comes (the scenes in the same order), and its
    slices are held only until their beats are read, so a reel's read is never held whole."""
    by_scene: dict[int, list[int]] = {}
    for index, beat in enumerate(beats):
        by_scene.setdefault(beat.item.scene, []).append(index)
    waiting: dict[int, bytes] = {}
    for index, beat in enumerate(beats):
        indexes = by_scene[beat.item.scene]
        if indexes[0] == index:  # the scene's first beat: its read, sliced over its beats
            waiting.update(_laid(reel, beats, beat.item.scene, indexes, voice, folder, stats))
        yield waiting.pop(index, b"")


def _laid(
    reel: Reel, beats: Sequence[Beat], scene_number: int, indexes: list[int],
    voice: Speaker | None, folder: Path, stats: Read,
) -> dict[int, bytes]:  # fmt: skip
    """One scene's read laid over its beats (`indexes`): each beat's slice of it."""
    scene = reel.scenes.get(scene_number)
    lines = dialogue(scene) if scene is not None else []
    stats.lines += len(lines)
    if voice is None or not lines:
        return {}
    span = sum(samples(beats[i]) for i in indexes)
    read, started = _scene_read(lines, span, voice, folder)
    stats.voiced += started
    spoken = len(read) - round(GAP_S * SAMPLE_RATE) * SAMPLE_BYTES  # the last pause is not read
    if started < len(lines) or spoken > span * SAMPLE_BYTES:
        stats.trimmed.append(scene_number)
    else:
        stats.padded.append(scene_number)
    sounds: dict[int, bytes] = {}
    at = 0
    with memoryview(read) as whole:  # each slice copied once (a big series: 590 MB of reads)
        for index in indexes:
            if at >= len(read):
                break
            length = samples(beats[index]) * SAMPLE_BYTES
            sounds[index] = whole[at : at + length].tobytes()
            at += length
    return sounds


def samples(beat: Beat) -> int:
    """How many samples of sound a beat lasts."""
    return sample_at(beat.last) - sample_at(beat.first)


# -- pictures -------------------------------------------------------------------------------


def _font(size: int) -> object:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def still(
    source: ExportSource, reel: Reel, beat: Beat, pictures: Pictures
) -> tuple[object, Callable[[], PILImage.Image]]:
    """A beat's picture, with a key that is the same for the same picture: the storyboard's
    picture of its shot (the image model's, else the rehearsal sketch with the shot's
    description as a caption), or a title card for a shot the shot list lacks."""
    shot = beat.shot
    if shot is None:
        item, listed = beat.item, reel.shots is not None
        card = ("card", item.scene, one_line(item.shot), listed, item.duration_s)
        return card, partial(_title_card, beat, listed)
    label = f"{shot.scene}{one_line(shot.shot)}"
    path, _ = drawn_for(source, reel.lists.get((shot.scene, shot.shot.strip().upper()), ""), label)
    picture = pictures.picture(shot, label, path)
    caption = one_line(shot.description) if picture.drawn else ""
    return (picture.key, caption), partial(picture.image, SIZE, caption)


def _title_card(beat: Beat, has_list: bool) -> PILImage.Image:
    from PIL import Image, ImageDraw

    item = beat.item
    image = Image.new("RGB", SIZE, (24, 24, 28))
    pen = ImageDraw.Draw(image)
    label = f"{item.scene}{one_line(item.shot)}" if one_line(item.shot) else f"Scene {item.scene}"
    big, small = _font(54), _font(20)
    why = "is not in the shot list" if has_list else "has no shot list to draw from"
    lines = [(f"Shot {label}", big, (240, 236, 228)), (why, small, (230, 170, 90))]
    lines.append((f"the cut holds it {item.duration_s:g} s", small, (170, 170, 170)))
    y = SIZE[1] * 0.30
    for text, font, colour in lines:
        width = pen.textlength(text, font=font)  # type: ignore[arg-type]
        pen.text(((SIZE[0] - width) / 2, y), text, fill=colour, font=font)  # type: ignore[arg-type]
        y += 70 if font is big else 34
    return image


def with_band(base: PILImage.Image, labels: Sequence[str]) -> PILImage.Image:
    """The frame with a "♪ cue" band across its top right (the note drawn, not a glyph)."""
    if not labels:
        return base
    from PIL import ImageDraw

    image = base.copy()
    pen = ImageDraw.Draw(image, "RGBA")
    font = _font(18)
    text = " · ".join(labels)
    while pen.textlength(text, font=font) > SIZE[0] * 0.6 and len(text) > 4:  # type: ignore[arg-type]
        text = text[:-2].rstrip() + "…"
    width = pen.textlength(text, font=font)  # type: ignore[arg-type]
    right, top, height = SIZE[0] - 8, 34, 30  # under the palette swatches
    left = right - width - 46
    pen.rectangle((left, top, right, top + height), fill=(10, 10, 14, 210))
    x, y = left + 12, top + 6  # the note: a head, a stem and a flag
    pen.ellipse((x, y + 11, x + 9, y + 18), fill=(250, 214, 110))
    pen.rectangle((x + 7, y, x + 9, y + 15), fill=(250, 214, 110))
    pen.polygon([(x + 9, y), (x + 15, y + 4), (x + 9, y + 7)], fill=(250, 214, 110))
    pen.text((left + 34, top + 5), text, fill=(250, 240, 220), font=font)  # type: ignore[arg-type]
    return image


def reel_pictures(source: ExportSource) -> Pictures:
    """The storyboard's pictures of the production's shots (`storyboard.Pictures`)."""
    spec = source.view.spec
    cast = [c.name for c in (source.view.vision or spec.vision).characters] if spec else []
    palette = list(spec.style.palette) if spec else []
    return Pictures(source, cast, palette)
