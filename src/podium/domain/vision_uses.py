"""Which vision sections each task kind reads, and the style guide as one of them.

A prompt includes only these (`podium.engine.prompts`), which is what makes "the tasks whose
inputs used the changed section" exact when the Orchestrator clarifies the vision (the
clarify-vision dialog and the engine's command share that check, `stale_after`).

The style guide is amended live like a vision section (`podium vision DB style TEXT`): its
value is text, one `field: value` line per field it sets (`palette: amber; slate`, lists split
at `;`), or, with no field named, its notes. The amendment stores the whole new guide in that
form (`style_as_text`), and the fold reads it back (`style_from_text`).
"""

from __future__ import annotations

from typing import Any

from podium.domain.production import VISION_SECTIONS, StyleGuide
from podium.domain.tasks import TaskKind

STYLE = "style"
LIVE_SECTIONS = (*VISION_SECTIONS, STYLE)
"""What the Orchestrator can amend live: the vision's sections, then the style guide."""

_ALL = frozenset(TaskKind)
_STORY = _ALL - {TaskKind.REPORT, TaskKind.MUSIC_CUES, TaskKind.EDIT}
_PLACES = frozenset(
    {
        TaskKind.PLAN,
        TaskKind.TREATMENT,
        TaskKind.OUTLINE,
        TaskKind.EPISODE_ARC,
        TaskKind.SCENE,
        TaskKind.SCRIPT,
        TaskKind.CHAPTER,
        TaskKind.ILLUSTRATION,
        TaskKind.LOOK,
        TaskKind.SHOT_LIST,
    }
)
_REACH = frozenset({TaskKind.PLAN, TaskKind.TREATMENT, TaskKind.EPISODE_ARC, TaskKind.FINAL})

VISION_USES: dict[str, frozenset[TaskKind]] = {
    "premise": _ALL - {TaskKind.REPORT},
    "themes": _ALL - {TaskKind.REPORT},
    "tone": _ALL - {TaskKind.REPORT},
    "characters": _STORY - {TaskKind.LOOK},
    "locations": _PLACES,
    "audience": _REACH,
    "distribution": _REACH,
    STYLE: _ALL,  # every prompt's standing text holds the style guide (`prompts.stable_text`)
}


def uses_section(kind: TaskKind, section: str) -> bool:
    return kind in VISION_USES.get(section, _ALL)


_STYLE_FIELDS = tuple(StyleGuide.model_fields)
_STYLE_LISTS = frozenset({"visual_references", "palette"})


def _style_key(line: str) -> tuple[str, str] | None:
    """(field, rest of the line) when the line opens with `field:`."""
    name, sep, rest = line.partition(":")
    key = "_".join(name.strip().lower().split())
    if sep and key in _STYLE_FIELDS:
        return key, rest.strip()
    return None


def style_changes(text: str) -> dict[str, Any]:
    """The fields a style amendment's text sets, by name (lists split at `;`). Lines before
    the first `field:` line, or the whole text when it names none, are the notes."""
    found: dict[str, list[str]] = {}
    key = "notes"
    for line in text.strip().splitlines():
        keyed = _style_key(line)
        if keyed is not None:
            key, rest = keyed
            found[key] = [rest] if rest else []
        else:
            found.setdefault(key, []).append(line.rstrip())
    changes: dict[str, Any] = {}
    for name, lines in found.items():
        value = "\n".join(lines).strip()
        if name in _STYLE_LISTS:
            changes[name] = [v.strip() for v in value.replace("\n", ";").split(";") if v.strip()]
        else:
            changes[name] = value
    return changes


def style_as_text(style: StyleGuide) -> str:
    """The whole guide as an amendment's text: one `field: value` line per field set."""
    lines = []
    for name in _STYLE_FIELDS:
        value = getattr(style, name)
        shown = "; ".join(value) if isinstance(value, list) else str(value).strip()
        if shown:
            lines.append(f"{name}: {shown}")
    return "\n".join(lines)


def style_from_text(text: str) -> StyleGuide:
    """The guide an amendment stored (`style_as_text`): the fields it does not name are empty."""
    return StyleGuide.model_validate(style_changes(text)) if text.strip() else StyleGuide()
