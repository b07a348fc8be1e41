"""The rehearsal model: podium's default, offline model (model names `rehearsal/<anything>`).

It runs in-process and is deterministic from a seed, so a whole production can be rehearsed
offline in seconds and every engine path can be tested: it streams at a configurable speed,
fails on request (rate limits, timeouts, dropped connections, malformed JSON), and writes
content that fits the task from the production's own material in `request.hints`.

It must never import litellm: choosing it is how podium works with no provider at all.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import types
from collections.abc import AsyncIterator, Mapping, Sequence
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from podium.domain.artifacts import (
    KIND_CONTENT,
    Alternatives,
    Content,
    Critique,
    CueSheet,
    EditPlan,
    ElementType,
    IllustrationBrief,
    Position,
    Prose,
    Ruling,
    Screenplay,
    ShotList,
    StatusReport,
)
from podium.domain.asking import base_of
from podium.domain.production import RehearsalSettings
from podium.domain.tasks import PlanDraft
from podium.llm.rehearsal.asking import summary, with_protocol
from podium.llm.rehearsal.composer import Composer
from podium.llm.rehearsal.material import Material
from podium.llm.rehearsal.plan import write_plan
from podium.llm.rehearsal.seeding import rng as _rng
from podium.llm.rehearsal.seeding import seed_material
from podium.llm.rehearsal.talk import alternatives, critique, position, report, ruling
from podium.llm.rehearsal.writers import write_task
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    CompletionStream,
    FailureKind,
    ImageRequest,
    ImageResult,
    LLMError,
)

__all__ = ["RehearsalBackend", "compose", "render", "seed_material"]

MIN_SLEEP_S = 0.02  # pace the stream with at most ~50 sleeps a second
_clock = time.monotonic  # the latency's clock (a test moves it with its sleeps)
CHARS_PER_TOKEN = 4

_TASK_SCHEMAS: tuple[type[Content], ...] = (
    Screenplay,
    Prose,
    IllustrationBrief,
    ShotList,
    CueSheet,
    EditPlan,
)
_PURPOSE_SCHEMAS: dict[str, type[Content]] = {
    "review": Critique,
    "debate": Position,
    "ruling": Ruling,
    "report": StatusReport,
    "alternatives": Alternatives,
}
# Fields whose values are identifiers or fixed vocabularies, never prose to scrub.
_KEEP_FIELDS = frozenset(
    {"winner", "cue_id", "shot", "image_path", "usage", "verdict", "type", "transition", "start"}
)


class RehearsalBackend:
    """The `Backend` for `rehearsal/…` models."""

    def __init__(self, settings: RehearsalSettings) -> None:
        self.settings = settings

    def complete(self, request: CompletionRequest) -> CompletionStream:
        return CompletionStream(self._stream(request, time.perf_counter()))

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        """A stand-in picture drawn from the prompt's words (illustrator), offline and free."""
        from podium.llm.rehearsal.illustrator import draw
        from podium.llm.rehearsal.sketch import from_prompt

        started = time.perf_counter()
        width, _, height = request.size.partition("x")
        size = [min(2048, max(64, int(v))) if v.isdigit() else 1024 for v in (width, height)]
        data = await asyncio.to_thread(draw, from_prompt(request.prompt), size[0], size[1])
        return ImageResult(
            data=data,
            mime_type="image/png",
            model=request.model,
            cost_usd=0.0,
            latency_s=time.perf_counter() - started,
        )

    async def _stream(
        self, request: CompletionRequest, started: float
    ) -> AsyncIterator[str | CompletionResult]:
        settings = self.settings
        # The seed's material is read from the whole prompt: before the latency only when the
        # jitter or a failure is drawn from it, else with the reply, inside the latency.
        drawn = bool(settings.jitter_ms) or settings.failure_rate > 0
        material = seed_material(settings.seed, request) if drawn else ""
        # Seeding a generator costs more than most of what is drawn from it, so the timing
        # stream is made only when something is drawn from it: its first draw is the jitter.
        timing = _rng(material, "timing") if settings.jitter_ms else None

        # Everything random about timing and failure is drawn up front, in a fixed order.
        kind_extra = _kind_latency_ms(settings, request.hints)
        jitter = timing.uniform(-settings.jitter_ms, settings.jitter_ms) if timing else 0.0
        latency_s = max(0.0, settings.latency_ms + jitter + kind_extra) / 1000
        fate = _fate(material, request, settings.failure_rate) if drawn else None

        # A provider writes its reply on its own servers while the request is in flight: the
        # call first lets the agents started beside it send theirs (one turn of the loop), then
        # writes, and its first token is due when the latency is over, counted from the call,
        # so the writing is not added on top of it nor ahead of the others' starts.
        due = _clock() + latency_s  # the first token, counted from the call
        if latency_s > 0:
            await asyncio.sleep(0)
        if not drawn:
            material = seed_material(settings.seed, request)
        text, parsed, finish = _write(request, _rng(material, "content"))
        chars_per_s = settings.tokens_per_s * CHARS_PER_TOKEN
        if fate is None and len(text) < MIN_SLEEP_S * chars_per_s:
            chunks = [text]  # streamed faster than one pause: it arrives as one piece anyway
        else:
            if timing is None:
                timing = _rng(material, "timing")
                timing.random()  # the jitter's draw, so the chunks are those of any jitter
            chunks = _chunks(text, timing)

        await asyncio.sleep(max(0.0, due - _clock()))
        fail_at: int | None = None
        if fate is not None:
            error, mid_stream, where = fate
            if not mid_stream or len(chunks) < 2:
                raise error
            fail_at = 1 + int(where * (len(chunks) - 1))

        loop = asyncio.get_running_loop()
        begin = loop.time()
        sent = 0
        # Chunks due before the next pause arrive together, as one piece: a consumer could not
        # tell them apart (nothing runs between them), and each piece costs it a loop turn.
        # Pieces never straddle a word, so sanitizing the piece equals sanitizing its chunks.
        burst: list[str] = []
        for index, chunk in enumerate(chunks):
            if index == fail_at and fate is not None:
                if burst:
                    yield "".join(burst)
                raise fate[0]
            sent += len(chunk)
            wait = begin + sent / chars_per_s - loop.time()
            if wait >= MIN_SLEEP_S:
                if burst:
                    yield "".join(burst)
                    burst = []
                await asyncio.sleep(wait)
            burst.append(chunk)
        if burst:
            yield "".join(burst)
        prompt_chars = sum(len(m.content) for m in request.messages)
        yield CompletionResult(
            text=text,
            model=request.model,
            input_tokens=_tokens(prompt_chars),
            output_tokens=_tokens(len(text)),
            cost_usd=0.0,  # free, and known to be free: not "unknown"
            latency_s=time.perf_counter() - started,
            parsed=parsed,
            finish_reason=finish,
        )


