-- podium production database, schema version 1 (PRAGMA user_version).
-- Run once, in one transaction, when the file is created; PRAGMA application_id marks the file
-- as podium's so that any other file is refused before a byte of it is changed.

-- The source of truth: every state change of the production, in order, never rewritten.
CREATE TABLE IF NOT EXISTS events (
    seq     INTEGER PRIMARY KEY,
    ts      REAL    NOT NULL,
    kind    TEXT    NOT NULL,
    payload TEXT    NOT NULL
);

-- Reloading the state kinds of a long log without scanning every streamed chunk. Chunks are
-- most of the rows and are left out: indexing them would cost a third of insert throughput.
-- A query uses this index only when it says `kind != 'output_chunk'` as well.
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq) WHERE kind != 'output_chunk';

CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- Title, format, created_at, podium version: small facts read before the log.
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Commands from other processes (podium decide while the engine runs); the engine takes them
-- in order and records the seq of the event that recorded each one.
CREATE TABLE IF NOT EXISTS commands (
    id        TEXT PRIMARY KEY,
    issued_at REAL NOT NULL,
    body      TEXT NOT NULL,
    taken_seq INTEGER
);

CREATE INDEX IF NOT EXISTS commands_pending ON commands (issued_at) WHERE taken_seq IS NULL;

-- A cache of the log (podium.store.snapshots): the folded view after event `seq`, made by the
-- fold `fold`, so a reload folds only what came after it (`digest`: of the events it covers
-- that are not chunks, checked against the log). Never the source of truth.
CREATE TABLE IF NOT EXISTS snapshots (
    seq     INTEGER PRIMARY KEY,
    ts      REAL    NOT NULL,
    fold    TEXT    NOT NULL,
    digest  INTEGER NOT NULL,
    made_at REAL    NOT NULL,
    body    BLOB    NOT NULL
);
