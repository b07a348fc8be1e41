"""What a litellm request carries besides the call itself: the API key, the messages (the schema
said once, Anthropic's cache marks on the system text and the inputs), the response format (a
strict JSON schema where the model takes one) and the reply's token limit."""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel

from podium.domain.artifacts import Prose
from podium.domain.production import ModelSettings
from podium.llm.types import CompletionRequest, FailureKind, LLMError, schema_json

# Reply token limits when the model's settings name none (capped at the model's own limit).
DEFAULT_MAX_TOKENS = 4096
LONG_MAX_TOKENS = {"script": 16384, "plan": 16384}

CACHE_BREAKPOINTS = 3  # Anthropic allows four a request: two system blocks and the inputs
EPHEMERAL = {"type": "ephemeral"}


# In the shared provider worker, a call's keys as its podium process read them (worker.py).
CALL_KEYS: ContextVar[Mapping[str, str | None] | None] = ContextVar(
    "podium_call_keys", default=None
)


def api_key_for(settings: ModelSettings, model: str) -> str | None:
    if settings.api_key_env is None:
        return None  # litellm reads the provider's usual variable (OPENAI_API_KEY, …)
    keys = CALL_KEYS.get()
    value = os.environ.get(settings.api_key_env) if keys is None else keys.get(settings.api_key_env)
    if not value:
        raise LLMError(
            FailureKind.AUTH,
            f"set the environment variable {settings.api_key_env} to the API key for {model}",
            model=model,
        )
    return value


def messages_for(request: CompletionRequest, *, cacheable: bool = False) -> list[dict[str, Any]]:
    """The request's messages, with the schema said once: added to the system message only
    when no message carries it already (the engine's prompts put it in the stable system
    text). `cacheable` marks the stable start for Anthropic's prompt cache (`cache_marks`)."""
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
        for i in cache_marks(messages):
            message = messages[i]
            block = {"type": "text", "text": message["content"], "cache_control": EPHEMERAL}
            messages[i] = {"role": message["role"], "content": [block]}
    return messages


def cache_marks(messages: list[dict[str, Any]]) -> list[int]:
    """Where Anthropic's cache marks go (`podium.engine.prompts.layout`): the leading system
    blocks (the production-wide text, the agent), and the inputs, a user message followed by
    the task's own user message, at most CACHE_BREAKPOINTS in all."""
    marks: list[int] = []
    i = 0
    while i < len(messages) and messages[i]["role"] == "system" and len(marks) < 2:
        marks.append(i)
        i += 1
    if i + 1 < len(messages) and messages[i]["role"] == messages[i + 1]["role"] == "user":
        marks.append(i)
    return marks[:CACHE_BREAKPOINTS]


def is_anthropic(litellm: Any, model: str) -> bool:
    """Whether litellm sends this model to Anthropic (whose cache is opt-in, per block)."""
    try:
        return str(litellm.get_llm_provider(model=model)[1]) == "anthropic"
    except Exception:
        return model.startswith("anthropic/")


def response_format_for(
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


def max_tokens_for(litellm: Any, request: CompletionRequest, settings: ModelSettings) -> int | None:
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
