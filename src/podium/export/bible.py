"""The production bible: what the production is, how its vision changed and who decided what.

Logline and brief, the current vision, every vision version with what changed and why, the
style guide, characters, locations, the crew, the Orchestrator's decisions and the debates.
Decisions about tasks are grouped by task in plan order; the rest (vision, constraints, the run
itself) are listed in the order they were made.
"""

from __future__ import annotations

from typing import Any

from podium.domain.escalation import ClarifyVisionCommand
from podium.domain.production import Character, Vision
from podium.domain.state import CommandRecord
from podium.export import markdown as md
from podium.export.sources import ExportSource, one_line

_FORMAT = {
    "short_film": "Short film",
    "feature": "Feature film",
    "series": "Series",
    "illustrated_story": "Illustrated story",
}


def _value(value: Any) -> str:
    """A vision section's value as Markdown: a list as bullets, text as paragraphs."""
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, Character):
                item = item.name
            elif isinstance(item, dict):
                item = item.get("name", "")
            items.append(f"- {md.inline(item)}")
        return "\n".join(items) if items else "*(none)*"
    return md.block(value) or "*(empty)*"


def _character(character: Character) -> list[str | None]:
    return [
        md.heading(3, md.inline(character.name)),
        md.block(character.description),
        "\n".join(
            f for f in (md.field("Arc", character.arc), md.field("Voice", character.voice)) if f
        ),
    ]


def _vision(vision: Vision) -> list[str | None]:
    parts: list[str | None] = [md.heading(2, f"Vision (version {vision.version})")]
    parts += [md.heading(3, "Premise"), md.block(vision.premise)]
    if vision.themes:
        parts += [md.heading(3, "Themes"), _value(vision.themes)]
    for name in ("tone", "audience", "distribution"):
        text = getattr(vision, name)
        if text:
            parts += [md.heading(3, name.capitalize()), md.block(text)]
    return parts


def _history(source: ExportSource) -> list[str | None]:
    spec = source.view.spec
    if spec is None:
        return []
    parts: list[str | None] = [
        md.heading(2, "Vision history"),
        md.heading(3, "Version 1"),
        "As written in the production file.",
    ]
    current = spec.vision.model_dump(mode="json")
    for amended in source.view.vision_history:
        section = one_line(amended.section)
        before = current.get(amended.section)
        if before is None and amended.section == "style":  # the file's guide is not kept
            before = "As written in the production file."
        current[amended.section] = amended.value
        command = source.command(amended.command_id)
        # The reason the Orchestrator gave, never the command's text: that is the new wording.
        asked = command.command if command else None
        why = amended.reason or (
            one_line(asked.reason) if isinstance(asked, ClarifyVisionCommand) else ""
        )
        parts.append(md.heading(3, f"Version {amended.version}: {md.inline(section)} changed"))
        facts = [md.field("Why", why or "no reason given")]
        if command is not None:
            facts.append(md.field("Decided by", f"{command.command.id} ({command.command.origin})"))
        if amended.stale_tasks:
            facts.append(md.field("Made stale", ", ".join(amended.stale_tasks)))
        parts.append("\n".join(f for f in facts if f))
        parts += ["**Before:**", _value(before), "**After:**", _value(amended.value)]
    return parts


def _style(source: ExportSource) -> list[str | None]:
    spec = source.view.spec
    if spec is None:
        return []
    style = spec.style
    parts: list[str | None] = [md.heading(2, "Style guide")]
    if style.visual_references:
        parts += [md.heading(3, "Visual references"), _value(style.visual_references)]
    if style.palette:
        parts += [md.heading(3, "Palette"), _value(style.palette)]
    for name in ("lighting", "camera", "sound", "music", "notes"):
        text = getattr(style, name)
        if text:
            parts += [md.heading(3, name.capitalize()), md.block(text)]
    return parts if len(parts) > 1 else []


def _decision(source: ExportSource, record: CommandRecord) -> str:
    command = record.command
    action = command.action.value.replace("_", " ")
    text = f"**{md.inline(action)}**"
    if command.escalation_id:
        escalation = source.view.escalations.get(command.escalation_id)
        kind = f" {escalation.kind.value.replace('_', ' ')}" if escalation else ""
        text += f" ({md.inline(command.escalation_id + kind)})"
    if words := command.words():
        text += f": “{md.inline(words)}”"
    outcome = record.detail or record.status
    text += f" — {md.inline(outcome)}"
    if record.status == "rejected":
        text += " *(rejected)*"
    return f"- {text} · {md.inline(command.id)}, by {md.inline(command.origin)}"


