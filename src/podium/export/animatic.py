"""The animatic: the storyboard's frames timed by the cut, the music cues marked, a table read.

For a film `animatic.mp4`, for a series one per episode (`animatic-episode-01.mp4`), made by
`ffmpeg` when it is installed (and nothing, with a line in the export's README saying why and
how to get it, when it is not):

- **Pictures.** The edit plan's items in cut order, each held for its duration: the picture
  `storyboard.html` shows for the shot it names (`storyboard.Pictures`: the image model's
  frame when it drew one, else the rehearsal sketch, here with the shot's description as a
  caption), or a title card saying the shot list has no such shot. Times are counted in
  frames (12 a second) from the running sum of the items, so the file lasts the cut's sum to
  within a frame, however the items round. Each still is one encoded frame held for its span
  (variable frame rate), and each distinct still is drawn once.
- **Music.** No music is made: each cue is a band, "♪ cue title", on the frames for its span
  (from its start timecode, cut off at the end of the cut), and the audio carries no music.
- **The table read.** Each scene's dialogue (parentheticals and action are not read) in the
  voice of its speaker, one line after another with a short pause, laid over the cut items of
  that scene in cut order. A read longer than the scene's items is cut off where they end
  (trimmed); a shorter one ends in silence (padded). Voices come from the speech model
  (`models.speech`) when one is configured, else from espeak-ng (`voices`); with neither, the
  animatic is silent and its README line says so. A line said again is voiced once. With
  LAME in ffmpeg the sound is MP3: the speech alone is encoded, and the silence between is
  one silent frame laid again (`mp3_read`), so a long cut costs its speech, not its length;
  without, AAC encoded from a listing of the spoken pieces and short silence files.

ffmpeg runs as an argument list (never a shell) in a temporary folder, with a timeout, and
with `-fflags +bitexact`, `-flags +bitexact` and `-map_metadata -1`, so the same production
gives the same bytes with the same ffmpeg. Its failure is one sentence for the README and for
stderr (a warning on the `podium.export` logger), never a traceback; the rest of the export is
written all the same.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

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
from podium.domain.production import Format, ModelSettings
from podium.domain.tasks import TaskKind
from podium.export.manuscript import parsed
from podium.export.report import timecode
from podium.export.screenplay import slots
from podium.export.sources import ExportSource, number, one_line
from podium.export.storyboard import Pictures, drawn_for
from podium.export.voices import (
    SAMPLE_RATE,
    Espeak,
    Line,
    Remembered,
    Speaker,
    SpeechModel,
    VoiceError,
)
from podium.llm.types import is_rehearsal

if TYPE_CHECKING:
    from PIL import Image as PILImage

log = logging.getLogger("podium.export")

FPS = 12
SIZE = (640, 360)
GAP_S = 0.4  # silence between two lines of the read
_BATCH = 4  # lines voiced at a time, until a scene's span is full
_BYTES = 2  # 16-bit samples
_SILENCE_BITS = 18  # the longest silence file: 2**18 samples (about 12 s)
# ffmpeg's time for one animatic, and a second more per second of cut: generous (a minute of
# cut encodes in well under a second).
TIMEOUT_BASE_S = 120.0
TIMEOUT_PER_CUT_SECOND = 1.0
# Notes are plain sentences (the README escapes Markdown), said on stderr as well.
INSTALL_FFMPEG = "install ffmpeg (apt-get install ffmpeg) and export again"
INSTALL_ESPEAK = "install espeak-ng (apt-get install espeak-ng)"


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


@dataclass
class Made:
    """The animatics and the sentences the export's README says about them.

    The files are in a temporary folder this object owns (a series' animatics can be far
    bigger than memory should hold); it is removed when the object is no longer used."""

    files: list[tuple[str, str, Path]] = field(default_factory=list)  # name, description, file
    notes: list[str] = field(default_factory=list)
    folder: tempfile.TemporaryDirectory[str] | None = None


# -- what the cut holds ---------------------------------------------------------------------


def reels(source: ExportSource) -> list[Reel]:
    """One reel per film, or per episode with an edit plan, in episode order."""
    series = source.format is Format.SERIES
    plans: dict[int | None, list[EditItem]] = {}
    shots: dict[int | None, dict[tuple[int, str], Shot]] = {}
    lists: dict[int | None, dict[tuple[int, str], str]] = {}
    cues: dict[int | None, list[Cue]] = {}
    for record in source.plan():
        kind = record.spec.kind
        if kind not in (TaskKind.EDIT, TaskKind.SHOT_LIST, TaskKind.MUSIC_CUES):
            continue
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        episode = number(record.spec.params.get("episode")) if series else None
        if isinstance(content, EditPlan):
            plans.setdefault(episode, []).extend(content.sequence)
        elif isinstance(content, ShotList) and artifact is not None:
            known = shots.setdefault(episode, {})
            versions = lists.setdefault(episode, {})
            for shot in content.shots:
                key = (shot.scene, shot.shot.strip().upper())
                if key not in known:
                    known[key], versions[key] = shot, artifact.id
        elif isinstance(content, CueSheet):
            cues.setdefault(episode, []).extend(content.cues)
    scenes = {
        episode: {slot.number: slot.scene for slot in chosen}
        for episode, chosen in slots(source).items()
    }
    return [
        Reel(
            episode,
            items,
            shots.get(episode),
            cues.get(episode, []),
            scenes.get(episode, {}),
            lists.get(episode, {}),
        )
        for episode, items in sorted(plans.items(), key=lambda kv: kv[0] or 0)
        if items
    ]


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
) -> tuple[bytes, int]:
    """The scene's read fitted to `span` samples, and how many lines start inside it.

    Lines are voiced a few at a time, only until the span is full (a speech model is paid by
    the line)."""
    gap = b"\0" * (round(GAP_S * SAMPLE_RATE) * _BYTES)
    read = bytearray()
    started = 0
    limit = span * _BYTES
    for at in range(0, len(lines), _BATCH):
        if len(read) >= limit:
            break
        for sound in voice.speak(lines[at : at + _BATCH], folder):
            if len(read) >= limit:
                break
            started += 1
            read += sound + gap
    return bytes(read), started


def table_read(
    reel: Reel, beats: Sequence[Beat], frames: int, voice: Speaker | None, folder: Path
) -> tuple[list[bytes], Read]:
    """The reel's sound, beat by beat: each scene's read laid over that scene's items in cut
    order, as each beat's slice of it (s16le PCM; shorter than the beat, or empty, where the
    rest of the beat is silence). Only the spoken part is held, never the silence."""
    sounds = [b""] * len(beats)
    stats = Read()
    by_scene: dict[int, list[int]] = {}
    for index, beat in enumerate(beats):
        by_scene.setdefault(beat.item.scene, []).append(index)
    for scene_number, indexes in by_scene.items():
        scene = reel.scenes.get(scene_number)
        lines = dialogue(scene) if scene is not None else []
        stats.lines += len(lines)
        if voice is None or not lines:
            continue
        span = sum(samples(beats[i]) for i in indexes)
        read, started = _scene_read(lines, span, voice, folder)
        stats.voiced += started
        spoken = len(read) - round(GAP_S * SAMPLE_RATE) * _BYTES  # the last pause is not read
        if started < len(lines) or spoken > span * _BYTES:
            stats.trimmed.append(scene_number)
        else:
            stats.padded.append(scene_number)
        at = 0
        for index in indexes:
            if at >= len(read):
                break
            length = samples(beats[index]) * _BYTES
            sounds[index] = read[at : at + length]
            at += length
    return sounds, stats


def samples(beat: Beat) -> int:
    """How many samples of sound a beat lasts."""
    return sample_at(beat.last) - sample_at(beat.first)


def track(beats: Sequence[Beat], sounds: Sequence[bytes]) -> bytes:
    """The whole sound track as one PCM string (what the listing ffmpeg reads adds up to)."""
    return b"".join(s.ljust(samples(b) * _BYTES, b"\0") for b, s in zip(beats, sounds, strict=True))


# -- pictures -------------------------------------------------------------------------------


def _font(size: int) -> object:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def _still(
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


def _with_band(base: PILImage.Image, labels: Sequence[str]) -> PILImage.Image:
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


# -- making it ------------------------------------------------------------------------------


class AnimaticError(Exception):
    """ffmpeg could not make an animatic; the message is one sentence."""


def _speaker(source: ExportSource, ffmpeg: str, notes: list[str]) -> Speaker | None:
    """Who voices the read: the speech model, else espeak-ng, else nobody (and a note)."""
    spec = source.view.spec
    model = spec.models.speech if spec is not None else None
    if spec is not None and model and not is_rehearsal(model):
        settings = spec.models.settings.get(model) or ModelSettings()
        return SpeechModel(model, settings, ffmpeg)
    espeak = Espeak.find()
    if espeak is None:
        notes.append(
            "The animatic is silent: no speech model is configured (models.speech) and "
            f"espeak-ng is not installed; {INSTALL_ESPEAK} and export again for a table read."
        )
    return espeak


def _wav(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(_BYTES)
        sound.setframerate(SAMPLE_RATE)
        sound.writeframes(pcm)
    return buffer.getvalue()


AAC = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "32k"]
# The read as MP3 frames that stand alone (no bit reservoir), so frames can be laid end to end.
MP3 = ["-c:a", "libmp3lame", "-b:a", "32k", "-compression_level", "7", "-reservoir", "0"]
MP3_OUT = ["-write_xing", "0", "-id3v2_version", "0", "-f", "mp3"]
GRANULE = 576  # samples in an MP3 frame at 22,050 Hz (MPEG-2 Layer III)
_SILENCE_FRAMES = 8192  # silent MP3 frames written at a time


def silent_frame(ffmpeg: str) -> bytes | None:
    """One MP3 frame of silence as this ffmpeg's LAME encodes the read; None without LAME
    (the read is then encoded as AAC, every second of it)."""
    args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    args += ["-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=mono", "-t", "1", *MP3, *MP3_OUT]
    try:
        done = subprocess.run(
            [*args, "-"],
            capture_output=True,
            timeout=TIMEOUT_BASE_S,
            check=False,
            shell=False,
        )
        found = mp3_frames(done.stdout) if done.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, AnimaticError):
        return None  # making the animatic says what is wrong with this ffmpeg
    return found[len(found) // 2] if len(found) > 4 else None


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
            raise AnimaticError(f"ffmpeg wrote an MP3 stream with no frame at byte {at}")
        table = _MP3_KBPS[3 if version == 3 else 2]
        size = (144 if version == 3 else 72) * table[kbps] * 1000 // _MP3_RATES[version][rate]
        size += (head >> 9) & 1
        frames.append(data[at : at + size])
        at += size
    return frames


def mp3_runs(beats: Sequence[Beat], sounds: Sequence[bytes]) -> list[tuple[int, bytes]]:
    """The spoken stretches of the track, each as (its first MP3 frame on the timeline, its
    PCM padded to whole frames): beats whose sounds follow on without a gap are one stretch."""
    runs: list[tuple[int, bytes]] = []
    end = 0  # the first frame after the last stretch
    start, pending = 0, bytearray()

    def close() -> None:
        nonlocal end
        if not pending:
            return
        first = max(round(start / GRANULE), end)
        count = -(-len(pending) // (GRANULE * _BYTES))
        runs.append((first, bytes(pending.ljust(count * GRANULE * _BYTES, b"\0"))))
        end = first + count

    for beat, sound in zip(beats, sounds, strict=True):
        if not sound:
            continue
        at = sample_at(beat.first)
        if not pending or start + len(pending) // _BYTES != at:
            close()
            start, pending = at, bytearray()
        pending += sound
    close()
    return runs


def mp3_read(
    beats: Sequence[Beat], sounds: Sequence[bytes], frames: int, ffmpeg: str, silent: bytes,
    folder: Path, what: str,
) -> None:  # fmt: skip
    """`read.mp3`: the track as MP3 frames, the spoken stretches encoded once (one ffmpeg run
    on the speech alone) and the silence between them one silent frame laid again and again.
    Hours of cut (a big series' episode) cost their speech, not their length. Times are kept
    to an MP3 frame (26 ms); the speech comes about 24 ms late (the decoder's delay)."""
    runs = mp3_runs(beats, sounds)
    total = -(-sample_at(frames) // GRANULE)
    spoken: list[bytes] = []
    if runs:
        (folder / "speech.wav").write_bytes(_wav(b"".join(pcm for _, pcm in runs)))
        args = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        args += ["-i", "speech.wav", *MP3, *MP3_OUT, "speech.mp3"]
        _run_ffmpeg(args, folder, frames, what)
        spoken = mp3_frames((folder / "speech.mp3").read_bytes())[1:]  # the encoder's delay

    def quiet(count: int) -> None:
        while count > 0:
            out.write(silent * min(count, _SILENCE_FRAMES))
            count -= _SILENCE_FRAMES

    with (folder / "read.mp3").open("wb") as out:
        at = taken = 0
        for first, pcm in runs:
            if first >= total:
                break
            count = len(pcm) // (GRANULE * _BYTES)
            quiet(first - at)
            take = min(count, total - first)
            found = spoken[taken : taken + take]
            out.write(b"".join(found))
            quiet(take - len(found))
            taken += count
            at = first + take
        quiet(total - at)


def ffmpeg_args(ffmpeg: str, frames: int, output: str, mp3: bool = False) -> list[str]:
    """The stills' frames (`stills_args`) copied, each held for its span (variable frame
    rate): a 28-minute cut of a few hundred shots is a few hundred frames, not 20,000, and
    none is encoded here."""
    seconds = f"{frames / FPS:.6f}"
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "concat", "-i", "frames.ffconcat",
        *(["-i", "read.mp3"] if mp3 else ["-f", "concat", "-i", "sound.ffconcat"]),
        "-map", "0:v", "-map", "1:a",
        "-t", seconds,
        "-c:v", "copy",
        *(["-c:a", "copy"] if mp3 else AAC),
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-map_metadata", "-1", "-map_chapters", "-1",
        output,
    ]  # fmt: skip


def _run_ffmpeg(args: list[str], folder: Path, frames: int, what: str) -> None:
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_CUT_SECOND * frames / FPS
    try:
        done = subprocess.run(
            args, cwd=folder, capture_output=True, timeout=timeout, check=False, shell=False
        )
    except subprocess.TimeoutExpired:
        raise AnimaticError(
            f"{what} was not made: ffmpeg took longer than {timeout:.0f} s and was stopped"
        ) from None
    except OSError as exc:
        raise AnimaticError(
            f"{what} was not made: ffmpeg could not be started ({exc.strerror or exc}); "
            f"{INSTALL_FFMPEG}"
        ) from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())
        said = one_line(said[-200:]) if said else "it printed nothing"
        raise AnimaticError(
            f"{what} was not made: ffmpeg failed (exit {done.returncode}: {said}); "
            "ffmpeg -version shows whether it works, the rest of the export is written"
        )


def picture_listing(
    source: ExportSource,
    reel: Reel,
    beats: Sequence[Beat],
    marks: Sequence[Band],
    folder: Path,
    pictures: Pictures,
) -> list[str]:
    """The concat listing of the reel's stills, each distinct still drawn and written once
    (a shot the cut uses again, or the same picture under the same cue, is one file), a still
    held on as long as it lasts (one entry, one encoded frame)."""
    bases: dict[object, PILImage.Image] = {}
    names: dict[tuple[object, tuple[str, ...]], str] = {}
    held: list[tuple[str, int]] = []  # file, frames
    for first, last, index, labels in segments(beats, marks):
        key, make = _still(source, reel, beats[index], pictures)
        name = names.get((key, labels))
        if name is None:
            base = bases.get(key)
            if base is None:
                base = bases[key] = make()
            name = names[(key, labels)] = f"frame-{len(names):05d}.ppm"
            _with_band(base, labels).save(folder / name)  # no compression: ffmpeg reads it fast
        if held and held[-1][0] == name:
            held[-1] = (name, held[-1][1] + last - first)
        else:
            held.append((name, last - first))
    if held and held[-1][1] > 1:  # a frame in the last slot, so the video lasts the whole cut
        name, count = held.pop()
        held += [(name, count - 1), (name, 1)]
    listing = ["ffconcat version 1.0"]
    for name, count in held:
        listing += _still_entry(name) + [f"duration {count / FPS:.6f}"]
    return listing


def _still_entry(name: str) -> list[str]:
    """A still as a concat entry: its one frame of `stills.mp4` (frame k of it at k/FPS s)."""
    k = int(name.removeprefix("frame-").removesuffix(".ppm"))
    return ["file 'stills.mp4'", f"inpoint {k / FPS:.6f}", f"outpoint {(k + 0.5) / FPS:.6f}"]


def stills_args(ffmpeg: str) -> list[str]:
    """The distinct stills encoded once, each a frame that stands alone (all intra), so the
    animatic copies a still's frame wherever the cut shows it instead of encoding it again
    (a big series' episode shows 117 stills 3,600 times)."""
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-framerate", str(FPS), "-i", "frame-%05d.ppm",
        "-vf", "format=yuv420p",
        "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-crf", "30",
        "-g", "1", "-bf", "0", "-threads", "1",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
        "stills.mp4",
    ]  # fmt: skip