def _fate(
    material: str, request: CompletionRequest, rate: float
) -> tuple[LLMError, bool, float] | None:
    """Whether the call fails: the error, whether mid-stream, and where in the stream.

    A rate of 0 never fails (a draw in [0, 1) is never below it), so its draws are skipped:
    seeding a generator costs more than the rest of the decision.
    """
    if rate <= 0:
        return None
    fate = _rng(material, "fate")
    fails = fate.random() < rate
    kinds = [FailureKind.RATE_LIMIT, FailureKind.TIMEOUT, FailureKind.CONNECTION]
    if request.response_schema is not None:
        kinds.append(FailureKind.MALFORMED_OUTPUT)
    failure = fate.choice(kinds)
    mid_stream = failure is FailureKind.MALFORMED_OUTPUT or (
        failure is not FailureKind.RATE_LIMIT and fate.random() < 0.5
    )
    where = fate.random()
    retry_after = round(fate.uniform(0.05, 0.5), 3)
    if not fails:
        return None
    return _failure(failure, request, rate, retry_after), mid_stream, where


def _tokens(chars: int) -> int:
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def _kind_latency_ms(settings: RehearsalSettings, hints: Mapping[str, Any]) -> float:
    kind = hints.get("kind") if isinstance(hints, Mapping) else None
    for task_kind, extra in settings.latency_by_kind.items():
        if task_kind.value == kind:
            return extra
    return 0.0


# Words with their trailing space (and any leading space on its own): the same pieces as
# splitting wherever a non-space follows a space, found three times faster.
_PIECES = re.compile(r"^\s+|\S+\s*")


