"""A provider's rate-limit headers, read by the litellm backend from a real HTTP server on
127.0.0.1 that enforces requests and tokens per minute (OpenAI's headers and Anthropic's)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import FakeOpenAI  # noqa: E402
from fakes.rate_limited import RateLimits  # noqa: E402
from podium.domain.production import ModelSettings  # noqa: E402
from podium.llm import rate_limits  # noqa: E402
from podium.llm.litellm_backend import LiteLLMBackend  # noqa: E402
from podium.llm.rate_limits import RateLimit, parse  # noqa: E402
from podium.llm.types import CompletionRequest, FailureKind, LLMError, Message  # noqa: E402

KEY_ENV = "PODIUM_TEST_PROVIDER_KEY"
pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")


def test_openai_headers_durations_and_retry_after() -> None:
    found = parse(
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "6m0s",
            "x-ratelimit-limit-tokens": "200000",
            "x-ratelimit-remaining-tokens": "1500",
            "x-ratelimit-reset-tokens": "20ms",
            "retry-after": "2",
            "retry-after-ms": "1250",
        }
    )
    assert found == RateLimit(600, 0, 360.0, 200_000, 1500, 0.02, 1.25)


def test_anthropic_headers_reset_at_a_time() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    found = parse(
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "49",
            "anthropic-ratelimit-requests-reset": "2026-01-01T12:00:03Z",
            "retry-after": "Thu, 01 Jan 2026 12:00:05 GMT",
        },
        now,
    )
    assert found == RateLimit(50, 49, 3.0, None, None, None, 5.0)


def test_no_headers_or_nonsense_is_nothing() -> None:
    assert parse({"content-type": "text/event-stream"}) is None
    assert parse({"x-ratelimit-remaining-requests": "many", "retry-after": "soon"}) is None


@pytest.mark.parametrize("style", ["openai", "anthropic"])
async def test_the_backend_reads_the_providers_headers_on_a_reply_and_on_a_429(
    style: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-podium-test")
    limits = RateLimits(rpm=60, tpm=100_000, burst_s=1.0, style=style)  # type: ignore[arg-type]
    seen: list[tuple[RateLimit | None, int, bool]] = []
    with FakeOpenAI(default=limits) as server:
        model = "openai/fake-model" if style == "openai" else "anthropic/claude-fake"
        base = server.api_base if style == "openai" else server.url
        backend = LiteLLMBackend({model: ModelSettings(api_base=base, api_key_env=KEY_ENV)})
        request = CompletionRequest(model=model, messages=(Message("user", "Hi."),), agent_id="a")
        token = rate_limits.watch(lambda *answer: seen.append(answer))
        try:
            result = await backend.complete(request).collect()
            with pytest.raises(LLMError) as caught:  # one request a second: the next is refused
                await backend.complete(request).collect()
        finally:
            rate_limits.unwatch(token)
    assert result.rate_limit is not None
    assert (result.rate_limit.limit_requests, result.rate_limit.limit_tokens) == (60, 100_000)
    assert result.rate_limit.remaining_requests == 0
    error = caught.value
    assert error.kind is FailureKind.RATE_LIMIT
    assert error.rate_limit is not None and error.rate_limit.limit_requests == 60
    assert error.rate_limit.retry_after_s is not None and 0 < error.rate_limit.retry_after_s <= 1
    # what the limiter's slot hears: the reply's headers, its tokens, then the 429
    assert [(rl is not None, tokens, limited) for rl, tokens, limited in seen] == [
        (True, 0, False),
        (False, 300, False),
        (True, 0, True),
    ]
    assert (limits.answered, limits.refused) == (1, 1)