def sound_listing(beats: Sequence[Beat], sounds: Sequence[bytes], folder: Path) -> list[str]:
    """The concat listing of the reel's sound: each beat's spoken slice (a file each, the same
    slice once) and the silence around them from a few short files (2**k samples each, the
    longest used again and again), so hours of cut need neither hours of PCM in memory nor on
    disk. The listing adds up to `track(beats, sounds)` sample for sample."""
    listing = ["ffconcat version 1.0"]
    written: dict[bytes, str] = {}
    silences: set[int] = set()

    def silent(bit: int) -> None:
        name = f"silence-{bit:02d}.wav"
        if bit not in silences:
            silences.add(bit)
            (folder / name).write_bytes(_wav(bytes((1 << bit) * _BYTES)))
        listing.append(f"file '{name}'")

    def silence(count: int) -> None:
        for _ in range(count >> _SILENCE_BITS):
            silent(_SILENCE_BITS)
        for bit in range(_SILENCE_BITS):
            if count & (1 << bit):
                silent(bit)

    quiet = 0
    for beat, sound in zip(beats, sounds, strict=True):
        if sound:
            silence(quiet)
            quiet = 0
            digest = hashlib.sha1(sound, usedforsecurity=False).digest()
            name = written.get(digest)
            if name is None:
                name = written[digest] = f"read-{len(written):05d}.wav"
                (folder / name).write_bytes(_wav(sound))
            listing.append(f"file '{name}'")
        quiet += samples(beat) - len(sound) // _BYTES
    silence(quiet)
    return listing


