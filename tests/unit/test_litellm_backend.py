"""The litellm backend against a real HTTP server on 127.0.0.1 that speaks OpenAI's protocol.

litellm is imported once for the whole module (it costs seconds); each test scripts the server
and looks at what a user of the gateway would see: chunks, the final result, the error kind.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import (  # noqa: E402
    PNG_1X1,
    EmptyChoices,
    FakeOpenAI,
    Image,
    Malformed,
    Reply,
    Slow,
    Status,
    Truncated,
)
from podium.domain.artifacts import Critique  # noqa: E402
from podium.llm.gateway import Gateway  # noqa: E402
from podium.llm.litellm_backend import LiteLLMBackend, unknown_model_reason  # noqa: E402
from podium.llm.rehearsal.backend import RehearsalBackend  # noqa: E402
from podium.llm.types import (  # noqa: E402
    CompletionRequest,
    CompletionResult,
    FailureKind,
    ImageRequest,
    LLMError,
    Message,
)

KNOWN = "openai/gpt-4o-mini"  # litellm knows its price
UNKNOWN = "openai/podium-test-unknown"  # litellm does not
KEY_ENV = "PODIUM_TEST_PROVIDER_KEY"
CANARY = "sk-podium-canary-5f3a9c1e7b2d4f60a8e1"

# litellm 1.106 reads `model_fields` off instances while streaming; pydantic 2.11+ warns.
pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")
pytest_plugins = ("fakes.litellm_backend",)  # the fake provider's fixtures

MakeBackend = Callable[..., LiteLLMBackend]


@pytest.fixture
def openai_server(provider: FakeOpenAI) -> FakeOpenAI:
    return provider


@pytest.fixture
def make_backend(litellm_backends: Callable[..., MakeBackend]) -> MakeBackend:
    return litellm_backends(KEY_ENV, CANARY, [KNOWN, UNKNOWN])


def ask(model: str = KNOWN, schema: type[BaseModel] | None = None) -> CompletionRequest:
    return CompletionRequest(
        model=model,
        messages=(
            Message("system", "You are the writer."),
            Message("user", "Write the opening line."),
        ),
        agent_id="writer",
        task_id="t1",
        response_schema=schema,
    )


async def run(
    backend: LiteLLMBackend, request: CompletionRequest
) -> tuple[list[str], CompletionResult]:
    stream = backend.complete(request)
    chunks = [chunk async for chunk in stream]
    return chunks, stream.result


async def fail(backend: LiteLLMBackend, request: CompletionRequest) -> tuple[list[str], LLMError]:
    chunks: list[str] = []
    with pytest.raises(LLMError) as caught:
        async for chunk in backend.complete(request):
            chunks.append(chunk)
    return chunks, caught.value


def assert_safe(error: LLMError) -> None:
    for text in (str(error), error.message, repr(error.args)):
        assert CANARY not in text
        assert CANARY[3:15] not in text  # not even a recognisable piece of it
        assert "Traceback" not in text
    assert len(error.message) <= 300


# --- streaming ------------------------------------------------------------------------------


async def test_streams_chunks_then_a_result_with_tokens_and_cost(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script(
        [Reply(chunks=["The ", "rain ", "never ", "stops."], prompt_tokens=40, completion_tokens=4)]
    )
    chunks, result = await run(make_backend(), ask())

    assert chunks == ["The ", "rain ", "never ", "stops."]
    assert result.text == "The rain never stops."
    assert (result.input_tokens, result.output_tokens) == (40, 4)
    assert result.cost_usd is not None and result.cost_usd > 0
    assert result.finish_reason == "stop"
    assert result.latency_s >= 0
    assert result.parsed is None

    [sent] = openai_server.requests
    assert sent.headers["authorization"] == f"Bearer {CANARY}"
    assert sent.json["stream"] is True
    assert sent.json["stream_options"] == {"include_usage": True}
    assert sent.json["model"] == "gpt-4o-mini"
    assert [m["role"] for m in sent.messages] == ["system", "user"]
    assert "response_format" not in sent.json


async def test_unknown_price_is_none_not_zero(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Reply(text="Fine.", prompt_tokens=10, completion_tokens=2)])
    _, result = await run(make_backend(), ask(UNKNOWN))
    assert result.cost_usd is None
    assert (result.input_tokens, result.output_tokens) == (10, 2)


async def test_prices_from_the_production_file_win(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Reply(text="Fine.", prompt_tokens=1000, completion_tokens=100)])
    backend = make_backend(input_cost_per_token=0.001, output_cost_per_token=0.002)
    _, result = await run(backend, ask(UNKNOWN))
    assert result.cost_usd == pytest.approx(1000 * 0.001 + 100 * 0.002)


async def test_tokens_are_estimated_when_the_provider_reports_no_usage(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Reply(text="A reply of several words.", include_usage=False)])
    _, result = await run(make_backend(), ask())
    assert result.input_tokens > 0
    assert result.output_tokens > 0
    assert result.cost_usd is not None


async def test_closing_the_stream_early_is_quiet(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Reply(text="one two three four five six")])
    stream = make_backend().complete(ask())
    first = await stream.__anext__()
    await stream.aclose()
    assert first == "one"


# --- failures -------------------------------------------------------------------------------


async def test_rate_limit_carries_retry_after_and_is_tried_once(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Status(429, retry_after=7)])
    _, error = await fail(make_backend(), ask())
    assert error.kind is FailureKind.RATE_LIMIT
    assert error.retry_after == 7.0
    assert error.retryable
    assert len(openai_server.requests) == 1  # no hidden retry under the engine's own
    assert_safe(error)


async def test_retry_after_as_an_http_date(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    openai_server.script([Status(429, retry_after=when)])
    _, error = await fail(make_backend(), ask())
    assert error.kind is FailureKind.RATE_LIMIT
    assert error.retry_after is not None and 0 < error.retry_after <= 31


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_tried_once(
    make_backend: MakeBackend, openai_server: FakeOpenAI, status: int
) -> None:
    openai_server.script([Status(status)])
    _, error = await fail(make_backend(), ask())
    assert error.kind is FailureKind.SERVER
    assert len(openai_server.requests) == 1
    assert_safe(error)


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        (Status(401, message="Incorrect API key provided"), FailureKind.AUTH),
        (Status(403, message="Not allowed"), FailureKind.AUTH),
        (Status(404, message="The model does not exist"), FailureKind.NOT_FOUND),
        (Status(400, message="Unknown parameter 'x'"), FailureKind.BAD_REQUEST),
        (
            Status(
                400, message="maximum context length is 8192 tokens", code="context_length_exceeded"
            ),
            FailureKind.CONTEXT_WINDOW,
        ),
        (
            Status(400, message="Input too long", code="context_length_exceeded"),
            FailureKind.CONTEXT_WINDOW,
        ),
        (
            Status(400, message="Your request was rejected", code="content_policy_violation"),
            FailureKind.CONTENT_POLICY,
        ),
        (Status(400, message="Rejected", code="content_filter"), FailureKind.CONTENT_POLICY),
    ],
)
async def test_provider_refusals_are_sorted_by_kind(
    make_backend: MakeBackend, openai_server: FakeOpenAI, behaviour: Status, kind: FailureKind
) -> None:
    openai_server.script([behaviour])
    _, error = await fail(make_backend(), ask())
    assert error.kind is kind
    assert error.model == KNOWN
    assert len(openai_server.requests) == 1
    assert_safe(error)


async def test_a_body_that_is_not_json_is_malformed_output(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Malformed()])
    _, error = await fail(make_backend(), ask())
    assert error.kind is FailureKind.MALFORMED_OUTPUT
    assert len(openai_server.requests) == 1
    assert_safe(error)


async def test_a_stream_cut_mid_reply_is_a_connection_failure(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Truncated(text="It was a dark and")])
    chunks, error = await fail(make_backend(), ask())
    assert "".join(chunks).startswith("It was")
    assert error.kind is FailureKind.CONNECTION
    assert error.retryable
    assert_safe(error)


async def test_a_reply_without_any_choice_is_malformed_output(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([EmptyChoices()])
    chunks, error = await fail(make_backend(), ask())
    assert chunks == []
    assert error.kind is FailureKind.MALFORMED_OUTPUT


async def test_a_slow_provider_times_out(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Slow(seconds=5)])
    _, error = await fail(make_backend(timeout_s=0.5), ask())
    assert error.kind is FailureKind.TIMEOUT
    assert "0.5" in error.message
    assert len(openai_server.requests) == 1


async def test_a_missing_key_variable_is_an_auth_error_naming_it(
    make_backend: MakeBackend, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = make_backend()
    monkeypatch.delenv(KEY_ENV)
    _, error = await fail(backend, ask())
    assert error.kind is FailureKind.AUTH
    assert KEY_ENV in error.message
    assert not error.retryable
    assert openai_server.requests == []


async def test_an_unknown_model_string_says_what_to_write(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    _, error = await fail(make_backend(), ask("no-such-provider-model"))
    assert error.kind is FailureKind.BAD_REQUEST
    assert "openai/gpt-4o-mini" in error.message
    assert "rehearsal/default" in error.message
    assert openai_server.requests == []


@pytest.mark.parametrize(
    "behaviour",
    [
        Status(401, message=f"Incorrect API key provided: {CANARY}"),
        Status(401, message=f"Incorrect API key provided: {CANARY[:8]}***{CANARY[-4:]}"),
        Status(400, message=f"bad header Authorization: Bearer {CANARY}"),
        Status(500, message=f"upstream said api_key={CANARY}"),
        Status(429, message=f"slow down, {CANARY}", retry_after=1),
        Malformed(body=f"{{{CANARY}"),
    ],
)
async def test_the_key_never_appears_in_an_error(
    make_backend: MakeBackend, openai_server: FakeOpenAI, behaviour: Status | Malformed
) -> None:
    openai_server.script([behaviour])
    _, error = await fail(make_backend(), ask())
    assert_safe(error)


# --- structured output ----------------------------------------------------------------------


async def test_structured_output_is_validated(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    reply = '```json\n{"verdict": "approve", "summary": "Tight and clear."}\n```'
    openai_server.script([Reply(text=reply)])
    _, result = await run(make_backend(), ask(schema=Critique))

    assert isinstance(result.parsed, Critique)
    assert result.parsed.verdict == "approve"
    [sent] = openai_server.requests
    # litellm says gpt-4o-mini takes a schema: the schema itself, strict (see
    # test_litellm_replies.py for JSON mode and the strict shape).
    assert sent.json["response_format"]["type"] == "json_schema"
    assert sent.json["response_format"]["json_schema"]["strict"] is True
    system = sent.messages[0]
    assert system["role"] == "system"
    assert system["content"].startswith("You are the writer.")
    assert '"verdict"' in system["content"]  # the schema travels with the request


async def test_invalid_structured_output_gets_one_repair(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script(
        [
            Reply(text='{"bad": 1}', prompt_tokens=100, completion_tokens=5),
            Reply(
                text='{"verdict": "revise", "issues": ["slow start"]}',
                prompt_tokens=130,
                completion_tokens=12,
            ),
        ]
    )
    chunks, result = await run(make_backend(), ask(schema=Critique))

    assert isinstance(result.parsed, Critique)
    assert result.parsed.issues == ["slow start"]
    assert "\n" in chunks  # the repair streams after a separator
    assert (result.input_tokens, result.output_tokens) == (230, 17)
    assert len(openai_server.requests) == 2
    repair = openai_server.requests[1].messages
    assert repair[-2] == {"role": "assistant", "content": '{"bad": 1}'}
    assert repair[-1]["role"] == "user"
    assert "verdict" in repair[-1]["content"]  # the validation errors are quoted back


async def test_structured_output_invalid_twice_is_malformed_output(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Reply(text='{"bad": 1}'), Reply(text="Sorry, here it is: verdict ok")])
    _, error = await fail(make_backend(), ask(schema=Critique))
    assert error.kind is FailureKind.MALFORMED_OUTPUT
    assert "Critique" in error.message
    assert len(openai_server.requests) == 2
    assert_safe(error)


# --- images ---------------------------------------------------------------------------------


async def test_generate_image_returns_bytes(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Image()])
    result = await make_backend().generate_image(
        ImageRequest(model=UNKNOWN, prompt="a lighthouse at dusk", agent_id="dop", size="512x512")
    )
    assert result.data == PNG_1X1
    assert result.mime_type == "image/png"
    assert result.cost_usd is None
    [sent] = openai_server.requests
    assert sent.path == "/v1/images/generations"
    assert sent.json["prompt"] == "a lighthouse at dusk"
    assert sent.json["size"] == "512x512"
    assert sent.headers["authorization"] == f"Bearer {CANARY}"


async def test_an_image_answered_by_url_is_fetched(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Image(data=b"\xff\xd8\xff\xe0jpeg-ish", as_url=True)])
    result = await make_backend().generate_image(
        ImageRequest(model=UNKNOWN, prompt="x", agent_id="dop")
    )
    assert result.data == b"\xff\xd8\xff\xe0jpeg-ish"
    assert result.mime_type == "image/jpeg"


async def test_image_rate_limit_is_tried_once(
    make_backend: MakeBackend, openai_server: FakeOpenAI
) -> None:
    openai_server.script([Status(429, retry_after=3), Image()])
    with pytest.raises(LLMError) as caught:
        await make_backend().generate_image(ImageRequest(model=UNKNOWN, prompt="x", agent_id="dop"))
    assert caught.value.kind is FailureKind.RATE_LIMIT
    assert caught.value.retry_after == 3.0
    assert len(openai_server.requests) == 1
    assert_safe(caught.value)


def test_unknown_model_reason_checks_before_a_run() -> None:
    assert unknown_model_reason(KNOWN) is None
    assert unknown_model_reason("rehearsal/default") is None
    reason = unknown_model_reason("no-such-provider-model")
    assert reason is not None and "openai/gpt-4o-mini" in reason


def test_a_provider_litellm_routed_before_is_checked_without_importing_it(
    tmp_path: Path,
) -> None:
    """The check before a run reads the provider list the last import left, so a real model
    does not put litellm's seconds of import before the first frame."""
    import litellm

    from podium.llm import litellm_backend

    litellm_backend._remember_providers(litellm)  # what every import of litellm leaves
    path = litellm_backend._providers_file()
    assert path is not None and path.is_relative_to(tmp_path)  # the test's own data folder
    assert "openai" in path.read_text(encoding="utf-8")
    code = (
        "import sys\n"
        "from podium.llm.litellm_backend import unknown_model_reason\n"
        "assert unknown_model_reason('openai/gpt-4o-mini') is None\n"
        "assert 'litellm' not in sys.modules, 'litellm was imported'\n"
        "assert unknown_model_reason('nosuchprovider/x') is not None\n"  # not remembered: asks
        "assert 'litellm' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    path.write_text("not json", encoding="utf-8")  # a damaged file: litellm is asked again
    assert not litellm_backend._remembered_provider("openai/gpt-4o-mini")
    assert unknown_model_reason(KNOWN) is None


# --- import hygiene -------------------------------------------------------------------------


def test_importing_the_backend_does_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "import podium.llm.gateway, podium.llm.litellm_backend\n"
        "from podium.llm.litellm_backend import LiteLLMBackend\n"
        "LiteLLMBackend({})\n"
        "assert 'litellm' not in sys.modules, 'litellm was imported'\n"
        "assert 'openai' not in sys.modules, 'openai was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_gateway_routes_by_model_name_and_makes_each_backend_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PODIUM_STREAM_WORKER", "inline")  # litellm in this process
    gateway = Gateway()
    rehearsal = gateway.backend_for("rehearsal/critic")
    assert isinstance(rehearsal, RehearsalBackend)
    assert gateway.backend_for("rehearsal/default") is rehearsal
    real = gateway.backend_for(KNOWN)
    assert isinstance(real, LiteLLMBackend)
    assert gateway.backend_for("anthropic/claude-x") is real
