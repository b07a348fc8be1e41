"""The production file's model: brief, vision, style, constraints, crew, policy, gates, plan."""

from __future__ import annotations

import re
from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from podium.domain.agents import AgentSpec, Role, reports_to_cycle
from podium.domain.base import Identifier, Model, Seconds
from podium.domain.policy import AuthorityPolicy, Territory
from podium.domain.tasks import TaskKind, TaskSpec, dependency_cycle
from podium.domain.validators import CharacterPresence, ValidatorSpec

Loc = tuple[str | int, ...]
TokenLimit = Annotated[int, Field(ge=1, le=1_000_000)]

FINITE = ConfigDict(allow_inf_nan=False)
"""For limits and settings: `inf` or `nan` in a file is a mistake, never "no limit"."""


class Format(StrEnum):
    SHORT_FILM = "short_film"
    FEATURE = "feature"
    SERIES = "series"
    ILLUSTRATED_STORY = "illustrated_story"

    @property
    def screenplay(self) -> bool:
        return self is not Format.ILLUSTRATED_STORY


class ProductionInfo(Model):
    title: str = Field(min_length=1, max_length=200)
    format: Format
    logline: str = Field(default="", max_length=1000)
    brief: str = Field(min_length=1, max_length=50_000)
    episodes: int | None = Field(default=None, ge=1, le=200, description="Series only.")
    chapters: int | None = Field(default=None, ge=1, le=200, description="Illustrated stories.")
    scenes: int | None = Field(default=None, ge=1, le=500, description="Films: scenes to write.")


class Character(Model):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=4000)
    arc: str = Field(default="", max_length=4000)
    voice: str = Field(default="", max_length=2000)


MAX_DIRECTION = 20_000
"""The most text one human direction carries: a vision's premise, feedback, an override's
direction. Twenty thousand characters is pages of notes; more only floods every prompt."""


class Vision(Model):
    """The Orchestrator's vision. Versioned: clarifying it makes a new version, never an edit."""

    version: int = Field(default=1, ge=1)
    premise: str = Field(min_length=1, max_length=MAX_DIRECTION)
    themes: list[str] = Field(default_factory=list)
    tone: str = Field(default="", max_length=4000)
    audience: str = Field(default="", max_length=2000)
    distribution: str = Field(default="", max_length=2000)
    characters: list[Character] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)


VISION_SECTIONS = (
    "premise",
    "themes",
    "tone",
    "audience",
    "distribution",
    "characters",
    "locations",
)


class StyleGuide(Model):
    visual_references: list[str] = Field(default_factory=list)
    palette: list[str] = Field(default_factory=list)
    lighting: str = ""
    camera: str = ""
    sound: str = ""
    music: str = ""
    notes: str = ""


class Constraints(Model):
    """Limits the scheduler and ledger enforce; every one can be adjusted live."""

    model_config = FINITE

    budget_usd: float | None = Field(default=None, gt=0)
    budget_tokens: int | None = Field(default=None, gt=0)
    deadline: Seconds | None = Field(default=None, description="Wall time from the first start.")
    max_concurrency: int = Field(default=8, gt=0, le=1024)
    max_per_agent: int = Field(default=2, gt=0, le=1024)
    max_per_model: dict[str, int] = Field(default_factory=dict)
    debate_rounds: int = Field(default=3, gt=0, le=20)
    debate_time_limit: Seconds = Field(default=120.0)
    review_rounds: int = Field(default=2, gt=0, le=10)
    self_correction_attempts: int = Field(default=2, ge=0, le=10)
    retries: int = Field(default=3, ge=0, le=20)
    retry_backoff: Seconds = Field(default=0.5, description="First retry pause; doubles each time.")
    max_whole_inputs: int = Field(
        default=16,
        gt=0,
        le=1024,
        description="A task with more inputs gets this many whole, the rest as summaries.",
    )

    @model_validator(mode="after")
    def _positive_model_limits(self) -> Constraints:
        for model, limit in self.max_per_model.items():
            if limit <= 0:
                raise ValueError(f"max_per_model[{model!r}] must be at least 1, not {limit}")
        return self