def make_reel(
    source: ExportSource,
    reel: Reel,
    ffmpeg: str,
    voice: Speaker | None,
    notes: list[str],
    pictures: Pictures | None = None,
    silent: bytes | None = None,
) -> tuple[bytes, str]:
    """One animatic's bytes and its description; AnimaticError when ffmpeg fails."""
    with tempfile.TemporaryDirectory(prefix="podium-animatic-") as temp:
        target = Path(temp) / reel.name
        description = make_reel_file(source, reel, ffmpeg, voice, notes, target, pictures, silent)
        return target.read_bytes(), description


def make_reel_file(
    source: ExportSource,
    reel: Reel,
    ffmpeg: str,
    voice: Speaker | None,
    notes: list[str],
    target: Path,
    pictures: Pictures | None = None,
    silent: bytes | None = None,
) -> str:
    """One animatic written to `target`, and its description; AnimaticError when ffmpeg
    fails. With `silent` (an MP3 frame of silence, `silent_frame`) the read is MP3 frames laid
    end to end (`mp3_read`), else AAC encoded from a listing of its pieces (`sound_listing`)."""
    if pictures is None:
        pictures = reel_pictures(source)
    beats, frames = timeline(reel)
    if frames == 0:
        raise AnimaticError(f"{_title(reel)} was not made: its cut lasts less than a frame")
    marks = bands(reel, frames)
    with tempfile.TemporaryDirectory(prefix="podium-animatic-") as temp:
        folder = Path(temp)
        try:
            sounds, read = table_read(reel, beats, frames, voice, folder)
        except VoiceError as exc:
            said_by = voice.voice if isinstance(voice, Remembered) else voice
            fallback = Espeak.find() if not isinstance(said_by, Espeak) else None
            sentence = (
                f"The table read of {reel.what} is "
                f"{'voiced by espeak-ng' if fallback else 'silent'}: "
                f"{voice.name if voice else 'the voice'} failed ({str(exc).rstrip('.')})."
            )
            log.warning("podium: %s", sentence)
            notes.append(sentence)
            voice = fallback
            try:
                sounds, read = table_read(reel, beats, frames, voice, folder)
            except VoiceError:
                voice = None
                sounds, read = table_read(reel, beats, frames, None, folder)
        if silent is not None:
            mp3_read(beats, sounds, frames, ffmpeg, silent, folder, _title(reel))
        else:
            sound = sound_listing(beats, sounds, folder)
            (folder / "sound.ffconcat").write_text("\n".join(sound) + "\n", encoding="utf-8")
        del sounds
        listing = picture_listing(source, reel, beats, marks, folder, pictures)
        (folder / "frames.ffconcat").write_text("\n".join(listing) + "\n", encoding="utf-8")
        _run_ffmpeg(stills_args(ffmpeg), folder, frames, _title(reel))
        _run_ffmpeg(
            ffmpeg_args(ffmpeg, frames, "out.mp4", silent is not None), folder, frames, _title(reel)
        )
        try:
            made = (folder / "out.mp4").stat().st_size > 0
            if made:
                shutil.move(folder / "out.mp4", target)
        except OSError:
            made = False
        if not made:
            raise AnimaticError(f"{_title(reel)} was not made: ffmpeg wrote no file")
    cards = sum(1 for b in beats if b.shot is None)
    return describe(reel, frames, len(marks), cards, read, voice)


