"""How the litellm backend asks for replies and books them, against the fake provider on
127.0.0.1 (OpenAI's protocol, and Anthropic's at /v1/messages): structured output, prose,
the token limit, whole-call and stall timeouts, cached tokens, the books of failed and
cancelled calls, clean provider error lines, and a LiteLLM Proxy as the one gateway."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import FakeOpenAI, Malformed, Reply, Status  # noqa: E402
from podium.domain.artifacts import Critique, Prose  # noqa: E402
from podium.llm.litellm_backend import LiteLLMBackend, strict_schema  # noqa: E402
from podium.llm.types import (  # noqa: E402
    CompletionRequest,
    CompletionResult,
    FailureKind,
    LLMError,
    Message,
    schema_json,
)

KNOWN = "openai/gpt-4o-mini"  # litellm: priced, takes a JSON schema, 16,384 output tokens
UNKNOWN = "openai/podium-test-unknown"  # litellm knows neither its price nor a schema mode
CLAUDE = "anthropic/claude-haiku-4-5"  # priced by litellm, cache reads and writes included
PROXY = "litellm_proxy/studio-writer"  # a model name the proxy (here: the fake) routes
KEY_ENV = "PODIUM_TEST_REPLIES_KEY"
KEY = "sk-podium-replies-7d41c2e9a0b3"

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")
pytest_plugins = ("fakes.litellm_backend",)  # the fake provider's fixtures

MakeBackend = Callable[..., LiteLLMBackend]


@pytest.fixture
def server(provider: FakeOpenAI) -> FakeOpenAI:
    return provider


@pytest.fixture
def make_backend(litellm_backends: Callable[..., MakeBackend]) -> MakeBackend:
    return litellm_backends(KEY_ENV, KEY, [KNOWN, UNKNOWN, PROXY], anthropic=[CLAUDE])


def ask(
    model: str = KNOWN,
    schema: type[BaseModel] | None = None,
    *,
    kind: str = "chapter",
    user: str = "Write the opening line.",
) -> CompletionRequest:
    return CompletionRequest(
        model=model,
        messages=(Message("system", "You are the writer."), Message("user", user)),
        agent_id="writer",
        task_id="t1",
        response_schema=schema,
        hints={"kind": kind},
    )


async def run(backend: LiteLLMBackend, request: CompletionRequest) -> CompletionResult:
    return await backend.complete(request).collect()


async def fail(backend: LiteLLMBackend, request: CompletionRequest) -> LLMError:
    with pytest.raises(LLMError) as caught:
        await backend.complete(request).collect()
    return caught.value


def text_of(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content)


# --- how replies are asked for --------------------------------------------------------------


async def test_a_model_that_takes_a_schema_gets_it_strict(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(text='{"verdict": "approve", "summary": "Clear."}')])
    result = await run(make_backend(), ask(schema=Critique))
    assert isinstance(result.parsed, Critique)
    [sent] = server.requests
    fmt = sent.json["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Critique"
    assert fmt["json_schema"]["strict"] is True
    body = fmt["json_schema"]["schema"]
    assert body["additionalProperties"] is False
    assert sorted(body["required"]) == sorted(body["properties"])


async def test_a_model_without_a_schema_mode_gets_json_mode(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(text='{"verdict": "approve"}')])
    await run(make_backend(), ask(UNKNOWN, Critique))
    assert server.requests[0].json["response_format"] == {"type": "json_object"}


def test_the_strict_schema_is_built_once_and_closes_every_object() -> None:
    body, strict = strict_schema(Critique)
    assert strict_schema(Critique)[0] is body  # cached per class
    assert schema_json(Critique) is schema_json(Critique)

    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for item in node:
                yield from objects(item)

    assert strict
    for node in objects(body):
        assert node["additionalProperties"] is False
        assert set(node["required"]) == set(node["properties"])
        assert all("default" not in p for p in node["properties"].values())

    class Open(BaseModel):
        notes: dict[str, str]

    assert strict_schema(Open)[1] is False  # an open mapping cannot be strict


async def test_the_schema_is_sent_once(make_backend: MakeBackend, server: FakeOpenAI) -> None:
    """A prompt that carries the schema already (the engine's do) gets no second copy."""
    server.script([Reply(text='{"verdict": "approve"}')] * 2)
    carried = f"Answer with one JSON object matching this schema:\n{schema_json(Critique)}"
    await run(make_backend(), ask(schema=Critique, user=carried))
    await run(make_backend(), ask(schema=Critique))
    for sent in server.requests:
        everything = "".join(text_of(m) for m in sent.messages)
        assert everything.count(schema_json(Critique)) == 1


async def test_prose_may_come_back_as_plain_prose(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(text="The ice sang under the runners.")])
    result = await run(make_backend(), ask(schema=Prose))
    assert result.text == "The ice sang under the runners."
    assert result.parsed is None  # the engine wraps it as Prose (agent_runner._content)
    [sent] = server.requests  # no repair request
    assert "response_format" not in sent.json