def _chunks(text: str, rng: random.Random) -> list[str]:
    """A few words per chunk, as a provider streams them; they join back to the text."""
    pieces = _PIECES.findall(text)
    chunks: list[str] = []
    at = 0
    while at < len(pieces):
        size = rng.randint(2, 6)
        chunks.append("".join(pieces[at : at + size]))
        at += size
    return chunks or [text]


def _failure(
    kind: FailureKind, request: CompletionRequest, rate: float, retry_after: float
) -> LLMError:
    messages = {
        FailureKind.RATE_LIMIT: f"simulated rate limit; retry after {retry_after:.2f}s",
        FailureKind.TIMEOUT: "simulated timeout",
        FailureKind.CONNECTION: "simulated dropped connection",
        FailureKind.MALFORMED_OUTPUT: "simulated malformed JSON: the reply broke off mid-object",
    }
    return LLMError(
        kind,
        f"rehearsal model: {messages[kind]} (failure_rate {rate:g})",
        retry_after=retry_after if kind is FailureKind.RATE_LIMIT else None,
        model=request.model,
    )


# --- writing ---------------------------------------------------------------------------------


def _write(request: CompletionRequest, rng: random.Random) -> tuple[str, BaseModel | None, str]:
    """The reply's text, its parsed form when a schema was asked for, and the finish reason."""
    schema = request.response_schema
    try:
        content = compose(request, rng)
        if schema is None:
            text = render(content)
            if request.max_tokens and _tokens(len(text)) > request.max_tokens:
                return text[: request.max_tokens * CHARS_PER_TOKEN], None, "length"
            return text, None, "stop"
        if not isinstance(content, schema):
            content = schema.model_validate(content.model_dump(mode="json"))
        text = content.model_dump_json(indent=2)
        return text, schema.model_validate_json(text), "stop"
    except ValidationError as exc:
        name = schema.__name__ if schema is not None else "plain text"
        raise LLMError(
            FailureKind.BAD_REQUEST,
            f"the rehearsal model cannot fill {name} ({exc.error_count()} problems); "
            "use a real model for this schema",
            model=request.model,
        ) from None
    except Exception as exc:  # a bug here must fail one call, not the production
        raise LLMError(
            FailureKind.UNKNOWN,
            f"the rehearsal model could not write this reply ({type(exc).__name__}); "
            "please report it as a podium bug",
            model=request.model,
        ) from exc


def compose(
    request: CompletionRequest, rng: random.Random, material: Material | None = None
) -> BaseModel:
    """The structured reply to a request, before it is rendered as JSON or text. `material`
    is the request's hints as read (`Material.from_hints`), when they are read already."""
    if material is None:
        material = Material.from_hints(request.hints)
    comp = Composer(rng, material, request.attempt)  # first: it may draw from `rng`
    schema = request.response_schema
    if request.purpose == "summary":
        return summary(material)
    if schema is not None and (base := _base_of(schema)) is not schema:
        # The task's reply schema: its content (by a composer of its own, drawing as the first
        # did), and the protocol's fields (ask, claim).
        work = _compose(request, base, Composer(rng, material, request.attempt), material)
        return with_protocol(work, schema, material, request.attempt)
    return _compose(request, schema, comp, material)


_BASES: dict[type[BaseModel], type[BaseModel]] = {}


def _base_of(schema: type[BaseModel]) -> type[BaseModel]:
    """`base_of`, remembered per class (it reads the fields of both, on every call)."""
    found = _BASES.get(schema)
    if found is None:
        found = _BASES[schema] = base_of(schema)
    return found


def _compose(
    request: CompletionRequest, schema: type[BaseModel] | None, comp: Composer, material: Material
) -> BaseModel:
    """`compose` for `request` asking for `schema` (a content schema, never a reply's)."""
    purpose = request.purpose
    if schema is PlanDraft or (schema is None and purpose == "plan"):
        return write_plan(comp, request.agent_id)
    target: type[BaseModel]
    if schema is not None:
        target = schema
    elif purpose in _PURPOSE_SCHEMAS:
        target = _PURPOSE_SCHEMAS[purpose]
    else:
        target = KIND_CONTENT.get(material.kind, Prose) if material.kind else Prose
    content: BaseModel
    if target is Critique:
        content = critique(comp)
    elif target is Position:
        content = position(comp)
    elif target is Ruling:
        content = ruling(comp)
    elif target is StatusReport:
        content = report(comp)
    elif target is Alternatives:
        content = alternatives(comp)
    elif issubclass(target, Content) and target in _TASK_SCHEMAS:
        content = write_task(comp, target)
    else:
        return target.model_validate(_fill_model(target, comp, 0))
    terms = [t for t in material.forbidden_terms if t != comp.deviation]
    return _scrub(content, terms) if terms else content


