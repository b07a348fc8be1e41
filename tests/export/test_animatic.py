"""The animatic: storyboard frames timed by the cut, cue bands, a table read voiced per character.

The files are measured with ffprobe, never compared byte for byte with a golden file. Tests that
need ffmpeg (or espeak-ng) skip without it, except in CI (CI=true), which installs both.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import threading
import wave
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from podium.domain.artifacts import Cue, EditItem, ElementType, Scene, ScreenElement, Shot
from podium.domain.production import ModelSettings
from podium.export import animatic, timeline
from podium.export.animatic import FPS, Reel, animatics, sample_at
from podium.export.exporter import export_production_sync, load
from podium.export.mp3 import PADDING_CYCLE, mp3_runs
from podium.export.voices import (
    SAMPLE_RATE,
    Espeak,
    Line,
    SpeechModel,
    VoiceError,
    espeak_voice,
    model_voice,
    speakable,
)
from podium.loader import read_production

from .conftest import Made, load_source
from .samples import SAMPLES

pytestmark = pytest.mark.slow

IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(autouse=True)
def _animatics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite leaves animatics out of exports (PODIUM_NO_ANIMATIC); here they are the point."""
    monkeypatch.delenv("PODIUM_NO_ANIMATIC", raising=False)


@pytest.fixture(scope="module")
def sample_export(sample_db: Made, tmp_path_factory: pytest.TempPathFactory) -> Made:
    """The samples' exports with their animatics (the shared fixture's leave them out)."""
    made: dict[tuple[str, str], Path] = {}

    def get(name: str, auto: str = "all") -> Path:
        if (name, auto) not in made:
            out = tmp_path_factory.mktemp(f"{name}-{auto}-reels") / "out"
            with pytest.MonkeyPatch.context() as patch:
                patch.delenv("PODIUM_NO_ANIMATIC", raising=False)
                export_production_sync(sample_db(name, auto), out)
            made[(name, auto)] = out
        return made[(name, auto)]

    return get


def need(program: str) -> str:
    """The program's path; skip without it, unless in CI, where it must be there."""
    found = shutil.which(program)
    if found is None:
        if IN_CI:
            pytest.fail(f"{program} is not installed, and CI must run this test")
        pytest.skip(f"{program} is not installed")
    return found


