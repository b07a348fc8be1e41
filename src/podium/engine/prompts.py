"""Prompts: what an agent is told, built from the current vision, style, brief and inputs.

Each task kind reads only the vision sections it needs (`podium.domain.vision_uses`); that is
what makes "the tasks whose inputs used the changed section" exact when the Orchestrator
clarifies the vision. The same facts travel as `hints`, which the rehearsal model writes from.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from podium.domain.agents import AgentSpec
from podium.domain.artifacts import Artifact, Prose
from podium.domain.asking import PROTOCOL_FIELDS, reply_schema
from podium.domain.production import ProductionSpec, Vision
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind, TaskSpec, TaskState
from podium.domain.validators import (
    CharacterPresence,
    ForbiddenTerms,
    RequiredTerms,
    RuntimeRange,
    WordCount,
)
from podium.domain.vision_uses import uses_section
from podium.engine.budget import CHARS_PER_TOKEN
from podium.engine.prompt_inputs import (
    Given,
    arrange,
    inputs_note,
    inputs_text,
    reading,
    reply_room,
    version_of,
)
from podium.llm.context_windows import max_input_tokens
from podium.llm.types import CompletionRequest, Message, is_rehearsal, schema_json


def schema_text(schema: type[BaseModel]) -> str:
    """A content schema as compact JSON, built once per class (`schema_json`): the same
    text a backend looks for, so the schema is sent once."""
    return schema_json(schema)


def vision_text(vision: Vision, kind: TaskKind) -> str:
    """The vision sections `kind` reads, those most kinds read first (premise, themes, tone,
    characters, then locations, audience, distribution): two kinds' texts differ only at the
    end, so their prompts share the longest start."""
    lines = [f"VISION (version {vision.version})"]
    if uses_section(kind, "premise"):
        lines.append(f"Premise: {vision.premise}")
    if uses_section(kind, "themes") and vision.themes:
        lines.append(f"Themes: {', '.join(vision.themes)}")
    if uses_section(kind, "tone") and vision.tone:
        lines.append(f"Tone: {vision.tone}")
    if uses_section(kind, "characters") and vision.characters:
        lines.append("Characters:")
        for c in vision.characters:
            voice = f" Voice: {c.voice}" if c.voice else ""
            arc = f" Arc: {c.arc}" if c.arc else ""
            lines.append(f"- {c.name}: {c.description}{arc}{voice}")
    if uses_section(kind, "locations") and vision.locations:
        lines.append(f"Locations: {', '.join(vision.locations)}")
    if uses_section(kind, "audience") and vision.audience:
        lines.append(f"Audience: {vision.audience}")
    if uses_section(kind, "distribution") and vision.distribution:
        lines.append(f"Distribution: {vision.distribution}")
    return "\n".join(lines)


def style_text(spec: ProductionSpec) -> str:
    style = spec.style
    parts = [
        ("Visual references", ", ".join(style.visual_references)),
        ("Palette", ", ".join(style.palette)),
        ("Lighting", style.lighting),
        ("Camera", style.camera),
        ("Sound", style.sound),
        ("Music", style.music),
        ("Notes", style.notes),
    ]
    body = "\n".join(f"{name}: {value}" for name, value in parts if value)
    return f"STYLE GUIDE\n{body}" if body else ""


RULES = (
    "RULES\nThe Orchestrator, a human, holds final authority. You never approve, skip or decide "
    "anything on the Orchestrator's behalf; say what you propose and why."
)
PROTOCOL = (
    'Two optional fields of your reply reach the Orchestrator: "territory" claims a '
    "decision territory for this work (autonomous, collaborative or approval_required: claim "
    'approval_required for a sensitive beat the Orchestrator should approve); "question" '
    '({"text": …, "options": […]}) asks the Orchestrator before you go on, when the '
    'vision leaves a real choice open ("tension or intimacy?"): the task waits for the '
    "answer and runs again with it. Leave both out (null) otherwise."
)

_STABLE: dict[tuple[int, int, TaskKind, str], tuple[object, object, str]] = {}
_IDENTITY: dict[tuple[int, int], tuple[object, object, str]] = {}
_CACHE_MAX = 1024


def stable_text(
    spec: ProductionSpec, vision: Vision, kind: TaskKind, schema: type[BaseModel] | None
) -> str:
    """The production-wide text, the same for every call about one kind of work: the
    production, the rules, the style guide, the vision sections the kind reads and the reply's
    schema. It comes first, so a provider's prompt cache serves it to call after call.

    Built once per (production, vision, kind, schema): the cache is keyed by identity and
    checks it (a new vision is a new object)."""
    name = schema.__qualname__ + schema.__module__ if schema is not None else ""
    key = (id(spec), id(vision), kind, name)
    hit = _STABLE.get(key)
    if hit is not None and hit[0] is spec and hit[1] is vision:
        return hit[2]
    text = _stable_text(spec, vision, kind, schema)
    if len(_STABLE) >= _CACHE_MAX:
        _STABLE.clear()
    _STABLE[key] = (spec, vision, text)
    return text


def _stable_text(
    spec: ProductionSpec, vision: Vision, kind: TaskKind, schema: type[BaseModel] | None
) -> str:
    info = spec.production
    head = f'PRODUCTION: "{info.title}", a {info.format.value.replace("_", " ")}.'
    if info.logline:
        head += f" Logline: {info.logline}"
    sections = [head, RULES, style_text(spec), vision_text(vision, kind)]
    if schema is not None:
        reply = "REPLY: one JSON object matching this schema, and nothing else"
        if issubclass(schema, Prose):
            reply += " (or, for prose, the text itself)"
        reply += ":\n" + schema_text(schema)
        if all(f in schema.model_fields for f in PROTOCOL_FIELDS):
            reply += "\n" + PROTOCOL
        sections.append(reply)
    return "\n\n".join(s for s in sections if s)


def _named(agent: AgentSpec) -> str:
    """ "Callum, the writer"; a name that already says its role ("Callum (writer)") once."""
    role = agent.role.value.replace("_", " ")
    if role.lower() in agent.name.lower():
        return agent.name
    return f"{agent.name}, the {role}"


def identity_text(spec: ProductionSpec, agent: AgentSpec) -> str:
    """Who the agent is: its name, role, whom it reports to and its brief. Second, after the
    production-wide text: the same for every call the agent makes."""
    key = (id(spec), id(agent))
    hit = _IDENTITY.get(key)
    if hit is not None and hit[0] is spec and hit[1] is agent:
        return hit[2]
    if agent.character and agent.name.lower() in (agent.id.lower(), agent.character.lower()):
        who = f"You are the character agent who speaks for {agent.character}."
    else:
        who = f"You are {_named(agent)}"
        if agent.character:
            who += f" who voices {agent.character}"
        who += "."
    boss = next((a for a in spec.crew if a.id == agent.reports_to), None)
    if boss is not None:
        who += f" You report to {_named(boss)}."
    text = "\n\n".join(s for s in (who, agent.brief.strip()) if s)
    if len(_IDENTITY) >= _CACHE_MAX:
        _IDENTITY.clear()
    _IDENTITY[key] = (spec, agent, text)
    return text


def _word_range(spec: ProductionSpec, record: TaskRecord) -> tuple[int | None, int | None]:
    low: int | None = None
    high: int | None = None
    for rule in spec.validators:
        if isinstance(rule, WordCount) and rule.applies_to(record.spec):
            low = rule.min if low is None or (rule.min or 0) > low else low
            high = rule.max if high is None or (rule.max is not None and rule.max < high) else high
    return low, high


def _terms(spec: ProductionSpec, record: TaskRecord, kind: type[Any]) -> list[str]:
    terms: list[str] = []
    for rule in spec.validators:
        if isinstance(rule, kind) and rule.applies_to(record.spec):
            terms.extend(rule.terms)
    return terms


def build_request(
    view: ProductionView,
    record: TaskRecord,
    agent: AgentSpec,
    model: str,
    *,
    purpose: str = "task",
    schema: type[BaseModel] | None,
    inputs: list[Artifact],
    feedback: list[str],
    call_number: int,
    extra_hints: dict[str, Any] | None = None,
    extra_text: str = "",
) -> CompletionRequest:
    """The request for one call (`layout`): the production-wide text, the agent's identity, the
    inputs as `arrange` gives them, then the task's own part (the task, what the Orchestrator
    said, what to correct). A task's own work is asked for with the reply protocol's fields
    (`podium.domain.asking`): claim a territory, ask a question."""
    return compose(
        view,
        record,
        agent,
        model,
        purpose=purpose,
        schema=schema,
        inputs=inputs,
        feedback=feedback,
        call_number=call_number,
        extra_hints=extra_hints,
        extra_text=extra_text,
    ).request


@dataclass(frozen=True)
class Composed:
    """A call's request and how it gave each input, with the parts its messages are laid out
    from: a prompt built once serves both the summaries it needs (`asking.summaries_for`) and
    the call, the summaries filled in when made (`with_summaries`)."""

    request: CompletionRequest
    given: list[Given]
    stable: str
    identity: str
    task_text: str

    def with_summaries(self, summaries: Mapping[tuple[str, int], str]) -> Composed:
        """The same prompt with the summaries made since it was built: each input given as a
        summary reads its summary (as a prompt built now would; which inputs are whole does
        not depend on the summaries)."""
        if all(g.whole or g.summary is not None for g in self.given):
            return self  # nothing given as a summary waits for one (as a rule: all whole)
        given = [
            replace(g, summary=summaries[g.key])
            if not g.whole and g.summary is None and g.key in summaries
            else g
            for g in self.given
        ]
        if all(map(operator.is_, given, self.given)):
            return self
        messages = layout(self.stable, self.identity, inputs_text(given), self.task_text)
        return replace(self, request=replace(self.request, messages=messages), given=given)

    def numbered(self, n: int) -> CompletionRequest:
        """The request as the task's n-th call."""
        return self.request if self.request.attempt == n else replace(self.request, attempt=n)


