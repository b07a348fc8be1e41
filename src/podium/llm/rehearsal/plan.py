"""The rehearsal planner: a phased task tree fitted to the format, the crew and what exists.

The plan only names agents from the crew hint, gates from the gates hint and dependencies on
tasks it creates or that already exist, so the engine can take it as a real planner's answer.
Tasks that the production file already gives are reused, never duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podium.domain.agents import Role
from podium.domain.production import Format
from podium.domain.tasks import OnFailure, PlanDraft, TaskKind, TaskSpec
from podium.llm.rehearsal.composer import Composer
from podium.llm.rehearsal.material import (
    enum_of,
    int_of,
    mapping_of,
    mappings_of,
    text_of,
    texts_of,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
MAX_TASKS = 480  # PlanDraft allows 500; the rest is headroom for what the engine adds

_WRITING = (Role.WRITER, Role.SHOWRUNNER, Role.DIRECTOR, Role.PRODUCER)
_ROLES_FOR: dict[TaskKind, tuple[Role, ...]] = {
    TaskKind.TREATMENT: _WRITING,
    TaskKind.OUTLINE: _WRITING,
    TaskKind.EPISODE_ARC: _WRITING,
    TaskKind.SCENE: _WRITING,
    TaskKind.SCRIPT: _WRITING,
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
_ROLE_ONLY = frozenset({TaskKind.LOOK, TaskKind.MUSIC_CUES})
_REVIEWERS: dict[TaskKind, tuple[Role, ...]] = {
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
_GATES: dict[TaskKind, str] = {
    TaskKind.TREATMENT: "treatment",
    TaskKind.SCRIPT: "script",
    TaskKind.SHOT_LIST: "shot_list",
    TaskKind.EDIT: "rough_cut",
    TaskKind.FINAL: "final",
}
_NUMBER_KEY: dict[TaskKind, str] = {
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
_CLAIMABLE = frozenset(
    {TaskKind.EPISODE_ARC, TaskKind.SCRIPT, TaskKind.CHAPTER, TaskKind.SCENE, TaskKind.ILLUSTRATION}
)


@dataclass(frozen=True)
class _Member:
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


def write_plan(comp: Composer, planner_id: str) -> PlanDraft:
    plan = _Plan(comp, planner_id)
    fmt = plan.format()
    if fmt is Format.SERIES:
        plan.series()
    elif fmt is Format.ILLUSTRATED_STORY:
        plan.story()
    else:
        plan.film()
    if not plan.tasks:  # everything already exists: still answer with something useful
        plan.add(TaskKind.REPORT, "Plan check: status report", [], force=True)
    return PlanDraft(tasks=plan.tasks, rationale=plan.rationale(fmt))


def _number_of(task: Mapping[str, Any], kind: TaskKind) -> int | None:
    params = mapping_of(task.get("params"))
    keys = [_NUMBER_KEY.get(kind, "scene"), "scene", "chapter", "episode"]
    for key in keys:
        for source in (params, task):
            if (value := int_of(source.get(key))) is not None:
                return value
    for text in (task.get("id"), task.get("title")):
        if isinstance(text, str) and (match := re.search(r"(\d+)", text)):
            return int(match.group(1))
    return None


class _Plan:
    def __init__(self, comp: Composer, planner_id: str) -> None:
        self.comp = comp
        self.m = comp.m
        hints = comp.m.hints
        self.crew: list[_Member] = []
        for item in mappings_of(hints.get("crew"), 200):
            agent_id = item.get("id")
            if isinstance(agent_id, str) and _ID.match(agent_id) and len(agent_id) <= 64:
                if all(c.id != agent_id for c in self.crew):
                    role = enum_of(Role, item.get("role")) or Role.CUSTOM
                    character = text_of(item.get("character"), 60)
                    brief = text_of(item.get("brief"), 2000)
                    self.crew.append(_Member(agent_id, role, character, brief))
        if not self.crew:
            fallback = planner_id if _ID.match(planner_id) and len(planner_id) <= 64 else "producer"
            self.crew.append(_Member(fallback, Role.PRODUCER, ""))
        self.gates = set(texts_of(hints.get("gates"), 64))
        self.gated: set[str] = set()
        self.tasks: list[TaskSpec] = []
        self.taken: set[str] = set()
        self.singles: dict[TaskKind, str] = {}
        self.numbered: dict[tuple[TaskKind, int], str] = {}
        self.pool: dict[TaskKind, list[str]] = {}
        self.reused: list[str] = []
        self._turn: dict[Role, int] = {}
        for task in mappings_of(hints.get("existing_tasks"), 500):
            task_id = task.get("id")
            if not isinstance(task_id, str):
                continue
            self.taken.add(task_id)
            kind = enum_of(TaskKind, task.get("kind"))
            if kind is None:
                continue
            self.singles.setdefault(kind, task_id)
            number = _number_of(task, kind)
            if number is not None:
                self.numbered.setdefault((kind, number), task_id)
            else:
                self.pool.setdefault(kind, []).append(task_id)

    def format(self) -> Format:
        if self.m.format is not None:
            return self.m.format
        if int_of(self.m.hints.get("chapters")):
            return Format.ILLUSTRATED_STORY
        if int_of(self.m.hints.get("episodes")):
            return Format.SERIES
        return Format.SHORT_FILM

    def count(self, key: str, default: int, cap: int) -> int:
        value = int_of(self.m.hints.get(key))
        return max(1, min(value if value and value > 0 else default, cap))

    # --- people ----------------------------------------------------------------------------

    def agent(self, kind: TaskKind) -> _Member | None:
        chain = _ROLES_FOR.get(kind, _WRITING)
        if kind in (TaskKind.REPORT, TaskKind.FINAL) and self.format() is Format.SERIES:
            chain = (Role.SHOWRUNNER, *chain)
        for role in chain:
            members = [c for c in self.crew if c.role is role]
            if members:
                turn = self._turn.get(role, 0)
                self._turn[role] = turn + 1
                return members[turn % len(members)]
        return None if kind in _ROLE_ONLY else self.crew[0]

    def claimant(self, kind: TaskKind, number: int | None) -> _Member | None:
        """Who the crew briefs give this numbered piece of writing to ("episodes 2–6"), in the
        order of the roles that may take it; None when no brief claims it."""
        unit = _NUMBER_KEY.get(kind)
        if number is None or unit is None or kind not in _CLAIMABLE:
            return None
        count = int_of(self.m.hints.get(unit + "s")) or 0  # 0: unknown, so no finale
        for role in _ROLES_FOR.get(kind, _WRITING):
            for member in self.crew:
                if member.role is role and number in claims(member.brief, unit, count):
                    return member
        return None

    def reviewers(self, kind: TaskKind, assignee: str) -> list[str]:
        for role in _REVIEWERS.get(kind, ()):
            for member in self.crew:
                if member.role is role and member.id != assignee:
                    return [member.id]
        return []

    def characters(self) -> list[_Member]:
        return [c for c in self.crew if c.role is Role.CHARACTER]

    # --- tasks -----------------------------------------------------------------------------

    def existing(self, kind: TaskKind, number: int | None) -> str | None:
        if number is None:
            return self.singles.get(kind)
        if (found := self.numbered.get((kind, number))) is not None:
            return found
        pool = self.pool.get(kind)
        return pool.pop(0) if pool else None

    def unique_id(self, base: str) -> str:
        slug = re.sub(r"[^a-z0-9_\-]+", "-", base.lower()).strip("-_")[:56] or "task"
        candidate, n = slug, 2
        while candidate in self.taken:
            candidate, n = f"{slug}-{n}", n + 1
        self.taken.add(candidate)
        return candidate

    def add(
        self,
        kind: TaskKind,
        title: str,
        depends_on: list[str | None],
        *,
        number: int | None = None,
        base_id: str | None = None,
        phase: str = "",
        assignee: _Member | None = None,
        optional: bool = False,
        force: bool = False,
        params: dict[str, object] | None = None,
        brief: str = "",
    ) -> str | None:
        """A task's id: a reused existing task, a new one, or None when it is left out."""
        if not force and (found := self.existing(kind, number)) is not None:
            self.reused.append(found)
            return found
        if optional and len(self.tasks) >= MAX_TASKS - 8:
            return None
        member = assignee or self.claimant(kind, number) or self.agent(kind)
        if member is None:
            return None
        task_id = self.unique_id(base_id or (kind.value if number is None else f"{kind}-{number}"))
        # A milestone is reviewed once (for a series: on the first episode), not on every copy.
        gate = _GATES.get(kind)
        if gate is not None and (gate not in self.gates or gate in self.gated):
            gate = None
        if gate is not None:
            self.gated.add(gate)
        deps = list(dict.fromkeys(d for d in depends_on if d is not None))
        self.tasks.append(
            TaskSpec(
                id=task_id,
                title=title[:200],
                kind=kind,
                assignee=member.id,
                depends_on=deps,
                gate=gate,
                reviewers=self.reviewers(kind, member.id),
                on_failure=OnFailure.SKIP if optional else OnFailure.ESCALATE,
                phase=phase,
                deliverable=title[:120],
                brief=(brief or self.brief(title))[:2000],
                params=dict(params or ({} if number is None else {_key(kind): number})),
            )
        )
        return task_id

    def brief(self, what: str) -> str:
        vision = self.m.logline or self.m.premise
        return f"{what} for {self.m.production_title()}." + (f" Vision: {vision}" if vision else "")

    def dialogue_passes(
        self, targets: list[tuple[int, str | None]], unit: str = "scene"
    ) -> list[tuple[int, str]]:
        """Each scene (or episode) gets a pass by a character agent; each agent gets one."""
        cast = self.characters()
        if not cast or not targets:
            return []
        found: list[tuple[int, str]] = []
        for i in range(max(len(targets), len(cast))):
            number, target_id = targets[i % len(targets)]
            member = cast[i % len(cast)]
            voiced = member.character or member.id
            task_id = self.add(
                TaskKind.DIALOGUE,
                f"Dialogue pass: {voiced} in {unit} {number}",
                [target_id],
                number=number,
                base_id=f"dialogue-{unit}-{number}-{member.id}",
                phase="writing",
                assignee=member,
                optional=True,
                params={unit: number, "character": voiced},
            )
            if task_id is not None:
                found.append((number, task_id))
        return found

    # --- formats ---------------------------------------------------------------------------

    def film(self) -> None:
        title = self.m.production_title()
        scenes = self.count("scenes", 5, 150)
        look = self.add(TaskKind.LOOK, "Look book", [], phase="development")
        treatment = self.add(TaskKind.TREATMENT, f"Treatment: {title}", [], phase="development")
        outline = self.add(TaskKind.OUTLINE, "Scene outline", [treatment], phase="development")
        scene_ids: list[tuple[int, str | None]] = []
        for n in range(1, scenes + 1):
            scene_id = self.add(TaskKind.SCENE, f"Scene {n}", [outline], number=n, phase="writing")
            scene_ids.append((n, scene_id))
        passes = self.dialogue_passes(scene_ids)
        script = self.add(
            TaskKind.SCRIPT,
            f"Script assembly: {title}",
            [s for _, s in scene_ids] + [p for _, p in passes],
            phase="writing",
        )
        report = self.add(
            TaskKind.REPORT,
            "Status report at script lock",
            [script],
            phase="writing",
            optional=True,
        )
        # Shots, cues and the cut take the scenes as well as the script, which reaches them cut
        # to its opening pages: each covers every scene the film has.
        scenes_in = [s for _, s in scene_ids]
        shots = self.add(
            TaskKind.SHOT_LIST, "Shot list", [script, look, *scenes_in], phase="production"
        )
        music = self.add(TaskKind.MUSIC_CUES, "Music cue sheet", [script, *scenes_in], phase="post")
        edit = self.add(TaskKind.EDIT, "Rough cut", [shots, music, *scenes_in], phase="post")
        self.add(TaskKind.FINAL, "Final delivery", [edit, report], phase="delivery")

    def series(self) -> None:
        episodes = self.count("episodes", 3, 200)
        look = self.add(TaskKind.LOOK, "Series look book", [], phase="development")
        showrunner = next((c for c in self.crew if c.role is Role.SHOWRUNNER), None)
        bible = self.add(
            TaskKind.TREATMENT,
            "Series bible and pilot treatment",
            [],
            phase="development",
            assignee=showrunner,
        )
        arcs = [
            self.add(TaskKind.EPISODE_ARC, f"Episode {e} arc", [bible], number=e, phase="writing")
            for e in range(1, episodes + 1)
        ]
        scripts = [
            self.add(TaskKind.SCRIPT, f"Episode {e} script", [arc], number=e, phase="writing")
            for e, arc in enumerate(arcs, start=1)
        ]
        report = self.add(
            TaskKind.REPORT, "Status report: scripts locked", list(scripts), optional=True
        )
        edits: list[str | None] = []
        passes = self.dialogue_passes(list(enumerate(scripts, start=1)), unit="episode")
        for e, script in enumerate(scripts, start=1):
            mine = [p for n, p in passes if n == e]
            shots = self.add(
                TaskKind.SHOT_LIST,
                f"Episode {e} shot list",
                [script, look, *mine],
                number=e,
                phase="production",
                optional=True,
            )
            music = self.add(
                TaskKind.MUSIC_CUES, f"Episode {e} music cues", [script], number=e, optional=True
            )
            edits.append(
                self.add(
                    TaskKind.EDIT,
                    f"Episode {e} rough cut",
                    [shots or script, music],
                    number=e,
                    phase="post",
                    optional=True,
                )
                or script
            )
        self.add(TaskKind.FINAL, "Season delivery", [*edits, report], phase="delivery")

    def story(self) -> None:
        title = self.m.production_title()
        chapters = self.count("chapters", 3, 200)
        look = self.add(TaskKind.LOOK, "Style frames", [], phase="development")
        treatment = self.add(
            TaskKind.TREATMENT, f"Story treatment: {title}", [], phase="development"
        )
        outline = self.add(TaskKind.OUTLINE, "Chapter outline", [treatment], phase="development")
        delivered: list[str | None] = []
        previous: str | None = None
        for c in range(1, chapters + 1):
            # Each chapter reads the one before it, so the story follows on.
            chapter = self.add(
                TaskKind.CHAPTER, f"Chapter {c}", [outline, previous], number=c, phase="writing"
            )
            previous = chapter or previous
            picture = self.add(
                TaskKind.ILLUSTRATION,
                f"Illustration for chapter {c}",
                [chapter, look],
                number=c,
                phase="illustration",
            )
            delivered.extend((chapter, picture))
        self.add(TaskKind.FINAL, "Final delivery", delivered, phase="delivery")

    def rationale(self, fmt: Format) -> str:
        order = ("development", "writing", "illustration", "production", "post", "delivery")
        present = {t.phase for t in self.tasks}
        phases = [p for p in order if p in present]
        shape = {
            Format.SERIES: "an arc and a script per episode, then production per episode",
            Format.ILLUSTRATED_STORY: "a chapter and its illustration for each chapter",
        }.get(fmt, "treatment, outline, scenes in parallel, then script, shots, music and cut")
        text = (
            f"{len(self.tasks)} tasks for {self.m.production_title()} ({fmt.value}): {shape}. "
            f"Phases: {', '.join(phases) or 'one'}. Independent work runs in parallel."
        )
        if any(t.reviewers for t in self.tasks):
            text += " Drafts are reviewed by someone other than their author."
        if self.reused:
            text += f" Reuses {len(self.reused)} task(s) the production file already gives."
        if self.m.direction:
            text += f" Follows the Orchestrator's direction: {self.m.direction}"
        return text[:4000]


def _key(kind: TaskKind) -> str:
    return _NUMBER_KEY.get(kind, "number")
