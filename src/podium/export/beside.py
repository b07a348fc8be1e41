"""The animatics made beside the rest of the export (`exporter.render`), in a child process.

The animatics (`animatic.animatics`) spend most of their time in Python (drawing the stills,
cutting the read into stretches) and in ffmpeg and espeak-ng; the other deliverables are all
Python. On threads the two would share the interpreter's lock, so where the system can fork
(`os.fork`) a child of the export, a copy of it as the production was just read, makes the
animatics into a folder the export owns while the export lays out the other files, and hands
back what it made: each file's name, description and path, and the README's sentences. The
files are the same bytes as made in the export's own process (nothing in them depends on the
process), and so are the sentences; the child's warnings are logged again by the export's
process, where its logging sends them (stderr, or the screen's log while it is up).

Without `os.fork`, or when the child cannot be started, the animatics are made in the
export's process at once, before the other files (as `exporter.render` made them before).
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
import tempfile
import warnings
from pathlib import Path

from podium.export.animatic import Made, animatics
from podium.export.sources import ExportSource

log = logging.getLogger("podium.export")


class Beside:
    """The animatics of `source`, being made in a child process (or, without one, made here
    at once); `made` gives them."""

    def __init__(self, source: ExportSource) -> None:
        self._source = source
        self._made: Made | None = None
        self._pid = 0
        self._reading = -1
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if hasattr(os, "fork"):
            self._start()
        if not self._pid:
            self._made = animatics(source)

    def _start(self) -> None:
        folder = tempfile.TemporaryDirectory(prefix="podium-animatics-")
        reading, writing = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing buffered before the fork is written twice
        try:
            with warnings.catch_warnings():
                # Python 3.12 warns of a fork beside other threads: here the event loop's
                # idle workers (the read-ahead's), whose locks the child never takes.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:
            os.close(reading)
            os.close(writing)
            folder.cleanup()
            return
        if pid == 0:  # the child: the animatics into the folder, what it made to the pipe
            os.close(reading)
            code = 1
            signal.signal(signal.SIGINT, signal.default_int_handler)  # not the event loop's
            said = _Said()  # its warnings, logged again by the export's process
            logging.getLogger().handlers = [said]
            try:
                made = animatics(self._source, Path(folder.name))
                answer: tuple[object, ...] = ("made", said.records, made.files, made.notes)
            except BaseException as exc:  # noqa: BLE001 - said again in the export's process
                answer = ("failed", said.records, _picklable(exc))
            try:
                _write(writing, pickle.dumps(answer))
                code = 0
            finally:
                os._exit(code)  # no cleanup of the parent's objects (its folder) here
        os.close(writing)
        self._pid, self._reading, self._folder = pid, reading, folder

    def made(self) -> Made:
        """What the animatics are: the child's answer (waited for), or made here."""
        if self._made is not None:
            return self._made
        chunks: list[bytes] = []
        try:
            while chunk := os.read(self._reading, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(self._reading)
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
        answer = pickle.loads(b"".join(chunks)) if chunks else None
        if os.waitstatus_to_exitcode(status) != 0 or not answer:  # killed: one sentence
            self.close()
            sentence = f"The animatics were not made: their process ended ({_ended(status)})."
            log.warning("podium: %s", sentence)
            self._made = Made(notes=[sentence])
            return self._made
        for name, level, message in answer[1]:  # where this process's logging sends them
            logging.getLogger(name).log(level, "%s", message)
        if answer[0] == "failed":
            self.close()
            raise answer[2]
        _, _, files, notes = answer
        self._made = Made(files=files, notes=notes, folder=self._folder)
        self._folder = None
        return self._made

    def close(self) -> None:
        """Stop the child if it still runs (the export failed), its folder removed."""
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGTERM)
            except OSError:
                pass
            os.close(self._reading)
            os.waitpid(self._pid, 0)
            self._pid = 0
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


class _Said(logging.Handler):
    """The child's log records (warnings and worse), kept to be logged again in the export's
    process: on stderr as before, or held by the screen while it is up."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - any exception pickle cannot carry is said as text
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _ended(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"signal {-code}" if code < 0 else f"exit {code}"
