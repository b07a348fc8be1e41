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


def unwritable(db: Path, path: Path, exc: OSError) -> str:
    """Why `path`, a file podium keeps beside `db` (its lock, its log), cannot be made: a
    sentence naming what is read-only or full, and what to do."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        folder = path.parent
        if exc.errno == errno.EROFS:
            where = f"{folder} is on a read-only file system"
        elif path.exists():
            where = f"{path} is read-only"
        else:
            where = f"the folder {folder} is read-only"
        return (
            f"{db} cannot be written: {where} ({path.name} cannot be created there). Make it "
            "writable, or read the production with `podium status` or `podium export`."
        )
    if exc.errno == errno.ENOSPC:
        return f"{db}: the disk is full ({path} cannot be written). Free some space and try again."
    return f"cannot create {path}: {exc.strerror or exc}. Check the path."


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _open_lock(path: Path) -> tuple[int, bool]:
    """A handle on the lock file, and whether this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
    except FileExistsError:
        pass
    try:
        return os.open(path, os.O_RDWR), False
    except PermissionError:
        return os.open(path, os.O_RDONLY), False  # flock needs no write access


class EngineLock:
    def __init__(self, db: Path, handle: int, *, created: bool = False) -> None:
        self.db = db
        self._handle = handle
        self.created = created  # the lock file did not exist before this engine took it

    @classmethod
    def acquire(cls, db: Path) -> EngineLock:
        """Take the lock or raise AlreadyRunning (with the holder's pid when known), or
        LockError when the file system refuses it (read-only, full, a name too long)."""
        path = lock_path(db)
        for _ in range(10):  # a lock file removed by its holder while we waited: take the new one
            try:
                handle, created = _open_lock(path)
            except OSError as exc:
                raise LockError(unwritable(db, path, exc)) from None
            if fcntl is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(handle)
                    raise AlreadyRunning(db, holder(db)) from None
            try:
                same = os.fstat(handle).st_ino == os.stat(path).st_ino
            except OSError:
                same = False
            if same:
                break
            os.close(handle)
        else:
            raise LockError(f"cannot take the engine lock {path}: it keeps being replaced.")
        with contextlib.suppress(OSError):  # the pid is a courtesy: holder() copes without
            os.ftruncate(handle, 0)
            os.write(handle, str(os.getpid()).encode())
        return cls(db, handle, created=created)

    def release(self, *, remove: bool = False) -> None:
        """Let go; `remove` also deletes the lock file if this lock created it (a start that
        failed leaves nothing behind). Removal happens while the lock is still held, and a
        process that opened the old file notices and takes the new one."""
        if self._handle < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._handle, 0)
        if remove and self.created:
            with contextlib.suppress(OSError):
                lock_path(self.db).unlink()
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
