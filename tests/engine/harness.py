"""An engine harness for tests: small productions, a scripted model, and helpers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.domain.artifacts import (
    KIND_CONTENT,
    Alternative,
    Alternatives,
    Critique,
    Position,
    Prose,
    Ruling,
)
from podium.domain.loading import parse_production
from podium.domain.production import ProductionSpec
from podium.domain.tasks import TaskKind
from podium.engine.engine import AutoApprove, Engine
from podium.llm.gateway import Gateway
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    CompletionStream,
    FailureKind,
    ImageRequest,
    ImageResult,
    LLMError,
)
from podium.store import EventStore


def production(body: str, *, header: str | None = None) -> ProductionSpec:
    head = header or (
        '[production]\ntitle = "Test"\nformat = "short_film"\nbrief = "A test."\n'
        '[vision]\npremise = "A premise."\n'
    )
    return parse_production(head + body, "test.toml")


def crew(*agents: tuple[str, str]) -> str:
    return "".join(f'[[crew]]\nid = "{a}"\nrole = "{r}"\n' for a, r in agents)


def tasks(*items: dict[str, Any]) -> str:
    out = ""
    for item in items:
        out += "[[tasks]]\n"
        for key, value in item.items():
            out += f"{key} = {json.dumps(value)}\n"
    return out


def _sample(kind: TaskKind, words: int = 30) -> Any:
    schema = KIND_CONTENT.get(kind, Prose)
    if schema is Prose:
        return Prose(text=" ".join(["word"] * words))
    examples: dict[str, dict[str, Any]] = {
        "Screenplay": {
            "scenes": [
                {
                    "heading": "INT. ROOM - DAY",
                    "elements": [
                        {"type": "action", "text": "Rain."},
                        {"type": "character", "text": "MARA"},
                        {"type": "dialogue", "text": "Hello."},
                    ],
                }
            ]
        },
        "IllustrationBrief": {"subject": "ice"},
        "ShotList": {"shots": [{"scene": 1, "shot": "A"}]},
        "CueSheet": {"cues": [{"cue_id": "1M1"}]},
        "EditPlan": {"sequence": [{"scene": 1}]},
        "Critique": {"verdict": "approve"},
        "StatusReport": {"summary": "ok"},
    }
    return schema.model_validate(examples[schema.__name__])


@dataclass
class Script:
    """What the scripted model does: per task id, failures first, then answers.

    `failures` is keyed by task id (its own work) or by `task:purpose` (its reviews, debate
    turns, rulings, plan); `words` gives the word counts of a task's successive drafts.
    """

    delay_s: float = 0.01
    delays: dict[str, float] = field(default_factory=dict)  # by purpose: a slow debater
    failures: dict[str, list[LLMError]] = field(default_factory=dict)
    words: dict[str, list[int]] = field(default_factory=dict)
    verdicts: list[str] = field(default_factory=list)
    concede: bool = False
    ruling_decided: bool = True
    answer: Callable[[CompletionRequest], Any] | None = None
    cost_usd: float | None = 0.001  # per call; None: the provider reports no price
    calls: list[CompletionRequest] = field(default_factory=list)
    running: int = 0
    peak: int = 0


class ScriptedBackend:
    def __init__(self, script: Script) -> None:
        self.script = script

    def complete(self, request: CompletionRequest) -> CompletionStream:
        return CompletionStream(self._run(request))

    async def _run(self, request: CompletionRequest) -> AsyncIterator[str | CompletionResult]:
        s = self.script
        s.calls.append(request)
        s.running += 1
        s.peak = max(s.peak, s.running)
        try:
            await asyncio.sleep(s.delays.get(request.purpose, s.delay_s))
            task = request.task_id or ""
            pending = s.failures.get(f"{task}:{request.purpose}", [])
            if not pending and request.purpose == "task":
                pending = s.failures.get(task, [])
            if pending:
                raise pending.pop(0)
            parsed = self._answer(request)
            text = parsed.model_dump_json()
            yield text[: len(text) // 2]
            yield text[len(text) // 2 :]
            yield CompletionResult(
                text=text,
                model=request.model,
                input_tokens=10,
                output_tokens=20,
                cost_usd=s.cost_usd,
                latency_s=s.delay_s,
                parsed=parsed,
            )
        finally:
            s.running -= 1

    def _answer(self, request: CompletionRequest) -> Any:
        s = self.script
        if s.answer is not None:
            custom = s.answer(request)
            if custom is not None:
                return custom
        if request.purpose == "review":
            verdict = s.verdicts.pop(0) if s.verdicts else "approve"
            return Critique.model_validate(
                {"verdict": verdict, "summary": "too long", "issues": ["cut the middle"]}
            )
        if request.purpose == "debate":
            stance = f"{request.agent_id} holds"
            return Position(stance=stance, reasoning="because", concedes=s.concede)
        if request.purpose == "ruling":
            return Ruling(decided=s.ruling_decided, winner="", decision="split the difference")
        if request.purpose == "alternatives" and request.response_schema in (None, Alternatives):
            count = int(str(request.hints.get("count", 3)))
            return Alternatives(
                options=[
                    Alternative(
                        title=f"Way {i}", summary=f"do it way {i}", reasoning=f"because {i}"
                    )
                    for i in range(1, count + 1)
                ]
            )
        kind = TaskKind(request.hints.get("kind", "chapter"))
        counts = s.words.get(request.task_id or "", [])
        words = counts.pop(0) if counts else 30
        return _sample(kind, words)

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        raise LLMError(FailureKind.BAD_REQUEST, "no images")


class ScriptedGateway(Gateway):
    def __init__(self, script: Script) -> None:
        super().__init__()
        self.backend = ScriptedBackend(script)

    def backend_for(self, model: str) -> ScriptedBackend:
        return self.backend


async def open_engine(
    spec: ProductionSpec,
    db: Path,
    script: Script | None = None,
    *,
    auto: AutoApprove = AutoApprove.NONE,
    keep_alive: bool = False,
) -> Engine:
    store = await EventStore.open(db)
    options: dict[str, Any] = {"auto_approve": auto, "keep_alive": keep_alive}
    if script is not None:
        options["gateway"] = ScriptedGateway(script)
    return await Engine.open(store, spec=spec, **options)


def concurrency_from_events(engine_events: list[Any]) -> int:
    """Peak number of tasks in `running` at once, measured from the log."""
    running: set[str] = set()
    peak = 0
    for event in engine_events:
        p = event.payload
        if p.kind in ("task_state", "task_settled"):  # settled: done
            if p.state.value == "running":
                running.add(p.task_id)
            else:
                running.discard(p.task_id)
            peak = max(peak, len(running))
    return peak


def now() -> float:
    return time.monotonic()
