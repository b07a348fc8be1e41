"""Shortcuts on the path of every model call give exactly what the plain code gave."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from podium.domain.artifacts import Critique, StatusReport
from podium.domain.text import sanitize, sanitize_joined
from podium.llm.rehearsal.backend import _fate
from podium.llm.rehearsal.material import Material
from podium.llm.types import CompletionRequest, Message

# Text with what sanitize cares about, so pieces often split a CR LF or an escape sequence.
_TRICKY = st.text(alphabet=st.sampled_from(list("ab \n\t\r\x1b[]0;m\x07\x9b\x9d\x00é😀\\")))


@given(st.lists(_TRICKY, min_size=1, max_size=6))
def test_sanitize_joined_is_sanitizing_each_piece(pieces: list[str]) -> None:
    assert sanitize_joined(pieces) == "".join(sanitize(p) for p in pieces)


def _reference_hash(request: CompletionRequest) -> str:
    body = json.dumps(
        {
            "model": request.model,
            "messages": [[m.role, m.content] for m in request.messages],
            "schema": request.response_schema.__name__ if request.response_schema else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@given(
    st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), st.text()), max_size=3),
    st.text(),
    st.sampled_from([None, StatusReport, Critique]),
)
def test_prompt_hash_is_the_json_of_the_request(
    messages: list[tuple[Any, str]], model: str, schema: Any
) -> None:
    request = CompletionRequest(
        model=model,
        messages=tuple(Message(role, content) for role, content in messages),
        agent_id="a",
        response_schema=schema,
    )
    assert request.prompt_hash() == _reference_hash(request)


def _hints(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Tidewater",
        "format": "short_film",
        "premise": "A ferry mechanic keeps the last ferry running.",
        "themes": ["duty", "family"],
        "characters": [{"name": "Mara", "description": "A mechanic.", "voice": "dry"}],
        "locations": ["the engine room: pipes, heat", "the quay"],
        "palette": ["rust"],
        **extra,
    }


def test_production_facts_are_read_again_when_they_change() -> None:
    hints = _hints()
    first = Material.from_hints(hints)
    assert Material.from_hints(_hints()) == first  # the same facts, read once
    hints["themes"].append("the sea")  # the caller's own list, changed in place
    hints["characters"][0]["name"] = "Ines"
    again = Material.from_hints(hints)
    assert again.themes == ["duty", "family", "the sea"]
    assert [c.name for c in again.characters] == ["Ines"]
    assert again.location_notes == {"the engine room": "pipes, heat"}


def test_facts_of_the_wrong_type_are_read_without_the_cache() -> None:
    odd = Material.from_hints(_hints(title=["not", "text"], tone={"a": 1}))
    assert odd.title == ""
    assert odd.tone == ""
    assert odd.themes == ["duty", "family"]


def test_a_rate_of_zero_never_fails_and_one_always_does() -> None:
    request = CompletionRequest(model="rehearsal/x", messages=(), agent_id="a")
    assert _fate("material", request, 0.0) is None
    failed = _fate("material", request, 1.0)
    assert failed is not None and failed[0].retryable
