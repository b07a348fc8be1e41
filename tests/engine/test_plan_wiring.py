"""The planner's wiring (issue 17): what a writer would want to read reaches each piece,
whatever the planner proposed: the season arc every episode's arc, the previous chapter the
next, the outline each scene of a film. Checked on `wire` and on each sample's plan as made by
the rehearsal planner."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.domain.production import ProductionSpec
from podium.domain.tasks import TaskKind, TaskSpec
from podium.engine.planner import wire
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


SAMPLES = ("last_light", "arctic_journey", "arcadian_summers")


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_each_samples_plan_is_wired(sample: str, tmp_path: Path) -> None:
    import asyncio

    db = tmp_path / "p.db"
    assert make_sync(sample, db) == "completed"

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
