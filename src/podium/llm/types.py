"""What a model call is made of: a request, the stream of text chunks it gives, the final result,
and the error a failed call raises; images likewise. Every backend and the engine import these
from here; the gateway (`podium.llm.gateway`) only routes a request to its backend.

    stream = gateway.complete(request)
    async for chunk in stream:
        ...                      # text as it arrives
    result = stream.result       # tokens, cost, latency, parsed structured output

Backends raise `LLMError` with a `FailureKind`; they never retry. The single retry layer is
the engine's (exponential backoff with jitter, honouring `retry_after`), so a failing call is
never retried twice over.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel

from podium.llm.rate_limits import RateLimit

REHEARSAL_PREFIX = "rehearsal/"

# json.dumps's own encoder for a str (ensure_ascii, its default): quotes and escapes it.
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


def is_rehearsal(model: str) -> bool:
    return model.startswith(REHEARSAL_PREFIX)


@functools.cache
def schema_json(schema: type[BaseModel]) -> str:
    """A reply schema as compact JSON, built once per class (it costs a millisecond or two,
    and a class's schema never changes while running). Prompts and backends both use it, so
    a backend can tell that a prompt already carries the schema."""
    return json.dumps(schema.model_json_schema(), separators=(",", ":"))


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str
    # The pieces `content` is the "\n\n".join of, when it was made from them (`joined`): a
    # prompt's inputs, the same pieces in call after call, so what is worked out of the text
    # (its hash, the rehearsal model's seed) is kept per piece. Not compared, shown or
    # pickled; `dataclasses.replace` leaves it out (a message made anew is read whole).
    parts: tuple[str, ...] | None = field(default=None, init=False, compare=False, repr=False)

    @classmethod
    def joined(cls, role: Literal["system", "user", "assistant"], parts: list[str]) -> Message:
        """A message whose content is `parts` joined by blank lines, the parts kept."""
        message = cls(role, "\n\n".join(parts))
        object.__setattr__(message, "parts", tuple(parts))
        return message

    def __reduce__(self) -> tuple[Any, ...]:
        return Message, (self.role, self.content)


@dataclass(frozen=True)
class CompletionRequest:
    """What an agent asks of a model.

    `hints` carries the structured facts the prompt was built from (task kind, role, characters,
    places, themes, target words, chapter or scene number, …). Real providers ignore it; the
    rehearsal model writes from it, so its output fits the production without parsing prompts.
    """

    model: str
    messages: tuple[Message, ...]
    agent_id: str
    task_id: str | None = None
    purpose: str = "task"  # task, plan, review, debate, ruling, report, alternatives, repair
    response_schema: type[BaseModel] | None = None
    hints: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 1
    max_tokens: int | None = None
    temperature: float | None = None

    def prompt_hash(self) -> str:
        """Stable hash of what was asked, for provenance.

        It hashes `json.dumps({"messages": [[role, content], …], "model": …, "schema": …},
        sort_keys=True)`, written out here piece by piece with the same string encoder: the
        same bytes, without walking the structure through the generic encoder on every call.
        """
        quote = _quote
        messages = self.messages
        schema = quote(self.response_schema.__name__) if self.response_schema else "null"
        tail = f'], "model": {quote(self.model)}, "schema": {schema}}}'
        if messages and len(messages[0].content) >= _PREFIX_MIN:
            # The first message (the system prompt: the vision and the agent's role) is the
            # same text for many calls: the hash of the bytes up to its end is kept, and each
            # call hashes only what follows (a SHA-256 state copied: the same digest).
            first = messages[0]
            hasher = _prefix_state(first.role, first.content).copy()
            rest = "".join(f", [{quote(m.role)}, {_quoted(m)}]" for m in messages[1:])
            hasher.update((rest + tail).encode())
            return hasher.hexdigest()[:16]
        body = ", ".join(f"[{quote(m.role)}, {_quoted(m)}]" for m in messages)
        return hashlib.sha256(f'{{"messages": [{body}{tail}'.encode()).hexdigest()[:16]


def _quoted(message: Message) -> str:
    """`_quote(message.content)`; for a message joined from parts, from each part's quoted
    text, kept (the encoder escapes character by character: the same text)."""
    parts = message.parts
    if parts is None:
        return _quote(message.content)
    held = _QUOTED
    inner: list[str] = []
    for part in parts:
        quoted = held.get(part)
        if quoted is None:
            quoted = remember(held, part, _quote(part)[1:-1], _QUOTED_MAX)
        inner.append(quoted)
    return '"' + "\\n\\n".join(inner) + '"'


_K = TypeVar("_K")
_V = TypeVar("_V")


def remember(held: dict[_K, _V], key: _K, value: _V, limit: int) -> _V:
    """`held[key] = value`, the oldest entry dropped first once `held` has `limit` of them:
    the bounded caches of what is worked out from a prompt's parts. Returns `value`."""
    if len(held) >= limit:
        del held[next(iter(held))]
    held[key] = value
    return value


_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 256  # parts kept, oldest out first (a dense plan's layer reads 50)

_PREFIX_MIN = 512  # a first message this long has its hashed prefix kept
_PREFIX_KEPT = 64  # at most this many (a production has a system prompt per agent and kind)
_prefixes: dict[tuple[str, str], hashlib._Hash] = {}


def _prefix_state(role: str, content: str) -> hashlib._Hash:
    """The SHA-256 state after `{"messages": [[role, content]` (as `prompt_hash` writes it)."""
    key = (role, content)
    state = _prefixes.get(key)
    if state is None:
        if len(_prefixes) >= _PREFIX_KEPT:
            _prefixes.clear()
        state = hashlib.sha256(f'{{"messages": [[{_quote(role)}, {_quote(content)}]'.encode())
        _prefixes[key] = state
    return state


@dataclass(frozen=True)
class CompletionResult:
    text: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None when the provider's price is unknown; never a guessed 0
    latency_s: float
    parsed: BaseModel | None = None
    finish_reason: str = "stop"
    # Of `input_tokens`, those read from the provider's prompt cache, and those written to it
    # (Anthropic bills a write apart; OpenAI caches by itself and reports reads only).
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    # The provider's rate-limit headers on its (last) answer, if it sent any.
    rate_limit: RateLimit | None = None


class FailureKind(StrEnum):
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER = "server"
    MALFORMED_OUTPUT = "malformed_output"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    CONTENT_POLICY = "content_policy"
    CONTEXT_WINDOW = "context_window"
    NOT_FOUND = "not_found"
    TOKEN_LIMIT = "token_limit"  # the reply was still cut off at max_tokens after continuing
    UNKNOWN = "unknown"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        FailureKind.RATE_LIMIT,
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.SERVER,
        FailureKind.MALFORMED_OUTPUT,
    }
)


