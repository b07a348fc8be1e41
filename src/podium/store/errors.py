"""What can go wrong with a production database, in words a user can act on."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class StoreError(Exception):
    """A problem with a production database; the message names the file and what to do."""


class NotAPodiumDatabase(StoreError):
    pass


class CorruptDatabase(StoreError):
    pass


class NewerSchema(StoreError):
    pass


class DatabaseLocked(StoreError):
    pass


class ReadOnlyDatabase(StoreError):
    pass


class DiskFull(StoreError):
    pass


class ConflictingWriter(StoreError):
    """Another process appended events to the same log; seq numbers would collide."""


def not_utf8(text: str) -> str | None:
    """SQLite's error for a text column that is not UTF-8, said without the row's text (which
    it quotes, and which may hold anything, terminal escapes included); None for another."""
    if not text.startswith("Could not decode to UTF-8 column"):
        return None
    column = text.split("'")[1] if text.count("'") >= 2 else "a text column"
    return f"a row's {column} is not UTF-8 text"


def damage_hint(path: Path | str) -> str:
    """The sentence every report of a damaged database ends with: what to run next."""
    return (
        f"See what is damaged with `podium check {path}`; `podium export {path} --out DIR "
        "--salvage` saves what can still be read."
    )


def translate(exc: BaseException, path: Path) -> StoreError:
    """Turn an sqlite3/OS error into a StoreError a user can act on."""
    if isinstance(exc, StoreError):
        return exc
    code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
    text = str(exc)
    error: StoreError
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        error = DiskFull(
            f"{path}: the disk is full. Free some space and try again; "
            "everything already saved is safe."
        )
    elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "is locked" in text:
        error = DatabaseLocked(
            f"{path} is locked by another program (is another podium running this "
            "production?). Close it, or wait a moment and try again."
        )
    elif code == sqlite3.SQLITE_READONLY or "readonly database" in text:
        error = ReadOnlyDatabase(
            f"{path} cannot be written: the file or its folder is read-only. Make both "
            "writable (e.g. chmod u+w), or open the production read-only."
        )
    elif code == sqlite3.SQLITE_NOTADB or "not a database" in text:
        error = NotAPodiumDatabase(
            f"{path} is not a podium production database. Check the path; podium leaves "
            "the file as it is."
        )
    elif code == sqlite3.SQLITE_CORRUPT or "malformed" in text:
        error = CorruptDatabase(
            f"{path} is damaged ({text}); podium will not write to it. {damage_hint(path)}"
        )
    elif (undecodable := not_utf8(text)) is not None:
        error = CorruptDatabase(f"{path} is damaged: {undecodable}. {damage_hint(path)}")
    elif isinstance(exc, sqlite3.IntegrityError) and "events.seq" in text:
        error = ConflictingWriter(
            f"{path}: another process is writing this production's events. Stop the other "
            "podium (only one may run a production at a time), then resume."
        )
    elif code == sqlite3.SQLITE_CANTOPEN or isinstance(exc, OSError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else text
        error = StoreError(
            f"cannot open {path}: {reason}. Check that the file and its folder exist and "
            "that you may read and write them."
        )
    else:
        error = StoreError(f"{path}: database error: {text}")
    error.__cause__ = exc
    return error


class CommandConflict(StoreError):
    """Another command, recorded and not yet applied, already decides the same escalation."""

    def __init__(self, message: str, command_id: str) -> None:
        super().__init__(message)
        self.command_id = command_id


# The environment refused, not the input: every command exits 1 for these (2 for the rest).
ENVIRONMENT_ERRORS = (ReadOnlyDatabase, DiskFull, DatabaseLocked, ConflictingWriter)
