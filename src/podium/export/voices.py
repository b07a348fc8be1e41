"""Table-read voices for the animatic: a speech model through litellm, or espeak-ng offline.

A voice speaks one line of dialogue and gives back its sound as 16-bit mono PCM at
`SAMPLE_RATE`. Each character has their own voice, chosen from their name alone (a hash, never
Python's salted `hash`), so the same cast sounds the same in every export:

- offline, `espeak-ng` (when it is installed) with a variant (m1–m7, f1–f5), a pitch and a
  speed picked by the name; the line goes in on stdin as plain text (no SSML, phoneme brackets
  removed), the sound comes out as a WAV file in the caller's temporary folder;
- with `models.speech` set to a real model, litellm's `speech` (imported only then) with a
  voice picked by the name from OpenAI's set, its answer decoded by ffmpeg.

Every program runs as an argument list with a timeout, never through a shell. A failure is a
`VoiceError` whose message is one sentence.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import threading
import wave
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from podium.domain.production import ModelSettings
from podium.export.cache import Cache
from podium.export.cache import key as cache_key

SAMPLE_RATE = 22050  # espeak-ng's own rate: its files need no resampling
_MAX_CHARS = 800  # one line of dialogue, as spoken; a longer one is cut at a word
_LINE_TIMEOUT_S = 30.0
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
MODEL_VOICES = ("alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")


class VoiceError(Exception):
    """A line could not be voiced; the message is one sentence."""


@dataclass(frozen=True)
class Line:
    character: str
    text: str


@dataclass(frozen=True)
class EspeakVoice:
    variant: str  # an espeak-ng voice variant
    pitch: int  # 0–99
    speed: int  # words a minute

    def describe(self) -> str:
        return f"en+{self.variant}, pitch {self.pitch}, {self.speed} wpm"


def _digest(name: str) -> bytes:
    return hashlib.sha256(" ".join(name.upper().split()).encode("utf-8")).digest()


def espeak_voice(character: str) -> EspeakVoice:
    """The espeak-ng voice of a character, from their name alone."""
    d = _digest(character)
    return EspeakVoice(VARIANTS[d[0] % len(VARIANTS)], 25 + d[1] % 51, 150 + d[2] % 36)


def model_voice(character: str) -> str:
    """The speech model's voice for a character, from their name alone."""
    return MODEL_VOICES[_digest(character)[3] % len(MODEL_VOICES)]


def speakable(text: str) -> str:
    """A line as a synthesizer reads it: one line, no espeak phoneme brackets, bounded."""
    flat = " ".join(re.sub(r"[\[\]<>{}\\]", " ", text).split())
    if len(flat) > _MAX_CHARS:
        flat = flat[:_MAX_CHARS].rsplit(" ", 1)[0]
    return flat


class Speaker(Protocol):
    name: str  # what voiced the read, for the README

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        """Each line's sound, in order, as s16le mono PCM at SAMPLE_RATE."""
        ...


def _read_wav(path: Path, what: str) -> bytes:
    try:
        with wave.open(str(path), "rb") as sound:
            if sound.getsampwidth() != 2 or sound.getnchannels() != 1:
                raise VoiceError(f"{what} did not write 16-bit mono sound.")
            data = sound.readframes(sound.getnframes())
            rate = sound.getframerate()
    except (OSError, EOFError, wave.Error) as exc:
        raise VoiceError(f"{what} wrote no readable sound ({exc}).") from None
    if rate != SAMPLE_RATE:
        raise VoiceError(f"{what} wrote sound at {rate} Hz, not {SAMPLE_RATE} Hz.")
    return data


def _run(args: list[str], *, stdin: bytes, timeout: float, what: str) -> None:
    try:
        done = subprocess.run(
            args, input=stdin, capture_output=True, timeout=timeout, check=False, shell=False
        )
    except subprocess.TimeoutExpired:
        raise VoiceError(f"{what} took longer than {timeout:g} s and was stopped.") from None
    except OSError as exc:
        raise VoiceError(f"{what} could not be started ({exc.strerror or exc}).") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:]
        raise VoiceError(f"{what} failed (exit {done.returncode}{': ' + said if said else ''}).")


class Espeak:
    """espeak-ng, a voice per character; two lines at a time (the machine's two cores)."""

    def __init__(self, program: str) -> None:
        self.program = program
        self.name = "espeak-ng"
        self._version: str | None = None
        self._version_lock = threading.Lock()

    def cache_name(self, line: Line) -> str | None:
        """What names this line's sound in the export's cache: this espeak-ng (its version
        line), the character's voice and the words; None when the version cannot be read."""
        with self._version_lock:
            if self._version is None:
                try:
                    done = subprocess.run(
                        [self.program, "--version"], capture_output=True, timeout=10, check=False
                    )
                    said = done.stdout.decode("utf-8", "replace").strip()
                    self._version = said if done.returncode == 0 and said else ""
                except (OSError, subprocess.TimeoutExpired):
                    self._version = ""
        if not self._version:
            return None
        voice = espeak_voice(line.character).describe()
        return cache_key("espeak", self._version, voice, speakable(line.text), SAMPLE_RATE)

    @staticmethod
    def find() -> Espeak | None:
        program = shutil.which("espeak-ng")
        return Espeak(program) if program else None

    def _one(self, index: int, line: Line, folder: Path) -> bytes:
        text = speakable(line.text)
        if not text:
            return b""
        voice = espeak_voice(line.character)
        target = folder / f"line-{index:05d}.wav"
        args = [self.program, "-v", f"en+{voice.variant}", "-p", str(voice.pitch)]
        args += ["-s", str(voice.speed), "-w", str(target)]
        _run(args, stdin=text.encode("utf-8"), timeout=_LINE_TIMEOUT_S, what="espeak-ng")
        data = _read_wav(target, "espeak-ng")
        target.unlink(missing_ok=True)
        return data

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [pool.submit(self._one, i, line, folder) for i, line in enumerate(lines)]
            return [job.result() for job in jobs]


