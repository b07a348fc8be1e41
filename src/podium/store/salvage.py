"""A damaged production database: what is whole, what is not, and what can still be read.

`podium check` and `podium export --salvage` read through here. Nothing in this module writes
to the database or beside it: the file is opened `immutable` when no `-wal` lies beside it (then
SQLite creates no `-wal`/`-shm` and takes no lock), read-only next to an existing `-wal` and
`-shm`, and from a private copy when a `-wal` lies there without its `-shm`. The engine lock is
never touched.

Rows are read one at a time in seq order. A row whose bytes do not decode is reported by its
seq, through the store's own decoder (`podium.store.events`), and the reading goes on (an event
a newer podium wrote is not damage: it is refused as a newer database is); where
SQLite itself cannot read a page, the seqs on it are stepped over one by one, so a damaged page
costs only the rows it held.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from podium.domain.events import Event
from podium.domain.text import sanitize
from podium.store import files
from podium.store.errors import CorruptDatabase, NewerSchema, NotAPodiumDatabase, StoreError
from podium.store.events import NewerPayload, UndecodableRow, decode_command, decode_events

_MIN_ROW_BYTES = 16  # a stored event takes at least this much of the file
_SHOWN = 200  # characters of an SQLite message kept in a report


@dataclass(frozen=True)
class Damage:
    """Something that cannot be read: an event (or a run of seqs), a command, a table."""

    where: str
    detail: str
    first_seq: int | None = None
    last_seq: int | None = None
    kind: str | None = None
    missing: bool = False  # not damaged as such: no row holds these seqs

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"

    @property
    def seqs(self) -> int:
        """How many seqs this covers (0 when it is not about events)."""
        if self.first_seq is None or self.last_seq is None:
            return 0
        return self.last_seq - self.first_seq + 1


@dataclass
class Report:
    """What `check` found. `whole` when SQLite and every row agree the file is intact."""

    path: Path
    integrity: list[str] = field(default_factory=list)  # SQLite's own findings; [] = ok
    pages: list[int] = field(default_factory=list)  # pages SQLite names as damaged
    tables: list[str] = field(default_factory=list)  # tables and indexes those belong to
    events_read: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    events: list[Damage] = field(default_factory=list)
    gaps: list[Damage] = field(default_factory=list)  # seqs never written, in a whole file
    commands_read: int = 0
    commands: list[Damage] = field(default_factory=list)
    meta_read: int = 0
    meta: list[Damage] = field(default_factory=list)
    unreadable: str | None = None  # the file cannot be read at all (header, schema)

    @property
    def whole(self) -> bool:
        return not (self.integrity or self.events or self.commands or self.meta or self.unreadable)

    @property
    def events_damaged(self) -> int:
        return sum(max(d.seqs, 1) for d in self.events)


@dataclass
class Salvage:
    """What a salvaging read kept and skipped, for the export's README and stderr."""

    read: int = 0
    skipped: list[Damage] = field(default_factory=list)  # rows that cannot be read
    missing: list[Damage] = field(default_factory=list)  # seqs not in the file at all
    unapplied: list[Damage] = field(default_factory=list)  # read, but not foldable without the rest

    @property
    def skipped_seqs(self) -> int:
        return sum(max(d.seqs, 1) for d in self.skipped) + len(self.unapplied)


# -- opening without writing ---------------------------------------------------------------


