"""The books' token fallback (issue 17, books that do not lie): when litellm cannot count a
request's tokens, podium estimates them from the text sent, a token for four characters,
whatever shape the messages have (plain strings, or cache-marked lists of text blocks)."""

from __future__ import annotations

from typing import Any

from podium.domain.production import ModelSettings
from podium.llm.litellm_books import Books
from podium.llm.litellm_requests import EPHEMERAL


class NoCounter:
    """A litellm whose tokenizer fails on every call, and which prices nothing."""

    def token_counter(self, **_: Any) -> int:
        raise ValueError("no tokenizer for this model")

    def cost_per_token(self, **_: Any) -> tuple[float, float]:
        raise ValueError("no price")

    def get_model_info(self, model: str) -> dict[str, Any]:
        raise ValueError(model)


def booked_input(messages: list[dict[str, Any]]) -> int:
    books = Books(NoCounter(), "someone/unknown", ModelSettings())
    call = books.add(messages)
    call.sent = True
    return books.result("reply").input_tokens


def test_cache_marked_messages_count_the_text_of_their_blocks() -> None:
    system, inputs = "s" * 4000, "i" * 8000
    plain = [
        {"role": "system", "content": system},
        {"role": "user", "content": inputs},
        {"role": "user", "content": "Write it."},
    ]
    marked = [
        {
            "role": "system",
            "content": [{"type": "text", "text": system, "cache_control": EPHEMERAL}],
        },
        {"role": "user", "content": [{"type": "text", "text": inputs, "cache_control": EPHEMERAL}]},
        {"role": "user", "content": "Write it."},
    ]
    assert booked_input(plain) == (4000 + 8000 + 9) // 4 + 1
    # Before: each list of blocks counted as its length (1), so 12,009 characters booked 3 tokens.
    assert booked_input(marked) == booked_input(plain)


def test_blocks_that_are_not_text_and_empty_contents_count_nothing() -> None:
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "a" * 400},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "text", "text": "b" * 400},
            ],
        },
        {"role": "assistant", "content": None},
    ]
    assert booked_input(messages) == 800 // 4 + 1


def test_a_long_replys_text_is_kept_in_a_few_pieces() -> None:
    """A request's text grows by one piece a chunk: joined every JOIN_EVERY pieces, neither
    copied whole at each chunk nor kept as one small string per chunk."""
    from podium.llm.litellm_books import JOIN_EVERY, Call

    call = Call([])
    assert call.text == ""
    for index in range(5 * JOIN_EVERY + 3):
        call.add(f"w{index} ")
        assert len(call.pieces) < JOIN_EVERY
    assert call.text == "".join(f"w{index} " for index in range(5 * JOIN_EVERY + 3))
    assert len(call.pieces) == 1
