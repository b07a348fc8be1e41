"""The crew: who the agents are and to whom they report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from podium.domain.base import Identifier, Model

DEFAULT_MODEL = "rehearsal/default"


class Role(StrEnum):
    PRODUCER = "producer"
    SHOWRUNNER = "showrunner"
    DIRECTOR = "director"
    WRITER = "writer"
    DIRECTOR_OF_PHOTOGRAPHY = "director_of_photography"
    EDITOR = "editor"
    COMPOSER = "composer"
    CHARACTER = "character"
    ILLUSTRATOR = "illustrator"
    CUSTOM = "custom"


# Where each role stands in the agentic hierarchy of the seed: lower is higher up.
ROLE_TIER: dict[Role, int] = {
    Role.PRODUCER: 0,
    Role.SHOWRUNNER: 0,
    Role.DIRECTOR: 1,
    Role.WRITER: 2,
    Role.DIRECTOR_OF_PHOTOGRAPHY: 2,
    Role.EDITOR: 2,
    Role.COMPOSER: 2,
    Role.ILLUSTRATOR: 2,
    Role.CUSTOM: 2,
    Role.CHARACTER: 3,
}

DEFAULT_DEPARTMENT: dict[Role, str] = {
    Role.PRODUCER: "production",
    Role.SHOWRUNNER: "production",
    Role.DIRECTOR: "direction",
    Role.WRITER: "writing",
    Role.DIRECTOR_OF_PHOTOGRAPHY: "camera",
    Role.EDITOR: "editorial",
    Role.COMPOSER: "music",
    Role.CHARACTER: "cast",
    Role.ILLUSTRATOR: "art",
    Role.CUSTOM: "crew",
}


class AgentSpec(Model):
    """One agent of the crew, as the production file declares it."""

    id: Identifier
    role: Role
    name: str = Field(default="", max_length=120, description="Display name; defaults to the id.")
    department: str = Field(default="", max_length=60)
    model: str = Field(default="", max_length=200, description="litellm model or rehearsal/…")
    brief: str = Field(default="", max_length=20_000)
    reports_to: Identifier | None = None
    character: str | None = Field(
        default=None, max_length=120, description="For character agents: the character voiced."
    )
    max_concurrency: int | None = Field(default=None, gt=0, le=1024)

    @model_validator(mode="after")
    def _defaults(self) -> AgentSpec:
        if not self.name:
            self.name = self.id
        if not self.department:
            self.department = DEFAULT_DEPARTMENT[self.role]
        if self.role is Role.CHARACTER and not self.character:
            raise ValueError("a character agent needs `character`, the name of who it voices")
        if self.reports_to == self.id:
            raise ValueError("an agent cannot report to itself")
        return self

    @property
    def tier(self) -> int:
        return ROLE_TIER[self.role]


def reports_to_cycle(crew: list[AgentSpec]) -> list[str] | None:
    """The first reports_to loop in the crew, as a list of ids, or None."""
    boss = {a.id: a.reports_to for a in crew}
    for start in boss:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in boss:
            if node in seen:
                return seen[seen.index(node) :] + [node]
            seen.append(node)
            node = boss[node]
    return None
