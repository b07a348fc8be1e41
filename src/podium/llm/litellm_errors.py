"""Sorting litellm's exceptions into podium's failure kinds, with messages safe to show.

litellm mislabels several failures (a 404 as BadRequestError, a refused connection as
InternalServerError, anything mid-stream as MidStreamFallbackError), so the whole exception
chain is read. Messages are short and scrubbed of keys and key-like strings.
"""

from __future__ import annotations

import ast
import email.utils
import importlib
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from podium.domain.production import ModelSettings
from podium.domain.text import sanitize
from podium.llm.types import FailureKind, LLMError

MODEL_HINT = 'use a litellm model string such as "openai/gpt-4o-mini" or "rehearsal/default"'

_SUMMARY = {
    FailureKind.RATE_LIMIT: "the provider is rate limiting requests",
    FailureKind.TIMEOUT: "no answer in time",
    FailureKind.CONNECTION: "the connection to the provider failed",
    FailureKind.SERVER: "the provider had a server error",
    FailureKind.MALFORMED_OUTPUT: "the provider's answer could not be read",
    FailureKind.AUTH: "the provider refused the credentials",
    FailureKind.BAD_REQUEST: "the provider rejected the request",
    FailureKind.CONTENT_POLICY: "the provider's content policy blocked the request",
    FailureKind.CONTEXT_WINDOW: "the prompt is longer than the model's context window",
    FailureKind.NOT_FOUND: "the provider does not know this model or endpoint",
    FailureKind.UNKNOWN: "the call failed",
}


def classify(
    exc: BaseException,
    model: str,
    settings: ModelSettings | None = None,
    secrets: list[str] | None = None,
) -> LLMError:
    """Sort a litellm (or lower-level) exception into an LLMError with a safe, short message."""
    settings = settings or ModelSettings()
    secrets = secrets if secrets is not None else secrets_of(None)
    text = str(exc)
    if "LLM Provider NOT provided" in text:
        return LLMError(
            FailureKind.BAD_REQUEST, f"unknown model {model!r}: {MODEL_HINT}", model=model
        )
    kind = _kind(exc)
    if kind is FailureKind.AUTH and "missing credentials" in text.lower():
        env = settings.api_key_env
        hint = f"set {env}" if env else "set the provider's key variable (e.g. OPENAI_API_KEY)"
        hint += " or api_key_env in the model's settings"
        return LLMError(FailureKind.AUTH, f"no API key for {model}: {hint}", model=model)
    summary = _SUMMARY[kind]
    if kind is FailureKind.TIMEOUT:
        summary = f"no answer within {settings.timeout_s:g} s"
    elif kind is FailureKind.AUTH and settings.api_key_env:
        summary += f" (check the key in {settings.api_key_env})"
    detail = _detail(exc, secrets)
    message = f"{summary} ({model})" + (f": {detail}" if detail else "")
    retry_after = _retry_after(exc) if kind is FailureKind.RATE_LIMIT else None
    return LLMError(kind, clip(scrub(message, secrets), 300), retry_after=retry_after, model=model)


def _kind(exc: BaseException) -> FailureKind:
    import httpx

    litellm: Any = importlib.import_module("litellm")  # already loaded: the error came from it
    import openai

    if isinstance(exc, litellm.ContextWindowExceededError):
        return FailureKind.CONTEXT_WINDOW
    if isinstance(exc, litellm.ContentPolicyViolationError):
        return FailureKind.CONTENT_POLICY
    if isinstance(exc, litellm.RateLimitError):
        return FailureKind.RATE_LIMIT
    if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
        return FailureKind.AUTH
    if isinstance(exc, litellm.NotFoundError):
        return FailureKind.NOT_FOUND
    if isinstance(exc, litellm.BadRequestError | litellm.UnprocessableEntityError):
        return _bad_request_kind(exc)
    # What lies underneath decides the rest: a mid-stream failure, a dropped connection or a
    # missing key all reach here dressed as a server error.
    for link in _chain(exc):
        if isinstance(link, TimeoutError | openai.APITimeoutError | httpx.TimeoutException):
            return FailureKind.TIMEOUT
        if isinstance(link, json.JSONDecodeError):
            return FailureKind.MALFORMED_OUTPUT
        if "missing credentials" in str(link).lower() or "api_key client option" in str(link):
            return FailureKind.AUTH
    transport = (openai.APIConnectionError, ConnectionError, *_transport_errors())
    for link in _chain(exc):
        if isinstance(link, transport):
            return FailureKind.CONNECTION
    status = _status(exc)
    if status == 429:
        return FailureKind.RATE_LIMIT
    if status in (401, 403):
        return FailureKind.AUTH
    if status == 404:
        return FailureKind.NOT_FOUND
    if status == 408:
        return FailureKind.TIMEOUT
    if status in (400, 413, 422):
        return FailureKind.BAD_REQUEST
    if isinstance(
        exc,
        litellm.InternalServerError | litellm.ServiceUnavailableError | litellm.BadGatewayError,
    ) or (status is not None and status >= 500):
        return FailureKind.SERVER
    if isinstance(exc, litellm.APIConnectionError):
        return FailureKind.CONNECTION
    return FailureKind.UNKNOWN


