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
  silent frames (`mp3_track`), so a long cut costs its speech, not its length; without, AAC
  encoded from a listing of the spoken pieces and short silence files.

The reels, their beats and cue bands, the stills and the read's PCM come from `timeline`;
this module has ffmpeg encode the stills (and the speech), then, with LAME, lays the file out
itself (`podium.export.mp4`: each still and the silence stored once, in 1/20 of ffmpeg's mux
time on a long cut); without, it lists the pieces for ffmpeg's mux.

What an export made is kept in the export's cache (`podium.export.cache`): each line's sound,
each spoken stretch's MP3 frames, each reel's encoded stills (`podium.export.stills`), so an
export after a small change voices, encodes and draws only what changed.

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
import os
import shutil
import struct
import subprocess
import tempfile
import wave
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

from podium.domain.production import ModelSettings
from podium.export import kept_read, mp4
from podium.export.cache import Cache
from podium.export.mp3 import GRANULE as GRANULE  # named here too: the read's tests use them
from podium.export.mp3 import MP3, MP3_OUT, Encoder, Mp3Error, stretches
from podium.export.mp3 import mp3_frames as mp3_frames
from podium.export.sources import ExportSource, one_line
from podium.export.stills import encode, plan, still_entry
from podium.export.storyboard import Pictures
from podium.export.timeline import (
    FPS,
    SAMPLE_BYTES,
    SIZE,
    Beat,
    Read,
    Reel,
    bands,
    in_turn,
    read_aloud,
    reel_makers,
    reel_pictures,
    sample_at,
    samples,
    table_read,
    timeline,
)
from podium.export.timeline import (
    segments as segments,  # named here too: the tests use it
)
from podium.export.voices import (
    SAMPLE_RATE,
    Espeak,
    Remembered,
    Speaker,
    SpeechModel,
    VoiceError,
)
from podium.llm.types import is_rehearsal

log = logging.getLogger("podium.export")

_SILENCE_BITS = 18  # the longest silence file: 2**18 samples (about 12 s)
# ffmpeg's time for one animatic, and a second more per second of cut: generous (a minute of
# cut encodes in well under a second).
TIMEOUT_BASE_S = 120.0
TIMEOUT_PER_CUT_SECOND = 1.0
# Notes are plain sentences (the README escapes Markdown), said on stderr as well.
INSTALL_FFMPEG = "install ffmpeg (apt-get install ffmpeg) and export again"
INSTALL_ESPEAK = "install espeak-ng (apt-get install espeak-ng)"


@dataclass
class Made:
    """The animatics and the sentences the export's README says about them.

    The files are in a temporary folder this object owns (a series' animatics can be far
    bigger than memory should hold); it is removed when the object is no longer used."""

    files: list[tuple[str, str, Path]] = field(default_factory=list)  # name, description, file
    notes: list[str] = field(default_factory=list)
    folder: tempfile.TemporaryDirectory[str] | None = None


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
        sound.setsampwidth(SAMPLE_BYTES)
        sound.setframerate(SAMPLE_RATE)
        sound.writeframes(pcm)
    return buffer.getvalue()


