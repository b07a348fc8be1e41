"""The planner's wiring (issue 17): what a writer would want to read reaches each piece,
whatever the planner proposed: the season arc every episode's arc, the previous chapter the
next, the outline each scene of a film, and every piece of screen work in its newest form (the
dialogue pass over a scene, not the scene it revised). A character's pass is over a scene the
character is in. Checked on `wire`, on the rehearsal planner and on each sample's plan."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podium.domain.artifacts import Screenplay
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskKind, TaskSpec
from podium.domain.versions import current_of
from podium.engine.planner import newest_passes, wire
from podium.export.exporter import load
from podium.llm.rehearsal.composer import Composer
from podium.llm.rehearsal.material import Material
from podium.llm.rehearsal.plan import write_plan
from podium.store import EventStore
from tests.export.samples import make_sync

from .harness import crew, production


def task(tid: str, kind: str, deps: list[str] | None = None, **params: int) -> TaskSpec:
    return TaskSpec(
        id=tid, title=tid, kind=TaskKind(kind), assignee="w", depends_on=deps or [], params=params
    )


def spec(fmt: str) -> ProductionSpec:
    head = f'[production]\ntitle = "T"\nformat = "{fmt}"\nbrief = "B."\n[vision]\npremise = "P."\n'
    return production(crew(("w", "writer")), header=head)


def test_the_season_arc_reaches_every_episode() -> None:
    existing = [task("season", "outline"), task("ep1", "episode_arc", ["season"], episode=1)]
    added = [task(f"ep{n}", "episode_arc", ["treatment"], episode=n) for n in (2, 3)]
    wired = wire(spec("series"), existing, added)
    assert [t.depends_on for t in wired] == [["treatment", "season"], ["treatment", "season"]]


def test_each_chapter_reads_the_one_before() -> None:
    added = [task("outline", "outline")] + [
        task(f"c{n}", "chapter", ["outline"], chapter=n) for n in (1, 2, 3)
    ]
    wired = {t.id: t.depends_on for t in wire(spec("illustrated_story"), [], added)}
    assert wired["c1"] == ["outline"]
    assert wired["c2"] == ["outline", "c1"] and wired["c3"] == ["outline", "c2"]


def test_each_scene_of_a_film_reads_the_outline_and_no_cycle_is_made() -> None:
    added = [task("outline", "outline", ["s2"]), task("s1", "scene", scene=1)]
    added.append(task("s2", "scene", scene=2))
    wired = {t.id: t.depends_on for t in wire(spec("short_film"), [], added)}
    assert wired["s1"] == ["outline"]
    assert wired["s2"] == []  # the outline reads s2: wiring it back would close a cycle


def test_what_reads_a_scene_reads_the_newest_pass_over_it() -> None:
    existing = [task("outline", "outline"), task("s1", "scene", ["outline"], scene=1)]
    added = [
        task("s2", "scene", ["s1"], scene=2),
        task("p1", "dialogue", ["s1"], scene=1),
        task("p1b", "dialogue", ["p1"], scene=1),  # a pass over the pass: the newest form
        task("p2", "dialogue", ["s2"], scene=2),
        task("shots", "shot_list", ["s1", "s2"]),
        task("cut", "edit", ["shots", "s1", "s2"]),
        task("early", "look", []),
    ]
    added[-1] = added[-1].model_copy(update={"depends_on": []})
    assert newest_passes([*existing, *added]) == {"s1": ["p1b"], "p1": ["p1b"], "s2": ["p2"]}
    wired = {t.id: t.depends_on for t in wire(spec("short_film"), existing, added)}
    # Each pass just before the text it revised, so a prompt gives it and names that text.
    assert wired["shots"] == ["p1b", "s1", "p2", "s2"]
    assert wired["cut"] == ["shots", "p1b", "s1", "p2", "s2"]
    assert wired["s2"] == ["p1b", "s1", "outline"]  # the next scene reads the revised one
    assert wired["p1"] == ["s1"] and wired["p1b"] == ["p1"]  # a pass reads what it revises
    assert wired["p2"] == ["s2"]


def test_a_pass_is_not_wired_back_into_what_it_is_made_from() -> None:
    # p1 revises s0 and reads s1, which reads s0: wiring p1 into s1 would close a cycle.
    added = [
        task("s0", "scene", scene=1),
        task("s1", "scene", ["s0"], scene=2),
        task("p1", "dialogue", ["s0", "s1"], scene=1),
    ]
    wired = {t.id: t.depends_on for t in wire(spec("series"), [], added)}
    assert wired == {"s0": [], "s1": ["s0"], "p1": ["s0", "s1"]}


def rehearsal_plan(existing: list[dict[str, Any]], scenes: int = 5) -> list[TaskSpec]:
    hints = {
        "kind": "plan",
        "purpose": "plan",
        "format": "short_film",
        "title": "T",
        "scenes": scenes,
        "characters": [{"name": n} for n in ("Elias", "Morag", "Tam")],
        "crew": [
            {"id": "writer", "role": "writer"},
            {"id": "director", "role": "director"},
            *(
                {"id": n.lower(), "role": "character", "character": n}
                for n in ("Elias", "Morag", "Tam")
            ),
        ],
        "existing_tasks": existing,
    }
    comp = Composer(random.Random(1), Material.from_hints(hints))
    return write_plan(comp, "producer").tasks


def test_the_rehearsal_planner_gives_a_pass_only_to_a_character_in_the_scene() -> None:
    existing = [
        {"id": "s1", "kind": "scene", "params": {"scene": 1}, "cast": ["Tam", "Morag"]},
        {"id": "s2", "kind": "scene", "params": {"scene": 2}},  # nobody known: no pass
    ]
    tasks = rehearsal_plan(existing)
    passes = [t for t in tasks if t.kind is TaskKind.DIALOGUE]
    briefs = {t.params["scene"]: t.brief for t in tasks if t.kind is TaskKind.SCENE}
    assert sorted(briefs) == [3, 4, 5]
    assert {t.params["scene"] for t in passes} == {1, 3, 4, 5}
    for p in passes:
        n, who = p.params["scene"], p.params["character"]
        if n == 1:
            assert who in ("Tam", "Morag")
        else:  # a new scene is written for the pair its brief names, and the pass is one of them
            assert f"Scene {n}, with " in briefs[n] and str(who) in briefs[n].split(" for ")[0]
    assert sorted({str(p.params["character"]) for p in passes}) == ["Elias", "Morag", "Tam"]


def test_a_character_without_a_pass_revises_the_newest_form_of_a_scene_they_are_in() -> None:
    existing = [{"id": "s1", "kind": "scene", "params": {"scene": 1}, "cast": ["Tam", "Morag"]}]
    tasks = {t.id: t for t in rehearsal_plan(existing, scenes=1)}
    passes = [t for t in tasks.values() if t.kind is TaskKind.DIALOGUE]
    assert [(p.params["character"], p.depends_on) for p in passes] == [
        ("Morag", ["s1"]),
        ("Tam", [passes[0].id]),
    ]
    cut = next(t for t in tasks.values() if t.kind is TaskKind.EDIT)
    assert passes[1].id in cut.depends_on and passes[0].id not in cut.depends_on


SAMPLES = ("last_light", "arctic_journey", "arcadian_summers")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each sample made once for this module's tests."""
    dbs: dict[str, Path] = {}

    def get(sample: str) -> Path:
        if sample not in dbs:
            db = tmp_path_factory.mktemp(sample) / "p.db"
            assert make_sync(sample, db) == "completed"
            dbs[sample] = db
        return dbs[sample]

    return get