@contextlib.contextmanager
def open_untouched(path: Path, notes: list[str] | None = None) -> Iterator[sqlite3.Connection]:
    """A read-only connection that changes nothing on disk next to `path` (see the module).

    Raises StoreError (missing, a folder), NotAPodiumDatabase (not SQLite) or CorruptDatabase
    (a header SQLite cannot read; a truncated file too, unless `notes` takes that problem so
    that what the file still holds can be read).
    """
    path = path.expanduser()
    try:
        info = path.stat()
    except OSError as exc:
        if isinstance(exc, FileNotFoundError | NotADirectoryError):
            raise StoreError(f"no such production database: {path}. Check the path.") from None
        raise StoreError(f"cannot open {path}: {exc.strerror or exc}. Check the path.") from None
    if not stat.S_ISREG(info.st_mode):
        raise NotAPodiumDatabase(f"{path} is not a regular file, so not a production database.")
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise StoreError(
            f"cannot read {path}: {exc.strerror or exc}. Check its permissions."
        ) from None
    if info.st_size == 0:
        raise NotAPodiumDatabase(f"{path} is an empty file, not a production database.")
    try:
        files._check_header(path, header, info.st_size)
    except CorruptDatabase as exc:
        if notes is None or len(header) < 100:
            raise
        notes.append(str(exc).removesuffix(" Restore it from a backup."))
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    with contextlib.ExitStack() as stack:
        if not wal.exists():
            uri = _uri(path, "mode=ro&immutable=1")
        elif shm.exists():
            uri = _uri(path, "mode=ro")
        else:  # SQLite would create the -shm: read a private copy instead
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="podium-check-")))
            copy = folder / path.name
            try:
                shutil.copyfile(path, copy)
                shutil.copyfile(wal, folder / wal.name)
            except OSError as exc:
                raise StoreError(
                    f"cannot copy {path} to read it untouched: {exc.strerror or exc}."
                ) from None
            uri = _uri(copy, "mode=ro")
        try:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise CorruptDatabase(f"{path} cannot be opened: {_message(exc)}.") from None
        stack.callback(conn.close)
        conn.text_factory = bytes  # a row that is not UTF-8 is named by its seq, not fatal
        conn.execute("PRAGMA query_only = ON")
        yield conn


def _uri(path: Path, query: str) -> str:
    return f"file:{quote(str(path.absolute()))}?{query}"


