"""Which artifacts make up the screenplay: one per film, one per episode of a series.

Assembled from current versions, following lineage (`podium.domain.assembly`): of the scene,
dialogue and script tasks of a film (or an episode), those no other one's current version was
made from. A film's script, podium's assembly of its current scenes (or the Orchestrator's
replacement of it, verbatim), stands for them all; where no script was made yet, a dialogue
pass stands for the scene it was made from. Never "the latest task in plan order".
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.domain.agents import Role
from podium.domain.artifacts import PODIUM, Artifact, Scene
from podium.domain.assembly import SCREEN_KINDS, placed
from podium.domain.production import Format
from podium.domain.state import TaskRecord
from podium.export.fountain import Script, TitlePage, build_script
from podium.export.sources import ExportSource, number, one_line

__all__ = ["SCREEN_KINDS", "ScreenplayFile", "Slot", "screenplays", "slots"]


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


def slots(source: ExportSource) -> dict[int | None, list[Slot]]:
    """The chosen scene for every (episode, scene number), grouped by episode, in scene order.

    Worked out once per state of the source (the screenplays, the storyboard's headings and
    the animatic's read all ask; on a big series each time read every scene's content)."""
    view = source.view
    state = (view.last_seq, id(view.spec), len(view.tasks), len(view.artifacts))
    known: tuple[object, dict[int | None, list[Slot]]] | None = getattr(source, _CHOSEN, None)
    if known is not None and known[0] == state:
        return known[1]
    grouped = _slots(source)
    setattr(source, _CHOSEN, (state, grouped))
    return grouped


_CHOSEN = "_podium_chosen_slots"


def _slots(source: ExportSource) -> dict[int | None, list[Slot]]:
    series = source.format is Format.SERIES
    groups: dict[int | None, list[TaskRecord]] = {}
    for record in source.plan():
        if record.spec.kind in SCREEN_KINDS:
            episode = number(record.spec.params.get("episode")) if series else None
            groups.setdefault(episode, []).append(record)
    grouped: dict[int | None, list[Slot]] = {}
    for episode in sorted(groups, key=lambda e: (e is None, e or 0)):
        chosen = [
            Slot(p.number, p.scene, p.artifact, source.status_label(p.artifact))
            for p in placed(source.view, groups[episode])
        ]
        if chosen:
            grouped[episode] = chosen
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
    """Who wrote this version: its author, or, for a character's dialogue pass or podium's
    assembly, the writers of what it was made from. A character agent voices a part; the
    credit goes to the writers, the character agent only when nobody else wrote the scene."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [artifact]
    while todo:
        current = todo.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        agent = source.view.agents.get(current.provenance.agent_id)
        if current.provenance.agent_id == PODIUM or (
            agent is not None and agent.spec.role is Role.CHARACTER
        ):
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