def reel_pictures(source: ExportSource) -> Pictures:
    """The storyboard's pictures of the production's shots (`storyboard.Pictures`)."""
    spec = source.view.spec
    cast = [c.name for c in (source.view.vision or spec.vision).characters] if spec else []
    palette = list(spec.style.palette) if spec else []
    return Pictures(source, cast, palette)


def _title(reel: Reel) -> str:
    return "The animatic" if reel.episode is None else f"Episode {reel.episode}'s animatic"


def describe(
    reel: Reel, frames: int, cues: int, cards: int, read: Read, voice: Speaker | None
) -> str:
    seconds = frames / FPS
    whose = "the" if reel.episode is None else f"episode {reel.episode}'s"
    parts = [
        f"{whose} animatic: "
        f"{len(reel.items)} storyboard frames timed by the cut ({seconds:.1f} s, {FPS} fps)",
    ]
    if cards:
        parts.append(f"{cards} title card{'s' if cards != 1 else ''} for shots the shot list lacks")
    parts.append(
        f"{cues} music cue{'s' if cues != 1 else ''} marked ♪ on the frames (no music: silence)"
        if cues
        else "no music cue inside the cut"
    )
    if voice is None or not read.lines:
        parts.append("no table read" if read.lines else "no dialogue to read")
    else:
        trimmed, padded = len(read.trimmed), len(read.padded)
        parts.append(
            f"the table read by {voice.name}: {read.voiced} of {read.lines} "
            f"lines start inside their scene; {trimmed} scene{'s' if trimmed != 1 else ''} "
            f"cut off at the end of {'their' if trimmed != 1 else 'its'} span, {padded} "
            "ending in silence"
        )
    return "; ".join(parts)