def _decisions(source: ExportSource) -> list[str | None]:
    commands = source.commands()
    if not commands:
        return [md.heading(2, "The Orchestrator's decisions"), "None yet."]
    index = source.plan_index()
    by_task: dict[str, list[CommandRecord]] = {}
    others: list[CommandRecord] = []
    for record in commands:
        target = source.command_target(record)
        if target in index:
            by_task.setdefault(target, []).append(record)
        else:
            others.append(record)
    parts: list[str | None] = [md.heading(2, "The Orchestrator's decisions")]
    for task_id in sorted(by_task, key=lambda t: index[t]):
        title = source.view.tasks[task_id].spec.title
        parts.append(md.heading(3, f"{md.inline(title)} · {md.inline(task_id)}"))
        parts.append("\n".join(_decision(source, r) for r in by_task[task_id]))
    if others:
        parts.append(md.heading(3, "The vision, the constraints and the run"))
        parts.append("\n".join(_decision(source, r) for r in others))
    return parts


def _debates(source: ExportSource) -> list[str | None]:
    debates = list(source.view.debates.values())
    if not debates:
        return []
    index = source.plan_index()
    debates.sort(key=lambda d: (index.get(d.task_id, len(index)), d.id))
    parts: list[str | None] = [md.heading(2, "Debates")]
    for debate in debates:
        parts.append(
            md.heading(3, f"{md.inline(debate.task_id)}: {md.inline(debate.topic)} ({debate.id})")
        )
        facts = [
            md.field("Between", ", ".join(source.agent_name(p) for p in debate.participants)),
            md.field("Judge", source.agent_name(debate.judge)),
            md.field("Outcome", debate.state.value),
            md.field("Ruling", debate.ruling),
            md.field("Recommendation", debate.recommendation),
        ]
        parts.append("\n".join(f for f in facts if f))
        turns = [
            f"{t.round}. {md.inline(source.agent_name(t.speaker))}: {md.inline(t.stance)}"
            + (" *(concedes)*" if t.concedes else "")
            for t in debate.turns
        ]
        if turns:
            parts.append("\n".join(f"- Round {t}" for t in turns))
    return parts


def bible(source: ExportSource) -> str:
    view = source.view
    spec = view.spec
    parts: list[str | None] = [md.heading(1, f"{md.inline(source.title)}: production bible")]
    if spec is not None:
        info = spec.production
        facts = [_FORMAT.get(info.format.value, info.format.value)]
        for name, count in (
            ("episodes", info.episodes),
            ("chapters", info.chapters),
            ("scenes", info.scenes),
        ):
            if count:
                facts.append(f"{count} {name}")
        facts.append(f"state: {view.state.value}")
        parts.append(f"*{md.inline(' · '.join(facts))}*")
        if info.logline:
            parts += [md.heading(2, "Logline"), md.block(info.logline)]
        parts += [md.heading(2, "Brief"), md.block(info.brief)]
    vision = view.vision
    if vision is not None:
        parts += _vision(vision)
        parts += _history(source)
    parts += _style(source)
    if vision is not None:
        parts.append(md.heading(2, "Characters"))
        if vision.characters:
            for character in vision.characters:
                parts += _character(character)
        else:
            parts.append("None named.")
        parts += [md.heading(2, "Locations"), _value(vision.locations)]
    if spec is not None:
        crew = []
        for agent in spec.crew:
            role = agent.role.value.replace("_", " ")
            line = f"- **{md.inline(source.agent_name(agent.id))}** · {role}"
            if agent.character:
                line += f" · voices {md.inline(agent.character)}"
            if agent.reports_to:
                line += f" · reports to {md.inline(source.agent_name(agent.reports_to))}"
            crew.append(line)
        parts += [md.heading(2, "Crew"), "\n".join(crew)]
    parts += _decisions(source)
    parts += _debates(source)
    return md.document(parts)