_CONTEXT_WORDS = ("context length", "context window", "context_length_exceeded")


def _bad_request_kind(exc: BaseException) -> FailureKind:
    """litellm recognises most context and policy refusals; the error code catches the rest."""
    if _status(exc) == 404:
        return FailureKind.NOT_FOUND
    codes = {str(getattr(link, "code", "")) for link in _chain(exc)}
    text = str(exc).lower()
    if "context_length_exceeded" in codes or any(w in text for w in _CONTEXT_WORDS):
        return FailureKind.CONTEXT_WINDOW
    if "content_policy_violation" in codes or "content_filter" in codes:
        return FailureKind.CONTENT_POLICY
    return FailureKind.BAD_REQUEST


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Lower-level errors meaning the bytes did not arrive (httpx, and aiohttp when used)."""
    import httpx

    errors: list[type[BaseException]] = [httpx.TransportError]
    try:
        import aiohttp
    except ImportError:
        return tuple(errors)
    errors += [aiohttp.ClientConnectionError, aiohttp.ClientPayloadError]
    return tuple(errors)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (litellm's original_exception, causes, contexts)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 20:
        link = pending.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        for attr in ("original_exception", "__cause__", "__context__"):
            inner = getattr(link, attr, None)
            if isinstance(inner, BaseException):
                pending.append(inner)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), or retry-after-ms."""
    for link in _chain(exc):
        for source in (
            getattr(link, "litellm_response_headers", None),
            getattr(getattr(link, "response", None), "headers", None),
            getattr(link, "headers", None),
        ):
            if not source:
                continue
            try:
                headers = {str(k).lower(): str(v) for k, v in dict(source).items()}
            except (TypeError, ValueError):
                continue
            if "retry-after" in headers:
                seconds = _parse_retry_after(headers["retry-after"])
                if seconds is not None:
                    return seconds
            if "retry-after-ms" in headers:
                try:
                    return max(0.0, float(headers["retry-after-ms"]) / 1000)
                except ValueError:
                    pass
    return None


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


_PREFIX = re.compile(r"^(?:litellm\.\w+|\w*(?:Error|Exception|Timeout))(?::| -)\s*")
_TAILS = (" Original exception:", " Error_str:", " Received Model Group", " LiteLLM Retried", "\n")
_REPRS = re.compile(r"\s*<[^<>]*>")


def _detail(exc: BaseException, secrets: list[str]) -> str:
    """The provider's own words, without litellm's wrapping, secrets or control characters."""
    text = str(getattr(exc, "message", None) or exc)
    for _ in range(6):
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    text = _unwrapped(text)
    for tail in _TAILS:
        text = text.split(tail, 1)[0]
    text = _REPRS.sub("", text).rstrip(" :")
    text = " ".join(scrub(text, secrets).split())
    return clip(sanitize(text), 200)


_BYTES = re.compile(r"""\bb(['"])(.*)\1""", re.DOTALL)


def _unwrapped(text: str) -> str:
    """The provider's sentence out of the body litellm quotes: a Python bytes literal
    (Anthropic's errors arrive as `b'{"type": "error", …}'`) and a JSON error body both
    become the body's own message, with its error type in brackets."""
    found = _BYTES.search(text)
    if found:
        try:
            body = ast.literal_eval(found.group(0))
        except (ValueError, SyntaxError):
            body = None
        if isinstance(body, bytes):
            decoded = body.decode("utf-8", "replace")
            text = text[: found.start()] + decoded + text[found.end() :]
    start = text.find("{")
    if start < 0:
        return text
    try:
        data, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    error = data.get("error", data)
    message = error.get("message") if isinstance(error, dict) else error
    if not isinstance(message, str) or not message.strip():
        return text
    kind = error.get("type") if isinstance(error, dict) else None
    words = message.strip().rstrip(".")
    if isinstance(kind, str) and kind and kind not in words:
        words += f" ({kind})"
    return (text[:start].rstrip(" :-") + ": " + words).lstrip(" :")


_KEY_PATTERNS = (
    (re.compile(r"sk-[A-Za-z0-9_\-*.]{3,}"), "sk-[redacted]"),
    (re.compile(r"AIza[A-Za-z0-9_\-*]{4,}"), "[redacted]"),
    (re.compile(r"(?i)\bbearer\s+[^\s,;'\"]+"), "Bearer [redacted]"),
    (re.compile(r"(?i)(api[_-]?key['\"]?\s*[:=]\s*['\"]?)[^\s,;'\"]+"), r"\1[redacted]"),
)
_SECRET_NAME = re.compile(r"(?i)(api_?key|_key|_token|secret)$")


def secrets_of(key: str | None) -> list[str]:
    """Values to scrub: the key in use and any key-like environment variable."""
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8}
    if key:
        values.add(key)
    return sorted(values, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    for pattern, replacement in _KEY_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