def _message(exc: BaseException) -> str:
    return sanitize(str(exc))[:_SHOWN]


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _identify(path: Path, conn: sqlite3.Connection) -> None:
    """Refuse a file that is not a podium database; CorruptDatabase when that cannot be read."""
    try:
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {
            _text(row[0])
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.Error as exc:
        raise CorruptDatabase(
            f"{path}: its list of tables cannot be read ({_message(exc)})"
        ) from None
    if app_id != files.APPLICATION_ID:
        raise NotAPodiumDatabase(
            f"{path} is not a podium production database. Check the path; podium leaves the "
            "file as it is."
        )
    if version > files.SCHEMA_VERSION:
        raise NewerSchema(
            f"{path} was written by a newer podium (schema version {version}). Upgrade podium "
            "to check it."
        )
    missing = {"events", "meta", "commands"} - tables
    if missing:
        raise CorruptDatabase(f"{path}: the tables {', '.join(sorted(missing))} are missing")


# -- the check -----------------------------------------------------------------------------


def check(path: Path) -> Report:
    """Everything wrong with a production database, read without writing a byte.

    Raises StoreError only when the file is no podium database at all (missing, foreign,
    newer: its schema, or an event a newer podium wrote); damage, however bad, is in the report.
    """
    report = Report(Path(path))
    notes: list[str] = []
    try:
        with open_untouched(Path(path), notes) as conn:
            try:
                _identify(report.path, conn)
            except CorruptDatabase as exc:
                report.unreadable = str(exc)
                return report
            _integrity(conn, report)
            report.integrity[:0] = notes
            for item in scan(conn):
                if isinstance(item, Damage):
                    (report.gaps if item.missing else report.events).append(item)
                else:
                    report.events_read += 1
                    if report.first_seq is None:
                        report.first_seq = item.seq
                    report.last_seq = item.seq
            report.commands_read, report.commands = _commands(conn)
            report.meta_read, report.meta = _meta(conn)
    except CorruptDatabase as exc:
        report.unreadable = str(exc)
        return report
    except NewerPayload as exc:  # not damage: a newer podium reads it
        raise exc.at(report.path) from None
    if report.integrity:  # a page SQLite cannot follow: what it no longer finds is lost
        lost = [
            replace(d, detail="not found: a damaged page no longer leads to them")
            for d in report.gaps
        ]
        report.events = sorted(report.events + lost, key=_order)
        report.gaps = []
    named = {"events": report.events, "commands": report.commands, "meta": report.meta}
    report.tables = sorted(set(report.tables) | {name for name, found in named.items() if found})
    return report


def _order(damage: Damage) -> int:
    return damage.first_seq if damage.first_seq is not None else 0


_PAGE = re.compile(r"\bpage (\d+)", re.IGNORECASE)
_TREE = re.compile(r"\bTree (\d+)")
_INDEX = re.compile(r"\bindex (\w+)")


def _integrity(conn: sqlite3.Connection, report: Report) -> None:
    """SQLite's own checks: quick_check (pages, records) then integrity_check (indexes too)."""
    findings: list[str] = []
    for pragma in ("quick_check", "integrity_check"):
        try:
            rows = conn.execute(f"PRAGMA {pragma}").fetchall()
        except sqlite3.Error as exc:
            stopped = f"SQLite stopped checking: {_message(exc)}"
            if stopped not in findings:
                findings.append(stopped)
            continue
        for (line,) in rows:
            for part in _text(line).splitlines():
                part = part.strip()
                if part and part != "ok" and not part.startswith("*** in database"):
                    text = sanitize(part)[:_SHOWN]
                    if text not in findings:
                        findings.append(text)
    report.integrity = findings
    pages = sorted({int(m) for text in findings for m in _PAGE.findall(text)})
    report.pages = pages
    names: set[str] = {m for text in findings for m in _INDEX.findall(text)}
    roots: dict[int, str] = {}
    with contextlib.suppress(sqlite3.Error):
        for name, root in conn.execute("SELECT name, rootpage FROM sqlite_master"):
            if root:
                roots[int(root)] = _text(name)
    names.update(roots[int(t)] for text in findings for t in _TREE.findall(text) if int(t) in roots)
    if pages:
        with contextlib.suppress(sqlite3.Error):  # dbstat walks the trees: it may fail too
            marks = ", ".join("?" * len(pages))
            found = conn.execute(
                f"SELECT DISTINCT name FROM dbstat WHERE pageno IN ({marks})", pages
            )
            names.update(_text(row[0]) for row in found)
    report.tables = sorted(names)


def _commands(conn: sqlite3.Connection) -> tuple[int, list[Damage]]:
    read, damaged = 0, []
    try:
        for command_id, body in conn.execute("SELECT id, body FROM commands ORDER BY rowid"):
            try:
                decode_command(_text(command_id), body)
            except UndecodableRow as exc:
                damaged.append(Damage(exc.what, exc.detail))
            else:
                read += 1
    except sqlite3.Error as exc:
        damaged.append(
            Damage("the commands table", f"cannot be read past {read} rows ({_message(exc)})")
        )
    return read, damaged


def _meta(conn: sqlite3.Connection) -> tuple[int, list[Damage]]:
    read, damaged = 0, []
    try:
        for key, value in conn.execute("SELECT key, value FROM meta"):
            try:
                if not isinstance(key, bytes) or not isinstance(value, bytes):
                    raise UnicodeDecodeError("utf-8", b"", 0, 0, "not text")
                key.decode("utf-8")
                value.decode("utf-8")
            except UnicodeDecodeError:
                damaged.append(Damage(f"meta {sanitize(_text(key))[:64]!r}", "not UTF-8 text"))
            else:
                read += 1
    except sqlite3.Error as exc:
        damaged.append(
            Damage("the meta table", f"cannot be read past {read} rows ({_message(exc)})")
        )
    return read, damaged


# -- reading what can be read --------------------------------------------------------------


def scan(conn: sqlite3.Connection) -> Iterator[Event | Damage]:
    """Every event that decodes, in seq order, and a Damage for each seq or run that does not.

    Reads the table by seq (never through an index, which may be damaged on its own). When
    SQLite cannot read on, the seqs after the last row read are tried one at a time until one
    reads; a run of unreadable seqs is one Damage. Seqs that are simply not there (a damaged
    page that SQLite no longer finds, or a seq a failed command left unused) come as a Damage
    with `missing` set. The end is the largest seq SQLite can name, or, when it cannot, as many
    seqs as the file could hold.
    """
    bound = _largest_seq(conn)
    capacity = _capacity(conn)
    since = 0  # the last seq read or tried
    expected = 1  # the first seq not yet accounted for

    def account(upto: int) -> Iterator[Damage]:
        nonlocal expected
        if expected < upto:
            yield _missing(expected, upto - 1)
        expected = max(expected, upto)

    while True:
        try:
            for row in conn.execute(
                "SELECT seq, ts, kind, payload FROM events WHERE seq > ? ORDER BY seq", (since,)
            ):
                seq = row[0]
                if not isinstance(seq, int) or seq <= since or (bound is not None and seq > bound):
                    yield Damage(f"a row out of order (seq {seq!r})", "its seq is damaged")
                    continue
                yield from account(seq)
                since, expected = seq, seq + 1
                yield _decode(row)
            if bound is not None:
                yield from account(bound + 1)
            return
        except sqlite3.Error as exc:
            reason = _message(exc)
        # A page after `since` cannot be read: step over the seqs it held, one at a time.
        first = since + 1
        end = bound if bound is not None else since + capacity
        seq = first
        row = None
        while seq <= end:
            try:
                row = conn.execute(
                    "SELECT seq, ts, kind, payload FROM events WHERE seq = ?", (seq,)
                ).fetchone()
            except sqlite3.Error as exc:
                reason = _message(exc)
                seq += 1
                continue
            break
        yield from account(first)
        if seq > first:
            last = min(seq - 1, end)
            yield _run(first, last, reason, open_ended=bound is None and seq > end)
            expected = last + 1
        if seq > end:
            return
        since = seq
        if row is not None:
            expected = seq + 1
            yield _decode(row)


def _run(first: int, last: int, reason: str, *, open_ended: bool = False) -> Damage:
    if open_ended:
        return Damage(f"events from {first} on", f"cannot be read ({reason})", first, None)
    where = f"event {first}" if first == last else f"events {first}–{last}"
    return Damage(where, f"cannot be read ({reason})", first, last)


def _missing(first: int, last: int) -> Damage:
    where = f"event {first}" if first == last else f"events {first}–{last}"
    return Damage(where, "not in the file", first, last, missing=True)


def _decode(row: tuple[object, ...]) -> Event | Damage:
    seq, ts, kind, payload = row
    assert isinstance(seq, int)
    shown = _text(kind)
    try:
        return decode_events([(seq, ts, shown, payload)])[0]
    except UndecodableRow as exc:
        return Damage(exc.what, exc.detail, seq, seq, sanitize(shown)[:64])


def _largest_seq(conn: sqlite3.Connection) -> int | None:
    try:
        value = conn.execute("SELECT max(seq) FROM events").fetchone()[0]
    except sqlite3.Error:
        return None
    return int(value) if isinstance(value, int) else 0


def _capacity(conn: sqlite3.Connection) -> int:
    """How many rows the file could hold at most: a bound when the last seq cannot be read."""
    try:
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    except sqlite3.Error:
        return 1_000_000
    return max(pages * size // _MIN_ROW_BYTES, 1)


def salvage(path: Path) -> tuple[list[Event], Salvage]:
    """The events of a damaged log that can be read, and what was skipped.

    Raises StoreError when the file is no podium database, or when nothing of it can be read.
    """
    events: list[Event] = []
    found = Salvage()
    with open_untouched(Path(path), []) as conn:
        _identify(Path(path), conn)
        try:
            for item in scan(conn):
                if isinstance(item, Damage):
                    (found.missing if item.missing else found.skipped).append(item)
                else:
                    events.append(item)
        except NewerPayload as exc:  # not damage to skip: a newer podium reads it whole
            raise exc.at(path) from None
    found.read = len(events)
    return events, found


__all__ = ["Damage", "Report", "Salvage", "check", "open_untouched", "salvage"]
