"""Which artifacts make up the screenplay: one per film, one per episode of a series.

Scene, script and dialogue tasks all deliver screenplay scenes. Each covers scene numbers from
its `scene` parameter (1 when it has none: a whole script, or an episode's dialogue pass), and
for every scene number the latest task in plan order wins, preferring work that was applied or
approved over a draft. A dialogue pass therefore refines the scene it follows, and a script
assembled after the scenes replaces them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from podium.domain.agents import Role
from podium.domain.artifacts import Artifact, Scene, Screenplay
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.export.fountain import Script, TitlePage, build_script
from podium.export.sources import USABLE, ExportSource, number, one_line

SCREEN_KINDS = frozenset({TaskKind.SCENE, TaskKind.SCRIPT, TaskKind.DIALOGUE})


@dataclass(frozen=True)
class Slot:
    number: int
    scene: Scene
    artifact: Artifact
    label: str | None  # how unfinished the scene is, or None


@dataclass(frozen=True)
class ScreenplayFile:
    stem: str  # the file name without its extension
    episode: int | None
    slots: tuple[Slot, ...]
    script: Script


def _screenplay(artifact: Artifact) -> Screenplay | None:
    try:
        content = artifact.parsed()
    except (ValidationError, KeyError):
        return None  # not readable as a screenplay; the decision log still lists it
    return content if isinstance(content, Screenplay) else None


def slots(source: ExportSource) -> dict[int | None, list[Slot]]:
    """The chosen scene for every (episode, scene number), grouped by episode, in scene order."""
    series = source.format is Format.SERIES
    best: dict[tuple[int | None, int], tuple[tuple[bool, int], Slot]] = {}
    for index, record in enumerate(source.plan()):
        if record.spec.kind not in SCREEN_KINDS:
            continue
        artifact = source.current(record)
        play = _screenplay(artifact) if artifact is not None else None
        if artifact is None or play is None:
            continue
        params = record.spec.params
        episode = number(params.get("episode")) if series else None
        start = number(params.get("scene")) or 1
        rank = (artifact.status in USABLE, index)
        label = source.status_label(artifact)
        for offset, scene in enumerate(play.scenes):
            key = (episode, start + offset)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, Slot(start + offset, scene, artifact, label))
    grouped: dict[int | None, list[Slot]] = {}
    for key in sorted(best, key=lambda k: (k[0] is None, k[0] or 0, k[1])):
        grouped.setdefault(key[0], []).append(best[key][1])
    return grouped


def title_page(source: ExportSource, episode: int | None, chosen: list[Slot]) -> TitlePage:
    title = source.title if episode is None else f"{source.title}\nEpisode {episode}"
    authors: list[str] = []
    for slot in chosen:
        for agent_id in writers(source, slot.artifact):
            name = source.agent_name(agent_id)
            if name not in authors:
                authors.append(name)
    unfinished = sum(1 for slot in chosen if slot.label)
    if unfinished:
        draft = f"In progress: {unfinished} of {len(chosen)} scenes not yet approved (see notes)"
    else:
        draft = "Complete"
    spec = source.view.spec
    logline = one_line(spec.production.logline) if spec else ""
    fields = [
        ("Credit", "Written by"),
        ("Author", ", ".join(authors)),
        ("Source", "Made with podium"),
        ("Draft", draft),
        ("Notes", logline),
    ]
    return TitlePage(title=title, fields=tuple((k, v) for k, v in fields if v))


def writers(source: ExportSource, artifact: Artifact) -> list[str]:
    """Who wrote this version: its author, or, for a character's dialogue pass, the writers of
    what it revised. A character agent voices a part; the credit goes to the writers, the
    character agent only when nobody else wrote the scene."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [artifact]
    while todo:
        current = todo.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        agent = source.view.agents.get(current.provenance.agent_id)
        if agent is not None and agent.spec.role is Role.CHARACTER:
            todo.extend(
                parent
                for parent_id in current.provenance.parents
                if (parent := source.view.artifacts.get(parent_id)) is not None
                and parent.kind in SCREEN_KINDS
            )
        elif current.provenance.agent_id not in found:
            found.append(current.provenance.agent_id)
    return found or [artifact.provenance.agent_id]


def screenplays(source: ExportSource) -> list[ScreenplayFile]:
    """Every screenplay to write, films first as `screenplay`, episodes as `episode-NN`."""
    files: list[ScreenplayFile] = []
    for episode, chosen in slots(source).items():
        stem = "screenplay" if episode is None else f"episode-{episode:02d}"
        script = build_script(
            title_page(source, episode, chosen), ((s.scene, s.label) for s in chosen)
        )
        files.append(ScreenplayFile(stem, episode, tuple(chosen), script))
    return files
