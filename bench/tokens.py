"""Prompt tokens on the three samples with the rehearsal model: how much a provider could cache.

    .venv/bin/python bench/tokens.py [--sample last_light ...]

Each sample runs headless in-process with its own seed (`--auto-approve all`, no simulated
latency), and every request the rehearsal model receives is recorded. Per sample, one JSON line:

* `calls`, `prompt_tokens` (the request's text at CHARS_PER_TOKEN, as the rehearsal model books
  it), `output_tokens` and `tokens` (both, from the log's books);
* `cacheable_fraction`: for each call, the longest prefix (in tokens) its prompt shares with an
  earlier call's prompt to the same model, summed over the calls, ÷ prompt tokens. That is what
  a provider's prefix cache could serve at best (OpenAI caches any shared prefix; Anthropic the
  blocks podium marks, which end where the stable text ends);
* `cacheable_bound`: what no layout can beat: 1 − (the inputs each call sends that its model
  never received before, ÷ prompt tokens). A prefix cache serves only text it has seen; when
  most of a sample's prompt is work read once (a series' scripts), the fraction stays low;
* `delivered_words`: the words of every task's current version (the plan excepted), and
  `prompt_tokens_per_word`.

Run it from an older tree (`PYTHONPATH=<tree>/src`) for the "before" figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ("last_light", "arctic_journey", "arcadian_summers")
CHARS_PER_TOKEN = 4


def prompt_of(request: Any) -> str:
    return "".join(f"<{m.role}>{m.content}" for m in request.messages)


def shared_prefix(a: str, b: str) -> int:
    """The length of the common prefix of two strings (binary search on slices: fast in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def cacheable(prompts: list[tuple[str, str]]) -> tuple[int, int]:
    """(cacheable characters, prompt characters) over calls in order: each call's longest
    prefix shared with an earlier call's prompt to the same model."""
    seen: dict[str, list[str]] = defaultdict(list)
    hit = total = 0
    for model, text in prompts:
        earlier = seen[model]
        best = 0
        for other in earlier:
            if other[: best + 1] != text[: best + 1]:
                continue  # cannot beat what is already found
            best = max(best, shared_prefix(other, text))
        hit += best
        total += len(text)
        earlier.append(text)
    return hit, total


def first_reads(calls: list[tuple[str, list[str]]]) -> int:
    """Characters of inputs sent to a model that had not received them before: each call's
    inputs message (`podium.engine.prompts.layout`) split at its INPUT headings."""
    seen: dict[str, set[str]] = defaultdict(set)
    first = 0
    for model, inputs in calls:
        for message in inputs:
            for block in message.split("\n\nINPUT from "):
                body = block.split("\n", 1)[1] if "\n" in block else ""
                if body and body not in seen[model]:
                    first += len(body)
                    seen[model].add(body)
    return first


async def run(sample: str, db: Path) -> dict[str, Any]:
    from podium.domain.versions import current_of
    from podium.engine.engine import AutoApprove, Engine
    from podium.llm.rehearsal.backend import RehearsalBackend
    from podium.loader import read_production
    from podium.store import EventStore

    prompts: list[tuple[str, str]] = []
    inputs: list[tuple[str, list[str]]] = []
    original = RehearsalBackend.complete

    def recording(self: Any, request: Any) -> Any:
        prompts.append((request.model, prompt_of(request)))
        users = [m.content for m in request.messages if m.role == "user"]
        inputs.append((request.model, users[:-1]))  # the last is the task's own text
        return original(self, request)

    RehearsalBackend.complete = recording  # type: ignore[method-assign]
    try:
        spec = read_production(ROOT / "sample_productions" / f"{sample}.toml")
        fast = spec.models.rehearsal.model_copy(
            update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e7, "latency_by_kind": {}}
        )
        spec = spec.model_copy(
            update={"models": spec.models.model_copy(update={"rehearsal": fast})}
        )
        store = await EventStore.open(db)
        try:
            engine = await Engine.open(
                store, spec=spec, source=f"{sample}.toml", auto_approve=AutoApprove("all")
            )
            state = await engine.run()
            view = engine.view
        finally:
            await store.close()
    finally:
        RehearsalBackend.complete = original  # type: ignore[method-assign]
    hit, total = cacheable(prompts)
    words = 0
    for record in view.tasks.values():
        if record.spec.kind.value == "plan":
            continue
        art = current_of(view, record)
        if art is not None:
            words += len(art.parsed().plain_text().split())
    prompt_tokens = total // CHARS_PER_TOKEN
    return {
        "sample": sample,
        "state": state.value,
        "calls": len(prompts),
        "prompt_tokens": prompt_tokens,
        "output_tokens": view.output_tokens,
        "tokens": view.input_tokens + view.output_tokens,
        "cacheable_fraction": round(hit / total, 3) if total else 0.0,
        "cacheable_bound": round(1 - first_reads(inputs) / total, 3) if total else 0.0,
        "delivered_words": words,
        "prompt_tokens_per_word": round(prompt_tokens / words, 2) if words else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sample", action="append", choices=SAMPLES)
    args = parser.parse_args(argv)
    for sample in args.sample or SAMPLES:
        with tempfile.TemporaryDirectory() as tmp:
            line = asyncio.run(run(sample, Path(tmp) / "p.db"))
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