AAC = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "32k"]
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
    except (OSError, subprocess.TimeoutExpired, Mp3Error):
        return None  # making the animatic says what is wrong with this ffmpeg
    return found[len(found) // 2] if len(found) > 4 else None


@cache
def ffmpeg_identity(ffmpeg: str) -> str:
    """This ffmpeg's version line, naming what it encoded in the export's cache ("" when it
    does not say: then nothing it makes is kept)."""
    try:
        done = subprocess.run(
            [ffmpeg, "-version"], capture_output=True, timeout=TIMEOUT_BASE_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.decode("utf-8", "replace").split("\n", 1)[0] if done.returncode == 0 else ""


def _encoder(ffmpeg: str, folder: Path, frames: int, what: str, kept: Cache | None) -> Encoder:
    identity = ffmpeg_identity(ffmpeg) if kept is not None else ""
    return Encoder(
        folder, kept, identity, lambda a: _run_ffmpeg([ffmpeg, *a], folder, frames, what)
    )


def _finish(coder: Encoder, what: str) -> dict[str, tuple[str, list[bytes]]]:
    try:
        return coder.finish()
    except Mp3Error as exc:
        raise AnimaticError(f"{what} was not made: {exc}") from None


def mp3_track(
    beats: Sequence[Beat], sounds: Sequence[bytes], frames: int, ffmpeg: str, folder: Path,
    what: str, kept: Cache | None = None,
) -> list[int | list[bytes]]:  # fmt: skip
    """The read as MP3 frames in order, each piece a count of silent frames or spoken frames:
    each distinct spoken stretch encoded once (`mp3.Encoder`), the silence between them counted.
    Hours of cut (a big series' episode) cost their speech, not their length. Times are kept
    to an MP3 frame (26 ms); the speech comes about 24 ms late (the decoder's delay)."""
    return _cut(beats, sounds, frames, ffmpeg, folder, what, kept)()[0]


def _cut(
    beats: Sequence[Beat], sounds: Iterable[bytes], frames: int, ffmpeg: str, folder: Path,
    what: str, kept: Cache | None = None,
) -> Callable[[], tuple[list[int | list[bytes]], kept_read.Recipe]]:  # fmt: skip
    """The read voiced and cut into stretches now, and the function that has them encoded and
    gives `mp3_track`'s pieces and the same as a recipe (`kept_read`: each stretch by name),
    run while the reel's stills are drawn. `sounds` is read a beat at a time (`read_aloud`:
    each scene voiced when its turn comes) and each stretch handed to the encoder as it is
    cut: the reel's speech is held as MP3 frames, never as the reel's PCM."""
    total = -(-sample_at(frames) // GRANULE)
    coder = _encoder(ffmpeg, folder, frames, what, kept)
    placed: list[tuple[int, int, str]] = []  # each stretch's first frame, frames, digest
    try:
        for first, pcm in stretches(beats, sounds):
            placed.append((first, len(pcm) // (GRANULE * SAMPLE_BYTES), coder.add(pcm)))
    except BaseException:
        coder.close()  # a voice that failed half way: speech.wav let go
        raise

    def lay() -> tuple[list[int | list[bytes]], kept_read.Recipe]:
        encoded = _finish(coder, what)
        pieces: list[int | list[bytes]] = []
        recipe: kept_read.Recipe = []
        at = 0
        for first, count, digest in placed:
            if first >= total:
                break
            name, spoken = encoded[digest]
            take = min(count, total - first)
            pieces += [first - at, spoken[:take], take - len(spoken[:take])]
            recipe += [first - at, (name, take), take - len(spoken[:take])]
            at = first + take
        pieces.append(total - at)
        recipe.append(total - at)
        return [p for p in pieces if p], [p for p in recipe if p]

    return lay


def mp3_read(
    beats: Sequence[Beat], sounds: Sequence[bytes], frames: int, ffmpeg: str, silent: bytes,
    folder: Path, what: str,
) -> None:  # fmt: skip
    """`read.mp3`: the track (`mp3_track`) as a plain MP3 file, the silence one silent frame
    laid again and again: what the MP4's sound track holds, for a decoder to play alone (the
    read's tests); the export itself lays the track into the MP4 (`_write_mp4`)."""
    with (folder / "read.mp3").open("wb") as out:
        for piece in mp3_track(beats, sounds, frames, ffmpeg, folder, what):
            if isinstance(piece, int):
                for start in range(0, piece, _SILENCE_FRAMES):
                    out.write(silent * min(_SILENCE_FRAMES, piece - start))
            else:
                out.write(b"".join(piece))


def ffmpeg_args(ffmpeg: str, frames: int, output: str) -> list[str]:
    """The stills' frames (`stills_args`) copied, each held for its span (variable frame
    rate), and the read encoded as AAC from its listing (`sound_listing`): the mux without
    LAME (with it, `_write_mp4` lays the file out itself)."""
    seconds = f"{frames / FPS:.6f}"
    queue = ["-thread_queue_size", "8192"]  # a packet a wakeup between inputs, else: 2x the CPU
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        *queue, "-f", "concat", "-i", "frames.ffconcat",
        *queue, "-f", "concat", "-i", "sound.ffconcat",
        "-map", "0:v", "-map", "1:a",
        "-t", seconds,
        "-c:v", "copy", *AAC,
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
        "-map_metadata", "-1", "-map_chapters", "-1",
        output,
    ]  # fmt: skip


def _write_mp4(
    folder: Path, held: Sequence[tuple[int, int]], pieces: Sequence[int | Sequence[bytes]],
    silent: bytes, ffmpeg: str, frames: int, what: str,
) -> None:  # fmt: skip
    """`out.mp4` laid out here (`podium.export.mp4`): the stills ffmpeg encoded, held for their
    spans, and the read's MP3 frames, its silence stored once. The MP3 track's header is
    ffmpeg's (`mp4.mp3_header`)."""
    try:
        header = mp4.mp3_header(
            folder, silent, ffmpeg, lambda a: _run_ffmpeg(a, folder, frames, what)
        )
        stills = mp4.read_track(folder / "stills.mp4", b"vide")
        media = mp4.Media()
        picture = mp4.video_track(stills, held, FPS, SIZE, media)
        read = mp4.audio_track(header, SAMPLE_RATE, GRANULE, silent, pieces, media)
        mp4.write(folder / "out.mp4", [picture, read], media)
    except (mp4.Mp4Error, struct.error, StopIteration) as exc:
        raise AnimaticError(f"{what} was not made: ffmpeg's stills do not read ({exc})") from None


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


def _listing(held: Sequence[tuple[int, int]]) -> list[str]:
    """The concat listing of the reel's stills (`stills.plan`) for ffmpeg's mux (no LAME):
    each held on as long as it lasts, one entry, one encoded frame of `stills.mp4`."""
    listing = ["ffconcat version 1.0"]
    for k, count in held:
        listing += still_entry(k) + [f"duration {count / FPS:.6f}"]
    return listing


def track(beats: Sequence[Beat], sounds: Sequence[bytes]) -> bytes:
    """The whole sound track as one PCM string (what the listing ffmpeg reads adds up to)."""
    return b"".join(
        s.ljust(samples(b) * SAMPLE_BYTES, b"\0") for b, s in zip(beats, sounds, strict=True)
    )


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
            (folder / name).write_bytes(_wav(bytes((1 << bit) * SAMPLE_BYTES)))
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
        quiet += samples(beat) - len(sound) // SAMPLE_BYTES
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
    kept: Cache | None = None,
) -> str:
    """One animatic written to `target`, and its description; AnimaticError when ffmpeg
    fails. With `silent` (an MP3 frame of silence, `silent_frame`) the read is MP3 frames
    (`mp3_track`) laid into the file by podium (`_write_mp4`), else AAC encoded from a listing
    of its pieces (`sound_listing`) and muxed by ffmpeg."""
    if pictures is None:
        pictures = reel_pictures(source)
    beats, frames = timeline(reel)
    if frames == 0:
        raise AnimaticError(f"{_title(reel)} was not made: its cut lasts less than a frame")
    marks = bands(reel, frames)
    identity = ffmpeg_identity(ffmpeg) if kept is not None else ""
    entry = kept_read.name(reel, beats, frames, voice, identity) if silent is not None else ""
    with tempfile.TemporaryDirectory(prefix="podium-animatic-") as temp:
        folder = Path(temp)
        title = _title(reel)
        again = kept_read.get(kept, entry) if kept is not None and entry else None
        sounds: list[bytes] = []

        def heard(by: Speaker | None) -> tuple[Callable[[], list[int | list[bytes]]], Read]:
            """The read said by `by`: without LAME each beat's PCM (`sounds`), else what gives
            the MP3 pieces, each scene voiced and cut as its turn comes, encoded when called."""
            nonlocal sounds
            if silent is None:
                sounds, said = table_read(reel, beats, frames, by, folder)
                return list, said
            said = Read()
            lay = _cut(beats, read_aloud(reel, beats, by, folder, said), frames, ffmpeg, folder,
                       title, kept)  # fmt: skip

            def laid() -> list[int | list[bytes]]:
                pieces, recipe = lay()
                if kept is not None and entry:
                    kept_read.put(kept, entry, said, recipe)
                return pieces

            return laid, said

        try:
            # laid out before from the same lines: no sound read
            laid, read = (partial(list, again[0]), again[1]) if again else heard(voice)
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
            voice, entry = fallback, ""  # not what the entry's name says made it
            try:
                laid, read = heard(voice)
            except VoiceError:
                voice = None
                laid, read = heard(None)
        if silent is None:
            sound = sound_listing(beats, sounds, folder)
            (folder / "sound.ffconcat").write_text("\n".join(sound) + "\n", encoding="utf-8")
        del sounds
        held, makers = plan(source, reel, beats, marks, pictures)

        def run(args: list[str]) -> None:
            _run_ffmpeg(args, folder, frames, title)

        with ThreadPoolExecutor(max_workers=1) as beside:  # the read encoded, the stills drawn
            laying = beside.submit(laid)
            encode(makers, folder, ffmpeg, identity, kept, run)
        pieces = laying.result()
        if silent is not None:
            _write_mp4(folder, held, pieces, silent, ffmpeg, frames, title)
        else:
            listing = _listing(held)
            (folder / "frames.ffconcat").write_text("\n".join(listing) + "\n", encoding="utf-8")
            _run_ffmpeg(ffmpeg_args(ffmpeg, frames, "out.mp4"), folder, frames, title)
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
    found = reel_makers(source)
    if not found:
        made.notes.append("No animatic: the production has no edit plan yet.")
        return made
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        made.notes.append(f"No animatic: ffmpeg is not installed; {INSTALL_FFMPEG}.")
        return made
    voice = _speaker(source, ffmpeg, made.notes)
    kept = Cache.default()  # what an earlier export made: made again only when it changed
    kept.write_behind()  # the reels do not wait on its disk (written at the prune below)
    if voice is not None:
        voice = Remembered(voice, cache=kept)  # a line said again (another scene, episode): once
    pictures = reel_pictures(source)
    silent = silent_frame(ffmpeg)
    ffmpeg_identity(ffmpeg)  # asked once here, not by the first two reels at once (two runs)
    made.folder = tempfile.TemporaryDirectory(prefix="podium-animatics-")
    done = Path(made.folder.name)

    def one(reel: Reel) -> tuple[str, Path | None, str, list[str]]:
        notes: list[str] = []
        target = done / reel.name
        try:
            description = make_reel_file(
                source, reel, ffmpeg, voice, notes, target, pictures, silent, kept
            )
        except AnimaticError as exc:
            sentence = f"{exc}."
            log.warning("podium: %s", sentence)
            return reel.name, None, "", [*notes, sentence]
        return reel.name, target, description, notes

    # As many at a time as there are cores: ffmpeg encodes each on one thread.
    for name, path, description, notes in in_turn(found, one, os.cpu_count() or 1):
        made.notes += notes
        if path is not None:
            made.files.append((name, description, path))
    said_by = voice.voice if isinstance(voice, Remembered) else voice
    if isinstance(said_by, Espeak):
        said_by.close()  # its library's servers
    kept.prune()
    return made
