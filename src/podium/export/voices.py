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
import json
import os
import queue
import re
import selectors
import shutil
import subprocess
import sys
import threading
import time
import wave
import weakref
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


_SERVER = Path(__file__).with_name("espeak_server.py")
_SERVERS = 2  # lines said at a time: the machine's two cores


class _Server:
    """One `espeak_server` (espeak-ng's library kept loaded): a line asked, its sound read
    back, within a deadline."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(_SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            shell=False,
        )
        self._pending = bytearray()
        assert self.process.stdout is not None
        self._out = self.process.stdout.fileno()
        self._waiting = selectors.DefaultSelector()  # one for every answer, not two a line
        self._waiting.register(self._out, selectors.EVENT_READ)

    def _wanted(self, count: int) -> int | None:
        """How many pending bytes answer: `count`, or the line up to its newline (`count`
        -1); None while they are not all there yet."""
        if count < 0:
            at = self._pending.find(b"\n")
            return at + 1 if at >= 0 else None
        return count if len(self._pending) >= count else None

    def _more(self, size: int, deadline: float) -> bytes:
        """Up to `size` bytes more of its answer, once some are there, by the deadline."""
        left = deadline - time.monotonic()
        if left <= 0 or not self._waiting.select(left):
            raise VoiceError(f"espeak-ng took longer than {_LINE_TIMEOUT_S:g} s and was stopped.")
        chunk = os.read(self._out, size)
        if not chunk:
            raise VoiceError("espeak-ng's library stopped.")
        return chunk

    def _read(self, count: int, deadline: float) -> bytes:
        """`count` bytes of its answer (or a line when `count` is -1), by the deadline. A line
        is read a little at a time (an answer's head is a few bytes: little of the sound after
        it is read with it), a line's sound in as few reads as it comes in (the server's pipe
        holds a whole line: mostly one)."""
        if count > len(self._pending):
            pieces = [bytes(self._pending)]
            have = len(self._pending)
            self._pending.clear()
            while have < count:
                pieces.append(self._more(count - have, deadline))
                have += len(pieces[-1])
            return pieces[1] if len(pieces) == 2 and not pieces[0] else b"".join(pieces)
        while (end := self._wanted(count)) is None:
            self._pending += self._more(256, deadline)
        data = bytes(self._pending[:end])
        del self._pending[:end]
        return data

    def hello(self) -> str:
        return self._read(-1, time.monotonic() + _LINE_TIMEOUT_S).decode("utf-8", "replace").strip()

    def say(self, voice: EspeakVoice, text: str) -> bytes:
        assert self.process.stdin is not None
        request = {"voice": f"en+{voice.variant}", "pitch": voice.pitch, "speed": voice.speed}
        try:
            self.process.stdin.write(json.dumps({**request, "text": text}).encode() + b"\n")
            self.process.stdin.flush()
        except OSError:
            raise VoiceError("espeak-ng's library stopped.") from None
        deadline = time.monotonic() + _LINE_TIMEOUT_S
        head = self._read(-1, deadline).split()
        if len(head) != 2 or head[0] != b"ok" or not head[1].isdigit():
            said = b" ".join(head[1:]).decode("utf-8", "replace")
            raise VoiceError(f"espeak-ng's library failed ({said or 'no answer'}).")
        return self._read(int(head[1]), deadline)

    def close(self) -> None:
        self._waiting.close()
        _stop(self.process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a server: its input closed (it ends there), killed if it does not."""
    try:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        process.kill()
        process.wait()
    finally:
        if process.stdout is not None:
            process.stdout.close()


class Espeak:
    """espeak-ng, a voice per character; two lines at a time (the machine's two cores).

    Each line is said by espeak-ng's library kept loaded (`espeak_server`: the program's very
    sound, without its start for every line) when the library is the program's (the same
    version line); else, or once the library fails, by the program, a run a line."""

    def __init__(self, program: str) -> None:
        self.program = program
        self.name = "espeak-ng"
        self._version: str | None = None
        self._version_lock = threading.Lock()
        self._idle: queue.SimpleQueue[_Server] = queue.SimpleQueue()
        self._servers: list[_Server] = []
        self._servers_lock = threading.Lock()
        self._library = True  # False once the library is not the program's, or failed
        self._pool: ThreadPoolExecutor | None = None  # two lines at a time, for every speak
        self._finalizer = weakref.finalize(self, Espeak._close_all, self._servers)

    def version(self) -> str:
        """This espeak-ng's version line (`espeak-ng --version`), "" when it does not say."""
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
            return self._version

    def cache_name(self, line: Line) -> str | None:
        """What names this line's sound in the export's cache: this espeak-ng (its version
        line), the character's voice and the words; None when the version cannot be read."""
        version = self.version()
        if not version:
            return None
        voice = espeak_voice(line.character).describe()
        return cache_key("espeak", version, voice, speakable(line.text), SAMPLE_RATE)

    @staticmethod
    def _close_all(servers: list[_Server]) -> None:
        for server in servers:
            server.close()
        servers.clear()

    def close(self) -> None:
        """End the library's servers (the next line starts them again)."""
        with self._servers_lock:
            Espeak._close_all(self._servers)
            while not self._idle.empty():
                self._idle.get_nowait()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _server(self) -> _Server | None:
        """An idle server, started when fewer than `_SERVERS` run; None without the library."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._servers_lock:
            if not self._library:
                return None
            if len(self._servers) < _SERVERS:
                version = self.version()
                try:
                    server = _Server()
                except OSError:
                    self._library = False
                    return None
                self._servers.append(server)
                try:
                    same = bool(version) and server.hello() == version
                except VoiceError:
                    same = False
                if not same:  # not the program's library: the program says every line
                    self._library = False
                    self._servers.remove(server)
                    server.close()
                    return None
                return server
        while self._library:  # every server busy: the first one free
            try:
                return self._idle.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def _said(self, voice: EspeakVoice, text: str) -> bytes | None:
        """The line said by the library, None when it cannot be (the program says it)."""
        server = self._server()
        if server is None:
            return None
        try:
            sound = server.say(voice, text)
        except VoiceError:
            with self._servers_lock:
                self._library = False
                if server in self._servers:
                    self._servers.remove(server)
            server.close()
            return None
        self._idle.put(server)
        return sound

    @staticmethod
    def find() -> Espeak | None:
        program = shutil.which("espeak-ng")
        return Espeak(program) if program else None

    def _one(self, index: int, line: Line, folder: Path) -> bytes:
        text = speakable(line.text)
        if not text:
            return b""
        voice = espeak_voice(line.character)
        if self._library and (sound := self._said(voice, text)) is not None:
            return sound
        target = folder / f"line-{index:05d}.wav"
        args = [self.program, "-v", f"en+{voice.variant}", "-p", str(voice.pitch)]
        args += ["-s", str(voice.speed), "-w", str(target)]
        _run(args, stdin=text.encode("utf-8"), timeout=_LINE_TIMEOUT_S, what="espeak-ng")
        data = _read_wav(target, "espeak-ng")
        target.unlink(missing_ok=True)
        return data

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        with self._servers_lock:  # one pool for every call (a series: a thousand calls)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=_SERVERS, thread_name_prefix="espeak")
            pool = self._pool
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
