"""Reading production files from disk; every failure becomes a FileIssue, never a traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from podium.domain.loading import (
    FileIssue,
    LoadedProduction,
    ProductionFileError,
    load_production,
)
from podium.domain.production import ProductionSpec

MAX_FILE_BYTES = 1024 * 1024
"""The largest production file read: a real one is tens of KB (the samples about 20 KB),
a 2,000-task plan about 400 KB."""

_MIB = 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def read_production(path: Path) -> ProductionSpec:
    return read_production_file(path).spec


def read_production_file(path: Path) -> LoadedProduction:
    """The validated production and where its keys are, for errors found after validation."""
    source = str(path)
    raw = _read(path, source)
    if b"\x00" in raw:
        raise _single(source, "file", "this is a binary file, not a TOML production file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProductionFileError(
            [FileIssue(source, line, "file", "not valid UTF-8 text; save the file as UTF-8")]
        ) from None
    return load_production(text, source)


def _read(path: Path, source: str) -> bytes:
    """The file's bytes, refusing anything that is not a regular file of a sensible size.

    A FIFO would block `open` until a writer comes and /dev/zero never ends, so the kind is
    checked before opening, and again on the open descriptor (O_NONBLOCK) in case the path
    changed in between.
    """
    try:
        _check_kind(path.stat(), source)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            _check_kind(os.fstat(handle.fileno()), source)
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _single(source, "file", "no such file") from None
    except PermissionError:
        raise _single(source, "file", "permission denied; check the file's permissions") from None
    except OSError as exc:
        raise _single(source, "file", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large(source, None)  # it grew after the check
    return raw


def _check_kind(info: os.stat_result, source: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise _single(source, "file", "is a directory; give a production file (.toml)")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "a special file")
        raise _single(
            source, "file", f"is {kind}, not a regular file; give a production file (.toml)"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise _too_large(source, info.st_size)


def _too_large(source: str, size: int | None) -> ProductionFileError:
    limit = MAX_FILE_BYTES // _MIB
    shown = f"{size / _MIB:,.1f} MiB" if size is not None else f"larger than {limit} MiB"
    return _single(
        source,
        "file",
        f"is {shown}; a production file is at most {limit} MiB (is this the right file?)",
    )


def _single(source: str, field: str, message: str) -> ProductionFileError:
    return ProductionFileError([FileIssue(source, 1, field, message)])
