"""Real providers through litellm, behind the same gateway as the rehearsal model.

litellm is heavy (~2.5 s to import) and chatty, so it is imported on the first call, in a worker
thread, with the local cost map and its output silenced. Every retry it or the openai client
would make is switched off: the engine is the only retry layer. Errors are sorted into a
`FailureKind` with a short message that never carries an API key.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import json
import logging
import os
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from podium.domain.production import ModelSettings
from podium.domain.text import sanitize
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
)
from podium.locations import data_dir

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
        _litellm = litellm
        _remember_providers(litellm)
        return litellm


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


@dataclass
class _Call:
    """What one streamed call produced."""

    messages: list[dict[str, str]]
    text: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None


class LiteLLMBackend:
    """Streams completions and generates images through litellm."""

    def __init__(self, settings: Mapping[str, ModelSettings]) -> None:
        self._settings = dict(settings)

    def settings_for(self, model: str) -> ModelSettings:
        return self._settings.get(model) or ModelSettings()

    def complete(self, request: CompletionRequest) -> CompletionStream:
        return CompletionStream(self._complete(request))

    async def _complete(self, request: CompletionRequest) -> AsyncIterator[str | CompletionResult]:
        settings = self.settings_for(request.model)
        key = _api_key(settings, request.model)
        secrets = secrets_of(key)
        litellm = await _ensure_litellm()
        started = time.monotonic()
        schema = request.response_schema
        messages = _messages(request)

        first = _Call(messages)
        async with aclosing(self._stream(litellm, request, settings, key, first, secrets)) as out:
            async for piece in out:
                yield piece
        calls = [first]
        final = first
        parsed: BaseModel | None = None
        if schema is not None:
            parsed, errors = _parse(first.text, schema)
            if parsed is None:
                yield "\n"
                repair = [
                    *messages,
                    {"role": "assistant", "content": first.text},
                    {"role": "user", "content": _repair_prompt(errors)},
                ]
                final = _Call(repair)
                calls.append(final)
                repaired = self._stream(litellm, request, settings, key, final, secrets)
                async with aclosing(repaired) as out:
                    async for piece in out:
                        yield piece
                parsed, errors = _parse(final.text, schema)
                if parsed is None:
                    # The error locations can quote keys the model invented: untrusted text.
                    message = f"the reply did not fit {schema.__name__} even after one repair: "
                    message = sanitize(scrub(message + "; ".join(errors), secrets))
                    raise LLMError(
                        FailureKind.MALFORMED_OUTPUT, clip(message, 300), model=request.model
                    )

        input_tokens = output_tokens = 0
        cost: float | None = 0.0
        for call in calls:
            tokens_in, tokens_out = _tokens(litellm, request.model, call)
            input_tokens += tokens_in
            output_tokens += tokens_out
            part = _cost(litellm, request.model, settings, tokens_in, tokens_out)
            cost = None if cost is None or part is None else cost + part
        yield CompletionResult(
            text=final.text,
            model=request.model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
            latency_s=time.monotonic() - started,
            parsed=parsed,
            finish_reason=final.finish_reason or "stop",
        )

    async def _stream(
        self,
        litellm: Any,
        request: CompletionRequest,
        settings: ModelSettings,
        key: str | None,
        call: _Call,
        secrets: list[str],
    ) -> AsyncGenerator[str, None]:
        """One provider call, its text deltas yielded as they come; totals land in `call`."""
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": call.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": settings.timeout_s,
            "num_retries": 0,  # litellm's own retry wrapper
            "max_retries": 0,  # the openai client's retries
            "drop_params": True,  # a provider without response_format still answers
        }
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if key is not None:
            kwargs["api_key"] = key
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.response_schema is not None:
            kwargs["response_format"] = {"type": "json_object"}

        response: Any = None
        try:
            response = await litellm.acompletion(**kwargs)
            async for chunk in response:
                usage = getattr(chunk, "usage", None)
                if usage is not None:
                    prompt = getattr(usage, "prompt_tokens", None)
                    completion = getattr(usage, "completion_tokens", None)
                    if isinstance(prompt, int) and isinstance(completion, int):
                        call.input_tokens, call.output_tokens = prompt, completion
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
            raise classify(exc, request.model, settings, secrets) from None
        finally:
            close = getattr(response, "aclose", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    pass  # closing a broken stream may fail again; the first error stands
        if not call.text:
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

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        settings = self.settings_for(request.model)
        key = _api_key(settings, request.model)
        return await generate_image(await _ensure_litellm(), request, settings, key)


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


def _messages(request: CompletionRequest) -> list[dict[str, str]]:
    messages = [{"role": m.role, "content": m.content} for m in request.messages]
    if request.response_schema is None:
        return messages
    schema = json.dumps(request.response_schema.model_json_schema(), separators=(",", ":"))
    instruction = (
        "Answer with a single JSON object and nothing else: no prose, no code fences. "
        f"It must match this JSON schema:\n{schema}"
    )
    if messages and messages[0]["role"] == "system":
        messages[0] = {"role": "system", "content": f"{messages[0]['content']}\n\n{instruction}"}
    else:
        messages.insert(0, {"role": "system", "content": instruction})
    return messages


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
    litellm: Any, model: str, settings: ModelSettings, tokens_in: int, tokens_out: int
) -> float | None:
    """Price of one call; None when nobody knows the price (never a guessed 0)."""
    price_in, price_out = settings.input_cost_per_token, settings.output_cost_per_token
    if price_in is not None and price_out is not None:
        return tokens_in * price_in + tokens_out * price_out
    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out
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
