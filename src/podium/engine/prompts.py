"""Prompts: what an agent is told, built from the current vision, style, brief and inputs.

Each task kind reads only the vision sections it needs (`podium.domain.vision_uses`); that is
what makes "the tasks whose inputs used the changed section" exact when the Orchestrator
clarifies the vision. The same facts travel as `hints`, which the rehearsal model writes from.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from podium.domain.agents import AgentSpec
from podium.domain.artifacts import Artifact, Screenplay
from podium.domain.production import ProductionSpec, Vision
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind
from podium.domain.validators import (
    CharacterPresence,
    ForbiddenTerms,
    RequiredTerms,
    RuntimeRange,
    WordCount,
)
from podium.domain.vision_uses import uses_section
from podium.llm.types import CompletionRequest, Message, schema_json

INPUT_CHARS = 1200  # of each dependency's output, in the prompt


def schema_text(schema: type[BaseModel]) -> str:
    """A content schema as compact JSON, built once per class (`schema_json`): the same
    text a backend looks for, so the schema is sent once."""
    return schema_json(schema)


def vision_text(vision: Vision, kind: TaskKind) -> str:
    lines = [f"VISION (version {vision.version})"]
    if uses_section(kind, "premise"):
        lines.append(f"Premise: {vision.premise}")
    if uses_section(kind, "themes") and vision.themes:
        lines.append(f"Themes: {', '.join(vision.themes)}")
    if uses_section(kind, "tone") and vision.tone:
        lines.append(f"Tone: {vision.tone}")
    if uses_section(kind, "audience") and vision.audience:
        lines.append(f"Audience: {vision.audience}")
    if uses_section(kind, "distribution") and vision.distribution:
        lines.append(f"Distribution: {vision.distribution}")
    if uses_section(kind, "characters") and vision.characters:
        lines.append("Characters:")
        for c in vision.characters:
            voice = f" Voice: {c.voice}" if c.voice else ""
            arc = f" Arc: {c.arc}" if c.arc else ""
            lines.append(f"- {c.name}: {c.description}{arc}{voice}")
    if uses_section(kind, "locations") and vision.locations:
        lines.append(f"Locations: {', '.join(vision.locations)}")
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


_SYSTEM: dict[tuple[int, int, int, TaskKind], tuple[object, object, object, str]] = {}
_SYSTEM_MAX = 1024


def system_message(spec: ProductionSpec, vision: Vision, agent: AgentSpec, kind: TaskKind) -> str:
    """The agent's standing instructions; built once per (production, vision, agent, kind).

    The cache is keyed by identity and checks it (a new vision or reassigned crew is a new
    object), because every call of every task asks for the same few texts again.
    """
    key = (id(spec), id(vision), id(agent), kind)
    hit = _SYSTEM.get(key)
    if hit is not None and hit[0] is spec and hit[1] is vision and hit[2] is agent:
        return hit[3]
    text = _system_message(spec, vision, agent, kind)
    if len(_SYSTEM) >= _SYSTEM_MAX:
        _SYSTEM.clear()
    _SYSTEM[key] = (spec, vision, agent, text)
    return text


def _system_message(spec: ProductionSpec, vision: Vision, agent: AgentSpec, kind: TaskKind) -> str:
    info = spec.production
    who = f"You are {agent.name}, the {agent.role.value.replace('_', ' ')}"
    if agent.character:
        who += f" who voices {agent.character}"
    head = f'{who} on "{info.title}", a {info.format.value.replace("_", " ")}.'
    if info.logline:
        head += f" Logline: {info.logline}"
    boss = next((a for a in spec.crew if a.id == agent.reports_to), None)
    if boss is not None:
        head += f" You report to {boss.name} ({boss.role.value.replace('_', ' ')})."
    rules = (
        "The Orchestrator, a human, holds final authority. You never approve, skip or decide "
        "anything on the Orchestrator's behalf; say what you propose and why."
    )
    sections = [head, agent.brief, rules, vision_text(vision, kind), style_text(spec)]
    return "\n\n".join(s for s in sections if s)


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
    assert view.spec is not None and view.vision is not None
    spec, vision, task = view.spec, view.vision, record.spec
    kind = task.kind
    low, high = _word_range(spec, record)
    target = task.params.get("target_words")
    if target is None and low is not None and high is not None:
        target = (low + high) // 2
    user: list[str] = [f"TASK {task.id} ({kind.value}): {task.title}"]
    if task.brief:
        user.append(task.brief)
    if task.params:
        user.append("Details: " + json.dumps(task.params, sort_keys=True, default=str))
    if target:
        user.append(f"Length: about {target} words" + (f" ({low}–{high})" if low and high else ""))
    forbidden = _terms(spec, record, ForbiddenTerms)
    if forbidden:
        user.append("Never use: " + ", ".join(forbidden))
    required = _terms(spec, record, RequiredTerms)
    if required:
        user.append("Be sure to include: " + ", ".join(required))
    present = [
        c
        for r in spec.validators
        if isinstance(r, CharacterPresence) and r.applies_to(task)
        for c in r.characters
    ]
    if present:
        user.append("These characters must appear: " + ", ".join(present))
    deps = []
    for art in inputs:
        dep = view.tasks.get(art.task_id)
        content = art.parsed()
        summary = content.plain_text()[:INPUT_CHARS]
        if isinstance(content, Screenplay) and len(content.scenes) > 1:
            # The excerpt shows the opening; a shot list or a cut needs every scene.
            headings = "\n".join(f"{n}. {s.heading}" for n, s in enumerate(content.scenes, 1))
            summary += f"\nSCENES ({len(content.scenes)}):\n{headings[:INPUT_CHARS]}"
        deps.append(
            {
                "task_id": art.task_id,
                "kind": art.kind.value,
                "title": dep.spec.title if dep else art.task_id,
                "summary": summary,
            }
        )
        user.append(f"INPUT from {art.task_id} ({art.kind.value}):\n{summary}")
    skipped = [
        d for d in task.depends_on if d in view.tasks and view.tasks[d].state.value == "skipped"
    ]
    if skipped:
        user.append("Skipped, so work without them: " + ", ".join(skipped))
    agent_record = view.agents.get(agent.id)
    notes = agent_record.feedback[-5:] if agent_record else []
    if notes:
        user.append("THE ORCHESTRATOR'S FEEDBACK TO YOU:\n" + "\n".join(f"- {n}" for n in notes))
    if record.direction:
        user.append(f"THE ORCHESTRATOR'S DIRECTION (binding): {record.direction}")
    if feedback:
        user.append(
            "CORRECT THESE PROBLEMS FROM YOUR LAST ATTEMPT:\n"
            + "\n".join(f"- {f}" for f in feedback)
        )
    if extra_text:
        user.append(extra_text)
    if schema is not None:
        user.append("Answer with one JSON object matching this schema:\n" + schema_text(schema))
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
    for key in ("chapter", "episode", "scene", "character", "runtime_min"):
        if key in task.params:
            hints[key] = task.params[key]
    # The production's length, for the rehearsal model's scenes, shots, cut and cues.
    hints["scenes"] = spec.production.scenes
    hints["runtime_minutes"] = next(
        ([r.min, r.max] for r in spec.validators if isinstance(r, RuntimeRange)), None
    )
    if extra_hints:
        hints.update(extra_hints)
    return CompletionRequest(
        model=model,
        messages=(
            Message("system", system_message(spec, vision, agent, kind)),
            Message("user", "\n\n".join(user)),
        ),
        agent_id=agent.id,
        task_id=task.id,
        purpose=purpose,
        response_schema=schema,
        hints=hints,
        attempt=call_number,
    )
