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
mono PCM, or `error <sentence>` (the child failed before it wrote anything). It ends at the end
of its input, or when a child died while it wrote its answer (podium then reads the end of the
output: never a hang).

A fork costs more than espeak-ng's own work on a short line, so the child does as little as it
can: the request is read and its text cut into the library's buffers before the fork, and the
child writes its answer straight to stdout, which it shares with this process (the sound does
not pass through a pipe to here and again to podium); that pipe is made big enough for a line
(1 MB: the longest line of a big series is 0.5 MB), so the child writes its answer and ends
without waiting for podium to read it. The library is found by its usual name first:
`ctypes.util` imports threading, random and subprocess, whose hooks and objects every child
would carry (a fork of this process with them: about 320 pages touched, without: 210).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import sys

_LIBRARY = "libespeak-ng.so.1"  # what ctypes.util.find_library("espeak-ng") names here
_SYNCHRONOUS = 1  # ENOUTPUT_MODE_SYNCHRONOUS
_RATE, _PITCH = 1, 3  # espeakRATE, espeakPITCH
# espeak-ng's own flags for its input: espeakCHARS_AUTO | espeakPHONEMES | espeakENDPAUSE
_FLAGS = 0x100 | 0x1000
_LINE_BYTES = 1000  # the program reads its input a line of this many bytes (less one) at a time
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)
_FAILED, _CUT = 1, 2  # a child's exit: it wrote nothing; its answer may be cut short


def _load() -> tuple[ctypes.CDLL, str]:
    """The library, initialized as the program initializes it, and its version line."""
    try:
        lib = ctypes.CDLL(_LIBRARY)
    except OSError:  # another build's name: as ctypes finds it
        from ctypes.util import find_library

        name = find_library("espeak-ng")
        if name is None:
            raise OSError("no libespeak-ng") from None
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


def _heard(wav: int | None, count: int, _events: object) -> int:
    if wav and count > 0:
        _heard_chunks.append(ctypes.string_at(wav, count * 2))
    return 0


_HEARD = _CALLBACK(_heard)  # made once, in the server: not a new closure in every child


_Prepared = tuple[bytes, int, int, list["ctypes.Array[ctypes.c_char]"]]


def _prepared(request: dict[str, object]) -> _Prepared:
    """What the child needs, made before the fork: the voice's name, the speed, the pitch and
    the text in the pieces the program's fgets cuts it into (`_LINE_BYTES` - 1 bytes each)."""
    voice = str(request["voice"]).encode()
    speed, pitch = int(str(request["speed"])), int(str(request["pitch"]))
    text = str(request["text"]).encode("utf-8")
    step = _LINE_BYTES - 1
    pieces = [
        ctypes.create_string_buffer(text[at : at + step], _LINE_BYTES)
        for at in range(0, len(text), step)
    ]
    return voice, speed, pitch, pieces


def _say(lib: ctypes.CDLL, line: _Prepared) -> bool:
    """One line said, as `espeak-ng -v voice -p pitch -s speed` says it from stdin, its sound
    in `_heard_chunks` in the pieces the library gave it; False when the library fails."""
    voice, speed, pitch, pieces = line
    if lib.espeak_SetVoiceByName(voice) != 0:
        return False
    lib.espeak_SetParameter(_RATE, speed, 0)
    lib.espeak_SetParameter(_PITCH, pitch, 0)
    for piece in pieces:
        lib.espeak_Synth(piece, _LINE_BYTES, 0, 1, 0, _FLAGS, None, None)
    return bool(lib.espeak_Synchronize() == 0)


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


def _said(lib: ctypes.CDLL, request: dict[str, object]) -> bool:
    """The answer to one request, on stdout, written there by a child of this process that
    says the line; False when a child died while it wrote (its answer may be cut short)."""
    try:
        line = _prepared(request)
    except (KeyError, TypeError, ValueError):
        _write(1, b"error unreadable request\n")
        return True
    child = os.fork()
    if child == 0:  # the library as it was loaded: the line sounds as in a fresh program
        code = _FAILED
        try:
            if _say(lib, line):
                code = _CUT
                _write_all(1, [b"ok %d\n" % sum(map(len, _heard_chunks)), *_heard_chunks])
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == _FAILED:
        _write(1, b"error espeak-ng's library failed on this line\n")
    return code in (0, _FAILED)


def serve() -> None:
    try:
        lib, identity = _load()
    except (OSError, AttributeError) as exc:
        _write(1, f"error {' '.join(str(exc).split())}\n".encode())
        return
    lib.espeak_SetVoiceByName(b"en")  # its dictionary loaded once, not in every child
    lib.espeak_SetSynthCallback(_HEARD)  # where the sound goes: the same in every child
    # a line's whole answer fits: its child writes it and ends without waiting (Linux only:
    # elsewhere the child waits for podium to read, as it reads the answer meanwhile)
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if resize is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(1, resize, 1 << 20)
    _write(1, f"{identity}\n".encode())
    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw)
        except ValueError:
            _write(1, b"error unreadable request\n")
            continue
        if not _said(lib, request):
            return


if __name__ == "__main__":
    serve()