def compose(
    view: ProductionView,
    record: TaskRecord,
    agent: AgentSpec,
    model: str,
    *,
    purpose: str = "task",
    schema: type[BaseModel] | None,
    inputs: list[Artifact],
    feedback: list[str],
    call_number: int,
    extra_hints: dict[str, Any] | None = None,
    extra_text: str = "",
) -> Composed:
    """The request for one call and how it gave each input (`build_request`)."""
    assert view.spec is not None and view.vision is not None
    spec, vision, task = view.spec, view.vision, record.spec
    kind = task.kind
    if schema is not None and purpose == "task":
        schema = reply_schema(schema)
    low, high = _word_range(spec, record)
    target = task.params.get("target_words")
    if target is None and low is not None and high is not None:
        target = (low + high) // 2
    head: list[str] = [f"TASK {task.id} ({kind.value}): {task.title}"]
    if task.brief:
        head.append(task.brief)
    if task.params:
        head.append("Details: " + json.dumps(task.params, sort_keys=True, default=str))
    if target:
        head.append(f"Length: about {target} words" + (f" ({low}–{high})" if low and high else ""))
    forbidden = _terms(spec, record, ForbiddenTerms)
    if forbidden:
        head.append("Never use: " + ", ".join(forbidden))
    required = _terms(spec, record, RequiredTerms)
    if required:
        head.append("Be sure to include: " + ", ".join(required))
    present = [
        c
        for r in spec.validators
        if isinstance(r, CharacterPresence) and r.applies_to(task)
        for c in r.characters
    ]
    if present:
        head.append("These characters must appear: " + ", ".join(present))
    tail: list[str] = []
    tasks, skip = view.tasks, TaskState.SKIPPED
    skipped = [
        d for d in task.depends_on if (dep := tasks.get(d)) is not None and dep.state is skip
    ]
    if skipped:
        tail.append("Skipped, so work without them: " + ", ".join(skipped))
    clarified = list(record.clarifications) if purpose == "task" else []
    for question, answer in clarified:
        tail.append(
            f"YOU ASKED THE ORCHESTRATOR: {question}\nTHE ORCHESTRATOR ANSWERED (binding): {answer}"
        )
    agent_record = view.agents.get(agent.id)
    notes = agent_record.feedback[-5:] if agent_record else []
    if notes:
        tail.append("THE ORCHESTRATOR'S FEEDBACK TO YOU:\n" + "\n".join(f"- {n}" for n in notes))
    if record.direction:
        tail.append(f"THE ORCHESTRATOR'S DIRECTION (binding): {record.direction}")
    if feedback:
        tail.append(
            "CORRECT THESE PROBLEMS FROM YOUR LAST ATTEMPT:\n"
            + "\n".join(f"- {f}" for f in feedback)
        )
    if extra_text:
        tail.append(extra_text)
    stable = stable_text(spec, vision, kind, schema)
    identity = identity_text(spec, agent)
    window = context_window(spec, model)
    fixed = sum(len(t) for t in (stable, identity, *head, *tail)) // CHARS_PER_TOKEN
    versions = [version_of(art) for art in inputs]
    given = arrange(
        view,
        record,
        inputs,
        purpose=purpose,
        window=window,
        fixed_tokens=fixed,
        versions=versions,
    )
    limits = view.constraints or spec.constraints
    task_text = "\n\n".join([*head, *inputs_note(given, window, limits.max_whole_inputs), *tail])
    # An input's hint for the model, made once per version and shared by every prompt that
    # reads it (`Version.hint`), made again for a task with a new spec (a plan change).
    deps = []
    tasks = view.tasks
    for art, version in zip(inputs, versions, strict=True):
        dep = tasks.get(art.task_id)
        spec_of = dep.spec if dep else None
        hint = version.hint
        if hint is None or hint[0] is not spec_of:
            hint = version.hint = (spec_of, _dependency_hint(art, spec_of, version.excerpt))
        deps.append(hint[1])
    hints: dict[str, Any] = {
        "kind": kind.value,
        "purpose": purpose,
        "role": agent.role.value,
        "agent_name": agent.name,
        "character": agent.character,
        "title": spec.production.title,
        "format": spec.production.format.value,
        "logline": spec.production.logline,
        "premise": vision.premise,
        "themes": list(vision.themes),
        "tone": vision.tone,
        "characters": [
            {"name": c.name, "description": c.description, "voice": c.voice}
            for c in vision.characters
        ],
        "locations": list(vision.locations),
        "palette": list(spec.style.palette),
        "lighting": spec.style.lighting,
        "camera": spec.style.camera,
        "music": spec.style.music,
        "task_title": task.title,
        "task_brief": task.brief,
        "target_words": target,
        "min_words": low,
        "max_words": high,
        "forbidden_terms": forbidden,
        "required_terms": required + present,
        "feedback": list(feedback),
        "direction": record.direction,
        "dependencies": deps,
        "vision_version": vision.version,
    }
    if schema is not None and purpose == "task":
        hints["protocol"] = True
        hints["clarifications"] = [{"question": q, "answer": a} for q, a in clarified]
    for key in ("chapter", "episode", "scene", "character", "runtime_min"):
        if key in task.params:
            hints[key] = task.params[key]
    # The production's length, for the rehearsal model's scenes, shots, cut and cues.
    hints["scenes"] = spec.production.scenes
    hints["chapters"] = spec.production.chapters
    hints["episodes"] = spec.production.episodes
    hints["runtime_minutes"] = next(
        ([r.min, r.max] for r in spec.validators if isinstance(r, RuntimeRange)), None
    )
    if extra_hints:
        hints.update(extra_hints)
    request = CompletionRequest(
        model=model,
        messages=layout(stable, identity, inputs_text(given), task_text),
        agent_id=agent.id,
        task_id=task.id,
        purpose=purpose,
        response_schema=schema,
        hints=hints,
        attempt=call_number,
    )
    return Composed(request, given, stable, identity, task_text)


