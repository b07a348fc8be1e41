"""A provider that enforces requests and tokens per minute, as OpenAI and Anthropic do.

A responder for `FakeOpenAI` (its `default`): two token buckets, one of requests and one of
tokens, refilled continuously at `rpm / 60` and `tpm / 60` a second and holding `burst_s`
seconds' worth (providers enforce a minute's limit over shorter periods). A request that
finds either bucket short is answered 429 with `Retry-After` (whole seconds, rounded up) and
`retry-after-ms`; every answer carries the buckets' state in OpenAI's headers
(`x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets as "1.5s" or "20ms") or,
with `style="anthropic"`, Anthropic's (`anthropic-ratelimit-{requests,tokens}-{limit,
remaining,reset}`, resets as RFC 3339 times). A request costs one request and the tokens of
its reply (`prompt_tokens + completion_tokens`, fixed, so the bench knows the total).

    limits = RateLimits(rpm=600, tpm=200_000)
    with FakeOpenAI(default=limits) as server:
        ...
    limits.answered, limits.refused   # counts
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from fakes.openai_server import Behaviour, RecordedRequest, Reply, Status


@dataclass
class RateLimits:
    rpm: int
    tpm: int
    burst_s: float = 2.0
    reply: Reply = field(default_factory=lambda: Reply(prompt_tokens=250, completion_tokens=50))
    style: Literal["openai", "anthropic"] = "openai"
    clock: Callable[[], float] = time.monotonic
    answered: int = 0
    refused: int = 0
    tokens: int = 0  # tokens of the answered requests

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = self.request_room
        self._tokens = self.token_room
        self._stamp = self.clock()

    @property
    def request_room(self) -> float:
        return max(1.0, self.rpm / 60 * self.burst_s)

    @property
    def token_room(self) -> float:
        return max(float(self.cost), self.tpm / 60 * self.burst_s)

    @property
    def cost(self) -> int:
        return (self.reply.prompt_tokens or 0) + (self.reply.completion_tokens or 0)

    def __call__(self, request: RecordedRequest) -> Behaviour:
        cost = self.cost
        with self._lock:
            now = self.clock()
            elapsed, self._stamp = now - self._stamp, now
            self._requests = min(self.request_room, self._requests + self.rpm / 60 * elapsed)
            self._tokens = min(self.token_room, self._tokens + self.tpm / 60 * elapsed)
            short_requests = max(0.0, 1.0 - self._requests) / (self.rpm / 60)
            short_tokens = max(0.0, cost - self._tokens) / (self.tpm / 60)
            if short_requests or short_tokens:
                self.refused += 1
                wait = max(short_requests, short_tokens)
                headers = self._headers()
                headers["retry-after-ms"] = str(math.ceil(wait * 1000))
                return Status(
                    429,
                    retry_after=float(math.ceil(wait)),
                    message="Rate limit reached for requests"
                    if short_requests
                    else "Rate limit reached for tokens",
                    error_type="rate_limit_error" if self.style == "anthropic" else None,
                    code="rate_limit_exceeded",
                    headers=headers,
                )
            self._requests -= 1.0
            self._tokens -= cost
            self.answered += 1
            self.tokens += cost
            headers = self._headers()
        return Reply(
            text=self.reply.text,
            chunks=self.reply.chunks,
            prompt_tokens=self.reply.prompt_tokens,
            completion_tokens=self.reply.completion_tokens,
            chunk_delay_s=self.reply.chunk_delay_s,
            headers=headers,
        )

    def _headers(self) -> dict[str, str]:
        """The buckets' state as the provider states it (called under the lock)."""
        left_requests = max(0, math.floor(self._requests))
        left_tokens = max(0, math.floor(self._tokens))
        reset_requests = (self.request_room - self._requests) / (self.rpm / 60)
        reset_tokens = (self.token_room - self._tokens) / (self.tpm / 60)
        if self.style == "anthropic":
            now = datetime.now(UTC)

            def at(seconds: float) -> str:
                return (now + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

            return {
                "anthropic-ratelimit-requests-limit": str(self.rpm),
                "anthropic-ratelimit-requests-remaining": str(left_requests),
                "anthropic-ratelimit-requests-reset": at(reset_requests),
                "anthropic-ratelimit-tokens-limit": str(self.tpm),
                "anthropic-ratelimit-tokens-remaining": str(left_tokens),
                "anthropic-ratelimit-tokens-reset": at(reset_tokens),
            }
        return {
            "x-ratelimit-limit-requests": str(self.rpm),
            "x-ratelimit-remaining-requests": str(left_requests),
            "x-ratelimit-reset-requests": _duration(reset_requests),
            "x-ratelimit-limit-tokens": str(self.tpm),
            "x-ratelimit-remaining-tokens": str(left_tokens),
            "x-ratelimit-reset-tokens": _duration(reset_tokens),
        }


def _duration(seconds: float) -> str:
    """OpenAI's way of writing a reset: "20ms", "1.5s", "6m0s"."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.0f}s" if minutes else f"{rest:.3g}s"
