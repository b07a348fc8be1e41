"""A prompt's hash with its long first message's hashed prefix kept is the plain JSON's hash."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_hot_path import _reference_hash

from podium.domain.artifacts import Critique, StatusReport
from podium.llm import types
from podium.llm.types import CompletionRequest, Message

_ROLES = st.sampled_from(["system", "user", "assistant"])
_LONG = st.text(min_size=types._PREFIX_MIN, max_size=types._PREFIX_MIN + 40)


def _request(model: str, schema: Any, messages: list[tuple[Any, str]]) -> CompletionRequest:
    return CompletionRequest(
        model=model,
        messages=tuple(Message(role, content) for role, content in messages),
        agent_id="a",
        response_schema=schema,
    )


@given(
    _ROLES,
    _LONG,
    st.lists(st.lists(st.tuples(_ROLES, st.text()), max_size=3), min_size=1, max_size=3),
    st.text(max_size=8),
    st.sampled_from([None, StatusReport, Critique]),
)
def test_a_shared_first_message_hashes_as_the_whole_json(
    role: Any, first: str, tails: list[list[tuple[Any, str]]], model: str, schema: Any
) -> None:
    for tail in tails:  # the same first message again: its kept prefix is used
        request = _request(model, schema, [(role, first), *tail])
        assert request.prompt_hash() == _reference_hash(request)


def test_the_same_text_in_another_role_is_another_prefix() -> None:
    text = "é" * types._PREFIX_MIN
    system = _request("m", None, [("system", text), ("user", "go")])
    user = _request("m", None, [("user", text), ("user", "go")])
    assert system.prompt_hash() == _reference_hash(system)
    assert user.prompt_hash() == _reference_hash(user)
    assert system.prompt_hash() != user.prompt_hash()


def test_the_kept_prefixes_are_bounded() -> None:
    for index in range(types._PREFIX_KEPT * 2):
        request = _request("m", None, [("system", f"{index:04d}" + "x" * types._PREFIX_MIN)])
        assert request.prompt_hash() == _reference_hash(request)
        assert len(types._prefixes) <= types._PREFIX_KEPT
