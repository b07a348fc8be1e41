"""A message joined from parts (a prompt's inputs) hashes, seeds the rehearsal model and travels
as the same message made from its text: the parts only spare work."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_hot_path import _reference_hash

from podium.llm.rehearsal.seeding import seed_material
from podium.llm.types import CompletionRequest, Message

# Text rich in newlines and blank lines (where the blocks are cut), escapes, surrogates and
# characters on either side of them (UTF-8 order must be the text's).
_CHARS = ["a", "B", " ", "\n", "\n\n", '"', "\\", "é", "\x00", "\x01", "\ud7ff", "\ud800"]
_CHARS += ["\udfff", "\ue000", "\uffff", "\U0001f600"]
_TEXT = st.lists(st.sampled_from(_CHARS)).map("".join)
_PARTS = st.lists(_TEXT, min_size=1, max_size=5)


def _reference_seed(seed: int, request: CompletionRequest) -> str:
    """seed_material as first written: the sorted blocks' text, one by one."""
    digest = hashlib.sha256()
    for block in sorted(b for m in request.messages for b in m.content.split("\n\n")):
        digest.update(block.encode("utf-8", "surrogatepass"))
        digest.update(b"\x01")
    parts = (str(seed), request.model, request.agent_id, request.task_id or "", request.purpose)
    return "\x1f".join((*parts, str(request.attempt), digest.hexdigest()))


def _request(messages: tuple[Message, ...]) -> CompletionRequest:
    return CompletionRequest(model="rehearsal/x", messages=messages, agent_id="a", task_id="t")


@given(st.lists(_PARTS, min_size=1, max_size=3), _TEXT)
def test_a_joined_message_hashes_and_seeds_as_its_text(
    parts_seen: list[list[str]], task: str
) -> None:
    for parts in parts_seen:  # parts seen before are read from what was kept
        joined = Message.joined("user", parts)
        plain = Message("user", "\n\n".join(parts))
        assert joined == plain and joined.parts == tuple(parts)
        first = Message("system", "S" * 600)  # long: its hashed prefix is kept
        with_parts = _request((first, joined, Message("user", task)))
        without = _request((first, plain, Message("user", task)))
        assert with_parts.prompt_hash() == without.prompt_hash() == _reference_hash(without)
        assert seed_material(3, with_parts) == seed_material(3, without)
        assert seed_material(3, without) == _reference_seed(3, without)
        short = _request((joined,))  # a first message too short for a kept prefix
        assert short.prompt_hash() == _reference_hash(_request((plain,)))


def test_the_parts_are_neither_pickled_nor_replaced_nor_shown() -> None:
    joined = Message.joined("user", ["one", "two"])
    again: Any = pickle.loads(pickle.dumps(joined))
    assert again == joined and again.parts is None
    assert len(pickle.dumps(joined)) == len(pickle.dumps(Message("user", "one\n\ntwo")))
    changed = dataclasses.replace(joined, content="other")
    assert changed.parts is None  # a message made anew is read whole
    assert repr(joined) == repr(Message("user", "one\n\ntwo"))


@given(st.lists(_PARTS, min_size=1, max_size=3), st.lists(_TEXT, min_size=1, max_size=3), _TEXT)
def test_a_prompt_laid_out_seeds_as_its_text_whatever_the_order_of_its_inputs(
    parts_seen: list[list[str]], agents: list[str], task: str
) -> None:
    """As `layout` lays a prompt out (system, agent, inputs joined, task), the inputs in turn
    (a dense plan's layer): the sorted blocks kept for a set of parts, and a long system
    prompt's blocks, seed as the text does, call after call."""
    first = Message("system", "S\n\n" * 300)  # long: its blocks are kept
    for parts in parts_seen + parts_seen:  # the second time round, from what was kept
        for turn in range(len(parts)):
            turned = parts[turn:] + parts[:turn]
            joined = Message.joined("user", turned)
            plain = Message("user", "\n\n".join(turned))
            for agent in agents:
                second = Message("system", agent)
                with_parts = _request((first, second, joined, Message("user", task)))
                without = _request((first, second, plain, Message("user", task)))
                assert seed_material(3, with_parts) == seed_material(3, without)
                assert seed_material(3, without) == _reference_seed(3, without)
                assert with_parts.prompt_hash() == _reference_hash(without)
