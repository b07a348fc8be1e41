"""The production's SQLite event store: append-only log, meta facts and the command channel."""

from podium.store.db import EventStore
from podium.store.errors import (
    ConflictingWriter,
    CorruptDatabase,
    DatabaseLocked,
    DiskFull,
    NewerSchema,
    NotAPodiumDatabase,
    ReadOnlyDatabase,
    StoreError,
)
from podium.store.files import APPLICATION_ID, SCHEMA_VERSION

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "ConflictingWriter",
    "CorruptDatabase",
    "DatabaseLocked",
    "DiskFull",
    "EventStore",
    "NewerSchema",
    "NotAPodiumDatabase",
    "ReadOnlyDatabase",
    "StoreError",
]