class Gate(Model):
    """A milestone the Orchestrator reviews before the production moves on."""

    id: Identifier
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=4000)
    territory: Territory = Territory.APPROVAL_REQUIRED


DEFAULT_GATES = ("treatment", "script", "shot_list", "rough_cut", "final")


class RehearsalSettings(Model):
    """The offline model: deterministic from the seed, with realistic timing and failures."""

    model_config = FINITE

    seed: int = 0
    latency_ms: float = Field(default=40.0, ge=0, le=600_000)
    jitter_ms: float = Field(default=20.0, ge=0, le=600_000)
    tokens_per_s: float = Field(default=400.0, gt=0)
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    latency_by_kind: dict[TaskKind, float] = Field(
        default_factory=dict, description="Extra latency (ms) per task kind."
    )
    context_tokens: int = Field(
        default=32768, ge=1024, le=10_000_000, description="The rehearsal model's context window."
    )


MAX_REPLY_BYTES = 256 * 1024
"""The longest model reply taken, in UTF-8 bytes, unless `max_reply_bytes` says otherwise: a
scene is a few KB, and a runaway reply would flood every prompt that reads it."""


class StreamWorker(StrEnum):
    """Where a real model's streams are parsed (litellm costs ~0.4 ms of CPU a chunk)."""

    PROCESS = "process"  # in the provider worker process, off the screen's loop
    INLINE = "inline"  # in podium's own process


class ModelSettings(Model):
    """Per-model settings for real providers. The key itself never appears here."""

    model_config = FINITE

    api_base: str | None = Field(default=None, max_length=500)
    api_key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the key.",
    )
    timeout_s: float = Field(
        default=120.0, gt=0, description="Bounds a whole provider call, first byte to last."
    )
    stall_timeout_s: float | None = Field(
        default=None, gt=0, description="Bounds silence between streamed chunks (timeout_s)."
    )
    max_concurrency: int | None = Field(default=None, gt=0)
    context_tokens: int | None = Field(
        default=None,
        ge=1024,
        le=10_000_000,
        description="The model's context window in tokens (litellm's model info if unset).",
    )
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)
    cached_input_cost_per_token: float | None = Field(
        default=None, ge=0, description="Input read from the prompt cache (input price if unset)."
    )
    max_tokens: dict[str, TokenLimit] = Field(
        default_factory=dict,
        description="Reply token limit by task kind or purpose, or 'default' "
        "(podium's defaults: 4096, script and plan 16384; capped at the model's own).",
    )
    continuations: int = Field(
        default=2, ge=0, le=8, description="Times a reply cut off at max_tokens is continued."
    )
    down_after: int = Field(
        default=5, ge=1, le=1000, description="Consecutive failed calls that stop the run."
    )
    max_reply_bytes: int = Field(
        default=MAX_REPLY_BYTES,
        ge=1024,
        le=64 * 1024 * 1024,
        description="A longer reply is malformed output (its cost is still booked).",
    )
    stream_worker: StreamWorker | None = Field(
        default=None,
        description="Where the model's streams are parsed: 'process' (a worker process) or "
        "'inline' (podium's own); unset: PODIUM_STREAM_WORKER, else 'process'.",
    )


class Models(Model):
    default: str = Field(default="rehearsal/default", min_length=1, max_length=200)
    image: str | None = Field(default=None, max_length=200, description="Image model, if any.")
    speech: str | None = Field(
        default=None,
        max_length=200,
        description="Speech (text-to-speech) model for the animatic's table read, if any.",
    )
    rehearsal: RehearsalSettings = Field(default_factory=RehearsalSettings)
    settings: dict[str, ModelSettings] = Field(default_factory=dict)


class PlannerMode(StrEnum):
    EXPLICIT = "explicit"  # the [[tasks]] are the whole plan; no planning call
    EXTEND = "extend"  # the planner adds what the [[tasks]] leave out


