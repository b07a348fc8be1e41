"""One engine per production: an exclusive lock on `DB.lock`, held while an engine runs.

`flock` is released by the kernel when the process dies, so a crashed engine never leaves a
stale lock behind, and a recycled pid can never pass for a live engine.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]


class AlreadyRunning(Exception):
    def __init__(self, db: Path, pid: int | None) -> None:
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{db} is already being run by {who}. Steer it with `podium attach {db}` or "
            f"`podium decide`, or stop it with `podium stop {db}`."
        )
        self.pid = pid


class LockError(Exception):
    """The engine lock cannot be taken, for a reason the message names."""


def _why(db: Path, path: Path, exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"{db} cannot be written: the file or its folder is read-only ({path} cannot be "
            "created). Make the folder writable, or read it with `podium status` or `export`."
        )
    if exc.errno == errno.ENOSPC:
        return f"{db}: the disk is full. Free some space and try again."
    return f"cannot take the engine lock {path}: {exc.strerror or exc}. Check the path."


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


class EngineLock:
    def __init__(self, db: Path, handle: int) -> None:
        self.db = db
        self._handle = handle

    @classmethod
    def acquire(cls, db: Path) -> EngineLock:
        """Take the lock or raise AlreadyRunning (with the holder's pid when known), or
        LockError when the file system refuses it (read-only, full, a name too long)."""
        path = lock_path(db)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except PermissionError:
                handle = os.open(path, os.O_RDONLY)  # flock needs no write access
        except OSError as exc:
            raise LockError(_why(db, path, exc)) from None
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(handle)
                raise AlreadyRunning(db, holder(db)) from None
        with contextlib.suppress(OSError):  # the pid is a courtesy: holder() copes without
            os.ftruncate(handle, 0)
            os.write(handle, str(os.getpid()).encode())
        return cls(db, handle)

    def release(self) -> None:
        if self._handle < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._handle, 0)
        os.close(self._handle)  # closing drops the flock
        self._handle = -1

    def __enter__(self) -> EngineLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def holder(db: Path) -> int | None:
    """The pid of the engine running this production, or None when none is."""
    path = lock_path(db)
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                text = os.read(handle, 32).decode(errors="ignore").strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(handle, fcntl.LOCK_UN)
        return None
    finally:
        os.close(handle)