def probe(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [need("ffprobe"), "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def cut_seconds(out: Path) -> dict[str, float]:
    """The cut's sum per episode ("" for a film), read from the exported edit_plan.csv."""
    sums: dict[str, float] = {}
    with (out / "edit_plan.csv").open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            key = row.get("episode", "")
            sums[key] = sums.get(key, 0.0) + float(row["duration"])
    return sums


# -- the files, measured ------------------------------------------------------------------------


def test_a_films_animatic_lasts_the_cut(sample_export: Made) -> None:
    need("ffmpeg")
    out = sample_export("last_light")
    wanted = cut_seconds(out)[""]
    info = probe(out / "animatic.mp4")
    assert abs(float(info["format"]["duration"]) - wanted) <= 1 / FPS
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert len(video) == 1 and (video[0]["width"], video[0]["height"]) == (640, 360)
    assert abs(float(video[0]["duration"]) - wanted) <= 1 / FPS  # the picture lasts it too
    # Each still is one frame held for its span (variable frame rate), not 12 frames a second:
    # at most one per cut item and cue edge, and one in the last slot.
    items = len(list(csv.DictReader(io.StringIO((out / "edit_plan.csv").read_text("utf-8")))))
    cues = len(list(csv.DictReader(io.StringIO((out / "music_cues.csv").read_text("utf-8")))))
    assert int(video[0]["nb_frames"]) <= items + 2 * cues + 1 < round(wanted * FPS)
    readme = (out / "README.md").read_text(encoding="utf-8")
    line = next(x for x in readme.splitlines() if x.startswith("- [animatic.mp4]"))
    missing = json.loads((out / "report.json").read_text(encoding="utf-8"))["cut"][0]
    cards = sum(
        1
        for row in csv.DictReader(io.StringIO((out / "edit_plan.csv").read_text("utf-8")))
        if f"{row['scene']}{row['shot']}" in missing["missing_shots"]
    )
    # The README counts a title card for each cut item the shot list lacks, as report.json has
    # them. Last Light's cut now uses its shot list throughout (the rehearsal model draws from
    # the prompt since f78a636): no card, and the line names none. Cards themselves:
    # test_the_description_counts_title_cards_and_the_read.
    assert missing["missing_shots"] == [] and cards == 0
    assert "title card" not in line
    assert f"storyboard frames timed by the cut ({round(wanted * FPS) / FPS:.1f} s" in line


def test_each_episode_has_its_animatic_lasting_its_cut(sample_export: Made) -> None:
    need("ffmpeg")
    out = sample_export("arcadian_summers")
    sums = cut_seconds(out)
    assert len(sums) == 12
    for episode, wanted in sums.items():
        path = out / f"animatic-episode-{int(episode):02d}.mp4"
        duration = float(probe(path)["format"]["duration"])
        assert abs(duration - wanted) <= 1 / FPS, (path.name, duration, wanted)
    assert not (out / "animatic.mp4").exists()


def test_the_table_read_is_heard_with_espeak(sample_export: Made) -> None:
    ffmpeg = need("ffmpeg")
    need("espeak-ng")
    path = sample_export("last_light") / "animatic.mp4"
    audio = [s for s in probe(path)["streams"] if s["codec_type"] == "audio"]
    assert len(audio) == 1
    assert abs(float(audio[0]["duration"]) - cut_seconds(path.parent)[""]) <= 1 / FPS
    done = subprocess.run(
        [ffmpeg, "-nostdin", "-i", str(path), "-map", "0:a", "-af", "volumedetect", "-f", "null",
         "-"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    loudest = float(done.stderr.split("max_volume:")[1].split("dB")[0])
    assert loudest > -30, "the table read is silent"
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert "the table read by espeak-ng" in readme


def test_the_same_production_gives_the_same_bytes(sample_db: Made, sample_export: Made) -> None:
    need("ffmpeg")
    first = (sample_export("last_light") / "animatic.mp4").read_bytes()
    made = animatics(load_source(sample_db("last_light")))  # its files live as long as it
    again = {name: path.read_bytes() for name, _, path in made.files}
    assert again["animatic.mp4"] == first


def test_a_story_has_no_animatic(sample_export: Made) -> None:
    out = sample_export("arctic_journey")
    assert not list(out.glob("animatic*"))
    assert "animatic" not in (out / "README.md").read_text(encoding="utf-8").lower()


# -- without ffmpeg, or with one that fails -----------------------------------------------------


def test_without_ffmpeg_the_export_says_why_and_how(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "out"
    written = export_production_sync(sample_db("last_light"), out)
    assert not [p for p in written if "animatic" in p.name]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "No animatic: ffmpeg is not installed; install ffmpeg (apt-get install ffmpeg)" in (
        readme
    )
    for name in ("screenplay.pdf", "storyboard.html", "report.md", "edit_plan.csv"):
        assert (out / name).is_file()


def fake_program(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)


def test_a_failing_ffmpeg_is_one_sentence_and_the_rest_is_written(
    sample_db: Made, tmp_path: Path
) -> None:
    fake = tmp_path / "bin"
    fake_program(fake, "ffmpeg", "echo 'Unknown encoder libx264' >&2; exit 1")
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [sys.executable, "-m", "podium", "export", str(sample_db("last_light")), "--out", str(out)],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1, errors
    assert (
        "The animatic was not made: ffmpeg failed (exit 1: Unknown encoder libx264)" in (errors[0])
    )
    assert errors[0].count(". ") == 0 and errors[0].endswith(".")  # one sentence
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "## Animatic" in readme and "ffmpeg failed (exit 1" in readme
    assert not (out / "animatic.mp4").exists()
    for name in ("screenplay.pdf", "storyboard.html", "report.md", "shot_list.csv"):
        assert (out / name).is_file()
    assert sorted(str(out / p) for p in os.listdir(out) if not p.startswith(".")) == sorted(
        done.stdout.splitlines()
    )


def test_an_ffmpeg_that_hangs_is_stopped(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin"
    fake_program(fake, "ffmpeg", f"exec {shutil.which('sleep') or '/bin/sleep'} 30")
    monkeypatch.setenv("PATH", str(fake))
    monkeypatch.setattr(animatic, "TIMEOUT_BASE_S", 0.5)
    monkeypatch.setattr(animatic, "TIMEOUT_PER_CUT_SECOND", 0.0)
    made = animatics(load_source(sample_db("last_light")))
    assert made.files == []
    assert any(
        "The animatic was not made: ffmpeg took longer than" in note and "and was stopped" in note
        for note in made.notes
    ), made.notes


# -- the timeline ---------------------------------------------------------------------------------


def scene(number: int, *lines: tuple[str, str]) -> Scene:
    elements = [ScreenElement(type=ElementType.ACTION, text=f"Scene {number} begins.")]
    for who, text in lines:
        elements += [
            ScreenElement(type=ElementType.CHARACTER, text=who),
            ScreenElement(type=ElementType.PARENTHETICAL, text="(quietly)"),
            ScreenElement(type=ElementType.DIALOGUE, text=text),
        ]
    return Scene(heading=f"INT. ROOM {number} - DAY", elements=elements)


def reel(items: Sequence[tuple[int, str, float]], cues: Sequence[Cue] = ()) -> Reel:
    shots = {(1, "A"): Shot(scene=1, shot="A", duration_s=3), (2, "A"): Shot(scene=2, shot="A")}
    return Reel(
        None,
        [EditItem(scene=s, shot=x, duration_s=d) for s, x, d in items],
        shots,
        list(cues),
        {
            1: scene(1, ("MARA (V.O.)", "One."), ("JON", "Two."), ("MARA (CONT'D)", "Three.")),
            2: scene(2, ("JON", "Four.")),
        },
    )


def test_frames_follow_the_running_sum_so_the_length_is_the_cuts() -> None:
    durations = [0.04, 0.04, 0.04, 1.01, 2.333, 0.05]  # each rounds down alone
    beats, frames = animatic.timeline(reel([(1, "A", d) for d in durations]))
    assert frames == round(sum(durations) * FPS)
    assert [b.first for b in beats[1:]] == [b.last for b in beats[:-1]]
    assert beats[-1].last == frames


def test_cue_bands_mark_their_span_inside_the_cut() -> None:
    cues = [
        Cue(cue_id="1M1", title="Small Hours", start="00:00:02", duration_s=4),
        Cue(cue_id="1M2", title="Late", start="00:00:09", duration_s=30),  # past the end: cut
        Cue(cue_id="1M3", start="00:01:00", duration_s=5),  # after the cut: no band
        Cue(cue_id="1M4", start="soon", duration_s=5),  # no timecode: no band
    ]
    r = reel([(1, "A", 5.0), (2, "A", 5.0)], cues)
    beats, frames = animatic.timeline(r)
    bands = animatic.bands(r, frames)
    assert [(b.label, b.first, b.last) for b in bands] == [
        ("1M1 Small Hours", 2 * FPS, 6 * FPS),
        ("1M2 Late", 9 * FPS, 10 * FPS),
    ]
    pieces = animatic.segments(beats, bands)
    assert [(p[0], p[1], p[2], p[3]) for p in pieces] == [
        (0, 24, 0, ()),
        (24, 60, 0, ("1M1 Small Hours",)),
        (60, 72, 1, ("1M1 Small Hours",)),
        (72, 108, 1, ()),
        (108, 120, 1, ("1M2 Late",)),
    ]


class Tones:
    """A Speaker that says each line as a tone of 1 s per word, and counts what it was asked."""

    name = "tones"

    def __init__(self) -> None:
        self.asked: list[Line] = []

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        self.asked += lines
        return [b"\x10\x00" * (SAMPLE_RATE * len(line.text.split())) for line in lines]


def test_the_read_is_trimmed_or_padded_to_its_scenes_items(tmp_path: Path) -> None:
    voice = Tones()
    # Scene 1 holds three one-second lines (with pauses) in 2 s, split around scene 2.
    r = reel([(1, "A", 1.0), (2, "A", 4.0), (1, "B", 1.0)])
    beats, frames = animatic.timeline(r)
    sounds, read = animatic.table_read(r, beats, frames, voice, tmp_path)
    pcm = animatic.track(beats, sounds)
    assert len(pcm) == sample_at(frames) * 2
    # Scene 2's beat holds "Four." and its pause; the silence after it is not held in memory.
    assert sounds[1] == b"\x10\x00" * SAMPLE_RATE + bytes(round(0.4 * SAMPLE_RATE) * 2)
    assert read.lines == 4 and read.trimmed == [1] and read.padded == [2]
    assert read.voiced == 3  # scene 1: "One." and "Two." start inside 2 s; scene 2: "Four."
    assert [(line.character, line.text) for line in voice.asked[:3]] == [
        ("MARA", "One."), ("JON", "Two."), ("MARA", "Three."),
    ]  # fmt: skip
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    second = SAMPLE_RATE
    assert all(s == 16 for s in samples[: second - 1])  # 1A: "One." fills it
    assert all(s == 16 for s in samples[5 * second + round(0.4 * second) + 1 : 6 * second])
    assert all(s == 0 for s in samples[second + second : 5 * second])  # scene 2 after "Four."
    assert samples[second] == 16  # scene 2 starts with "Four."


def test_the_description_counts_title_cards_and_the_read(tmp_path: Path) -> None:
    r = reel([(1, "A", 1.0), (1, "Z", 1.0), (3, "A", 1.0)])
    beats, frames = animatic.timeline(r)
    assert [b.shot is None for b in beats] == [False, True, True]
    _, read = animatic.table_read(r, beats, frames, None, tmp_path)
    text = animatic.describe(r, frames, 0, 2, read, None)
    assert "2 title cards for shots the shot list lacks" in text
    assert "no table read" in text


# -- voices ------------------------------------------------------------------------------------


def test_each_character_has_a_voice_of_their_own() -> None:
    for sample in ("last_light", "arcadian_summers"):
        spec = read_production(SAMPLES / f"{sample}.toml")
        names = [c.name for c in spec.vision.characters]
        assert len(names) >= 3
        voices = [espeak_voice(n) for n in names]
        assert len(set(voices)) == len(voices), (sample, names)
    assert espeak_voice("Tam") == espeak_voice("TAM") == espeak_voice(" tam ")
    assert model_voice("Tam") == model_voice("TAM")
    assert timeline.speaker_name("MARA (V.O.) (CONT'D) ^") == "MARA"


def test_text_is_read_as_words_not_as_markup() -> None:
    assert speakable("[[h@'l@U]] <speak>hi</speak>\n  there") == "h@'l@U speak hi /speak there"
    assert len(speakable("word " * 400)) <= 800


def test_espeak_gives_each_line_its_sound(tmp_path: Path) -> None:
    need("espeak-ng")
    espeak = Espeak.find()
    assert espeak is not None
    sounds = espeak.speak([Line("TAM", "Where were you?"), Line("ELIAS", "-v --help")], tmp_path)
    assert all(len(s) > SAMPLE_RATE // 4 for s in sounds)  # at least a quarter second each
    assert sounds == espeak.speak([Line("TAM", "Where were you?"), Line("ELIAS", "-v --help")],
                                  tmp_path)  # fmt: skip
    assert not list(tmp_path.iterdir())


# -- a speech model through litellm, against a server on 127.0.0.1 --------------------------------


def tone_wav(seconds: float, rate: int = 24000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        count = round(seconds * rate)
        sound.writeframes(
            struct.pack(f"<{count}h", *(round(8000 * math.sin(i / 9)) for i in range(count)))
        )
    return buffer.getvalue()


class SpeechServer:
    """`POST /v1/audio/speech`: half a second of tone per request, or a scripted status."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, Any], str]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.requests.append((json.loads(body), self.headers.get("authorization", "")))
                if self.path != "/v1/audio/speech" or outer.status != 200:
                    data = b'{"error": {"message": "no voice today", "type": "server_error"}}'
                    self.send_response(404 if outer.status == 200 else outer.status)
                    self.send_header("content-type", "application/json")
                else:
                    data = tone_wav(0.5)
                    self.send_response(200)
                    self.send_header("content-type", "audio/wav")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def speech_server() -> Iterator[SpeechServer]:
    server = SpeechServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        server.thread.join(timeout=10)


def speech_settings(server: SpeechServer, monkeypatch: pytest.MonkeyPatch) -> ModelSettings:
    monkeypatch.setenv("PODIUM_TEST_SPEECH_KEY", "sk-speech-canary-0123456789")
    return ModelSettings(
        api_base=server.api_base, api_key_env="PODIUM_TEST_SPEECH_KEY", timeout_s=20
    )


def test_a_speech_model_voices_each_character(
    speech_server: SpeechServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ffmpeg = need("ffmpeg")
    model = SpeechModel("openai/tts-1", speech_settings(speech_server, monkeypatch), ffmpeg)
    sounds = model.speak([Line("TAM", "Where were you?"), Line("MORAG", "Here.")], tmp_path)
    assert [abs(len(s) // 2 - SAMPLE_RATE // 2) <= 64 for s in sounds] == [True, True]
    asked = sorted(
        (body["input"], body["voice"], body["model"]) for body, _ in speech_server.requests
    )
    assert asked == [
        ("Here.", model_voice("MORAG"), "tts-1"),
        ("Where were you?", model_voice("TAM"), "tts-1"),
    ]
    assert {auth for _, auth in speech_server.requests} == {"Bearer sk-speech-canary-0123456789"}


def test_a_failing_speech_model_is_one_sentence_without_the_key(
    speech_server: SpeechServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ffmpeg = need("ffmpeg")
    speech_server.status = 500
    model = SpeechModel("openai/tts-1", speech_settings(speech_server, monkeypatch), ffmpeg)
    with pytest.raises(VoiceError) as caught:
        model.speak([Line("TAM", "Where were you?")], tmp_path)
    message = str(caught.value)
    assert "sk-speech-canary" not in message and "\n" not in message and message.endswith(".")
    assert len(speech_server.requests) == 1  # no retry of litellm's own


def test_the_export_uses_the_speech_model_the_production_names(
    sample_db: Made, speech_server: SpeechServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("ffmpeg")
    source = asyncio.run(load(sample_db("last_light")))
    spec = source.view.spec
    assert spec is not None
    models = spec.models.model_copy(
        update={
            "speech": "openai/tts-1",
            "settings": {"openai/tts-1": speech_settings(speech_server, monkeypatch)},
        }
    )
    source.view.spec = spec.model_copy(update={"models": models})
    made = animatics(source)
    assert made.notes == []
    [(name, description, _)] = made.files
    assert (
        name == "animatic.mp4" and "the table read by the speech model openai/tts-1" in description
    )
    voices = {body["voice"] for body, _ in speech_server.requests}
    assert voices == {model_voice(n) for n in ("ELIAS", "TAM", "MORAG")}


def test_a_cut_shorter_than_a_frame_is_one_sentence(sample_db: Made) -> None:
    source = load_source(sample_db("last_light"))
    with pytest.raises(animatic.AnimaticError, match="^The animatic was not made: its cut lasts"):
        animatic.make_reel(source, reel([(1, "A", 0.01)]), "ffmpeg", None, [])


def test_a_failing_speech_model_hands_the_read_to_espeak(
    sample_db: Made, speech_server: SpeechServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    need("ffmpeg")
    need("espeak-ng")
    speech_server.status = 500
    source = load_source(sample_db("last_light"))
    spec = source.view.spec
    assert spec is not None
    settings = {"openai/tts-1": speech_settings(speech_server, monkeypatch)}
    models = spec.models.model_copy(update={"speech": "openai/tts-1", "settings": settings})
    source.view.spec = spec.model_copy(update={"models": models})
    made = animatics(source)
    [note] = made.notes
    assert note.startswith(
        "The table read of the animatic is voiced by espeak-ng: the speech model openai/tts-1 "
        "failed ("
    )
    assert "sk-speech-canary" not in note and "\n" not in note
    [(_, description, _)] = made.files
    assert "the table read by espeak-ng" in description


def test_the_sound_ffmpeg_reads_is_the_read_sample_for_sample(tmp_path: Path) -> None:
    """The concat listing (each spoken slice a file, silence from a few 2**k-sample files used
    again) decodes to the whole track, with no sample lost or added at any join."""
    ffmpeg = need("ffmpeg")
    voice = Tones()
    long_quiet = 60.0  # several of the longest silence files, and every smaller size on
    r = reel([(1, "A", 1.0), (2, "A", long_quiet + 0.37), (1, "B", 1.0), (2, "B", 0.09)])
    beats, frames = animatic.timeline(r)
    sounds, _ = animatic.table_read(r, beats, frames, voice, tmp_path)
    listing = animatic.sound_listing(beats, sounds, tmp_path)
    (tmp_path / "sound.ffconcat").write_text("\n".join(listing) + "\n", encoding="utf-8")
    files = {line.split("'")[1] for line in listing[1:]}
    assert len(files) < len(listing) - 1  # silence files used more than once
    assert sum((tmp_path / f).stat().st_size for f in files) < 2 * SAMPLE_RATE * long_quiet / 2
    done = subprocess.run(
        [ffmpeg, "-v", "error", "-f", "concat", "-i", "sound.ffconcat", "-f", "s16le", "-"],
        cwd=tmp_path, capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout == animatic.track(beats, sounds)
    assert len(done.stdout) == sample_at(frames) * 2


def _frame_at(ffmpeg: str, path: Path, seconds: float) -> Any:
    """The picture shown at `seconds` (a still is one frame held: the stream made constant
    before the seek), as a PIL image."""
    from PIL import Image as PILImage

    done = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-vf", f"fps={FPS}", "-ss", f"{seconds:.3f}",
         "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return PILImage.open(io.BytesIO(done.stdout)).convert("RGB")


def _difference(a: Any, b: Any) -> float:
    """Mean absolute difference of two RGB images' channels, 0-255."""
    from PIL import ImageChops, ImageStat

    return float(sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3)


def test_the_animatic_shows_the_frames_the_image_model_drew(tmp_path: Path) -> None:
    """A shot the image model drew is that picture in the animatic, as in the storyboard; a
    shot it did not draw is the storyboard's rehearsal sketch with its description."""
    from PIL import Image as PILImage

    from podium.domain.artifacts import EditPlan, ShotList
    from podium.domain.events import FramesDrawn
    from podium.domain.tasks import TaskKind
    from podium.export.storyboard import storyboard

    from .builder import Log

    ffmpeg = need("ffmpeg")
    log = Log("short_film")
    log.source.files_root = tmp_path
    log.task("shots", TaskKind.SHOT_LIST)
    listed = log.deliver(
        "shots",
        ShotList(
            shots=[
                Shot(scene=1, shot="A", size="WIDE", duration_s=3, description="The car deck."),
                Shot(scene=1, shot="B", size="CLOSE", duration_s=3, description="Mara waits."),
            ]
        ),
    )
    log.task("edit", TaskKind.EDIT)
    log.deliver(
        "edit",
        EditPlan(
            sequence=[
                EditItem(scene=1, shot="A", duration_s=2.0),
                EditItem(scene=1, shot="B", duration_s=2.0),
            ]
        ),
    )
    colour = (200, 40, 120)
    (tmp_path / "frames").mkdir()
    PILImage.new("RGB", (320, 180), colour).save(tmp_path / "frames" / "1a.png")
    log.add(
        FramesDrawn(
            task_id="shots", artifact_id=listed.id, model="openai/gpt-image-1",
            frames={"1A": "frames/1a.png"},
        )
    )  # fmt: skip
    source = log.source
    [r] = timeline.reels(source)
    data, _ = animatic.make_reel(source, r, ffmpeg, None, [])
    (tmp_path / "a.mp4").write_bytes(data)
    drawn = _frame_at(ffmpeg, tmp_path / "a.mp4", 1.0)
    assert _difference(drawn, PILImage.new("RGB", timeline.SIZE, colour)) < 6
    assert r.shots is not None
    sketch = animatic.reel_pictures(source).picture(r.shots[(1, "B")], "1B", None)
    assert sketch.drawn
    expected = sketch.image(timeline.SIZE, "Mara waits.")
    shown = _frame_at(ffmpeg, tmp_path / "a.mp4", 3.0)
    assert _difference(shown, expected) < 6 < _difference(shown, drawn)
    page = storyboard(source) or ""  # the storyboard shows the model's picture for 1A too
    assert "1 frames drawn by the image model" in page and "1 are rehearsal sketches" in page


class Sines:
    """A Speaker that says each line as a 440 Hz tone of 1 s per word."""

    name = "sines"

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        out = []
        for line in lines:
            count = SAMPLE_RATE * len(line.text.split())
            tone = (
                round(8000 * math.sin(2 * math.pi * 440 * i / SAMPLE_RATE)) for i in range(count)
            )
            out.append(struct.pack(f"<{count}h", *tone))
        return out


def _loudness(pcm: bytes, first: int, last: int) -> float:
    """The root mean square of samples [first, last) of s16le `pcm`."""
    values = struct.unpack(f"<{last - first}h", pcm[first * 2 : last * 2])
    return math.sqrt(sum(v * v for v in values) / max(1, len(values)))


def test_the_mp3_read_is_the_speech_encoded_once_and_silent_frames_between(
    tmp_path: Path,
) -> None:
    """With LAME, the read is MP3 frames laid end to end: the speech alone is encoded (a long
    silence costs nothing to encode), it sounds where the track has it, and silence elsewhere."""
    ffmpeg = need("ffmpeg")
    silent = animatic.silent_frame(ffmpeg)
    if silent is None:
        if IN_CI:
            pytest.fail("CI's ffmpeg has no libmp3lame")
        pytest.skip("this ffmpeg has no libmp3lame")
    r = reel([(1, "A", 1.0), (2, "A", 60.37), (1, "B", 1.0), (2, "B", 0.09)])
    beats, frames = animatic.timeline(r)
    sounds, _ = animatic.table_read(r, beats, frames, Sines(), tmp_path)
    animatic.mp3_read(beats, sounds, frames, ffmpeg, silent, tmp_path, "The animatic")
    spoken = sum(len(s) for s in sounds) // 2
    encoded = animatic.mp3_frames((tmp_path / "speech.mp3").read_bytes())
    # not the minute: the speech, each stretch from the start of a padding cycle
    stretches = len(mp3_runs(beats, sounds))
    assert len(encoded) < spoken / animatic.GRANULE + 8 + PADDING_CYCLE * stretches < 1000
    done = subprocess.run(
        [ffmpeg, "-v", "error", "-i", "read.mp3", "-f", "s16le", "-ac", "1", "-"],
        cwd=tmp_path, capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    heard, wanted = done.stdout, animatic.track(beats, sounds)
    assert abs(len(heard) - len(wanted)) <= 2 * animatic.GRANULE * 2
    window = SAMPLE_RATE // 10
    late = 1105  # LAME's encoder and decoder delay, less the frame dropped: within a window
    checked = {"loud": 0, "quiet": 0}
    for first in range(window, len(wanted) // 2 - 2 * window, window):
        around = _loudness(wanted, first - window, first + 2 * window)
        inside = _loudness(wanted, first, first + window)
        if around == 0:
            assert _loudness(heard, first, first + window) < 30, first / SAMPLE_RATE
            checked["quiet"] += 1
        elif inside > 5000 and _loudness(wanted, first - late, first + window) > 5000:
            assert _loudness(heard, first, first + window) > 3000, first / SAMPLE_RATE
            checked["loud"] += 1
    assert checked["loud"] >= 20 and checked["quiet"] >= 500, checked


def test_the_mp3_animatic_stores_its_silence_once_and_plays_the_read(tmp_path: Path) -> None:
    """With LAME, the file is laid out by podium (`podium.export.mp4`): a still is stored
    once however often the cut shows it, and the read's silence is one block of silent frames
    every chunk of silence points at, so a long quiet cut is a small file. ffmpeg reads it
    without a complaint, for the cut's length, with the read's sound sample for sample."""
    from .builder import Log

    ffmpeg = need("ffmpeg")
    silent = animatic.silent_frame(ffmpeg)
    if silent is None:
        if IN_CI:
            pytest.fail("CI's ffmpeg has no libmp3lame")
        pytest.skip("this ffmpeg has no libmp3lame")
    r = reel([(1, "A", 30.0), (2, "A", 900.0), (1, "B", 2.0), (2, "A", 900.0)])
    source = Log("short_film").source
    target = tmp_path / "a.mp4"
    animatic.make_reel_file(source, r, ffmpeg, Sines(), [], target, silent=silent)
    beats, frames = timeline.timeline(r)
    seconds = frames / FPS
    # 1,832 s of MP3 at 32 kbit/s is 7.3 MB laid end to end; the silence stored once is not.
    assert target.stat().st_size < 1_500_000
    info = probe(target)
    assert abs(float(info["format"]["duration"]) - seconds) <= 1 / FPS
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert abs(float(video["duration"]) - seconds) <= 1 / FPS and int(video["nb_frames"]) <= 5
    checked = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(target), "-f", "null", "-"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert checked.stderr == ""
    sounds, _ = timeline.table_read(r, beats, frames, Sines(), tmp_path)
    (tmp_path / "read").mkdir()
    animatic.mp3_read(beats, sounds, frames, ffmpeg, silent, tmp_path / "read", "The animatic")

    def pcm(*args: str) -> bytes:
        done = subprocess.run(
            [ffmpeg, "-v", "error", *args, "-f", "s16le", "-ac", "1", "-"],
            capture_output=True, timeout=300, check=True,
        )  # fmt: skip
        return done.stdout

    heard = pcm("-i", str(target), "-map", "0:a")
    assert heard == pcm("-i", str(tmp_path / "read" / "read.mp3"))
    assert max(abs(v) for v in struct.unpack(f"<{SAMPLE_RATE}h", heard[: 2 * SAMPLE_RATE])) > 3000
