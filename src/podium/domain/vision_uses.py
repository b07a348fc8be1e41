"""Which vision sections each task kind reads.

A prompt includes only these (`podium.engine.prompts`), which is what makes "the tasks whose
inputs used the changed section" exact when the Orchestrator clarifies the vision (the
clarify-vision dialog and the engine's command share that check, `stale_after`).
"""

from __future__ import annotations

from podium.domain.tasks import TaskKind

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
}


def uses_section(kind: TaskKind, section: str) -> bool:
    return kind in VISION_USES.get(section, _ALL)
