"""Real providers through litellm, behind the same gateway as the rehearsal model.

litellm is heavy (~2.5 s to import) and chatty, so it is imported on the first call, in a worker
thread, with the local cost map and its output silenced. Every retry it or the openai client
would make is switched off: the engine is the only retry layer. Errors are sorted into a
`FailureKind` with a short message that never carries an API key.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import importlib
import importlib.metadata
import json
import logging
import os
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from podium.domain.artifacts import Prose
from podium.domain.production import ModelSettings
from podium.domain.text import sanitize
from podium.llm import rate_limits
from podium.llm.litellm_errors import MODEL_HINT, classify, clip, scrub, secrets_of
from podium.llm.litellm_images import generate_image
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    CompletionStream,
    FailureKind,
    ImageRequest,
    ImageResult,
    LLMError,
    is_rehearsal,
    schema_json,
)
from podium.locations import data_dir

T = TypeVar("T")

# --- loading litellm ------------------------------------------------------------------------

_litellm: Any = None
_load_lock = threading.Lock()


def _load_litellm() -> Any:
    """Import and quiet litellm once; safe to call from several threads."""
    global _litellm
    with _load_lock:
        if _litellm is not None:
            return _litellm
        # Offline-first: bundled price map and headers config, no fetch at import.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")
        os.environ.setdefault("LITELLM_LOCAL_BLOG_POSTS", "True")
        litellm: Any = importlib.import_module("litellm")
        litellm.suppress_debug_info = True
        litellm.set_verbose = False
        litellm.turn_off_message_logging = True
        if hasattr(litellm, "telemetry"):
            litellm.telemetry = False
        for name in (
            "callbacks",
            "input_callback",
            "success_callback",
            "failure_callback",
            "service_callback",
            "audit_log_callbacks",
            "_async_input_callback",
            "_async_success_callback",
            "_async_failure_callback",
        ):
            if isinstance(getattr(litellm, name, None), list):
                setattr(litellm, name, [])
        # A log line on stderr would tear the TUI; only the critical ones get through.
        for name in list(logging.root.manager.loggerDict):
            if name.lower().startswith("litellm"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        # What litellm and the openai client import on their first call (half a second
        # of imports), imported here in the worker thread instead of on the event loop,
        # where it would freeze the screen and count against the first call's timeout.
        for module in _FIRST_CALL_MODULES:
            try:
                importlib.import_module(module)
            except ImportError:
                pass
        _litellm = litellm
        _remember_providers(litellm)
        return litellm


_FIRST_CALL_MODULES = (
    "openai.resources",
    "openai.resources.chat",
    "openai.resources.images",
    "anyio._backends._asyncio",
    "jiter",
    "litellm.litellm_core_utils.default_encoding",
    "litellm.llms.litellm_proxy",
    "litellm.proxy._types",
    "litellm._service_logger",
)


# --- the providers litellm routes, remembered per litellm version ---------------------------
# Checking a model name before a run needs only litellm's provider list, and importing litellm
# for it would put seconds before the first frame. The list is kept from the last import.


def _providers_file() -> Path | None:
    try:
        version = importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return None
    safe = re.sub(r"[^0-9A-Za-z.]+", "_", version)
    return data_dir() / "cache" / f"litellm-{safe}-providers.json"


def _remember_providers(litellm: Any) -> None:
    """Best effort: without the file, the next check imports litellm as before."""
    path = _providers_file()
    if path is None:
        return
    providers = sorted(str(getattr(p, "value", p)) for p in getattr(litellm, "provider_list", ()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(providers), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        pass


def _remembered_provider(model: str) -> bool:
    """Whether the installed litellm routed this model's provider when last imported."""
    path = _providers_file()
    if path is None or "/" not in model:
        return False
    try:
        providers = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(providers, list) and model.split("/", 1)[0] in providers


async def _ensure_litellm() -> Any:
    if _litellm is not None:
        return _litellm
    return await asyncio.to_thread(_load_litellm)


# --- the backend ----------------------------------------------------------------------------

CONTINUE_PROMPT = (
    "Your reply was cut off at the token limit. Continue exactly where it stopped: "
    "no repetition, no preamble, no code fence."
)