class SpeechModel:
    """A text-to-speech model through litellm (imported on first use), decoded by ffmpeg."""

    def __init__(self, model: str, settings: ModelSettings, ffmpeg: str) -> None:
        self.model = model
        self.settings = settings
        self.ffmpeg = ffmpeg
        self.name = f"the speech model {model}"
        self._lock = threading.Lock()
        self._litellm: Any = None
        self._count = 0

    def cache_name(self, line: Line) -> str | None:
        """What names this line's sound in the export's cache: the model, where it is asked,
        the voice and the words (a paid call made once)."""
        where = self.settings.api_base or ""
        voice = model_voice(line.character)
        return cache_key("speech", self.model, where, voice, speakable(line.text), SAMPLE_RATE)

    def _key(self) -> str | None:
        env = self.settings.api_key_env
        if env is None:
            return None  # litellm reads the provider's usual variable
        import os

        value = os.environ.get(env)
        if not value:
            raise VoiceError(f"set the environment variable {env} to the API key for {self.model}.")
        return value

    def _library(self) -> Any:
        with self._lock:
            if self._litellm is None:
                from podium.llm.litellm_backend import _load_litellm

                self._litellm = _load_litellm()
            return self._litellm

    def _one(self, line: Line, folder: Path, key: str | None) -> bytes:
        text = speakable(line.text)
        if not text:
            return b""
        litellm = self._library()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "input": text,
            "voice": model_voice(line.character),
            "response_format": "wav",
            "timeout": self.settings.timeout_s,
            "max_retries": 0,
        }
        if self.settings.api_base:
            kwargs["api_base"] = self.settings.api_base
        if key is not None:
            kwargs["api_key"] = key
        try:
            answer = litellm.speech(**kwargs)
            sound = bytes(answer.content)
        except Exception as exc:  # noqa: BLE001 - any provider failure is one sentence
            from podium.llm.litellm_errors import classify, secrets_of

            error = classify(exc, self.model, self.settings, secrets_of(key))
            said = " ".join(error.message.split())[:300].rstrip(".")
            raise VoiceError(f"{said}.") from None
        with self._lock:
            self._count += 1
            stem = folder / f"speech-{self._count:05d}"
        source, target = stem.with_suffix(".audio"), stem.with_suffix(".wav")
        source.write_bytes(sound)
        args = [self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        args += ["-i", str(source), "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le"]
        args += ["-f", "wav", str(target)]
        _run(args, stdin=b"", timeout=_LINE_TIMEOUT_S, what="ffmpeg, decoding the speech model")
        data = _read_wav(target, f"{self.model}'s answer")
        source.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        return data

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        key = self._key()
        with ThreadPoolExecutor(max_workers=4) as pool:
            jobs = [pool.submit(self._one, line, folder, key) for line in lines]
            return [job.result() for job in jobs]


class Remembered:
    """A voice that says a line it has said before only once: the same character's same words
    (in another scene or episode of the cut) are the first sound again. What it keeps is
    bounded (`keep_bytes`); past that, lines are voiced each time."""

    def __init__(
        self, voice: Speaker, keep_bytes: int = 32 << 20, cache: Cache | None = None
    ) -> None:
        self.voice = voice
        self.name = voice.name
        self.keep_bytes = keep_bytes
        self.kept = 0
        self.cache = cache
        self._said: dict[Line, bytes] = {}
        self._lock = threading.Lock()

    def _stored(self, lines: Sequence[Line]) -> dict[Line, bytes]:
        """The lines' sounds an earlier export kept (`podium.export.cache`)."""
        naming = getattr(self.voice, "cache_name", None)
        if self.cache is None or naming is None:
            return {}
        found: dict[Line, bytes] = {}
        for line in lines:
            name = naming(line)
            sound = self.cache.get("speech", name) if name else None
            if sound is not None and len(sound) % 2 == 0:
                found[line] = sound
        return found

    def _store(self, fresh: dict[Line, bytes]) -> None:
        naming = getattr(self.voice, "cache_name", None)
        if self.cache is None or naming is None:
            return
        for line, sound in fresh.items():
            name = naming(line)
            if name:
                self.cache.put("speech", name, sound)

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        with self._lock:
            known = dict(self._said)
        todo = [line for line in dict.fromkeys(lines) if line not in known]
        stored = self._stored(todo)
        known.update(stored)
        todo = [line for line in todo if line not in stored]
        if todo:
            fresh = dict(zip(todo, self.voice.speak(todo, folder), strict=True))
            self._store(fresh)
            known.update(fresh)
            with self._lock:
                for line, sound in fresh.items():
                    if line not in self._said and self.kept + len(sound) <= self.keep_bytes:
                        self._said[line] = sound
                        self.kept += len(sound)
        with self._lock:
            for line, sound in stored.items():
                if line not in self._said and self.kept + len(sound) <= self.keep_bytes:
                    self._said[line] = sound
                    self.kept += len(sound)
        return [known[line] for line in lines]