def animatics(source: ExportSource) -> Made:
    """Every animatic of a film or series, and what the README says about them."""
    made = Made()
    spec = source.view.spec
    if spec is None or not spec.production.format.screenplay:
        return made
    found = reels(source)
    if not found:
        made.notes.append("No animatic: the production has no edit plan yet.")
        return made
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        made.notes.append(f"No animatic: ffmpeg is not installed; {INSTALL_FFMPEG}.")
        return made
    voice = _speaker(source, ffmpeg, made.notes)
    if voice is not None:
        voice = Remembered(voice)  # a line said again (in another scene or episode): once
    pictures = reel_pictures(source)
    silent = silent_frame(ffmpeg)
    made.folder = tempfile.TemporaryDirectory(prefix="podium-animatics-")
    done = Path(made.folder.name)

    def one(reel: Reel) -> tuple[Reel, Path | None, str, list[str]]:
        notes: list[str] = []
        target = done / reel.name
        try:
            description = make_reel_file(
                source, reel, ffmpeg, voice, notes, target, pictures, silent
            )
        except AnimaticError as exc:
            sentence = f"{exc}."
            log.warning("podium: %s", sentence)
            return reel, None, "", [*notes, sentence]
        return reel, target, description, notes

    # Two at a time (the machine's two cores): ffmpeg encodes each on one thread.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for reel, path, description, notes in pool.map(one, found):
            made.notes += notes
            if path is not None:
                made.files.append((reel.name, description, path))
    return made
