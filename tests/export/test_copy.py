"""`exporter._copy`: a file the export copies (an animatic, an illustration) is whole in the
folder, whether the kernel copies it (copy_file_range), copies part of it, or cannot."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from podium.export import exporter


def _cannot(*_: object) -> int:
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def _part(source: int, target: int, count: int, at: int, to: int) -> int:
    """A kernel that copies 1,000 bytes, then says it is done."""
    if at >= 1000:
        return 0
    os.pwrite(target, os.pread(source, 1000 - at, at), to)
    return 1000 - at


@pytest.mark.parametrize("kernel", ["copies", "cannot", "copies a part"])
def test_a_copied_file_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel: str
) -> None:
    data = os.urandom(300_000)
    source = tmp_path / "source.mp4"
    source.write_bytes(data)
    if kernel == "cannot":
        monkeypatch.setattr(os, "copy_file_range", _cannot, raising=False)
    elif kernel == "copies a part":
        monkeypatch.setattr(os, "copy_file_range", _part, raising=False)
    exporter._copy(source, tmp_path / "copy.mp4")
    assert (tmp_path / "copy.mp4").read_bytes() == data


def test_a_failure_of_the_disk_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "source.mp4").write_bytes(b"x" * 10)
    monkeypatch.setattr(os, "copy_file_range", full, raising=False)
    with pytest.raises(OSError, match="No space"):
        exporter._copy(tmp_path / "source.mp4", tmp_path / "copy.mp4")
