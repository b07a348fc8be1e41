"""A long stream through litellm holds a few dozen chunks, not every chunk (issue 20).

litellm's stream wrapper keeps each chunk it hands over (a pydantic object of about 3.7 KB)
until the stream ends; thirty long replies grew the provider worker by 430 MB a minute. The
backend gives the wrapper a `FoldedChunks` list: runs of text-only chunks are folded into one,
so the list stays short, and what litellm builds from it at the end (the whole text, the usage
it counts when the provider sends none) is what it built from every chunk.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import FakeOpenAI, Reply  # noqa: E402
from podium.llm import litellm_chunks  # noqa: E402
from podium.llm.litellm_backend import LiteLLMBackend  # noqa: E402
from podium.llm.litellm_chunks import KEEP, FoldedChunks, fold, text_only  # noqa: E402
from podium.llm.litellm_loader import load_litellm  # noqa: E402
from podium.llm.types import CompletionRequest, Message  # noqa: E402

MODEL = "openai/podium-test-unknown"
KEY_ENV = "PODIUM_TEST_PROVIDER_KEY"
CHUNKS = 1500
BOUND = 2 + KEEP + litellm_chunks.BATCH  # the first chunk, a carrier, the newest, a batch

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")
pytest_plugins = ("fakes.litellm_backend",)

MakeBackend = Callable[..., LiteLLMBackend]


@pytest.fixture
def make_backend(litellm_backends: Callable[..., MakeBackend]) -> MakeBackend:
    return litellm_backends(KEY_ENV, "sk-podium-test", [MODEL])


def words(count: int) -> list[str]:
    return [f"w{i % 37} " for i in range(count)]


def ask() -> CompletionRequest:
    return CompletionRequest(
        model=MODEL, messages=(Message("user", "Write on."),), agent_id="writer", task_id="t1"
    )


async def test_the_backend_keeps_a_long_streams_chunk_list_short(
    make_backend: MakeBackend, provider: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider.script([Reply(chunks=words(CHUNKS), prompt_tokens=12, completion_tokens=CHUNKS)])
    litellm = load_litellm()
    streams: list[Any] = []
    acompletion = litellm.acompletion

    async def spy(**kwargs: Any) -> Any:
        response = await acompletion(**kwargs)
        streams.append(response)
        return response

    monkeypatch.setattr(litellm, "acompletion", spy)
    stream = make_backend().complete(ask())
    longest = 0
    pieces: list[str] = []
    async for piece in stream:
        pieces.append(piece)
        longest = max(longest, len(streams[0].chunks))

    assert "".join(pieces) == stream.result.text == "".join(words(CHUNKS))
    assert (stream.result.input_tokens, stream.result.output_tokens) == (12, CHUNKS)
    assert longest <= BOUND  # every chunk, before: 1,500 and more


@pytest.mark.parametrize("usage", [True, False], ids=["provider-usage", "counted"])
async def test_litellm_builds_the_same_response_from_the_folded_list(
    provider: FakeOpenAI, usage: bool
) -> None:
    litellm = load_litellm()
    messages = [{"role": "user", "content": "Write on."}]
    built: list[tuple[str, Any, Any]] = []
    for folded in (False, True):
        provider.script([Reply(chunks=words(CHUNKS), include_usage=usage)])
        response = await litellm.acompletion(
            model=MODEL,
            messages=messages,
            api_base=provider.api_base,
            api_key="sk-podium-test",
            stream=True,
            stream_options={"include_usage": True},
        )
        if folded:
            fold(response)
        final: Any = None
        async for chunk in response:
            if getattr(chunk, "usage", None) is not None:
                final = chunk.usage
        whole = litellm.stream_chunk_builder(chunks=response.chunks, messages=messages)
        built.append((whole.choices[0].message.content, whole.usage.completion_tokens, final))
        if folded:
            assert isinstance(response.chunks, FoldedChunks)
            assert response.chunks.folded > CHUNKS - BOUND
    (text, tokens, final), (text_folded, tokens_folded, final_folded) = built
    assert text == text_folded == "".join(words(CHUNKS))
    assert tokens == tokens_folded
    assert (final.prompt_tokens, final.completion_tokens) == (
        final_folded.prompt_tokens,
        final_folded.completion_tokens,
    )


def test_chunks_carrying_more_than_text_stay_in_their_place() -> None:
    load_litellm()
    from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices

    def chunk(content: str | None = None, **delta: Any) -> Any:
        return ModelResponseStream(
            id="c1", choices=[StreamingChoices(delta=Delta(content=content, **delta))]
        )

    tool = chunk(tool_calls=[{"index": 0, "id": "x", "function": {"name": "f", "arguments": ""}}])
    reasoning = chunk(reasoning_content="hmm")
    assert text_only(chunk("a")) == "a"
    assert text_only(tool) is None and text_only(reasoning) is None

    chunks = FoldedChunks()
    sent = [chunk("first")]
    sent += [chunk(f"a{i} ") for i in range(100)]
    sent += [tool]
    sent += [chunk(f"b{i} ") for i in range(100)]
    sent += [reasoning]
    sent += [chunk(f"c{i} ") for i in range(300)]
    for item in sent:
        chunks.append(item)

    assert len(chunks) <= 2 * BOUND
    assert chunks[0] is sent[0]
    assert tool in chunks and reasoning in chunks
    assert chunks.index(tool) < chunks.index(reasoning)
    assert chunks[-KEEP:] == sent[-KEEP:]  # the newest as they came

    def text(items: list[Any]) -> str:
        return "".join(c.choices[0].delta.content or "" for c in items)

    expected = (
        "first"
        + "".join(f"a{i} " for i in range(100))
        + "".join(f"b{i} " for i in range(100))
        + "".join(f"c{i} " for i in range(300))
    )
    assert text(chunks) == expected