def _dependency_hint(art: Artifact, spec: TaskSpec | None, excerpt: str) -> dict[str, Any]:
    return {
        "task_id": art.task_id,
        "kind": art.kind.value,
        "title": spec.title if spec else art.task_id,
        "summary": excerpt,
    }


def layout(stable: str, identity: str, inputs: list[str], task: str) -> tuple[Message, ...]:
    """A call's messages, the longest-lived text first so a provider's prefix cache serves
    most of it: the production-wide text (system), the agent (system), the inputs (user: the
    same work under the same heading whoever reads it), then the task (user: what to do, what
    the Orchestrator said, what to correct). Inputs come before the instructions, as providers
    advise for long documents; a call without inputs has one user message."""
    messages = [Message("system", stable), Message("system", identity)]
    if inputs:
        messages.append(Message.joined("user", inputs))
    messages.append(Message("user", task))
    return tuple(messages)


def summary_request(
    view: ProductionView, record: TaskRecord, agent: AgentSpec, model: str, art: Artifact, n: int
) -> CompletionRequest:
    """The call that summarises one input (purpose "summary"): made once per input version."""
    assert view.spec is not None and view.vision is not None
    text = reading(art)[0]
    window = context_window(view.spec, model)
    room = (window - reply_room(TaskKind.REPORT, window) - 512) * CHARS_PER_TOKEN
    note = ""
    if len(text) > room:
        note = f" (its first {room:,} of {len(text):,} characters: the whole does not fit)"
        text = text[:room]
    stable = stable_text(view.spec, view.vision, art.kind, Prose)
    dep = view.tasks.get(art.task_id)
    title = dep.spec.title if dep else art.task_id
    task = (
        f"SUMMARISE the INPUT from {art.task_id} ({art.kind.value}): {title}"
        f"{note}.\nWrite a faithful summary of at most {SUMMARY_WORDS} words for a colleague "
        "who will not see the whole: who, where, what happens and what changes, in order; "
        "names, places, numbers and scene headings exactly as written."
    )
    given = [f"INPUT from {art.task_id} ({art.kind.value}):\n{text}"]
    return CompletionRequest(
        model=model,
        messages=layout(stable, identity_text(view.spec, agent), given, task),
        agent_id=agent.id,
        task_id=record.spec.id,
        purpose="summary",
        response_schema=Prose,
        hints={
            "kind": art.kind.value,
            "purpose": "summary",
            "summary_of": art.task_id,
            "summary_words": SUMMARY_WORDS,
            "text": text[: SUMMARY_WORDS * 40],
        },
        attempt=n,
    )


SUMMARY_WORDS = 250


def context_window(spec: ProductionSpec, model: str) -> int:
    """The model's context window in tokens: its settings' `context_tokens`, else litellm's
    model info (`max_input_tokens`), else DEFAULT_CONTEXT_TOKENS; the rehearsal model's is its
    settings'."""
    if is_rehearsal(model):
        return spec.models.rehearsal.context_tokens
    settings = spec.models.settings.get(model)
    if settings is not None and settings.context_tokens:
        return settings.context_tokens
    return _litellm_window(model)


DEFAULT_CONTEXT_TOKENS = 128_000


def _litellm_window(model: str) -> int:
    """litellm's window for the model, from its model map read without importing litellm
    (`podium.llm.context_windows`; `Engine.open` reads the map in a thread beforehand)."""
    size = max_input_tokens(model)
    return size if size is not None else DEFAULT_CONTEXT_TOKENS


def needs_model_map(spec: ProductionSpec, models: Iterable[str]) -> bool:
    """Whether any of these models takes its window from litellm's map (no `context_tokens`)."""
    for model in models:
        if is_rehearsal(model):
            continue
        settings = spec.models.settings.get(model)
        if settings is None or not settings.context_tokens:
            return True
    return False
