"""espeak-ng's library kept loaded (`podium.export.espeak_server`): each line is the program's
sound byte for byte, whatever was said before it; a library that is not the program's, or that
fails, hands the line to the program."""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from podium.export import voices
from podium.export.voices import Espeak, Line, espeak_voice, speakable

from .test_animatic import need

LINES = [
    Line("TAM", "Where were you?"),
    Line("ELIAS", "I kept your chair, you know. Nobody sits in it."),
    Line("MARA", "Eat something first. Then tell me everything."),
    Line("TAM", "Where were you?"),  # said again after others: the same sound
    Line("ELIAS", "déjà — " * 114),  # over 999 bytes: the program reads it in two pieces
]


def _by_the_program(espeak: Espeak, line: Line, folder: Path) -> bytes:
    """The line as `espeak-ng` says it in a run of its own."""
    voice = espeak_voice(line.character)
    target = folder / "program.wav"
    args = [espeak.program, "-v", f"en+{voice.variant}", "-p", str(voice.pitch)]
    args += ["-s", str(voice.speed), "-w", str(target)]
    voices._run(args, stdin=speakable(line.text).encode(), timeout=30, what="espeak-ng")
    with wave.open(str(target), "rb") as sound:
        return sound.readframes(sound.getnframes())


def _espeak() -> Espeak:
    need("espeak-ng")
    espeak = Espeak.find()
    assert espeak is not None
    return espeak


def test_the_library_says_each_line_as_the_program_does(tmp_path: Path) -> None:
    espeak = _espeak()
    try:
        sounds = espeak.speak(LINES, tmp_path)
        if not espeak._servers:
            pytest.skip("this espeak-ng's library is not loadable here (the program says it)")
        assert sounds[0] == sounds[3]
        for line, sound in zip(LINES, sounds, strict=True):
            assert sound == _by_the_program(espeak, line, tmp_path), line.character
    finally:
        espeak.close()
    assert not espeak._servers
    assert not [p for p in tmp_path.iterdir() if p.name != "program.wav"]


def test_a_library_that_is_not_the_programs_leaves_the_lines_to_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    espeak = _espeak()
    impostor = tmp_path / "server.py"
    impostor.write_text("print('eSpeak NG text-to-speech: 0.0  Data at: /nowhere', flush=True)\n")
    monkeypatch.setattr(voices, "_SERVER", impostor)
    folder = tmp_path / "read"
    folder.mkdir()
    sounds = espeak.speak(LINES[:2], folder)
    assert not espeak._library and not espeak._servers
    assert sounds == [_by_the_program(espeak, line, tmp_path) for line in LINES[:2]]


def test_a_library_that_dies_hands_the_line_to_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    espeak = _espeak()
    version = espeak.version()
    dying = tmp_path / "server.py"
    dying.write_text(f"import sys\nprint({version!r}, flush=True)\nsys.stdin.readline()\n")
    monkeypatch.setattr(voices, "_SERVER", dying)
    folder = tmp_path / "read"
    folder.mkdir()
    sounds = espeak.speak(LINES[:3], folder)
    assert not espeak._library and not espeak._servers
    assert sounds == [_by_the_program(espeak, line, tmp_path) for line in LINES[:3]]


def _wrapped_server(tmp_path: Path, body: str) -> Path:
    """The server script run with `body` done to its module first (as `python -I -S` runs it)."""
    script = tmp_path / "wrapped.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(voices._SERVER.parent)!r})\n"
        "import espeak_server as server\n"
        f"{body}\n"
        "server.serve()\n"
    )
    return script


def test_a_line_the_library_fails_on_is_an_error_and_the_next_line_is_said(
    tmp_path: Path,
) -> None:
    espeak = _espeak()
    line = LINES[0]
    voice = espeak_voice(line.character)
    said = {"pitch": voice.pitch, "speed": voice.speed, "text": speakable(line.text)}
    requests = [{**said, "voice": "zz-no-such-voice"}, {**said, "voice": f"en+{voice.variant}"}]
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(voices._SERVER)],
        input=b"".join(json.dumps(r).encode() + b"\n" for r in requests),
        capture_output=True,
        timeout=60,
        check=False,
    )
    hello, failed, ok, sound = done.stdout.split(b"\n", 3)
    if hello.decode() != espeak.version():
        pytest.skip("this espeak-ng's library is not loadable here")
    assert failed == b"error espeak-ng's library failed on this line"
    assert ok == b"ok %d" % len(sound)
    assert sound == _by_the_program(espeak, line, tmp_path)


def test_a_child_that_dies_while_it_answers_ends_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child writes its answer straight to podium: cut short, it cannot be taken back, so
    the server ends and podium reads the end of its output (never a hang, never a wrong
    sound)."""
    espeak = _espeak()
    dying = "def _cut_short(fd, pieces):\n    server._write(fd, b'ok 1000\\n' + b'x' * 10)\n"
    dying += "    raise OSError('killed')\nserver._write_all = _cut_short"
    monkeypatch.setattr(voices, "_SERVER", _wrapped_server(tmp_path, dying))
    server = voices._Server()
    try:
        if server.hello() != espeak.version():
            pytest.skip("this espeak-ng's library is not loadable here")
        with pytest.raises(voices.VoiceError, match="stopped"):
            server.say(espeak_voice("TAM"), "Where were you?")
        assert server.process.wait(timeout=10) == 0
    finally:
        server.close()


def test_the_server_carries_no_thread_or_subprocess_machinery_into_its_children() -> None:
    """Every line forks the server: what it imported, every child carries and touches."""
    need("espeak-ng")
    probe = (
        f"import sys; sys.path.insert(0, {str(voices._SERVER.parent)!r}); "
        "import espeak_server as s; s._load(); "
        "print(sorted({'threading', 'subprocess', 'random'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("this espeak-ng's library is not loadable here")
    assert done.stdout.strip() == "[]"


def _fake_server(tmp_path: Path, answer: str, monkeypatch: pytest.MonkeyPatch) -> voices._Server:
    """A server that says hello, reads one request and answers with the Python `answer`."""
    script = tmp_path / "fake.py"
    script.write_text(
        "import os, sys, time\n"
        "os.write(1, b'eSpeak NG text-to-speech: 0.0  Data at: /nowhere\\n')\n"
        "sys.stdin.readline()\n"
        f"{answer}\n"
    )
    monkeypatch.setattr(voices, "_SERVER", script)
    server = voices._Server()
    assert server.hello().startswith("eSpeak NG")
    return server


def test_a_sound_that_comes_in_pieces_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sound = bytes(range(256)) * 1000
    answer = f"os.write(1, b'ok {len(sound)}\\n' + bytes(range(256)) * 3)\n"
    answer += "for _ in range(997):\n    os.write(1, bytes(range(256)))\n"
    answer += "    time.sleep(0.0005) if _ % 200 == 0 else None\n"
    server = _fake_server(tmp_path, answer, monkeypatch)
    try:
        assert server.say(espeak_voice("TAM"), "Where were you?") == sound
    finally:
        server.close()


def test_a_sound_cut_short_is_stopped_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _fake_server(
        tmp_path, "os.write(1, b'ok 100\\n' + bytes(10))\ntime.sleep(30)", monkeypatch
    )
    monkeypatch.setattr(voices, "_LINE_TIMEOUT_S", 0.5)
    try:
        with pytest.raises(voices.VoiceError, match="took longer"):
            server.say(espeak_voice("TAM"), "Where were you?")
    finally:
        server.process.kill()
        server.close()