class Planner(Model):
    mode: PlannerMode = PlannerMode.EXTEND
    agent: Identifier | None = Field(
        default=None, description="Who plans; default the producer (showrunner for a series)."
    )


MAX_TASKS = 5_000
"""Tasks a file may spell out: room for the benches' 2,000-task plans (and for 20 values a
task within the loader's 100,000), and a bound on what a typo (or a fuzzer) can make podium
schedule."""


class ProductionSpec(Model):
    """A whole production file."""

    production: ProductionInfo
    vision: Vision
    style: StyleGuide = Field(default_factory=StyleGuide)
    constraints: Constraints = Field(default_factory=Constraints)
    crew: list[AgentSpec] = Field(min_length=1)
    authority: AuthorityPolicy = Field(default_factory=AuthorityPolicy)
    gates: list[Gate] = Field(default_factory=list)
    validators: list[ValidatorSpec] = Field(default_factory=list)
    planner: Planner = Field(default_factory=Planner)
    tasks: list[TaskSpec] = Field(default_factory=list, max_length=MAX_TASKS)
    models: Models = Field(default_factory=Models)

    def agent(self, agent_id: str) -> AgentSpec:
        for a in self.crew:
            if a.id == agent_id:
                return a
        raise KeyError(agent_id)

    def model_for(self, agent: AgentSpec) -> str:
        return agent.model or self.models.default

    def reply_limit(self, model: str) -> int:
        """The longest reply taken from `model`, in UTF-8 bytes (`max_reply_bytes`)."""
        settings = self.models.settings.get(model)
        return settings.max_reply_bytes if settings is not None else MAX_REPLY_BYTES

    def models_in_use(self) -> list[tuple[Loc, str]]:
        """Each model the crew calls, with where the file names it (for errors that point there)."""
        places: list[tuple[Loc, str]] = [
            (("crew", i, "model"), a.model) for i, a in enumerate(self.crew) if a.model
        ]
        if any(not a.model for a in self.crew):
            places.insert(0, (("models", "default"), self.models.default))
        return places

    def planner_agent(self) -> AgentSpec:
        if self.planner.agent:
            return self.agent(self.planner.agent)
        order = (
            (Role.SHOWRUNNER, Role.PRODUCER)
            if self.production.format is Format.SERIES
            else (Role.PRODUCER, Role.SHOWRUNNER)
        )
        for role in order:
            for a in self.crew:
                if a.role is role:
                    return a
        return self.crew[0]

    def gate_territory(self, gate_id: str | None) -> Territory | None:
        """The territory a gated task is raised to; the default milestones need approval."""
        if gate_id is None:
            return None
        for gate in self.gates:
            if gate.id == gate_id:
                return gate.territory
        return Territory.APPROVAL_REQUIRED

    def gate_ids(self) -> set[str]:
        return {g.id for g in self.gates} | set(DEFAULT_GATES)