# Reply token limits when the model's settings name none (capped at the model's own limit).
DEFAULT_MAX_TOKENS = 4096
LONG_MAX_TOKENS = {"script": 16384, "plan": 16384}


@dataclass
class _Call:
    """What one provider request produced (so far: a failed or cancelled one counts too)."""

    messages: list[dict[str, Any]]
    sent: bool = False  # the provider accepted the request: it is paid for from here on
    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    usage: Any = None  # litellm's Usage, for its cost calculator
    finish_reason: str | None = None
    rate_limit: rate_limits.RateLimit | None = None  # the answer's rate-limit headers


@dataclass
class _Books:
    """Every provider request of one logical call, for the result and for a failure's books."""

    litellm: Any
    model: str
    settings: ModelSettings
    started: float = field(default_factory=time.monotonic)
    calls: list[_Call] = field(default_factory=list)

    def add(self, messages: list[dict[str, Any]]) -> _Call:
        call = _Call(messages)
        self.calls.append(call)
        return call

    def result(
        self, text: str = "", parsed: BaseModel | None = None, finish_reason: str = "stop"
    ) -> CompletionResult:
        input_tokens = output_tokens = cached = written = 0
        cost: float | None = 0.0
        for call in self.calls:
            if not call.sent:
                continue  # refused before any work: providers do not bill it
            tokens_in, tokens_out = _tokens(self.litellm, self.model, call)
            input_tokens += tokens_in
            output_tokens += tokens_out
            cached += call.cached_tokens
            written += call.cache_write_tokens
            part = _cost(self.litellm, self.model, self.settings, call, tokens_in, tokens_out)
            cost = None if cost is None or part is None else cost + part
        return CompletionResult(
            text=text,
            model=self.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
            latency_s=time.monotonic() - self.started,
            parsed=parsed,
            finish_reason=finish_reason,
            cached_input_tokens=cached,
            cache_write_tokens=written,
            rate_limit=self.calls[-1].rate_limit if self.calls else None,
        )

    def spent(self) -> CompletionResult | None:
        if not any(call.sent for call in self.calls):
            return None
        try:
            return self.result(finish_reason="cut_off")
        except Exception:
            return None  # the engine estimates instead


class LiteLLMBackend:
    """Streams completions and generates images through litellm."""

    def __init__(self, settings: Mapping[str, ModelSettings]) -> None:
        self._settings = dict(settings)

    def settings_for(self, model: str) -> ModelSettings:
        return self._settings.get(model) or ModelSettings()

    def complete(self, request: CompletionRequest) -> CompletionStream:
        holder: list[_Books] = []
        return CompletionStream(
            self._complete(request, holder), lambda: holder[0].spent() if holder else None
        )

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        settings = self.settings_for(request.model)
        key = _api_key(settings, request.model)
        return await generate_image(await _ensure_litellm(), request, settings, key)

    async def _complete(
        self, request: CompletionRequest, holder: list[_Books]
    ) -> AsyncIterator[str | CompletionResult]:
        settings = self.settings_for(request.model)
        key = _api_key(settings, request.model)
        secrets = secrets_of(key)
        litellm = await _ensure_litellm()
        books = _Books(litellm, request.model, settings)
        holder.append(books)
        schema = request.response_schema
        messages = _messages(request, cacheable=_anthropic(litellm, request.model))
        ask = _Ask(
            self,
            litellm,
            request,
            settings,
            key,
            secrets,
            books,
            _max_tokens(litellm, request, settings),
        )
        try:
            reply: list[str] = []
            fmt = _response_format(litellm, request.model, schema)
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


@dataclass
class _Ask:
    """Asks for one reply: one provider request, continued while it is cut off at the limit."""

    backend: LiteLLMBackend
    litellm: Any
    request: CompletionRequest
    settings: ModelSettings
    key: str | None
    secrets: list[str]
    books: _Books
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

    async def _stream(self, call: _Call, fmt: dict[str, Any] | None) -> AsyncGenerator[str, None]:
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
            call.sent = True
            call.rate_limit = rate_limits.of_response(response)
            rate_limits.report(call.rate_limit)  # the limiter paces the next calls by it
            chunks = response.__aiter__()
            while True:
                try:
                    chunk = await timed(chunks.__anext__())
                except StopAsyncIteration:
                    break
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    _read_usage(call, usage)
                for choice in getattr(chunk, "choices", None) or ():
                    if choice.finish_reason:
                        call.finish_reason = str(choice.finish_reason)
                    delta = getattr(choice, "delta", None)
                    content = getattr(delta, "content", None)
                    if isinstance(content, str) and content:
                        call.text += content
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


