"""The books of one logical call through litellm: every provider request it made (a failed or
cancelled one counts too), its tokens (the provider's usage, else counted) and its cost (the
production's prices, else litellm's; None when nobody knows the price, never a guessed 0)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from podium.domain.production import ModelSettings
from podium.llm import rate_limits
from podium.llm.types import CompletionResult

JOIN_EVERY = 256


@dataclass
class Call:
    """What one provider request produced (so far: a failed or cancelled one counts too)."""

    messages: list[dict[str, Any]]
    sent: bool = False  # the provider accepted the request: it is paid for from here on
    # The reply's text in pieces, joined every JOIN_EVERY pieces: `text += piece` on an
    # attribute copies the whole text at every chunk (47 µs a chunk at 48,000 chunks), and a
    # list of every piece costs ~60 bytes a piece for a few bytes of text.
    pieces: list[str] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    usage: Any = None  # litellm's Usage, for its cost calculator
    finish_reason: str | None = None
    rate_limit: rate_limits.RateLimit | None = None  # the answer's rate-limit headers

    def add(self, piece: str) -> None:
        """A piece of the reply's text, as it streams in."""
        pieces = self.pieces
        pieces.append(piece)
        if len(pieces) >= JOIN_EVERY:
            pieces[:] = ["".join(pieces)]

    @property
    def text(self) -> str:
        """The reply's text so far."""
        if len(self.pieces) > 1:
            self.pieces[:] = ["".join(self.pieces)]
        return self.pieces[0] if self.pieces else ""


@dataclass
class Books:
    """Every provider request of one logical call, for the result and for a failure's books."""

    litellm: Any
    model: str
    settings: ModelSettings
    started: float = field(default_factory=time.monotonic)
    calls: list[Call] = field(default_factory=list)

    def add(self, messages: list[dict[str, Any]]) -> Call:
        call = Call(messages)
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


def read_usage(call: Call, usage: Any) -> None:
    """Book a streamed chunk's usage (tokens, cache reads and writes) on its request."""
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


# --- tokens and cost ------------------------------------------------------------------------

# Models whose litellm tokenizer would be downloaded from Hugging Face; count them with the
# default tokenizer instead (an estimate either way, and never a network call).
_DOWNLOADED_TOKENIZERS = ("llama", "cohere", "command-r", "replicate")


def _tokens(litellm: Any, model: str, call: Call) -> tuple[int, int]:
    if call.input_tokens is not None and call.output_tokens is not None:
        return call.input_tokens, call.output_tokens
    counter = "" if any(k in model.lower() for k in _DOWNLOADED_TOKENIZERS) else model
    try:
        tokens_in = int(litellm.token_counter(model=counter, messages=call.messages))
    except Exception:
        tokens_in = sum(len(_text_of(m.get("content"))) for m in call.messages) // 4 + 1
    try:
        tokens_out = int(litellm.token_counter(model=counter, text=call.text))
    except Exception:
        tokens_out = len(call.text) // 4 + 1
    return tokens_in, tokens_out


def _text_of(content: Any) -> str:
    """A message's text: its content string, or the text of its blocks when the content is a
    list of them (a cache-marked message: `[{"type": "text", "text": ..., "cache_control":
    ...}]`); what is not text (an image block, no content) counts nothing."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block["text"]
            for block in content
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        )
    return ""


def _cost(
    litellm: Any,
    model: str,
    settings: ModelSettings,
    call: Call,
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