# --- the token limit ------------------------------------------------------------------------


async def test_max_tokens_by_kind_defaults_and_settings(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    await run(make_backend(), ask(kind="chapter"))
    await run(make_backend(), ask(kind="script"))
    await run(make_backend(max_tokens={"chapter": 900, "default": 2000}), ask(kind="chapter"))
    await run(make_backend(max_tokens={"default": 2000}), ask(kind="review"))
    sent = [r.json["max_tokens"] for r in server.requests]
    assert sent == [4096, 16384, 900, 2000]


async def test_a_reply_cut_off_at_the_limit_is_continued(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script(
        [
            Reply(text='{"verdict": "appr', finish_reason="length", prompt_tokens=50),
            Reply(text='ove", "summary": "Clear."}', prompt_tokens=60),
        ]
    )
    result = await run(make_backend(), ask(schema=Critique))
    assert isinstance(result.parsed, Critique) and result.parsed.verdict == "approve"
    assert result.input_tokens == 110
    first, second = server.requests
    assert second.messages[-2] == {"role": "assistant", "content": '{"verdict": "appr'}
    assert "cut off at the token limit" in second.messages[-1]["content"]
    assert "response_format" not in second.json  # a fragment, not a whole object
    assert "not valid" not in second.messages[-1]["content"]  # never a repair request


async def test_a_reply_still_cut_off_says_so_and_books_its_tokens(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    cut = Reply(text='{"verdict": "a', finish_reason="length", prompt_tokens=40)
    server.script([cut, cut])
    error = await fail(make_backend(continuations=1), ask(schema=Critique))
    assert error.kind is FailureKind.TOKEN_LIMIT
    assert "cut off at the token limit" in error.message
    assert "max_tokens 4096" in error.message
    assert "JSON" not in error.message and "EOF" not in error.message
    assert len(server.requests) == 2  # the reply and one continuation; no repair
    assert error.spent is not None and error.spent.input_tokens == 80
    assert error.spent.cost_usd is not None and error.spent.cost_usd > 0


# --- timeouts -------------------------------------------------------------------------------


async def test_timeout_bounds_the_whole_call_not_just_the_gaps(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    """A steady stream (a chunk every 0.2 s, 1.6 s in all) fails a 0.6 s timeout."""
    server.script([Reply(chunks=[f"w{i} " for i in range(9)], chunk_delay_s=0.2)])
    error = await fail(make_backend(timeout_s=0.6), ask())
    assert error.kind is FailureKind.TIMEOUT
    assert "longer than timeout_s = 0.6 s" in error.message


async def test_a_stall_between_chunks_times_out_on_its_own(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(chunks=["one ", "two"], chunk_delay_s=3.0)])
    error = await fail(make_backend(timeout_s=20.0, stall_timeout_s=0.3), ask())
    assert error.kind is FailureKind.TIMEOUT
    assert "no text from the provider for 0.3 s" in error.message


# --- cached tokens --------------------------------------------------------------------------


async def test_openai_cached_tokens_are_recorded_and_priced_lower(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script(
        [
            Reply(text="Fine.", prompt_tokens=1000, completion_tokens=100),
            Reply(text="Fine.", prompt_tokens=1000, completion_tokens=100, cached_tokens=800),
        ]
    )
    plain = await run(make_backend(), ask())
    cached = await run(make_backend(), ask())
    assert (plain.cached_input_tokens, cached.cached_input_tokens) == (0, 800)
    assert plain.cost_usd == pytest.approx(1000 * 0.15e-6 + 100 * 0.6e-6)
    # gpt-4o-mini reads cached input at half the input price
    assert cached.cost_usd == pytest.approx(200 * 0.15e-6 + 800 * 0.075e-6 + 100 * 0.6e-6)


async def test_configured_prices_price_cached_input_apart(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script(
        [Reply(text="Fine.", prompt_tokens=1000, completion_tokens=10, cached_tokens=600)]
    )
    backend = make_backend(
        input_cost_per_token=1e-6, output_cost_per_token=2e-6, cached_input_cost_per_token=1e-7
    )
    result = await run(backend, ask(UNKNOWN))
    assert result.cost_usd == pytest.approx(400 * 1e-6 + 600 * 1e-7 + 10 * 2e-6)


async def test_anthropic_marks_the_system_text_cacheable_and_books_cache_use(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script(
        [
            Reply(
                text="The ice sang.",
                prompt_tokens=1000,  # Anthropic's input_tokens: the uncached part
                completion_tokens=100,
                cached_tokens=800,
                cache_write_tokens=100,
            )
        ]
    )
    result = await run(make_backend(), ask(CLAUDE))
    [sent] = server.requests
    assert sent.path == "/v1/messages"
    assert sent.json["system"] == [
        {"type": "text", "text": "You are the writer.", "cache_control": {"type": "ephemeral"}}
    ]
    assert sent.headers["x-api-key"] == KEY
    assert (result.cached_input_tokens, result.cache_write_tokens) == (800, 100)
    assert result.input_tokens == 1900
    # claude-haiku-4-5: $1/M in, a cache read a tenth of that, a cache write 1.25 times, $5/M out
    assert result.cost_usd == pytest.approx(1000e-6 + 800 * 0.1e-6 + 100 * 1.25e-6 + 100 * 5e-6)


async def test_anthropic_caches_the_inputs_as_well_as_the_system_text(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    """A prompt laid out by `podium.engine.prompts.layout`: two system blocks, the inputs, the
    task. The inputs (shared by every call reading the same work) carry the third mark."""
    request = CompletionRequest(
        model=CLAUDE,
        messages=(
            Message("system", "PRODUCTION: the rules, the vision."),
            Message("system", "You are the writer."),
            Message("user", "INPUT from outline (outline):\nThe whole outline."),
            Message("user", "TASK chapter-1 (chapter): write it."),
        ),
        agent_id="writer",
        task_id="chapter-1",
        hints={"kind": "chapter"},
    )
    await run(make_backend(), request)
    [sent] = server.requests
    mark = {"type": "ephemeral"}
    assert [b.get("cache_control") for b in sent.json["system"]] == [mark, mark]
    [turn] = sent.json["messages"]  # the two user messages, one turn for Anthropic
    assert turn["role"] == "user"
    assert [(b["text"][:12], b.get("cache_control")) for b in turn["content"]] == [
        ("INPUT from o", mark),
        ("TASK chapter", None),
    ]


async def test_other_providers_get_no_cache_markers(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    await run(make_backend(), ask())
    assert all(isinstance(m["content"], str) for m in server.requests[0].messages)


# --- books ----------------------------------------------------------------------------------


async def test_a_malformed_reply_books_what_it_used(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script(
        [
            Reply(text='{"bad": 1}', prompt_tokens=300, completion_tokens=7),
            Reply(text="still not it", prompt_tokens=320, completion_tokens=4),
        ]
    )
    error = await fail(make_backend(), ask(schema=Critique))
    assert error.kind is FailureKind.MALFORMED_OUTPUT
    assert error.spent is not None
    assert (error.spent.input_tokens, error.spent.output_tokens) == (620, 11)
    assert error.spent.cost_usd == pytest.approx(620 * 0.15e-6 + 11 * 0.6e-6)


async def test_an_unreadable_stream_books_what_was_sent(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Malformed()])
    error = await fail(make_backend(), ask())
    assert error.spent is not None and error.spent.input_tokens > 0


async def test_a_refused_request_books_nothing(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Status(500)])
    error = await fail(make_backend(), ask())
    assert error.spent is None


async def test_a_cancelled_call_is_priced_at_the_models_price(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(text="one two three four five six", chunk_delay_s=0.05)])
    stream = make_backend().complete(ask())
    assert stream.spent() is None  # nothing asked yet
    await stream.__anext__()
    await stream.aclose()
    spent = stream.spent()
    assert spent is not None and spent.input_tokens > 0 and spent.output_tokens > 0
    expected = spent.input_tokens * 0.15e-6 + spent.output_tokens * 0.6e-6
    assert spent.cost_usd == pytest.approx(expected)  # gpt-4o-mini's, not an assumed $15/M


async def test_a_cancelled_call_of_an_unpriced_model_has_no_price(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(text="one two three", chunk_delay_s=0.05)])
    stream = make_backend().complete(ask(UNKNOWN))
    await stream.__anext__()
    await stream.aclose()
    spent = stream.spent()
    assert spent is not None and spent.cost_usd is None


# --- error lines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "kind"),
    [
        (529, "overloaded_error", FailureKind.SERVER),
        (400, "invalid_request_error", FailureKind.BAD_REQUEST),
        (429, "rate_limit_error", FailureKind.RATE_LIMIT),
    ],
)
async def test_anthropic_errors_are_one_clean_sentence(
    make_backend: MakeBackend,
    server: FakeOpenAI,
    status: int,
    error_type: str,
    kind: FailureKind,
) -> None:
    """litellm quotes Anthropic's body as a Python bytes literal; the line keeps its words."""
    server.script([Status(status, message="Try later.", error_type=error_type)])
    error = await fail(make_backend(), ask(CLAUDE))
    assert error.kind is kind
    assert error.message.endswith(f"({CLAUDE}): Try later ({error_type})")
    for junk in ("b'", 'b"', "{", "\\n", "Exception", "\n"):
        assert junk not in error.message


# --- one gateway ----------------------------------------------------------------------------


async def test_a_litellm_proxy_gets_the_virtual_key_and_the_model_name(
    make_backend: MakeBackend, server: FakeOpenAI
) -> None:
    server.script([Reply(text="Fine.")])
    result = await run(make_backend(), ask(PROXY))
    assert result.text == "Fine."
    [sent] = server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == "studio-writer"
