"""What agents deliver: content schemas per task kind, and artifacts with provenance."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from podium.domain.base import Frozen
from podium.domain.tasks import TaskKind


class Content(BaseModel):
    """Base of every content schema: tolerant of extra keys a model adds, strict on types."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    def plain_text(self) -> str:
        """The words of the content, for word counts and term checks."""
        return ""

    def speakers(self) -> set[str]:
        """Characters who speak or are named, for character-presence checks."""
        return set()

    def scene_count(self) -> int:
        return 0


class ElementType(StrEnum):
    ACTION = "action"
    CHARACTER = "character"
    PARENTHETICAL = "parenthetical"
    DIALOGUE = "dialogue"
    TRANSITION = "transition"
    SECTION = "section"
    SYNOPSIS = "synopsis"
    NOTE = "note"
    PAGE_BREAK = "page_break"


class ScreenElement(BaseModel):
    type: ElementType
    text: str = ""
    dual: bool = Field(default=False, description="Second speaker of dual dialogue.")


class Scene(BaseModel):
    heading: str = Field(min_length=1, description="INT./EXT. PLACE - TIME")
    elements: list[ScreenElement] = Field(default_factory=list)


class Screenplay(Content):
    title: str = ""
    scenes: list[Scene] = Field(min_length=1)

    def plain_text(self) -> str:
        lines: list[str] = []
        for scene in self.scenes:
            lines.append(scene.heading)
            lines.extend(e.text for e in scene.elements if e.text)
        return "\n".join(lines)

    def speakers(self) -> set[str]:
        return {
            _character_name(e.text)
            for s in self.scenes
            for e in s.elements
            if e.type is ElementType.CHARACTER
        }

    def scene_count(self) -> int:
        return len(self.scenes)


def _character_name(cue: str) -> str:
    """`MARA (V.O.)` → `MARA`."""
    return re.sub(r"\s*\(.*?\)\s*", "", cue).strip().upper()


character_name = _character_name
"""A cue's speaker: `MARA (V.O.)` → `MARA`."""


class Prose(Content):
    """Chapters, treatments, outlines, episode arcs, look books."""

    title: str = ""
    text: str = Field(min_length=1)
    beats: list[str] = Field(default_factory=list)

    def plain_text(self) -> str:
        return "\n\n".join(p for p in (self.title, self.text, *self.beats) if p)


class IllustrationBrief(Content):
    title: str = ""
    subject: str = Field(min_length=1)
    composition: str = ""
    palette: list[str] = Field(default_factory=list)
    lighting: str = ""
    mood: str = ""
    caption: str = ""
    image_path: str | None = None

    def plain_text(self) -> str:
        parts = [self.title, self.subject, self.composition, self.lighting, self.mood, self.caption]
        return "\n".join(p for p in parts if p)


class Shot(BaseModel):
    scene: int = Field(ge=1)
    shot: str = Field(min_length=1)
    size: str = ""
    angle: str = ""
    movement: str = ""
    lens: str = ""
    duration_s: float = Field(default=0, ge=0)
    description: str = ""


class ShotList(Content):
    shots: list[Shot] = Field(min_length=1)

    def plain_text(self) -> str:
        return "\n".join(f"{s.scene}{s.shot} {s.size} {s.description}" for s in self.shots)

    def scene_count(self) -> int:
        return len({s.scene for s in self.shots})


class Cue(BaseModel):
    cue_id: str = Field(min_length=1)
    title: str = ""
    scene: int | None = None
    start: str = ""
    duration_s: float = Field(default=0, ge=0)
    mood: str = ""
    instrumentation: str = ""
    usage: Literal["underscore", "source", "theme", "sting"] = "underscore"


class CueSheet(Content):
    cues: list[Cue] = Field(min_length=1)

    def plain_text(self) -> str:
        return "\n".join(f"{c.cue_id} {c.title} {c.mood} {c.instrumentation}" for c in self.cues)


class EditItem(BaseModel):
    scene: int = Field(ge=1)
    shot: str = ""
    duration_s: float = Field(default=0, ge=0)
    transition: str = "CUT"
    note: str = ""


