"""Rows of the `events` table and the models they stand for.

Kept apart from the connection code so the one place that turns stored text back into events is
small, pure and easy to test: a row that does not parse names its seq instead of crashing a reload.

Versions: a payload is stored as its JSON, `kind` first; a payload class at version 2 or later
(`VERSION`, see `podium.domain.events.event_kind`) writes `"v": N` too, and a payload without `v`
is version 1 (so every database written before versions existed reads as it did). An older
version is upcast through `UPCASTERS` before it is validated; a newer one than this podium knows
is refused with `NewerPayload` (a `NewerSchema`: an upgrade reads it, it is not damage).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from podium.domain.escalation import Command, command_adapter
from podium.domain.events import (
    EVENT_TYPES,
    PAYLOAD_ADAPTER,
    UPCASTERS,
    Event,
    OutputChunk,
    Payload,
    version_of,
)
from podium.domain.text import sanitize
from podium.store.errors import NewerSchema

Row = tuple[int, float, str, str]
"""(seq, ts, kind, payload JSON), exactly the columns of `events`."""

INSERT_EVENTS = "INSERT INTO events (seq, ts, kind, payload) VALUES (?, ?, ?, ?)"

_KIND_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""What a kind's name looks like: a row whose payload names one this podium lacks, the same as
its `kind` column, is a newer podium's (`NewerPayload`), not damage."""

STREAMED_KIND = OutputChunk.model_fields["kind"].default
"""Most rows of a log; the kind index leaves them out (see schema.sql)."""

_VERSIONED = frozenset(cls for cls in EVENT_TYPES.values() if version_of(cls) > 1)


class UndecodableRow(ValueError):
    """A stored row that is not a valid event or command; the store reports it as corruption."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what} cannot be read: {detail}")
        self.what = what
        self.detail = detail


class NewerPayload(NewerSchema):
    """A payload of a version newer than this podium reads: not damage, an upgrade reads it."""

    def __init__(
        self, seq: int, kind: str, version: int, known: int, path: Path | str = ""
    ) -> None:
        self.seq, self.kind, self.version, self.known = seq, kind, version, known
        where = f"{path}: " if path else ""
        reads = f"this podium reads up to v{known}" if known else "a kind this podium does not know"
        super().__init__(
            f"{where}written by a newer podium (event {seq}, kind {kind} v{version}; {reads}) "
            "— upgrade podium to read it."
        )

    def at(self, path: Path | str) -> NewerPayload:
        """The same refusal, naming the database."""
        return NewerPayload(self.seq, self.kind, self.version, self.known, path)


def decode_events(rows: Iterable[Sequence[Any]]) -> list[Event]:
    """Parse stored rows: the payload must be exactly one valid event payload."""
    events: list[Event] = []
    append = events.append
    validate = PAYLOAD_ADAPTER.validate_json  # decode_payload, inlined: this runs for every row
    versioned = _VERSIONED
    for seq, ts, kind, text in rows:
        try:
            payload = validate(text)
        except (ValidationError, ValueError, TypeError) as exc:
            payload = _versioned(seq, kind, text, exc)
        else:
            if type(payload) in versioned and "v" not in payload.model_fields_set:
                payload = _versioned(seq, kind, text, None)
        try:
            append(Event(seq=seq, ts=ts, payload=payload))
        except (ValidationError, ValueError, TypeError) as exc:  # its seq or time is damaged
            raise _undecodable(seq, kind, exc) from None
    return events


def decode_payload(seq: int, kind: str, text: str | bytes) -> Payload:
    """One stored payload, upcast to this podium's version of its kind.

    Raises UndecodableRow (naming the seq) when it is not a valid payload, NewerPayload when a
    newer podium wrote it.
    """
    try:
        payload = PAYLOAD_ADAPTER.validate_json(text)
    except (ValidationError, ValueError, TypeError) as exc:
        return _versioned(seq, kind, text, exc)
    if type(payload) in _VERSIONED and "v" not in payload.model_fields_set:
        return _versioned(seq, kind, text, None)  # a version 1 row that happens to validate
    return payload


def _versioned(seq: int, kind: str, text: str | bytes, error: Exception | None) -> Payload:
    """The slow path: a row that carries a version other than its kind's, or is damaged."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        data = None
    if not isinstance(data, dict) or not isinstance(name := data.get("kind"), str):
        raise _undecodable(seq, kind, error or ValueError())
    cls = EVENT_TYPES.get(name)
    version = data.get("v", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _undecodable(seq, kind, error or ValueError())
    if cls is None:
        if name == kind and _KIND_NAME.fullmatch(name):  # a whole row of a kind added later
            raise NewerPayload(seq, name, version, 0)
        raise _undecodable(seq, kind, error or ValueError())
    known = version_of(cls)
    if version > known:
        raise NewerPayload(seq, name, version, known)
    if version == known == 1 and "v" not in data and error is not None:
        raise _undecodable(seq, kind, error)  # an ordinary damaged row
    while version < known:
        upcast = UPCASTERS.get((name, version))
        if upcast is None:  # a podium without the way up: a bug, said as such
            raise UndecodableRow(
                f"event {seq} ({_shown(kind)})",
                f"this podium has no upcaster from {name} v{version}",
            )
        data = upcast(dict(data))
        version += 1
    data.pop("v", None)
    if known > 1:
        data["v"] = known
    try:
        return PAYLOAD_ADAPTER.validate_python(data)
    except (ValidationError, ValueError, TypeError) as exc:
        raise _undecodable(seq, kind, exc) from None


def _undecodable(seq: int, kind: str, exc: Exception) -> UndecodableRow:
    return UndecodableRow(f"event {seq} ({_shown(kind)})", _describe(exc))


def decode_command(command_id: Any, body: Any) -> Command:
    try:
        return command_adapter().validate_json(body)
    except (ValidationError, ValueError, TypeError) as exc:
        raise UndecodableRow(f"command {_shown(command_id)}", _describe(exc)) from None


def _describe(exc: Exception) -> str:
    """The first problem, without the stored value: it may be model output, and it may be huge."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if errors:
            first = errors[0]
            where = ".".join(str(part) for part in first["loc"]) or "payload"
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return f"{where}: {first['msg']}{more}"
    return type(exc).__name__


def _shown(value: Any) -> str:
    return repr(sanitize(str(value))[:64])