def _read_usage(call: _Call, usage: Any) -> None:
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    if not (isinstance(prompt, int) and isinstance(completion, int)):
        return
    call.input_tokens, call.output_tokens = prompt, completion
    call.usage = usage
    details = getattr(usage, "prompt_tokens_details", None)
    read = getattr(details, "cached_tokens", None) or getattr(usage, "cache_read_input_tokens", 0)
    written = getattr(usage, "cache_creation_input_tokens", None) or getattr(
        details, "cache_creation_tokens", 0
    )
    call.cached_tokens = read if isinstance(read, int) else 0
    call.cache_write_tokens = written if isinstance(written, int) else 0


def unknown_model_reason(model: str) -> str | None:
    """Why litellm cannot route this model string, or None when it can (checked before a run).

    A provider the installed litellm was seen to route needs no import; otherwise this
    imports litellm (synchronously): call it where a pause of a few seconds is fine.
    """
    if is_rehearsal(model) or _remembered_provider(model):
        return None
    litellm = _load_litellm()
    try:
        litellm.get_llm_provider(model=model)
    except Exception:
        return f"unknown model {model!r}: {MODEL_HINT}"
    return None


# --- requests -------------------------------------------------------------------------------


def _api_key(settings: ModelSettings, model: str) -> str | None:
    if settings.api_key_env is None:
        return None  # litellm reads the provider's usual variable (OPENAI_API_KEY, …)
    value = os.environ.get(settings.api_key_env)
    if not value:
        raise LLMError(
            FailureKind.AUTH,
            f"set the environment variable {settings.api_key_env} to the API key for {model}",
            model=model,
        )
    return value


def _messages(request: CompletionRequest, *, cacheable: bool = False) -> list[dict[str, Any]]:
    """The request's messages, with the schema said once: added to the system message only
    when no message carries it already (the engine's prompts put it in the stable system
    text). `cacheable` marks the system messages for Anthropic's prompt cache."""
    messages: list[dict[str, Any]] = [
        {"role": m.role, "content": m.content} for m in request.messages
    ]
    schema = request.response_schema
    if schema is not None:
        text = schema_json(schema)
        if not any(text in m["content"] for m in messages):
            instruction = (
                "Answer with a single JSON object and nothing else: no prose, no code fences. "
                f"It must match this JSON schema:\n{text}"
            )
            if messages and messages[0]["role"] == "system":
                content = f"{messages[0]['content']}\n\n{instruction}"
                messages[0] = {"role": "system", "content": content}
            else:
                messages.insert(0, {"role": "system", "content": instruction})
    if cacheable:
        marked = 0
        for i, message in enumerate(messages):
            if message["role"] != "system" or marked == CACHE_BREAKPOINTS:
                break  # the stable prefix ends at the first message that is not system text
            block = {"type": "text", "text": message["content"], "cache_control": EPHEMERAL}
            messages[i] = {"role": "system", "content": [block]}
            marked += 1
    return messages


CACHE_BREAKPOINTS = 2  # Anthropic allows four a request; the system text needs at most two
EPHEMERAL = {"type": "ephemeral"}


def _anthropic(litellm: Any, model: str) -> bool:
    """Whether litellm sends this model to Anthropic (whose cache is opt-in, per block)."""
    try:
        return str(litellm.get_llm_provider(model=model)[1]) == "anthropic"
    except Exception:
        return model.startswith("anthropic/")


def _response_format(
    litellm: Any, model: str, schema: type[BaseModel] | None
) -> dict[str, Any] | None:
    """The schema itself (strict when it can be) where litellm says the model takes one,
    JSON mode otherwise; nothing for prose, which may come back as plain text."""
    if schema is None or schema is Prose:
        return None
    try:
        structured = bool(litellm.supports_response_schema(model=model))
    except Exception:
        structured = False
    if not structured:
        return {"type": "json_object"}
    body, strict = strict_schema(schema)
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": copy.deepcopy(body), "strict": strict},
    }