def _scrub(content: BaseModel, terms: list[str]) -> BaseModel:
    """Remove forbidden terms that slipped in from the banks or the vision itself."""
    patterns = [re.compile(r"(?<!\w)" + re.escape(t) + r"(?!\w)", re.IGNORECASE) for t in terms]

    def clean(value: Any, key: str = "") -> Any:
        if key in _KEEP_FIELDS:
            return value
        if isinstance(value, str):
            for pattern in patterns:
                value = pattern.sub("", value)
            value = re.sub(r"[ \t]{2,}", " ", value)
            return re.sub(r" ([,.;:!?])", r"\1", value).strip(" ")
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, key) for v in value]
        return value

    try:
        return type(content).model_validate(clean(content.model_dump(mode="json")))
    except ValidationError:
        return content


def _fill_model(schema: type[BaseModel], comp: Composer, depth: int) -> dict[str, Any]:
    """A best-effort instance of a schema the rehearsal model has no writer for."""
    return {
        name: _fill_value(field.annotation, comp, depth)
        for name, field in schema.model_fields.items()
        if field.is_required()
    }


def _fill_value(annotation: Any, comp: Composer, depth: int) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return args[0]
    if origin is Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        return _fill_value(options[0], comp, depth) if options else None
    if origin in (list, set, frozenset, Sequence):
        return [_fill_value(args[0], comp, depth)] if args else []
    if origin is tuple:
        return [_fill_value(a, comp, depth) for a in args if a is not Ellipsis]
    if origin in (dict, Mapping):
        return {}
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return next(iter(annotation)).value
        if issubclass(annotation, bool):
            return False
        if issubclass(annotation, int | float):
            return 1
        if issubclass(annotation, str):
            return comp.prose_sentence("action")
        if issubclass(annotation, BaseModel) and depth < 4:
            return _fill_model(annotation, comp, depth + 1)
    return None


# --- plain text ------------------------------------------------------------------------------


def render(content: BaseModel) -> str:
    """A reply as a real model would write it without a schema: readable text, not JSON."""
    if isinstance(content, Screenplay):
        return _fountain(content)
    if isinstance(content, Prose):
        parts = [p for p in (content.title, content.text) if p]
        if content.beats:
            parts.append("\n".join(f"- {b}" for b in content.beats))
        return "\n\n".join(parts)
    if isinstance(content, PlanDraft):
        lines = [
            f"{t.id}: {t.title} ({t.kind.value}, {t.assignee})"
            + (f" after {', '.join(t.depends_on)}" if t.depends_on else "")
            for t in content.tasks
        ]
        return "\n".join([content.rationale, "", *lines]).strip()
    if isinstance(content, Content) and (text := content.plain_text().strip()):
        return text
    return content.model_dump_json(indent=2)


def _fountain(play: Screenplay) -> str:
    blocks: list[str] = [f"Title: {play.title}"] if play.title else []
    for scene in play.scenes:
        blocks.append(scene.heading.upper())
        speech: list[str] = []
        for element in scene.elements:
            if element.type in (
                ElementType.CHARACTER,
                ElementType.PARENTHETICAL,
                ElementType.DIALOGUE,
            ):
                speech.append(element.text)
                if element.type is ElementType.DIALOGUE:
                    blocks.append("\n".join(speech))
                    speech = []
                continue
            if speech:
                blocks.append("\n".join(speech))
                speech = []
            if element.type is ElementType.TRANSITION:
                blocks.append(f"> {element.text}")
            elif element.type is ElementType.SYNOPSIS:
                blocks.append(f"= {element.text}")
            elif element.type is ElementType.NOTE:
                blocks.append(f"[[{element.text}]]")
            elif element.text:
                blocks.append(element.text)
        if speech:
            blocks.append("\n".join(speech))
    return "\n\n".join(blocks)
