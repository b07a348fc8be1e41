"""Reading production files from disk; every failure becomes a FileIssue, never a traceback."""

from __future__ import annotations

from pathlib import Path

from podium.domain.loading import FileIssue, ProductionFileError, parse_production
from podium.domain.production import ProductionSpec

MAX_FILE_BYTES = 4 * 1024 * 1024


def read_production(path: Path) -> ProductionSpec:
    source = str(path)
    try:
        if path.is_dir():
            raise _single(source, "file", "is a directory; give a production file (.toml)")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _single(source, "file", "no such file") from None
    except PermissionError:
        raise _single(source, "file", "permission denied; check the file's permissions") from None
    except OSError as exc:
        raise _single(source, "file", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _single(source, "file", f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if b"\x00" in raw:
        raise _single(source, "file", "this is a binary file, not a TOML production file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProductionFileError(
            [FileIssue(source, line, "file", "not valid UTF-8 text; save the file as UTF-8")]
        ) from None
    return parse_production(text, source)


def _single(source: str, field: str, message: str) -> ProductionFileError:
    return ProductionFileError([FileIssue(source, 1, field, message)])