def view_of(db: Path) -> ProductionView:
    return asyncio.run(load(db)).view


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_no_task_reads_screen_work_a_dialogue_pass_supersedes(
    sample: str, made: Callable[[str], Path]
) -> None:
    """Every task that reads a scene (or an episode's script) a pass revises reads the newest
    pass over it too, and is given the pass, not the text it replaced (issue 16: the
    deliverables are assembled from the newest). The file's own tasks are used as written."""
    view = view_of(made(sample))
    specs = [r.spec for r in view.tasks.values()]
    newest = newest_passes(specs)
    stale = [
        (r.spec.id, dep)
        for r in view.tasks.values()
        if r.source != "file" and r.spec.kind is not TaskKind.DIALOGUE
        for dep in r.spec.depends_on
        if dep in newest and not set(newest[dep]) <= set(r.spec.depends_on)
    ]
    assert stale == []
    if sample != "arctic_journey":
        assert newest  # the sample has passes to read
        kinds = {view.tasks[d].spec.kind for ps in newest.values() for d in ps}
        assert kinds == {TaskKind.DIALOGUE}
    if sample == "last_light":  # the rough cut reads every scene's pass
        edit = next(r.spec for r in view.tasks.values() if r.spec.kind is TaskKind.EDIT)
        scenes = [r.spec.id for r in view.tasks.values() if r.spec.kind is TaskKind.SCENE]
        assert all(newest[s][0] in edit.depends_on for s in scenes if s in newest)


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_each_pass_is_by_a_character_on_the_page_it_revises(
    sample: str, made: Callable[[str], Path]
) -> None:
    view = view_of(made(sample))
    passes = [r for r in view.tasks.values() if r.spec.kind is TaskKind.DIALOGUE]
    assert bool(passes) == (sample != "arctic_journey")
    for record in passes:
        artifact = current_of(view, record)
        assert artifact is not None, record.spec.id
        (revised,) = [
            view.artifacts[f"{task_id}-v{version}"]
            for task_id, version in artifact.provenance.made_from.items()
            if view.tasks[task_id].spec.kind in (TaskKind.SCENE, TaskKind.SCRIPT, TaskKind.DIALOGUE)
        ]
        play = revised.parsed()
        assert isinstance(play, Screenplay)
        who = str(record.spec.params["character"]).upper()
        assert who in play.speakers(), (record.spec.id, sorted(play.speakers()))


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_each_samples_plan_is_wired(sample: str, made: Callable[[str], Path]) -> None:
    db = made(sample)

    async def planned() -> list[tuple[str, TaskSpec]]:
        store = await EventStore.open(db)
        try:
            rows = await store.read(kinds=("tasks_planned",))
        finally:
            await store.close()
        return [(e.payload.source, t) for e in rows for t in e.payload.tasks]  # type: ignore[union-attr]

    every = asyncio.run(planned())
    # The tasks the planner added are wired; the file's own are used as written.
    added: dict[TaskKind, list[TaskSpec]] = {}
    for source, t in every:
        if source == "planner":
            added.setdefault(t.kind, []).append(t)
    outline = next((t.id for _, t in every if t.kind is TaskKind.OUTLINE and not t.params), None)
    assert outline is not None
    if sample == "arcadian_summers":  # the file's season arc, to episodes 2-11 too
        arcs = [t for _, t in every if t.kind is TaskKind.EPISODE_ARC]
        assert len(arcs) == 12 and len(added[TaskKind.EPISODE_ARC]) == 10
        assert all(outline in a.depends_on for a in arcs), [a.depends_on for a in arcs]
    if sample == "arctic_journey":
        chapters = {t.params["chapter"]: t for t in added[TaskKind.CHAPTER]}
        assert sorted(chapters) == [1, 2, 3, 4, 5]
        for n in range(2, 6):
            assert chapters[n - 1].id in chapters[n].depends_on
    if sample == "last_light":
        scenes = added[TaskKind.SCENE]
        assert len(scenes) == 6 and all(outline in s.depends_on for s in scenes)
