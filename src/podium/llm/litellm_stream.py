"""One reply streamed through litellm: one provider request, continued while the reply is cut
off at the token limit, each bounded by the whole-call timeout and the stall timeout.

Every retry litellm or the openai client would make is switched off: the engine is the only
retry layer. Errors are sorted into a `FailureKind` with a short message that never carries an
API key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

from podium.domain.production import ModelSettings
from podium.llm import rate_limits
from podium.llm.litellm_books import Books, Call, read_usage
from podium.llm.litellm_chunks import fold
from podium.llm.litellm_errors import classify
from podium.llm.types import CompletionRequest, FailureKind, LLMError

T = TypeVar("T")

# A provider's chunks that arrived together (one read of the socket can hold hundreds) are
# parsed without the event loop turning: litellm and the openai client suspend only to read.
# A stream behind its provider gives the loop back after TURN_S of parsing or TURN_CHUNKS
# chunks in a row, so thirty streams at once cannot hold the screen's keys for long.
TURN_S = 0.002
TURN_CHUNKS = 16
WAITED_S = 0.001  # an await on the provider this long waited on the network: the loop turned

CONTINUE_PROMPT = (
    "Your reply was cut off at the token limit. Continue exactly where it stopped: "
    "no repetition, no preamble, no code fence."
)


@dataclass
class Ask:
    """Asks for one reply: one provider request, continued while it is cut off at the limit."""

    litellm: Any
    request: CompletionRequest
    settings: ModelSettings
    key: str | None
    secrets: list[str]
    books: Books
    max_tokens: int | None

    async def reply(
        self, messages: list[dict[str, Any]], fmt: dict[str, Any] | None, out: list[str]
    ) -> AsyncGenerator[str, None]:
        """Stream a reply; its whole text lands in `out`. A reply cut off at max_tokens is
        continued up to `continuations` times (the partial reply sent back as the assistant's)
        before it fails as TOKEN_LIMIT: never a repair request about broken JSON."""
        model = self.request.model
        call = self.books.add(messages)
        async with aclosing(self._stream(call, fmt)) as pieces:
            async for piece in pieces:
                yield piece
        text = call.text
        for _ in range(self.settings.continuations):
            if call.finish_reason != "length":
                break
            more = [
                *messages,
                {"role": "assistant", "content": text},
                {"role": "user", "content": CONTINUE_PROMPT},
            ]
            call = self.books.add(more)
            # A continuation is a fragment of the reply, not a whole object: no format.
            async with aclosing(self._stream(call, None)) as pieces:
                async for piece in pieces:
                    yield piece
            text += call.text
        if call.finish_reason == "length":
            limit = f"max_tokens {self.max_tokens}" if self.max_tokens else "the model's limit"
            raise LLMError(
                FailureKind.TOKEN_LIMIT,
                f"the reply was cut off at the token limit ({limit}; {model}) after "
                f"{self.settings.continuations} continuation(s): raise "
                f'models.settings."{model}".max_tokens or ask for less',
                model=model,
            )
        out.append(text)

    async def _stream(self, call: Call, fmt: dict[str, Any] | None) -> AsyncGenerator[str, None]:
        """One provider request, its text deltas yielded as they come; totals land in `call`.

        `timeout_s` bounds the whole request (a steady stream longer than it fails too);
        `stall_timeout_s` bounds the silence before any one chunk. Only the awaits on the
        provider are timed: the time spent by the caller between chunks counts toward the
        deadline but is never interrupted by it.
        """
        request, settings = self.request, self.settings
        stall = settings.stall_timeout_s or settings.timeout_s
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": call.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": stall,
            "num_retries": 0,  # litellm's own retry wrapper
            "max_retries": 0,  # the openai client's retries
            "drop_params": True,  # a provider without response_format still answers
        }
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if self.key is not None:
            kwargs["api_key"] = self.key
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if fmt is not None:
            kwargs["response_format"] = fmt

        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.timeout_s

        async def timed(awaitable: Awaitable[T]) -> T:
            left = deadline - loop.time()
            whole = left <= stall
            try:
                async with asyncio.timeout(max(0.0, min(left, stall))):
                    return await awaitable
            except TimeoutError:
                raise _timed_out(request.model, settings, whole=whole) from None

        response: Any = None
        try:
            response = await timed(self.litellm.acompletion(**kwargs))
            fold(response)  # litellm would keep every chunk until the stream ends
            call.sent = True
            call.rate_limit = rate_limits.of_response(response)
            rate_limits.report(call.rate_limit)  # the limiter paces the next calls by it
            chunks = response.__aiter__()
            turned, run = loop.time(), 0  # the loop's last turn; chunks parsed since
            while True:
                asked = loop.time()
                try:
                    chunk = await timed(chunks.__anext__())
                except StopAsyncIteration:
                    break
                now = loop.time()
                if now - asked >= WAITED_S:
                    turned, run = now, 0
                run += 1
                if run >= TURN_CHUNKS or now - turned >= TURN_S:
                    await asyncio.sleep(0)  # let the screen and the other streams run
                    turned, run = loop.time(), 0
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    read_usage(call, usage)
                for choice in getattr(chunk, "choices", None) or ():
                    if choice.finish_reason:
                        call.finish_reason = str(choice.finish_reason)
                    delta = getattr(choice, "delta", None)
                    content = getattr(delta, "content", None)
                    if isinstance(content, str) and content:
                        call.add(content)
                        yield content
        except LLMError:
            raise
        except Exception as exc:
            error = classify(exc, request.model, settings, self.secrets)
            if error.kind is FailureKind.TIMEOUT:  # the client's own (stall) timeout fired
                error = _timed_out(request.model, settings, whole=loop.time() >= deadline)
            fresh = None if call.rate_limit else rate_limits.of_exception(exc)  # a refusal's
            error.rate_limit = call.rate_limit or fresh
            rate_limits.report(fresh, limited=error.kind is FailureKind.RATE_LIMIT)
            raise error from None
        finally:
            close = getattr(response, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    pass  # closing a broken stream may fail again; the first error stands
        if call.input_tokens is not None and call.output_tokens is not None:
            rate_limits.report(None, call.input_tokens + call.output_tokens)
        if not call.text and call.finish_reason != "length":
            if call.finish_reason == "content_filter":
                raise LLMError(
                    FailureKind.CONTENT_POLICY,
                    f"the provider's content filter withheld the reply ({request.model})",
                    model=request.model,
                )
            raise LLMError(
                FailureKind.MALFORMED_OUTPUT,
                f"the provider's reply held no text ({request.model})",
                model=request.model,
            )


def _timed_out(model: str, settings: ModelSettings, *, whole: bool) -> LLMError:
    if whole:
        message = (
            f"the call took longer than timeout_s = {settings.timeout_s:g} s ({model}); "
            f'raise models.settings."{model}".timeout_s if replies are this long'
        )
    else:
        stall = settings.stall_timeout_s or settings.timeout_s
        message = f"no text from the provider for {stall:g} s ({model})"
    return LLMError(FailureKind.TIMEOUT, message, model=model)
