"""The rehearsal planner's crew: who may take each kind of task, who reviews it, its
milestone, what numbers it, and what a crew brief says its member takes on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from podium.domain.agents import Role
from podium.domain.tasks import TaskKind

WRITING = (Role.WRITER, Role.SHOWRUNNER, Role.DIRECTOR, Role.PRODUCER)
ROLES_FOR: dict[TaskKind, tuple[Role, ...]] = {
    TaskKind.TREATMENT: WRITING,
    TaskKind.OUTLINE: WRITING,
    TaskKind.EPISODE_ARC: WRITING,
    TaskKind.SCENE: WRITING,
    TaskKind.SCRIPT: WRITING,
    TaskKind.CHAPTER: (Role.WRITER, Role.ILLUSTRATOR, Role.PRODUCER, Role.SHOWRUNNER),
    TaskKind.ILLUSTRATION: (Role.ILLUSTRATOR, Role.WRITER),
    TaskKind.LOOK: (Role.DIRECTOR_OF_PHOTOGRAPHY, Role.ILLUSTRATOR),
    TaskKind.SHOT_LIST: (Role.DIRECTOR_OF_PHOTOGRAPHY, Role.DIRECTOR),
    TaskKind.MUSIC_CUES: (Role.COMPOSER,),
    TaskKind.EDIT: (Role.EDITOR, Role.DIRECTOR),
    TaskKind.REPORT: (Role.PRODUCER, Role.SHOWRUNNER, Role.DIRECTOR),
    TaskKind.FINAL: (Role.PRODUCER, Role.SHOWRUNNER, Role.DIRECTOR),
    TaskKind.REVIEW: (Role.DIRECTOR, Role.PRODUCER, Role.SHOWRUNNER),
}
# Kinds nobody else should take on: without the role, the plan goes without them.
ROLE_ONLY = frozenset({TaskKind.LOOK, TaskKind.MUSIC_CUES})
REVIEWERS: dict[TaskKind, tuple[Role, ...]] = {
    TaskKind.TREATMENT: (Role.DIRECTOR, Role.SHOWRUNNER, Role.PRODUCER),
    TaskKind.OUTLINE: (Role.DIRECTOR, Role.SHOWRUNNER, Role.PRODUCER),
    TaskKind.EPISODE_ARC: (Role.SHOWRUNNER, Role.DIRECTOR, Role.PRODUCER),
    TaskKind.SCENE: (Role.DIRECTOR, Role.SHOWRUNNER, Role.PRODUCER),
    TaskKind.SCRIPT: (Role.DIRECTOR, Role.SHOWRUNNER, Role.PRODUCER),
    TaskKind.CHAPTER: (Role.DIRECTOR, Role.PRODUCER, Role.SHOWRUNNER, Role.WRITER),
    TaskKind.ILLUSTRATION: (Role.DIRECTOR, Role.PRODUCER, Role.WRITER),
    TaskKind.LOOK: (Role.DIRECTOR, Role.PRODUCER, Role.SHOWRUNNER),
    TaskKind.SHOT_LIST: (Role.DIRECTOR, Role.PRODUCER, Role.SHOWRUNNER),
    TaskKind.MUSIC_CUES: (Role.DIRECTOR, Role.PRODUCER, Role.SHOWRUNNER),
    TaskKind.EDIT: (Role.DIRECTOR, Role.PRODUCER, Role.SHOWRUNNER),
}
GATES: dict[TaskKind, str] = {
    TaskKind.TREATMENT: "treatment",
    TaskKind.SCRIPT: "script",
    TaskKind.SHOT_LIST: "shot_list",
    TaskKind.EDIT: "rough_cut",
    TaskKind.FINAL: "final",
}
NUMBER_KEY: dict[TaskKind, str] = {
    TaskKind.SCENE: "scene",
    TaskKind.DIALOGUE: "scene",
    TaskKind.CHAPTER: "chapter",
    TaskKind.ILLUSTRATION: "chapter",
    TaskKind.EPISODE_ARC: "episode",
    TaskKind.SCRIPT: "episode",
    TaskKind.SHOT_LIST: "episode",
    TaskKind.MUSIC_CUES: "episode",
    TaskKind.EDIT: "episode",
}


# Writing a brief can hand out by number; shot lists, cues and cuts follow their own roles.
CLAIMABLE = frozenset(
    {TaskKind.EPISODE_ARC, TaskKind.SCRIPT, TaskKind.CHAPTER, TaskKind.SCENE, TaskKind.ILLUSTRATION}
)


@dataclass(frozen=True)
class Member:
    id: str
    role: Role
    character: str
    brief: str = ""


# What a brief says its author takes on: "episodes 2–6", "chapter 3", "the pilot", "the finale".
_RANGE = re.compile(r"\b(episode|chapter|scene)s?\s+(\d{1,3})\s*(?:–|—|-|to|through)\s*(\d{1,3})\b")
_SINGLE = re.compile(r"\b(episode|chapter|scene)\s+(\d{1,3})\b(?!\s*(?:–|—|-|to|through)\s*\d)")
_PILOT = re.compile(r"\bpilot\b")
_FINALE = re.compile(r"\bfinale\b(?!['’]s)")  # "the finale's arc" is not the finale


def claims(brief: str, unit: str, count: int) -> set[int]:
    """The numbers of `unit` (episode, chapter, scene) a crew brief says its member writes;
    `count` is how many there are (0 when unknown: then no number is the finale)."""
    text = brief.lower()
    top = count or 999
    taken: set[int] = set()
    for found, low, high in _RANGE.findall(text):
        if found == unit:
            taken.update(range(int(low), min(int(high), top) + 1))
    taken.update(int(n) for found, n in _SINGLE.findall(text) if found == unit)
    if unit == "episode":
        if _PILOT.search(text):
            taken.add(1)
        if count and _FINALE.search(text):
            taken.add(count)
    return {n for n in taken if 1 <= n <= top}