class LLMError(Exception):
    """A failed call, sorted into a kind the engine knows how to handle.

    The message is safe to store and show: no API key, no raw provider dump.
    """

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        retry_after: float | None = None,
        model: str = "",
        spent: CompletionResult | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.model = model
        # What the provider was paid for before the call failed (a malformed or cut-off
        # reply still used tokens); None when nothing reached a provider.
        self.spent = spent
        self.rate_limit = rate_limit  # the failed answer's rate-limit headers, if any

    @property
    def retryable(self) -> bool:
        return self.kind.retryable

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"


class CompletionStream:
    """Async iterator of text chunks; `result` is set once the iteration ends.

    `spent()` is the backend's account of what the call has used so far (tokens counted from
    what was sent and what arrived, priced at the model's known price), for a call cancelled
    before its result; None when the backend keeps no such account.
    """

    def __init__(
        self,
        source: AsyncIterator[str | CompletionResult],
        spent: Callable[[], CompletionResult | None] | None = None,
    ) -> None:
        self._source = source
        self._result: CompletionResult | None = None
        self._spent = spent

    def spent(self) -> CompletionResult | None:
        return self._spent() if self._spent is not None else None

    @property
    def source(self) -> AsyncIterator[str | CompletionResult]:
        """The backend's items (text chunks, then the result), for a reader that takes them
        itself (the engine's call path) and hands the result to `end`."""
        return self._source

    def end(self, result: CompletionResult) -> None:
        """The result read from `source`: the stream has finished."""
        self._result = result

    def __aiter__(self) -> CompletionStream:
        return self

    async def __anext__(self) -> str:
        if self._result is not None:
            raise StopAsyncIteration
        item = await self._source.__anext__()
        if isinstance(item, CompletionResult):
            self._result = item
            raise StopAsyncIteration
        return item

    @property
    def result(self) -> CompletionResult:
        if self._result is None:
            raise RuntimeError("the stream has not finished")
        return self._result

    async def collect(self) -> CompletionResult:
        async for _ in self:
            pass
        return self.result

    async def aclose(self) -> None:
        close = getattr(self._source, "aclose", None)
        if close is not None:
            await close()


@dataclass(frozen=True)
class ImageRequest:
    model: str
    prompt: str
    agent_id: str
    task_id: str | None = None
    size: str = "1024x1024"
    # Pictures the new one must agree with (character sheets, PNG bytes): sent where the model
    # takes reference images (litellm_images.takes_references), else only the prompt is.
    references: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class ImageResult:
    data: bytes
    mime_type: str
    model: str
    cost_usd: float | None
    latency_s: float


class Backend(Protocol):
    def complete(self, request: CompletionRequest) -> CompletionStream: ...

    async def generate_image(self, request: ImageRequest) -> ImageResult: ...
