"""The rehearsal planner: a phased task tree fitted to the format, the crew and what exists.

The plan only names agents from the crew hint, gates from the gates hint and dependencies on
tasks it creates or that already exist, so the engine can take it as a real planner's answer.
Tasks that the production file already gives are reused, never duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from podium.llm.rehearsal.plan_crew import (
    CLAIMABLE,
    GATES,
    NUMBER_KEY,
    REVIEWERS,
    ROLE_ONLY,
    ROLES_FOR,
    WRITING,
    Member,
    claims,
)

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
MAX_TASKS = 480  # PlanDraft allows 500; the rest is headroom for what the engine adds


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
    keys = [NUMBER_KEY.get(kind, "scene"), "scene", "chapter", "episode"]
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
        self.crew: list[Member] = []
        for item in mappings_of(hints.get("crew"), 200):
            agent_id = item.get("id")
            if isinstance(agent_id, str) and _ID.match(agent_id) and len(agent_id) <= 64:
                if all(c.id != agent_id for c in self.crew):
                    role = enum_of(Role, item.get("role")) or Role.CUSTOM
                    character = text_of(item.get("character"), 60)
                    brief = text_of(item.get("brief"), 2000)
                    self.crew.append(Member(agent_id, role, character, brief))
        if not self.crew:
            fallback = planner_id if _ID.match(planner_id) and len(planner_id) <= 64 else "producer"
            self.crew.append(Member(fallback, Role.PRODUCER, ""))
        self.gates = set(texts_of(hints.get("gates"), 64))
        self.gated: set[str] = set()
        self.tasks: list[TaskSpec] = []
        self.taken: set[str] = set()
        self.singles: dict[TaskKind, str] = {}
        self.numbered: dict[tuple[TaskKind, int], str] = {}
        self.pool: dict[TaskKind, list[str]] = {}
        self.reused: list[str] = []
        self._turn: dict[Role, int] = {}
        # Who is in existing screen work, as the engine knows it (`podium.engine.planner.cast_of`).
        self.cast_of: dict[str, list[str]] = {}
        self.passes: list[str] = []  # the dialogue passes made, in order
        for task in mappings_of(hints.get("existing_tasks"), 500):
            task_id = task.get("id")
            if not isinstance(task_id, str):
                continue
            self.taken.add(task_id)
            if cast := texts_of(task.get("cast"), 60):
                self.cast_of[task_id] = cast
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

    def agent(self, kind: TaskKind) -> Member | None:
        chain = ROLES_FOR.get(kind, WRITING)
        if kind in (TaskKind.REPORT, TaskKind.FINAL) and self.format() is Format.SERIES:
            chain = (Role.SHOWRUNNER, *chain)
        for role in chain:
            members = [c for c in self.crew if c.role is role]
            if members:
                turn = self._turn.get(role, 0)
                self._turn[role] = turn + 1
                return members[turn % len(members)]
        return None if kind in ROLE_ONLY else self.crew[0]

    def claimant(self, kind: TaskKind, number: int | None) -> Member | None:
        """Who the crew briefs give this numbered piece of writing to ("episodes 2–6"), in the
        order of the roles that may take it; None when no brief claims it."""
        unit = NUMBER_KEY.get(kind)
        if number is None or unit is None or kind not in CLAIMABLE:
            return None
        count = int_of(self.m.hints.get(unit + "s")) or 0  # 0: unknown, so no finale
        for role in ROLES_FOR.get(kind, WRITING):
            for member in self.crew:
                if member.role is role and number in claims(member.brief, unit, count):
                    return member
        return None

    def reviewers(self, kind: TaskKind, assignee: str) -> list[str]:
        for role in REVIEWERS.get(kind, ()):
            for member in self.crew:
                if member.role is role and member.id != assignee:
                    return [member.id]
        return []

    def characters(self) -> list[Member]:
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
        assignee: Member | None = None,
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
        gate = GATES.get(kind)
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
        self, targets: list[tuple[int, str | None, list[str] | None]], unit: str = "scene"
    ) -> dict[int, str]:
        """Each scene (or episode) gets a pass by a character agent whose character is in it
        (`None` for who is in it: anyone may), the one with the fewest passes so far, in turn;
        then an agent still without one gets a pass over the first scene they are in, made
        from the pass already there (a chain: each pass revises the newest form). Scenes
        nobody of the cast is in get none. The newest pass over each number."""
        cast = self.characters()
        newest: dict[int, str] = {}
        if not cast:
            return newest
        given = dict.fromkeys((c.id for c in cast), 0)

        def voiced(member: Member) -> str:
            return member.character or member.id

        def present(member: Member, people: list[str] | None) -> bool:
            return people is None or voiced(member).lower() in {p.lower() for p in people}

        def make(number: int, target_id: str, member: Member) -> None:
            task_id = self.add(
                TaskKind.DIALOGUE,
                f"Dialogue pass: {voiced(member)} in {unit} {number}",
                [newest.get(number, target_id)],
                number=number,
                base_id=f"dialogue-{unit}-{number}-{member.id}",
                phase="writing",
                assignee=member,
                optional=True,
                params={unit: number, "character": voiced(member)},
            )
            if task_id is not None:
                newest[number] = task_id
                given[member.id] += 1
                self.passes.append(task_id)

        for i, (number, target_id, people) in enumerate(targets):
            here = [c for c in cast if present(c, people)]
            if target_id is None or not here:
                continue
            turn = {c.id: (n - i) % len(cast) for n, c in enumerate(cast)}
            make(number, target_id, min(here, key=lambda c: (given[c.id], turn[c.id])))
        for member in cast:
            if given[member.id]:
                continue
            spot = next(
                ((n, t) for n, t, people in targets if t is not None and present(member, people)),
                None,
            )
            if spot is not None:
                make(*spot, member)
        return newest

    def scene_cast(self, number: int) -> list[str]:
        """Who a new scene is written for: a pair of the vision's characters (the crew's when
        the vision names none), every pair in turn across the scenes."""
        names = [c.name for c in self.m.characters] or [
            c.character for c in self.characters() if c.character
        ]
        names = list(dict.fromkeys(names))
        if len(names) < 2:
            return names
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        return list(pairs[(number - 1) % len(pairs)])

    # --- formats ---------------------------------------------------------------------------

    def film(self) -> None:
        title = self.m.production_title()
        scenes = self.count("scenes", 5, 150)
        look = self.add(TaskKind.LOOK, "Look book", [], phase="development")
        treatment = self.add(TaskKind.TREATMENT, f"Treatment: {title}", [], phase="development")
        outline = self.add(TaskKind.OUTLINE, "Scene outline", [treatment], phase="development")
        scene_ids: list[tuple[int, str | None, list[str] | None]] = []
        for n in range(1, scenes + 1):
            # A new scene is written for the pair its brief names; who is in the file's own is
            # as the engine reads it (its cues, else its rules and brief; the rehearsal writer's
            # scenes are two-handers, of the first two).
            people = self.scene_cast(n)
            with_whom = f"Scene {n}, with {' and '.join(people)}," if people else ""
            scene_id = self.add(
                TaskKind.SCENE,
                f"Scene {n}",
                [outline],
                number=n,
                phase="writing",
                brief=self.brief(with_whom) if with_whom else "",
            )
            if scene_id is not None and scene_id in self.reused:
                people = self.cast_of.get(scene_id, [])[:2]
            scene_ids.append((n, scene_id, people))
        passes = self.dialogue_passes(scene_ids)
        script = self.add(
            TaskKind.SCRIPT,
            f"Script assembly: {title}",
            [*(s for _, s, _ in scene_ids), *self.passes],
            phase="writing",
        )
        report = self.add(
            TaskKind.REPORT,
            "Status report at script lock",
            [script],
            phase="writing",
            optional=True,
        )
        # Shots, cues and the cut take the scenes as well as the script, so each covers every
        # scene the film has; and each scene's newest form, the last pass over it, which stands
        # for it (the prompt gives the pass and names the scene as revised by it).
        # The passes come first: a prompt gives each and names the scene it revised.
        scenes_in = [passes[n] for n in sorted(passes)] + [s for _, s, _ in scene_ids]
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
        # An episode is an ensemble: whoever of the cast may make its pass.
        passes = self.dialogue_passes(
            [(e, s, None) for e, s in enumerate(scripts, start=1)], "episode"
        )
        # What reads an episode's script reads its newest form too, the last pass over it.
        newest = {e: [p] for e, p in passes.items()}
        report = self.add(
            TaskKind.REPORT,
            "Status report: scripts locked",
            [*scripts, *(p for e in sorted(newest) for p in newest[e])],
            optional=True,
        )
        edits: list[str | None] = []
        for e, script in enumerate(scripts, start=1):
            mine = newest.get(e, [])
            shots = self.add(
                TaskKind.SHOT_LIST,
                f"Episode {e} shot list",
                [script, look, *mine],
                number=e,
                phase="production",
                optional=True,
            )
            music = self.add(
                TaskKind.MUSIC_CUES,
                f"Episode {e} music cues",
                [script, *mine],
                number=e,
                optional=True,
            )
            edits.append(
                self.add(
                    TaskKind.EDIT,
                    f"Episode {e} rough cut",
                    [*([shots] if shots else [script, *mine]), music],
                    number=e,
                    phase="post",
                    optional=True,
                )
                or (mine[-1] if mine else script)
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
    return NUMBER_KEY.get(kind, "number")
