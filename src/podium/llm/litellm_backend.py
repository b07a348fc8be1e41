"""Real providers through litellm, behind the same gateway as the rehearsal model.

The backend asks for a reply (`litellm_stream`), validates it against the request's schema and
asks once for a repair when it does not fit; a failure carries the books of what was spent
(`litellm_books`). litellm itself is imported on the first call (`litellm_loader`); the request's
messages, format and token limit are built in `litellm_requests`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing

from pydantic import BaseModel, ValidationError

from podium.domain.artifacts import Prose
from podium.domain.production import ModelSettings
from podium.domain.text import sanitize
from podium.llm.litellm_books import Books
from podium.llm.litellm_errors import clip, scrub, secrets_of
from podium.llm.litellm_images import generate_image
from podium.llm.litellm_loader import (
    ensure_litellm,
    load_litellm,
    providers_file,
    remember_providers,
    remembered_provider,
    unknown_model_reason,
)
from podium.llm.litellm_requests import (
    api_key_for,
    is_anthropic,
    max_tokens_for,
    messages_for,
    response_format_for,
    strict_schema,
)
from podium.llm.litellm_stream import Ask
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    CompletionStream,
    FailureKind,
    ImageRequest,
    ImageResult,
    LLMError,
)

__all__ = ["LiteLLMBackend", "strict_schema", "unknown_model_reason"]

# The names these had when they lived here (export/voices.py and the tests still use them).
_load_litellm = load_litellm
_providers_file = providers_file
_remember_providers = remember_providers
_remembered_provider = remembered_provider


class LiteLLMBackend:
    """Streams completions and generates images through litellm."""

    def __init__(self, settings: Mapping[str, ModelSettings]) -> None:
        self._settings = dict(settings)

    def settings_for(self, model: str) -> ModelSettings:
        return self._settings.get(model) or ModelSettings()

    def complete(self, request: CompletionRequest) -> CompletionStream:
        holder: list[Books] = []
        return CompletionStream(
            self._complete(request, holder), lambda: holder[0].spent() if holder else None
        )

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        settings = self.settings_for(request.model)
        key = api_key_for(settings, request.model)
        return await generate_image(await ensure_litellm(), request, settings, key)

    async def _complete(
        self, request: CompletionRequest, holder: list[Books]
    ) -> AsyncIterator[str | CompletionResult]:
        settings = self.settings_for(request.model)
        key = api_key_for(settings, request.model)
        secrets = secrets_of(key)
        litellm = await ensure_litellm()
        books = Books(litellm, request.model, settings)
        holder.append(books)
        schema = request.response_schema
        messages = messages_for(request, cacheable=is_anthropic(litellm, request.model))
        ask = Ask(
            litellm,
            request,
            settings,
            key,
            secrets,
            books,
            max_tokens_for(litellm, request, settings),
        )
        try:
            reply: list[str] = []
            fmt = response_format_for(litellm, request.model, schema)
            async with aclosing(ask.reply(messages, fmt, reply)) as out:
                async for piece in out:
                    yield piece
            text = reply[0]
            parsed: BaseModel | None = None
            if schema is not None and not _plain_prose(schema, text):
                parsed, errors = _parse(text, schema)
                if parsed is None:
                    yield "\n"
                    repair = [
                        *messages,
                        {"role": "assistant", "content": text},
                        {"role": "user", "content": _repair_prompt(errors)},
                    ]
                    reply.clear()
                    async with aclosing(ask.reply(repair, fmt, reply)) as out:
                        async for piece in out:
                            yield piece
                    text = reply[0]
                    parsed, errors = _parse(text, schema)
                    if parsed is None:
                        # The error locations can quote keys the model invented: untrusted.
                        message = f"the reply did not fit {schema.__name__} even after one repair: "
                        message = sanitize(scrub(message + "; ".join(errors), secrets))
                        raise LLMError(
                            FailureKind.MALFORMED_OUTPUT, clip(message, 300), model=request.model
                        )
        except LLMError as error:
            if error.spent is None:
                error.spent = books.spent()
            raise
        yield books.result(text, parsed, books.calls[-1].finish_reason or "stop")


# --- replies --------------------------------------------------------------------------------


def _plain_prose(schema: type[BaseModel], text: str) -> bool:
    """Prose may come back as plain text from any model; the engine wraps it (`_content`)."""
    return schema is Prose and not text.lstrip().startswith("{")


def _repair_prompt(errors: list[str]) -> str:
    return (
        "That reply was not valid: "
        + "; ".join(errors)
        + ". Reply again with only the corrected JSON object, matching the schema."
    )


_FENCE = re.compile(r"^```[\w-]*[ \t]*\n?(.*?)\n?```$", re.DOTALL)


def _parse(text: str, schema: type[BaseModel]) -> tuple[BaseModel | None, list[str]]:
    """Validate a reply, tolerating code fences and prose around the object."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body.startswith("{"):
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end:
            body = body[start : end + 1]
    try:
        return schema.model_validate_json(body), []
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False)[:8]:
            where = ".".join(str(part) for part in error["loc"]) or "(whole reply)"
            errors.append(f"{where}: {error['msg']}")
        return None, errors