class EditPlan(Content):
    """A rough cut as an edit decision list."""

    sequence: list[EditItem] = Field(min_length=1)
    notes: str = ""

    def plain_text(self) -> str:
        items = "\n".join(f"{i.scene}{i.shot} {i.transition} {i.note}" for i in self.sequence)
        return f"{items}\n{self.notes}".strip()

    def scene_count(self) -> int:
        return len({i.scene for i in self.sequence})


class Critique(Content):
    verdict: Literal["approve", "revise"]
    summary: str = ""
    issues: list[str] = Field(default_factory=list)

    def plain_text(self) -> str:
        return "\n".join([self.verdict, self.summary, *self.issues])


class Position(Content):
    """One turn of a debate."""

    stance: str = Field(min_length=1)
    reasoning: str = ""
    concedes: bool = False

    def plain_text(self) -> str:
        return f"{self.stance}\n{self.reasoning}"


class Ruling(Content):
    decided: bool = True
    winner: str = Field(default="", description="A participant id, or empty for a compromise.")
    decision: str = ""
    reasoning: str = ""

    def plain_text(self) -> str:
        return f"{self.decision}\n{self.reasoning}"


class StatusReport(Content):
    progress_pct: float = Field(default=0, ge=0, le=100)
    summary: str = ""
    blockers: list[str] = Field(default_factory=list)

    def plain_text(self) -> str:
        return "\n".join([self.summary, *self.blockers])


class Alternative(BaseModel):
    title: str = Field(min_length=1)
    summary: str = ""
    reasoning: str = ""


class Alternatives(Content):
    options: list[Alternative] = Field(min_length=1)

    def plain_text(self) -> str:
        return "\n".join(f"{o.title}: {o.summary}" for o in self.options)


CONTENT_TYPES: dict[str, type[Content]] = {
    cls.__name__: cls
    for cls in (
        Screenplay,
        Prose,
        IllustrationBrief,
        ShotList,
        CueSheet,
        EditPlan,
        Critique,
        Position,
        Ruling,
        StatusReport,
        Alternatives,
    )
}

# What a task of each kind delivers. The plan kind delivers a PlanDraft (see tasks.py).
KIND_CONTENT: dict[TaskKind, type[Content]] = {
    TaskKind.TREATMENT: Prose,
    TaskKind.OUTLINE: Prose,
    TaskKind.EPISODE_ARC: Prose,
    TaskKind.SCENE: Screenplay,
    TaskKind.SCRIPT: Screenplay,
    TaskKind.DIALOGUE: Screenplay,
    TaskKind.CHAPTER: Prose,
    TaskKind.ILLUSTRATION: IllustrationBrief,
    TaskKind.LOOK: Prose,
    TaskKind.SHOT_LIST: ShotList,
    TaskKind.MUSIC_CUES: CueSheet,
    TaskKind.EDIT: EditPlan,
    TaskKind.REVIEW: Critique,
    TaskKind.REPORT: StatusReport,
    TaskKind.FINAL: Prose,
}


def parse_content(content_type: str, data: dict[str, Any]) -> Content:
    return CONTENT_TYPES[content_type].model_validate(data)


class ArtifactStatus(StrEnum):
    DRAFT = "draft"  # failed validation or not yet reviewed
    PROVISIONAL = "provisional"  # collaborative: applied, overridable
    ACCEPTED = "accepted"  # autonomous: applied and logged
    APPROVED = "approved"  # the Orchestrator approved it
    OVERRIDDEN = "overridden"  # replaced by the Orchestrator's text or direction
    SUPERSEDED = "superseded"  # a later attempt replaced it
    # Made beside the current version, never current until the Orchestrator picks it: an agent's
    # change to the Orchestrator's text, or a requested alternative.
    PROPOSED = "proposed"


ORCHESTRATOR = "orchestrator"
"""The author (`Provenance.agent_id`) of a version the Orchestrator wrote (replaced, edited)."""
PODIUM = "podium"
"""The author of a version podium assembled itself from its inputs' current versions."""


