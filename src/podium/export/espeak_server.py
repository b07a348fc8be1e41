"""espeak-ng kept loaded for the table read (`voices.Espeak`): the same sound as the program,
without starting it for every line.

`espeak-ng` run once a line spends most of its time starting (loading its voice data), not
speaking: about 10 ms a line, against about 2.5 ms to say it. This program, run as a script by
the Python that runs podium (`python -I -S espeak_server.py`, nothing but the standard library),
loads espeak-ng's library once and then says each line asked of it in a child of itself
(`os.fork`): the child starts from the state the library had just after loading, as a fresh
`espeak-ng` does, so each line's sound is the program's, byte for byte, whatever was said
before it (the library said twice in one process does not sound the same twice).

It says on its first line who it is (`eSpeak NG text-to-speech: <version>  Data at: <path>`,
what `espeak-ng --version` prints, so podium uses it only for the very espeak-ng it would run),
then reads one request a line on stdin, JSON: `{"voice": "en+m3", "pitch": 40, "speed": 160,
"text": "..."}`, and answers each with a line `ok <bytes>` followed by that many bytes of s16le
mono PCM, or `error <sentence>` (the child failed or died: never a hang). It ends at the end of
its input.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import json
import os
import sys

_SYNCHRONOUS = 1  # ENOUTPUT_MODE_SYNCHRONOUS
_RATE, _PITCH = 1, 3  # espeakRATE, espeakPITCH
# espeak-ng's own flags for its input: espeakCHARS_AUTO | espeakPHONEMES | espeakENDPAUSE
_FLAGS = 0x100 | 0x1000
_LINE_BYTES = 1000  # the program reads its input a line of this many bytes (less one) at a time
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def _load() -> tuple[ctypes.CDLL, str]:
    """The library, initialized as the program initializes it, and its version line."""
    name = ctypes.util.find_library("espeak-ng")
    if name is None:
        raise OSError("no libespeak-ng")
    lib = ctypes.CDLL(name)
    lib.espeak_ng_InitializePath(None)
    if lib.espeak_ng_Initialize(None) != 0:
        raise OSError("libespeak-ng did not initialize")
    if lib.espeak_ng_InitializeOutput(_SYNCHRONOUS, 0, None) != 0:
        raise OSError("libespeak-ng has no output")
    lib.espeak_Info.restype = ctypes.c_char_p
    path = ctypes.c_char_p()
    version = lib.espeak_Info(ctypes.byref(path)) or b""
    data = path.value or b""
    return lib, f"eSpeak NG text-to-speech: {version.decode()}  Data at: {data.decode()}"


_heard_chunks: list[bytes] = []  # the sound a child has heard so far, as the library gave it


def _heard(wav: ctypes._Pointer[ctypes.c_short], count: int, _events: object) -> int:
    if wav and count > 0:
        _heard_chunks.append(ctypes.string_at(wav, count * 2))
    return 0


_HEARD = _CALLBACK(_heard)  # made once, in the server: not a new closure in every child


def _say(lib: ctypes.CDLL, request: dict[str, object]) -> list[bytes]:
    """One line's sound, as `espeak-ng -v voice -p pitch -s speed` says it from stdin, in
    the pieces the library gave it."""
    if lib.espeak_SetVoiceByName(str(request["voice"]).encode()) != 0:
        raise ValueError(f"no voice {request['voice']}")
    lib.espeak_SetParameter(_RATE, int(str(request["speed"])), 0)
    lib.espeak_SetParameter(_PITCH, int(str(request["pitch"])), 0)
    text = str(request["text"]).encode("utf-8")
    for at in range(0, len(text), _LINE_BYTES - 1):  # as the program's fgets cuts it
        chunk = ctypes.create_string_buffer(text[at : at + _LINE_BYTES - 1], _LINE_BYTES)
        lib.espeak_Synth(chunk, _LINE_BYTES, 0, 1, 0, _FLAGS, None, None)
    if lib.espeak_Synchronize() != 0:
        raise ValueError("espeak_Synchronize failed")
    return _heard_chunks


def _write(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_all(fd: int, pieces: list[bytes]) -> None:
    """The pieces written in order, a few system calls for them all (`os.writev`)."""
    at = 0
    while at < len(pieces):
        batch = pieces[at : at + 512]
        done = os.writev(fd, batch)
        at += len(batch)
        if done < sum(len(p) for p in batch):  # a short write: the rest one piece at a time
            for piece in batch:
                taken = min(done, len(piece))
                _write(fd, memoryview(piece)[taken:])
                done -= taken


class _Sound:
    """The sound a child sends, read into one buffer kept for every line (grown, never
    allocated again), so a line costs no new memory in the server."""

    def __init__(self) -> None:
        self.buffer = bytearray(1 << 20)
        self.size = 0

    def read(self, fd: int) -> None:
        self.size = 0
        with io.FileIO(fd, closefd=False) as reading:
            while True:
                if len(self.buffer) - self.size < 1 << 16:
                    self.buffer.extend(bytes(len(self.buffer)))  # no view of it is held here
                with memoryview(self.buffer) as view:
                    got = reading.readinto(view[self.size :])
                if not got:
                    return
                self.size += got


def _said(lib: ctypes.CDLL, request: dict[str, object], sound: _Sound) -> None:
    """The answer to one request, on stdout: the line said in a child of this process, its
    sound passed back through a pipe (a child that fails or dies is an error, never a hang)."""
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the library as it was loaded: the line sounds as in a fresh program
        os.close(reading)
        code = 1
        try:
            _write_all(writing, _say(lib, request))
            code = 0
        finally:
            os._exit(code)
    os.close(writing)
    try:
        sound.read(reading)
    finally:
        os.close(reading)
        _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        _write(1, b"error espeak-ng's library failed on this line\n")
        return
    _write(1, b"ok %d\n" % sound.size)
    with memoryview(sound.buffer) as view:
        _write(1, view[: sound.size])


def serve() -> None:
    try:
        lib, identity = _load()
    except (OSError, AttributeError) as exc:
        _write(1, f"error {' '.join(str(exc).split())}\n".encode())
        return
    lib.espeak_SetVoiceByName(b"en")  # its dictionary loaded once, not in every child
    lib.espeak_SetSynthCallback(_HEARD)  # where the sound goes: the same in every child
    sound = _Sound()
    _write(1, f"{identity}\n".encode())
    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw)
        except ValueError:
            _write(1, b"error unreadable request\n")
            continue
        _said(lib, request, sound)


if __name__ == "__main__":
    serve()
