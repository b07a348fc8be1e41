"""Payload versions: an older payload is upcast as it is read, a payload without `v` is version 1
(every database written before versions existed), and one a newer podium wrote is refused as a
newer database is (an upgrade reads it), never reported as damage."""

from __future__ import annotations

import functools
import operator
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import pytest
from pydantic import Field, TypeAdapter
from store_helpers import chunk
from test_store_corrupt_rows import insert_raw

from podium.domain import events
from podium.domain.base import Frozen
from podium.domain.state import ProductionView
from podium.store import CorruptDatabase, EventStore, NewerSchema
from podium.store import events as stored
from podium.store.replay import replay
from podium.store.salvage import check, salvage

NEWER = '{"kind":"feedback","v":3,"agent_id":"writer","text":"from the future"}'
SENTENCE = (
    "written by a newer podium (event 2, kind feedback v3; this podium reads up to v1) "
    "— upgrade podium"
)


class FeedbackV2(Frozen):
    """Feedback as a later podium might keep it: lines instead of one text."""

    VERSION: ClassVar[int] = 2
    kind: Literal["feedback"] = "feedback"
    v: Literal[2] = 2
    agent_id: str
    lines: list[str] = Field(default_factory=list)


def lines_from_text(old: dict[str, Any]) -> dict[str, Any]:
    new = {key: value for key, value in old.items() if key != "text"}
    new["lines"] = str(old.get("text", "")).splitlines()
    return new


@pytest.fixture
def feedback_at_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decoder's catalogue with feedback at version 2 and its upcaster from version 1."""
    catalogue = dict(events.EVENT_TYPES)
    monkeypatch.setattr(
        events, "EVENT_TYPES", {k: v for k, v in catalogue.items() if k != "feedback"}
    )
    events.event_kind(FeedbackV2)  # the registry's own checks pass
    catalogue["feedback"] = FeedbackV2
    union: Any = functools.reduce(operator.or_, catalogue.values())
    adapter = TypeAdapter(Annotated[union, Field(discriminator="kind")])
    monkeypatch.setattr(stored, "EVENT_TYPES", catalogue)
    monkeypatch.setattr(stored, "PAYLOAD_ADAPTER", adapter)
    monkeypatch.setattr(stored, "UPCASTERS", {("feedback", 1): lines_from_text})
    monkeypatch.setattr(stored, "_VERSIONED", frozenset({FeedbackV2}))


def test_an_older_payload_is_upcast(feedback_at_v2: None) -> None:
    written = FeedbackV2(agent_id="writer", lines=["kept"])
    text = written.__pydantic_serializer__.to_json(written).decode()
    assert text.startswith('{"kind":"feedback","v":2,')  # its version beside its kind
    rows = [
        '{"kind":"feedback","agent_id":"writer","text":"one\\ntwo"}',
        text,
        '{"kind":"feedback","agent_id":"writer","lines":["x"]}',  # no v: version 1, upcast
    ]

    read = [stored.decode_payload(seq, "feedback", row) for seq, row in enumerate(rows, start=1)]

    assert read == [
        FeedbackV2(agent_id="writer", lines=["one", "two"]),
        written,
        FeedbackV2(agent_id="writer", lines=[]),
    ]


async def test_a_payload_newer_than_the_upcasters_reach_is_refused(
    store: EventStore, db_path: Path, feedback_at_v2: None
) -> None:
    insert_raw(db_path, 1, "feedback", NEWER)
    with pytest.raises(NewerSchema, match=r"kind feedback v3; this podium reads up to v2\)"):
        await store.read()


async def test_version_one_may_be_said_or_left_out(store: EventStore, db_path: Path) -> None:
    insert_raw(db_path, 1, "feedback", '{"kind":"feedback","agent_id":"a","text":"t"}')
    insert_raw(db_path, 2, "feedback", '{"kind":"feedback","v":1,"agent_id":"a","text":"t"}')
    first, second = await store.read()
    assert first.payload == second.payload == events.Feedback(agent_id="a", text="t")


@pytest.mark.parametrize("version", ["0", "-1", '"2"', "true", "1.5"])
async def test_a_version_that_is_no_version_is_damage(
    store: EventStore, db_path: Path, version: str
) -> None:
    insert_raw(
        db_path, 1, "feedback", f'{{"kind":"feedback","v":{version},"agent_id":"a","text":"t"}}'
    )
    with pytest.raises(CorruptDatabase, match="event 1"):
        await store.read()


async def newer_log(
    db_path: Path, store: EventStore, kind: str = "feedback", text: str = NEWER
) -> None:
    store.emit(chunk("fine"))
    await store.flush()
    insert_raw(db_path, 2, kind, text)


async def test_a_newer_payload_is_refused_by_every_reader_not_called_damage(
    store: EventStore, db_path: Path
) -> None:
    await newer_log(db_path, store)

    with pytest.raises(NewerSchema) as read:
        await store.read()
    with pytest.raises(NewerSchema) as replayed:
        await replay(store, ProductionView())
    with pytest.raises(NewerSchema) as checked:
        check(db_path)
    with pytest.raises(NewerSchema) as salvaged:
        salvage(db_path)

    for caught in (read, replayed, checked, salvaged):
        assert not isinstance(caught.value, CorruptDatabase)
        message = str(caught.value)
        assert message.startswith(f"{db_path}: {SENTENCE}"), message
        assert "damaged" not in message


async def test_a_kind_this_podium_does_not_know_is_a_newer_podiums_not_damage(
    store: EventStore, db_path: Path
) -> None:
    """A later podium adds kinds (task_settled was one): a whole row of an unknown kind is
    refused as newer by every reader; one whose payload and column disagree is damage."""
    await newer_log(db_path, store, "stage_lit", '{"kind":"stage_lit","task_id":"t1"}')
    sentence = (
        "written by a newer podium (event 2, kind stage_lit v1; a kind this podium does not "
        "know) — upgrade podium"
    )
    for read in (store.read, lambda: replay(store, ProductionView())):
        with pytest.raises(NewerSchema) as caught:
            await read()
        assert not isinstance(caught.value, CorruptDatabase)
        assert sentence in str(caught.value)
    for whole in (check, salvage):
        with pytest.raises(NewerSchema, match="a kind this podium does not know"):
            whole(db_path)


async def test_a_row_naming_an_unknown_kind_unlike_its_column_is_damage(
    store: EventStore, db_path: Path
) -> None:
    await newer_log(db_path, store, "feedback", '{"kind":"stage_lit","task_id":"t1"}')
    with pytest.raises(CorruptDatabase, match="event 2"):
        await store.read()


async def test_a_newer_chunk_is_refused_by_replay_even_where_it_no_longer_shows(
    store: EventStore, db_path: Path
) -> None:
    newer_chunk = '{"kind":"output_chunk","v":2,"task_id":"t","agent_id":"writer","text":"x"}'
    await newer_log(db_path, store, "output_chunk", newer_chunk)
    with pytest.raises(
        NewerSchema, match=r"event 2, kind output_chunk v2; this podium reads up to v1"
    ):
        await replay(store, ProductionView())
