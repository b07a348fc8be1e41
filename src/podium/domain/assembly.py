"""The screenplay, assembled by podium from current versions, following lineage (pure).

Scene, dialogue and script tasks deliver screenplay scenes; each covers scene numbers from its
`scene` parameter (1 when it has none: a whole script, an episode's pass). Of a set of such
tasks, the ones that count are the *tops*: those whose current version no other task of the set
was made from (a dialogue pass refines the scene it was made from; a script assembled from the
scenes stands for them all). A task with no version yet stands for nothing, so its inputs
count. The same rule makes a film's script task (`assemble`, by podium, never rewritten
wholesale by an agent) and the exported screenplay (`podium.export.screenplay.slots`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from podium.domain.artifacts import Artifact, Scene, Screenplay
from podium.domain.base import whole_number
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind
from podium.domain.versions import current_of

SCREEN_KINDS = frozenset({TaskKind.SCENE, TaskKind.SCRIPT, TaskKind.DIALOGUE})


@dataclass(frozen=True)
class Placed:
    number: int
    scene: Scene
    artifact: Artifact


def screenplay_of(artifact: Artifact) -> Screenplay | None:
    try:
        content = artifact.parsed()
    except (ValidationError, KeyError):
        return None
    return content if isinstance(content, Screenplay) else None


def tops(view: ProductionView, records: Iterable[TaskRecord]) -> list[TaskRecord]:
    """Of these screen tasks (in the order given), those no other one's current version was
    made from."""
    made = [r for r in records if r.spec.kind in SCREEN_KINDS and current_of(view, r)]
    consumed = {dep for r in made for dep in r.made_from}
    return [r for r in made if r.spec.id not in consumed]


def placed(view: ProductionView, records: Iterable[TaskRecord]) -> list[Placed]:
    """The scene at every number, from the tops' current versions; for one number held by two
    tops (two passes over one scene), the later one in the order given."""
    chosen: dict[int, Placed] = {}
    for record in tops(view, records):
        artifact = current_of(view, record)
        play = screenplay_of(artifact) if artifact is not None else None
        if artifact is None or play is None:
            continue
        start = whole_number(record.spec.params.get("scene")) or 1
        for offset, scene in enumerate(play.scenes):
            chosen[start + offset] = Placed(start + offset, scene, artifact)
    return [chosen[n] for n in sorted(chosen)]


def assembles(view: ProductionView, record: TaskRecord) -> bool:
    """A script task made from scenes is podium's assembly of them, not an agent's writing."""
    return record.spec.kind is TaskKind.SCRIPT and any(
        dep in view.tasks and view.tasks[dep].spec.kind is TaskKind.SCENE
        for dep in record.spec.depends_on
    )


def assemble(view: ProductionView, record: TaskRecord) -> tuple[Screenplay, list[Artifact]]:
    """The script of its inputs' current scenes, in scene order, and the versions it used."""
    inputs = [view.tasks[d] for d in record.spec.depends_on if d in view.tasks]
    scenes = placed(view, inputs)
    title = view.spec.production.title if view.spec else ""
    used: dict[str, Artifact] = {}
    for item in scenes:
        used.setdefault(item.artifact.id, item.artifact)
    for dep in inputs:  # every input read, so a change to any of them makes the script stale
        found = current_of(view, dep)
        if found is not None:
            used.setdefault(found.id, found)
    if not scenes:
        raise ValueError(f"{record.spec.id} has no scene to assemble")
    return Screenplay(title=title, scenes=[p.scene for p in scenes]), list(used.values())