class Provenance(Frozen):
    """Where an artifact came from: who made it, from what, and who said yes.

    Its lineage: `version` (its number among its task's versions; 0 in a log written before
    podium recorded it, then its place in the task's list), `made_from` (each input task's
    version it was made from) and the vision version and sections it used.
    """

    agent_id: str
    model: str
    prompt_hash: str
    attempt: int = Field(ge=1)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    vision_version: int = 1
    parents: tuple[str, ...] = ()
    debate_id: str | None = None
    debate_round: int | None = None
    decision_id: str | None = None
    direction: str | None = None
    version: int = Field(default=0, ge=0)
    made_from: dict[str, int] = Field(default_factory=dict)
    vision_sections: tuple[str, ...] | None = None  # None: before podium recorded it

    @property
    def by_orchestrator(self) -> bool:
        return self.agent_id == ORCHESTRATOR


class Artifact(Frozen):
    id: str
    task_id: str
    kind: TaskKind
    content_type: str
    content: dict[str, Any]
    provenance: Provenance
    status: ArtifactStatus = ArtifactStatus.DRAFT
    created_at: float = 0.0
    # Where `content` is read from when the artifact does not hold it (`held_elsewhere`).
    _content_source: Callable[[], dict[str, Any]] | None = PrivateAttr(default=None)

    def parsed(self) -> Content:
        return parse_content(self.content_type, self.content)

    def with_status(self, status: ArtifactStatus) -> Artifact:
        """This artifact in another status: what `model_copy(update={"status": status})` gives
        (a new object; this one is unchanged, its content held the same way), at a quarter of
        its cost: the fold makes one for every status change (0.8 µs here against 3 µs)."""
        copy = object.__new__(type(self))  # what `cls.__new__` finds, without the look-up
        fields = self.__dict__.copy()
        fields["status"] = status
        _set = object.__setattr__
        _set(copy, "__dict__", fields)
        _set(copy, "__pydantic_extra__", None)  # extra="forbid": never any
        # Shared when it names `status` already: a frozen model's set is never changed in place
        # (`model_copy` copies it before an update).
        named = self.__pydantic_fields_set__
        _set(copy, "__pydantic_fields_set__", named if "status" in named else named | {"status"})
        private = self.__pydantic_private__
        _set(copy, "__pydantic_private__", None if private is None else private.copy())
        return copy

    # -- content kept out of memory (a big production's view, issue 20) ----------------------

    def held_elsewhere(self, source: Callable[[], dict[str, Any]]) -> Artifact:
        """This artifact without its content in memory: `content` asks `source` each time (the
        store keeps it, `podium.domain.records.ContentShelf`). Equal to this one, and dumped the
        same (a version's text is never lost by being held elsewhere)."""
        copy = self.model_copy()
        copy.__dict__.pop("content", None)
        private = copy.__pydantic_private__
        assert private is not None
        private["_content_source"] = source
        return copy

    @property
    def content_held(self) -> bool:
        """Whether `content` is in memory (False: read from where it is kept when asked)."""
        return "content" in self.__dict__

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if name == "content":
                private = self.__pydantic_private__
                source = private.get("_content_source") if private else None
                if source is not None:
                    return source()
            return super().__getattr__(name)

    @model_serializer(mode="wrap")
    def _with_content(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if "content" in self.__dict__ or (info.context or {}).get("content") == "refer":
            return dumped
        if info.exclude and "content" in info.exclude:
            return dumped
        ordered: dict[str, Any] = {}
        for key, value in dumped.items():
            ordered[key] = value
            if key == "content_type":
                ordered["content"] = self.content
        return ordered

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Artifact):
            return NotImplemented
        if type(self) is not type(other):
            return False
        if "content" in self.__dict__ and "content" in other.__dict__:
            return self.__dict__ == other.__dict__
        return all(getattr(self, name) == getattr(other, name) for name in type(self).model_fields)

    __hash__ = None  # type: ignore[assignment]  # holds a dict: never hashable
