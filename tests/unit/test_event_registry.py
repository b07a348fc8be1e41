"""One catalogue of event kinds: the payload union, the fold table and the screen's mapping agree
with the registry `@event_kind` fills, and the registry refuses what the store could not read."""

from __future__ import annotations

import typing
from typing import ClassVar, Literal

import pytest

from podium.domain import events, state
from podium.domain.base import Frozen


def union_members() -> set[type]:
    union, _discriminator = typing.get_args(events.Payload)
    return set(typing.get_args(union))


def test_the_payload_union_names_exactly_the_registered_kinds() -> None:
    assert union_members() == set(events.EVENT_TYPES.values())
    assert events.EVENT_KINDS == set(events.EVENT_TYPES)
    for kind, cls in events.EVENT_TYPES.items():
        assert cls.model_fields["kind"].default == kind
        assert next(iter(cls.model_fields)) == "kind"  # replay reads a chunk's head


def test_every_kind_has_exactly_one_fold() -> None:
    assert set(state._FOLD) == set(events.EVENT_TYPES.values())
    with pytest.raises(TypeError, match="two folds"):
        state.folds(events.Feedback)(lambda view, p, ts: None)


def test_the_screen_marks_every_kind_or_says_it_marks_none() -> None:
    from podium.tui import live

    marked, quiet = set(live._MARKS), set(live.QUIET)
    assert not marked & quiet
    assert marked | quiet == set(events.EVENT_TYPES.values())
    with pytest.raises(TypeError, match="marked twice"):
        live.marks(events.OutputChunk)(lambda digest, p, changes: None)


def test_every_versioned_kind_has_its_upcasters() -> None:
    for kind, cls in events.EVENT_TYPES.items():
        for version in range(1, events.version_of(cls)):
            assert (kind, version) in events.UPCASTERS, f"{kind}: no upcaster from v{version}"


def test_event_kind_refuses_what_the_store_could_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "EVENT_TYPES", dict(events.EVENT_TYPES))

    class Again(Frozen):
        kind: Literal["feedback"] = "feedback"

    with pytest.raises(TypeError, match="not a new kind"):
        events.event_kind(Again)

    class NoMarker(Frozen):
        VERSION: ClassVar[int] = 2
        kind: Literal["probe_a"] = "probe_a"

    with pytest.raises(TypeError, match="second v: Literal"):
        events.event_kind(NoMarker)

    class MarkerLate(Frozen):
        VERSION: ClassVar[int] = 2
        kind: Literal["probe_b"] = "probe_b"
        text: str = ""
        v: Literal[2] = 2

    with pytest.raises(TypeError, match="second v"):
        events.event_kind(MarkerLate)

    class KindLate(Frozen):
        text: str = ""
        kind: Literal["probe_c"] = "probe_c"

    with pytest.raises(TypeError, match="first field is kind"):
        events.event_kind(KindLate)

    class Fine(Frozen):
        VERSION: ClassVar[int] = 2
        kind: Literal["probe_d"] = "probe_d"
        v: Literal[2] = 2
        text: str = ""

    assert events.event_kind(Fine) is Fine
    assert events.EVENT_TYPES["probe_d"] is Fine