# Keywords a strict schema may not carry (the reply is validated by pydantic afterwards).
_NOT_STRICT = ("default", "minLength", "maxLength", "minItems", "maxItems", "uniqueItems")


@functools.cache
def strict_schema(schema: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    """The class's JSON schema shaped for strict structured output, built once per class:
    every object closed (additionalProperties false) with every property required. A schema
    with an open mapping (a dict field) cannot be strict: it is sent with strict false."""
    body = json.loads(schema_json(schema))
    strict = True

    def walk(node: Any) -> None:
        nonlocal strict
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for key in _NOT_STRICT:
            node.pop(key, None)
        if node.get("type") == "object" or "properties" in node:
            extra = node.get("additionalProperties")
            if extra not in (None, False):
                strict = False
            else:
                node["additionalProperties"] = False
                node["required"] = list(node.get("properties", {}))
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for child in value.values():
                    walk(child)
            elif isinstance(value, dict | list):
                walk(value)

    walk(body)
    return body, strict


def _plain_prose(schema: type[BaseModel], text: str) -> bool:
    """Prose may come back as plain text from any model; the engine wraps it (`_content`)."""
    return schema is Prose and not text.lstrip().startswith("{")


def _max_tokens(litellm: Any, request: CompletionRequest, settings: ModelSettings) -> int | None:
    """The reply's token limit: the request's, else the settings' for its task kind or
    purpose (or their 'default'), else podium's; never above the model's own limit."""
    if request.max_tokens is not None:
        return request.max_tokens
    kind = str(request.hints.get("kind") or "")
    limits = settings.max_tokens
    for name in (kind, request.purpose, "default"):
        if name in limits:
            return limits[name]  # the production file's word, as written
    wanted = LONG_MAX_TOKENS.get(kind, DEFAULT_MAX_TOKENS)
    try:
        ceiling = litellm.get_model_info(request.model).get("max_output_tokens")
    except Exception:
        ceiling = None
    if isinstance(ceiling, int) and ceiling > 0:
        wanted = min(wanted, ceiling)
    return wanted


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


# --- tokens and cost ------------------------------------------------------------------------

# Models whose litellm tokenizer would be downloaded from Hugging Face; count them with the
# default tokenizer instead (an estimate either way, and never a network call).
_DOWNLOADED_TOKENIZERS = ("llama", "cohere", "command-r", "replicate")


def _tokens(litellm: Any, model: str, call: _Call) -> tuple[int, int]:
    if call.input_tokens is not None and call.output_tokens is not None:
        return call.input_tokens, call.output_tokens
    counter = "" if any(k in model.lower() for k in _DOWNLOADED_TOKENIZERS) else model
    try:
        tokens_in = int(litellm.token_counter(model=counter, messages=call.messages))
    except Exception:
        tokens_in = sum(len(m["content"]) for m in call.messages) // 4 + 1
    try:
        tokens_out = int(litellm.token_counter(model=counter, text=call.text))
    except Exception:
        tokens_out = len(call.text) // 4 + 1
    return tokens_in, tokens_out


def _cost(
    litellm: Any,
    model: str,
    settings: ModelSettings,
    call: _Call,
    tokens_in: int,
    tokens_out: int,
) -> float | None:
    """Price of one request as the provider prices it (cache reads and writes included);
    None when nobody knows the price (never a guessed 0)."""
    price_in, price_out = settings.input_cost_per_token, settings.output_cost_per_token
    if price_in is not None and price_out is not None:
        cached = min(call.cached_tokens, tokens_in)
        price_cached = settings.cached_input_cost_per_token
        price_cached = price_in if price_cached is None else price_cached
        return (tokens_in - cached) * price_in + cached * price_cached + tokens_out * price_out
    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=model,
            prompt_tokens=tokens_in,
            completion_tokens=tokens_out,
            usage_object=call.usage,
        )
    except Exception:
        return None
    if price_in is not None:
        cost_in = tokens_in * price_in
    if price_out is not None:
        cost_out = tokens_out * price_out
    total = float(cost_in) + float(cost_out)
    if total == 0.0 and not _priced(litellm, model):
        return None
    return total


def _priced(litellm: Any, model: str) -> bool:
    """Whether litellm lists a price for the model (a listed 0 is a real price: local models)."""
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return False
    return info.get("input_cost_per_token") is not None
