"""What a provider says about its rate limits, and how it reaches the call limiter.

Providers answer every request (a reply or a 429) with headers that say how much of the key's
budget is left: OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets as
durations, "1s", "6m0s", "20ms"), Anthropic's `anthropic-ratelimit-{requests,tokens}-
{limit,remaining,reset}` (resets as RFC 3339 times), and `retry-after` (seconds or an HTTP
date) on a 429. litellm hands them over in three places, all read here: a streamed reply's
`_hidden_params["additional_headers"]` (prefixed `llm_provider-`) or `_response_headers`, and
an exception's `litellm_response_headers` or `response.headers`.

The backend reports each provider request to whoever holds the call's slot of the limiter:

    token = watch(observer)            # the limiter's slot, around one call
    ...
    report(rate_limit, tokens, limited=False)   # the backend, once per provider request
    ...
    unwatch(token)

A context variable carries the observer, so every call path that holds a slot (a task's work,
a review, a ruling, a plan) reports to its own slot without the engine passing anything down.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_PREFIX = "llm_provider-"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One answer's rate-limit headers; None where the provider said nothing. Resets and
    `retry_after_s` are seconds from the answer."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests_s: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens_s: float | None = None
    retry_after_s: float | None = None


def headers_of(*sources: Any) -> dict[str, str]:
    """Every header found in litellm's places (lower-case names, `llm_provider-` removed)."""
    headers: dict[str, str] = {}
    for source in sources:
        if not source:
            continue
        try:
            items: Iterable[tuple[Any, Any]] = dict(source).items()
        except (TypeError, ValueError):
            continue
        for name, value in items:
            key = str(name).lower()
            headers.setdefault(key.removeprefix(_PREFIX), str(value))
    return headers


def of_response(response: Any) -> RateLimit | None:
    """The rate limits a litellm reply (a stream or a whole one) carries, if any."""
    hidden = getattr(response, "_hidden_params", None)
    extra = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    return parse(headers_of(getattr(response, "_response_headers", None), extra))


def of_exception(exc: BaseException) -> RateLimit | None:
    """The rate limits a failed request's answer carried (the whole exception chain read)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    sources: list[Any] = []
    while pending:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        sources.append(getattr(link, "litellm_response_headers", None))
        sources.append(getattr(getattr(link, "response", None), "headers", None))
        sources.append(getattr(link, "headers", None))
        for attr in ("original_exception", "__cause__", "__context__"):
            inner = getattr(link, attr, None)
            if isinstance(inner, BaseException):
                pending.append(inner)
    return parse(headers_of(*sources))


def parse(headers: Mapping[str, str], now: datetime | None = None) -> RateLimit | None:
    """OpenAI's or Anthropic's rate-limit headers (lower-case names); None when none is set."""
    when = now or datetime.now(UTC)

    def pick(kind: str, what: str) -> str | None:
        return headers.get(f"x-ratelimit-{what}-{kind}") or headers.get(
            f"anthropic-ratelimit-{kind}-{what}"
        )

    def count(kind: str, what: str) -> int | None:
        value = pick(kind, what)
        try:
            return max(0, int(float(value))) if value is not None else None
        except ValueError:
            return None

    def reset(kind: str) -> float | None:
        value = pick(kind, "reset")
        return _seconds(value, when) if value is not None else None

    retry_s: float | None = None
    if "retry-after-ms" in headers:  # the finer of the two, when both are sent
        try:
            retry_s = max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            retry_s = None
    retry = headers.get("retry-after")
    if retry_s is None and retry is not None:
        retry_s = _seconds(retry, when)
    found = RateLimit(
        limit_requests=count("requests", "limit"),
        remaining_requests=count("requests", "remaining"),
        reset_requests_s=reset("requests"),
        limit_tokens=count("tokens", "limit"),
        remaining_tokens=count("tokens", "remaining"),
        reset_tokens_s=reset("tokens"),
        retry_after_s=retry_s,
    )
    return None if found == _NOTHING else found


_NOTHING = RateLimit()
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def _seconds(value: str, now: datetime) -> float | None:
    """A reset or Retry-After as seconds from now: a number of seconds, a Go-style duration
    ("6m0s", "20ms"), an RFC 3339 time (Anthropic) or an HTTP date."""
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    parts = _DURATION.findall(text)
    if parts and "".join(n + u for n, u in parts) == text:
        scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        return sum(float(n) * scale[u] for n, u in parts)
    when: datetime | None = None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


# --- from the backend to the slot that holds the call -----------------------------------------

# observer(rate_limit, tokens, limited): one provider request's headers (None: it sent none),
# the tokens it used (0 when unknown or when it was refused) and whether it was a 429.
Observer = Callable[[RateLimit | None, int, bool], None]

_observer: ContextVar[Observer | None] = ContextVar("podium_rate_limit_observer", default=None)


def watch(observer: Observer) -> Token[Observer | None]:
    """Send this context's reports to `observer` (until `unwatch`)."""
    return _observer.set(observer)


def unwatch(token: Token[Observer | None]) -> None:
    _observer.reset(token)


def report(rate_limit: RateLimit | None, tokens: int = 0, *, limited: bool = False) -> None:
    """One provider request's answer, for the limiter's slot holding this call (if any)."""
    observer = _observer.get()
    if observer is not None and (rate_limit is not None or tokens or limited):
        observer(rate_limit, tokens, limited)
