"""Rows of the `events` table and the models they stand for.

Kept apart from the connection code so the one place that turns stored text back into events is
small, pure and easy to test: a row that does not parse names its seq instead of crashing a reload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from podium.domain.escalation import Command
from podium.domain.events import PAYLOAD_ADAPTER, Event, Payload
from podium.domain.text import sanitize

Row = tuple[int, float, str, str]
"""(seq, ts, kind, payload JSON), exactly the columns of `events`."""

INSERT_EVENTS = "INSERT INTO events (seq, ts, kind, payload) VALUES (?, ?, ?, ?)"

STREAMED_KIND = "output_chunk"
"""Most rows of a log; the kind index leaves them out (see schema.sql)."""


class UndecodableRow(ValueError):
    """A stored row that is not a valid event or command; the store reports it as corruption."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what} cannot be read: {detail}")
        self.what = what
        self.detail = detail


def decode_events(rows: Iterable[Sequence[Any]]) -> list[Event]:
    """Parse stored rows: the payload must be exactly one valid event payload."""
    validate = PAYLOAD_ADAPTER.validate_json
    events: list[Event] = []
    append = events.append
    for seq, ts, kind, text in rows:
        try:
            append(Event(seq=seq, ts=ts, payload=validate(text)))
        except (ValidationError, ValueError, TypeError) as exc:
            raise UndecodableRow(f"event {seq} ({_shown(kind)})", _describe(exc)) from None
    return events


def decode_payload(seq: int, kind: str, text: str) -> Payload:
    """One stored payload; UndecodableRow names the seq when it is not a valid one."""
    try:
        return PAYLOAD_ADAPTER.validate_json(text)
    except (ValidationError, ValueError, TypeError) as exc:
        raise UndecodableRow(f"event {seq} ({_shown(kind)})", _describe(exc)) from None


def decode_command(command_id: Any, body: Any) -> Command:
    try:
        return Command.model_validate_json(body)
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