class CrossCheckError(ValueError):
    """A problem between sections, found after the fields validate; `loc` points into the file."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def cross_check(spec: ProductionSpec) -> list[CrossCheckError]:
    problems: list[CrossCheckError] = []
    crew_ids = [a.id for a in spec.crew]
    known_agents = set(crew_ids)
    for i, agent_id in enumerate(crew_ids):
        if agent_id in crew_ids[:i]:
            problems.append(CrossCheckError(("crew", i, "id"), f"duplicate agent id {agent_id!r}"))
    for i, agent in enumerate(spec.crew):
        if agent.reports_to is not None and agent.reports_to not in known_agents:
            problems.append(
                CrossCheckError(
                    ("crew", i, "reports_to"),
                    f"unknown agent {agent.reports_to!r}{_suggest(agent.reports_to, known_agents)}",
                )
            )
    if loop := reports_to_cycle(spec.crew):
        at = crew_ids.index(loop[0])
        problems.append(
            CrossCheckError(("crew", at, "reports_to"), f"reports_to loop: {' → '.join(loop)}")
        )
    if spec.planner.agent is not None and spec.planner.agent not in known_agents:
        problems.append(
            CrossCheckError(
                ("planner", "agent"),
                f"unknown agent {spec.planner.agent!r}{_suggest(spec.planner.agent, known_agents)}",
            )
        )
    gate_ids = [g.id for g in spec.gates]
    for i, gid in enumerate(gate_ids):
        if gid in gate_ids[:i]:
            problems.append(CrossCheckError(("gates", i, "id"), f"duplicate gate id {gid!r}"))
    known_gates = spec.gate_ids()
    task_ids = [t.id for t in spec.tasks]
    known_tasks = set(task_ids)
    for i, task in enumerate(spec.tasks):
        if task.id in task_ids[:i]:
            problems.append(CrossCheckError(("tasks", i, "id"), f"duplicate task id {task.id!r}"))
        if task.assignee not in known_agents:
            problems.append(
                CrossCheckError(
                    ("tasks", i, "assignee"),
                    f"unknown agent {task.assignee!r}{_suggest(task.assignee, known_agents)}",
                )
            )
        for j, reviewer in enumerate(task.reviewers):
            if reviewer not in known_agents:
                problems.append(
                    CrossCheckError(
                        ("tasks", i, "reviewers", j),
                        f"unknown agent {reviewer!r}{_suggest(reviewer, known_agents)}",
                    )
                )
            elif reviewer == task.assignee:
                problems.append(
                    CrossCheckError(
                        ("tasks", i, "reviewers", j), "an agent cannot review its own task"
                    )
                )
        for j, dep in enumerate(task.depends_on):
            if dep == task.id:
                problems.append(
                    CrossCheckError(("tasks", i, "depends_on", j), "a task cannot depend on itself")
                )
            elif dep not in known_tasks:
                problems.append(
                    CrossCheckError(
                        ("tasks", i, "depends_on", j),
                        f"unknown task {dep!r}{_suggest(dep, known_tasks)}",
                    )
                )
        if task.gate is not None and task.gate not in known_gates:
            problems.append(
                CrossCheckError(
                    ("tasks", i, "gate"),
                    f"unknown milestone {task.gate!r}{_suggest(task.gate, known_gates)}; "
                    "declare it in [[gates]]",
                )
            )
    # A self-dependency is reported above; look for longer cycles without it.
    without_self = [
        t.model_copy(update={"depends_on": [d for d in t.depends_on if d != t.id]})
        for t in spec.tasks
    ]
    if cycle := dependency_cycle(without_self):
        at = task_ids.index(cycle[0])
        problems.append(
            CrossCheckError(("tasks", at, "depends_on"), f"dependency cycle: {' → '.join(cycle)}")
        )
    for i, rule in enumerate(spec.validators):
        for j, tid in enumerate(rule.tasks):
            if tid not in known_tasks:
                problems.append(
                    CrossCheckError(
                        ("validators", i, "tasks", j),
                        f"unknown task {tid!r}{_suggest(tid, known_tasks)}",
                    )
                )
    problems += _model_names(spec)
    problems += _characters(spec)
    problems += _blank_text(spec)
    return problems


REHEARSAL_PREFIX = "rehearsal/"
_PROVIDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# Bare names litellm would guess a provider for; the file says the provider outright.
_FAMILIES = (
    (("gpt-", "gpt4", "gpt3", "o1", "o3", "o4", "chatgpt"), "OpenAI", "openai"),
    (("claude",), "Anthropic", "anthropic"),
    (("gemini",), "Google", "gemini"),
)
MODEL_EXAMPLES = (
    '"openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "ollama/llama3.1", '
    'or "rehearsal/default" for the offline model'
)


def model_name_problem(model: str) -> str | None:
    """Why a string cannot be a model name, judged by its shape alone (litellm is not asked).

    `rehearsal/<anything>` is the rehearsal model; every other model is `provider/model`, as
    litellm routes it. Whether litellm knows the provider is checked by `podium run`.
    """
    if model.startswith(REHEARSAL_PREFIX):
        return None
    if not model.strip():
        return "empty model name; write " + MODEL_EXAMPLES
    if any(c.isspace() for c in model):
        return f"{model!r}: a model name has no spaces; write " + MODEL_EXAMPLES
    provider, slash, name = model.partition("/")
    if not slash:
        lowered = model.lower()
        for prefixes, vendor, provider in _FAMILIES:
            if lowered.startswith(prefixes):
                return (
                    f"{model!r} names no provider; write provider/model "
                    f"(for {vendor}: '{provider}/{model}')"
                )
        return f"{model!r} names no provider; write provider/model, e.g. " + MODEL_EXAMPLES
    if not _PROVIDER.match(provider):
        return f"{model!r}: {provider!r} is not a provider name; write " + MODEL_EXAMPLES
    if not name:
        return f"{model!r} names no model after {provider + '/'!r}; write " + MODEL_EXAMPLES
    return None


def _model_names(spec: ProductionSpec) -> list[CrossCheckError]:
    places: list[tuple[Loc, str]] = [(("models", "default"), spec.models.default)]
    if spec.models.image is not None:
        places.append((("models", "image"), spec.models.image))
    if spec.models.speech is not None:
        places.append((("models", "speech"), spec.models.speech))
    places += [(("crew", i, "model"), a.model) for i, a in enumerate(spec.crew) if a.model]
    places += [(("models", "settings", m), m) for m in spec.models.settings]
    problems = [
        CrossCheckError(loc, problem)
        for loc, model in places
        if (problem := model_name_problem(model)) is not None
    ]
    return problems + [
        CrossCheckError(("constraints", *e.loc), e.message)
        for e in constraint_problems(spec.constraints)
    ]


def constraint_problems(constraints: Constraints) -> list[CrossCheckError]:
    """What the constraints' fields cannot check alone: a file and `podium constraints` both
    ask this, so a value refused in one is refused in the other."""
    return [
        CrossCheckError(("max_per_model", model), problem)
        for model in constraints.max_per_model
        if (problem := model_name_problem(model)) is not None
    ]


def _blank_text(spec: ProductionSpec) -> list[CrossCheckError]:
    """Required text of whitespace alone, as good as missing. Checked at the door (here and
    by `podium vision`), not by the models, so a database an older podium wrote still loads."""
    places: list[tuple[Loc, str]] = [
        (("production", "title"), spec.production.title),
        (("production", "brief"), spec.production.brief),
        (("vision", "premise"), spec.vision.premise),
    ]
    places += [
        (("vision", "characters", i, "name"), c.name) for i, c in enumerate(spec.vision.characters)
    ]
    places += [(("tasks", i, "title"), t.title) for i, t in enumerate(spec.tasks)]
    for i, rule in enumerate(spec.validators):
        for field in ("terms", "characters"):
            values = getattr(rule, field, None)
            if isinstance(values, list):
                places += [(("validators", i, field, j), v) for j, v in enumerate(values)]
    return [
        CrossCheckError(loc, "only whitespace; write the text")
        for loc, text in places
        if isinstance(text, str) and not text.strip()
    ]


def _characters(spec: ProductionSpec) -> list[CrossCheckError]:
    """Character agents and character_presence rules name someone in the vision."""
    names = [c.name for c in spec.vision.characters]
    known = {n.strip().casefold() for n in names}

    def unknown(name: str) -> str | None:
        if name.strip().casefold() in known:
            return None
        if not names:
            return f"no character {name!r} in the vision; declare it in [[vision.characters]]"
        return (
            f"no character {name!r} in the vision{_suggest(name, names)}; "
            f"the vision has {', '.join(names)}"
        )

    problems: list[CrossCheckError] = []
    for i, agent in enumerate(spec.crew):
        if agent.character is not None and (why := unknown(agent.character)):
            problems.append(CrossCheckError(("crew", i, "character"), why))
    for i, rule in enumerate(spec.validators):
        if isinstance(rule, CharacterPresence):
            for j, name in enumerate(rule.characters):
                if why := unknown(name):
                    problems.append(CrossCheckError(("validators", i, "characters", j), why))
    return problems


def _suggest(word: str, choices: set[str] | list[str]) -> str:
    close = get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
