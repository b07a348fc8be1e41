"""The escalation inbox and the Orchestrator's decisions."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from functools import cache
from typing import Annotated, Any, Literal, Self, cast, get_args

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from podium.domain.base import Frozen, Model, Seconds
from podium.domain.loading import control_problems, validate_strictly
from podium.domain.policy import Territory
from podium.domain.production import (
    MAX_TASKS,
    Character,
    Constraints,
    constraint_problems,
)
from podium.domain.tasks import TaskSpec
from podium.domain.text import sanitize
from podium.domain.vision_uses import LIVE_SECTIONS


class EscalationKind(StrEnum):
    APPROVAL_GATE = "approval_gate"
    MILESTONE = "milestone"
    PLAN = "plan"
    CONFLICT = "conflict"
    DEVIATION = "deviation"
    FAILURE = "failure"
    QUALITY = "quality"
    BUDGET = "budget"
    SCOPE_CHANGE = "scope_change"
    COLLABORATIVE = "collaborative"
    VISION_STALE = "vision_stale"  # work made stale by a vision change: re-run or keep
    QUESTION = "question"  # an agent asks before going on: answer with an option or in words


class Priority(IntEnum):
    """Lower sorts first."""

    CRITICAL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


DEFAULT_PRIORITY: dict[EscalationKind, Priority] = {
    EscalationKind.BUDGET: Priority.CRITICAL,
    EscalationKind.FAILURE: Priority.HIGH,
    EscalationKind.CONFLICT: Priority.HIGH,
    EscalationKind.DEVIATION: Priority.HIGH,
    EscalationKind.QUALITY: Priority.HIGH,
    EscalationKind.PLAN: Priority.HIGH,
    EscalationKind.SCOPE_CHANGE: Priority.HIGH,
    EscalationKind.MILESTONE: Priority.NORMAL,
    EscalationKind.APPROVAL_GATE: Priority.NORMAL,
    EscalationKind.COLLABORATIVE: Priority.LOW,
    EscalationKind.VISION_STALE: Priority.HIGH,
    EscalationKind.QUESTION: Priority.HIGH,
}


class Action(StrEnum):
    """What the Orchestrator can do. Only a human command creates one of these."""

    APPROVE = "approve"
    OVERRIDE = "override"
    RETRY = "retry"
    SKIP = "skip"
    REASSIGN = "reassign"
    REQUEST_ALTERNATIVES = "request_alternatives"
    FEEDBACK = "feedback"
    CLARIFY_VISION = "clarify_vision"
    ADJUST_CONSTRAINTS = "adjust_constraints"
    RERUN_STALE = "rerun_stale"
    EDIT = "edit"
    EDIT_PLAN = "edit_plan"  # the plan escalation's edit: the Orchestrator's plan is approved
    RESTORE = "restore"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


# The actions each kind of escalation offers, first the one a user most often wants.
KIND_ACTIONS: dict[EscalationKind, tuple[Action, ...]] = {
    EscalationKind.APPROVAL_GATE: (Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES),
    EscalationKind.MILESTONE: (Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES),
    EscalationKind.PLAN: (Action.APPROVE, Action.EDIT_PLAN, Action.OVERRIDE),
    EscalationKind.CONFLICT: (Action.APPROVE, Action.OVERRIDE, Action.REQUEST_ALTERNATIVES),
    EscalationKind.DEVIATION: (Action.APPROVE, Action.OVERRIDE, Action.RETRY),
    EscalationKind.FAILURE: (Action.RETRY, Action.SKIP, Action.REASSIGN, Action.OVERRIDE),
    EscalationKind.QUALITY: (Action.APPROVE, Action.OVERRIDE, Action.RETRY, Action.SKIP),
    EscalationKind.BUDGET: (Action.APPROVE, Action.ADJUST_CONSTRAINTS, Action.SKIP),
    EscalationKind.SCOPE_CHANGE: (Action.APPROVE, Action.SKIP, Action.OVERRIDE),
    EscalationKind.COLLABORATIVE: (Action.APPROVE, Action.OVERRIDE),
    EscalationKind.VISION_STALE: (Action.APPROVE, Action.SKIP),
    EscalationKind.QUESTION: (Action.APPROVE, Action.OVERRIDE, Action.SKIP),
}


class Option(Frozen):
    """One way forward, proposed by an agent (or by the engine) with its reasoning."""

    id: str
    label: str
    proposer: str = ""
    summary: str = ""
    reasoning: str = ""


class Escalation(Model):
    id: str
    kind: EscalationKind
    priority: Priority
    title: str
    territory: Territory = Territory.APPROVAL_REQUIRED
    task_id: str | None = None
    artifact_ids: list[str] = Field(default_factory=list)
    debate_id: str | None = None
    detail: str = ""
    evidence: list[str] = Field(default_factory=list)
    task_ids: list[str] | None = Field(
        default=None,
        description="The tasks the escalation is about, `task_id` first (a vision change's "
        "stale tasks, a scope change's proposed ones): what a decision acts on, never read "
        "from `evidence`, which is text for a reader. None: written by a podium that did not "
        "record them (the fold derives them, `podium.domain.state.upcast_untyped_facts`).",
    )
    options: list[Option] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    opened_at: float = 0.0
    timeout_s: float | None = Field(
        default=None, description="Collaborative items only: default action after this long."
    )
    default_action: Action | None = None
    transient: bool | None = Field(
        default=None,
        description="Failures only: whether the cause may pass (a timeout), so a plain retry "
        "may succeed; False for causes a retry repeats (a bad key, a bad request).",
    )
    resolved_at: float | None = None
    resolution: str | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


class BaseCommand(Frozen):
    """What every command carries: which, about what, when and from where.

    Recorded durably before it takes effect, idempotent by id. A podium before 0.x stored one
    model for every action, its particulars in `text`, `option_id` and an `args` dict; such a
    record is lifted into the action's own fields when it is read (see `_older_shape`).
    """

    id: str
    action: Action  # each action's model narrows it to its own, the union's discriminator
    escalation_id: str | None = None
    task_id: str | None = None
    issued_at: float = 0.0
    origin: str = Field(default="tui", description="tui, cli, headless auto-approve, …")

    @property
    def automatic(self) -> bool:
        """Issued by a standing rule (--auto-approve, a timeout), not by a key press."""
        return self.origin.startswith(AUTO_ORIGIN) or self.origin == TIMEOUT_ORIGIN

    @property
    def by(self) -> str:
        """Who decided, for a reason a reader sees: never the Orchestrator for a rule's act."""
        if self.origin.startswith(AUTO_ORIGIN):
            return f"automatically ({self.origin})"
        if self.origin == TIMEOUT_ORIGIN:
            return "by default, after its timeout"
        return "by the Orchestrator"

    def words(self) -> str:
        """The text the Orchestrator gave with it (a direction, feedback, a new wording), if any."""
        return ""

    def particulars(self) -> dict[str, Any]:
        """The action's own fields but its words and option (`words()`, `option_id`), as JSON,
        as an export shows them (where an older podium showed its `args`)."""
        shown = set(_COMMON_FIELDS) | {"text", "option_id"}
        return self.model_dump(mode="json", exclude=shown, exclude_none=True)

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        """This action's fields from an older record's `text`, `option_id` and `args`."""
        return {}

    @model_validator(mode="wrap")
    @classmethod
    def _older_shape(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if not (isinstance(data, dict) and "args" in data):
            return handler(data)
        args = data.get("args")
        text = data.get("text")
        option_id = data.get("option_id")
        common = {k: v for k, v in data.items() if k in _COMMON_FIELDS}
        lifted = common | cls._lift(
            text if isinstance(text, str) else "",
            option_id if isinstance(option_id, str) else None,
            args if isinstance(args, dict) else {},
        )
        try:
            return handler(lifted)
        except ValidationError:
            # Recorded by an older podium that checked only when applying (a count of 9, an
            # unknown constraint): kept as it was recorded, so the log still loads; the
            # command handler checks it again and refuses it as it did then.
            lifted["action"] = cls.model_fields["action"].default
            if "changes" in lifted:
                lifted["changes"] = ConstraintChanges.model_construct(**lifted["changes"])
            return cast("Self", cls.model_construct(**lifted))


class ApproveCommand(BaseCommand):
    action: Literal[Action.APPROVE] = Action.APPROVE
    option_id: str | None = Field(default=None, description="The option chosen, if any.")

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {"option_id": option_id}


class OverrideCommand(BaseCommand):
    action: Literal[Action.OVERRIDE] = Action.OVERRIDE
    text: str = Field(description="The direction the task re-runs under, or its replacement.")
    replace: bool = Field(default=False, description="`text` replaces the task's output.")

    def words(self) -> str:
        return self.text

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {"text": text, "replace": bool(args.get("replace"))}


class RetryCommand(BaseCommand):
    action: Literal[Action.RETRY] = Action.RETRY


class SkipCommand(BaseCommand):
    action: Literal[Action.SKIP] = Action.SKIP


class ReassignCommand(BaseCommand):
    action: Literal[Action.REASSIGN] = Action.REASSIGN
    agent: str = Field(description="The agent the task goes to.")

    def words(self) -> str:
        return self.agent

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {"agent": str(args.get("agent") or text).strip()}


MIN_ALTERNATIVES, MAX_ALTERNATIVES = 2, 6


class RequestAlternativesCommand(BaseCommand):
    action: Literal[Action.REQUEST_ALTERNATIVES] = Action.REQUEST_ALTERNATIVES
    count: int = Field(default=3, ge=MIN_ALTERNATIVES, le=MAX_ALTERNATIVES, strict=True)

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {"count": args["count"]} if "count" in args else {}


class FeedbackCommand(BaseCommand):
    action: Literal[Action.FEEDBACK] = Action.FEEDBACK
    text: str
    agent: str | None = Field(
        default=None, description="Whose context keeps it; None: the task's assignee."
    )

    def words(self) -> str:
        return self.text

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {"text": text, "agent": str(args.get("agent") or "") or None}


VisionSection = Literal[
    "premise", "themes", "tone", "audience", "distribution", "characters", "locations", "style"
]
"""The sections of a vision (`podium.domain.production.VISION_SECTIONS`, in its order), and the
style guide, amended live like them (`podium.domain.vision_uses.LIVE_SECTIONS`)."""

VisionValue = str | list[str] | list[Character]
"""A vision section's value: text, a list of texts (themes, locations; a `;`-separated text is
taken too) or characters."""


def plain_vision_value(value: VisionValue) -> str | list[Any]:
    """A section's value as JSON (characters as tables), for code that walks plain data."""
    if isinstance(value, str):
        return value
    return [v.model_dump(mode="json") if isinstance(v, Character) else v for v in value]


class ClarifyVisionCommand(BaseCommand):
    action: Literal[Action.CLARIFY_VISION] = Action.CLARIFY_VISION
    section: VisionSection
    value: VisionValue
    reason: str = ""
    rerun: bool = Field(default=False, description="Re-run the stale tasks without asking.")

    def words(self) -> str:
        return self.value if isinstance(self.value, str) else ""

    def plain_value(self) -> str | list[Any]:
        """The value as JSON (characters as tables), for checks that walk plain data."""
        return plain_vision_value(self.value)

    @field_validator("section", mode="before")
    @classmethod
    def _known_section(cls, section: Any) -> Any:
        if section not in LIVE_SECTIONS:
            shown = sanitize(str(section))[:64]
            raise ValueError(f"unknown vision section {shown!r}; one of {', '.join(LIVE_SECTIONS)}")
        return section

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "section": args.get("section", ""),
            "value": args.get("value", text),
            "reason": str(args.get("reason") or ""),
            "rerun": bool(args.get("rerun", False)),
        }


class ConstraintChanges(Frozen):
    """Some of a production's constraints, checked as the production file checks them (as
    strictly, against the defaults: the fields are independent). Only the fields given are
    changes; `budget_usd=None` given is one (no dollar budget)."""

    budget_usd: float | None = None
    budget_tokens: int | None = None
    deadline: Seconds | None = None
    max_concurrency: int | None = None
    max_per_agent: int | None = None
    max_per_model: dict[str, int] | None = None
    debate_rounds: int | None = None
    debate_time_limit: Seconds | None = None
    review_rounds: int | None = None
    self_correction_attempts: int | None = None
    retries: int | None = None
    retry_backoff: Seconds | None = None
    max_whole_inputs: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _as_in_a_file(cls, data: Any) -> Any:
        if isinstance(data, dict):
            checked_changes(Constraints(), data)
        return data

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {k: v for k, v in dumped.items() if k in self.model_fields_set}

    def as_changes(self) -> dict[str, Any]:
        """The fields given, as JSON values, by name."""
        return self.model_dump(mode="json")


class ConstraintProblem(ValueError):
    """A change the constraints do not take; the message names the field and why."""


def checked_changes(current: Constraints, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` checked against `current` as a production file's constraints are checked;
    returns them normalized (durations in seconds). ConstraintProblem says what is wrong."""
    unknown = sorted(set(changes) - set(Constraints.model_fields))
    if unknown:
        raise ConstraintProblem(
            f"unknown constraint {sanitize(str(unknown[0]))[:64]!r}; "
            f"one of {', '.join(Constraints.model_fields)}"
        )
    for loc, problem in control_problems(changes):
        raise ConstraintProblem(f"{_dotted(loc)}: {problem}")
    try:
        # As strictly as a production file: `true` is not 1, "3" is not a number.
        merged = validate_strictly(Constraints, current.model_dump(mode="json") | changes)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "constraints"
        raise ConstraintProblem(f"{_dotted((field,))}: {first['msg']}") from None
    except (RecursionError, ValueError):
        raise ConstraintProblem(
            f"{_dotted((next(iter(changes)),))}: a value nested too deeply to take"
        ) from None
    for found in constraint_problems(merged):
        if found.loc[0] in changes:  # a file's model name, refused the way the file is
            raise ConstraintProblem(f"{_dotted(found.loc)}: {found.message}")
    dumped = merged.model_dump(mode="json")
    return {key: dumped[key] for key in changes}


def _dotted(loc: tuple[str | int, ...]) -> str:
    """A path into a value for a message: its keys are the user's, so shown sanitized."""
    return sanitize(".".join(str(part) for part in loc))


class AdjustConstraintsCommand(BaseCommand):
    action: Literal[Action.ADJUST_CONSTRAINTS] = Action.ADJUST_CONSTRAINTS
    changes: ConstraintChanges

    def particulars(self) -> dict[str, Any]:
        return self.changes.as_changes()

    @classmethod
    def _lift(cls, text: str, option_id: str | None, args: dict[str, Any]) -> dict[str, Any]:
        return {"changes": args}


class RerunStaleCommand(BaseCommand):
    action: Literal[Action.RERUN_STALE] = Action.RERUN_STALE


class EditCommand(BaseCommand):
    """A version of a task the Orchestrator wrote by hand (`podium edit`): the content read
    back from its human format, valid as `content_type`; it becomes current verbatim."""

    action: Literal[Action.EDIT] = Action.EDIT
    content_type: str = Field(description="The content's model, e.g. Screenplay or Prose.")
    content: dict[str, Any] = Field(description="The content as JSON, valid as content_type.")

    @model_validator(mode="after")
    def _valid_content(self) -> Self:
        from podium.domain.artifacts import CONTENT_TYPES

        kind = CONTENT_TYPES.get(self.content_type)
        if kind is None:
            shown = sanitize(self.content_type)[:64]
            raise ValueError(f"unknown content type {shown!r}; one of {', '.join(CONTENT_TYPES)}")
        try:
            kind.model_validate(self.content)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = sanitize(".".join(str(p) for p in first["loc"])) or "content"
            raise ValueError(f"the edit's {where}: {first['msg']}") from None
        return self

    def parsed(self) -> Any:
        """The content as its model (a `podium.domain.artifacts.Content`)."""
        from podium.domain.artifacts import CONTENT_TYPES

        return CONTENT_TYPES[self.content_type].model_validate(self.content)

    def particulars(self) -> dict[str, Any]:
        return {"content_type": self.content_type}


class EditPlanCommand(BaseCommand):
    """The plan escalation decided with the Orchestrator's own plan (`podium decide DB ESC
    edit`, `E` or the dialog's `edit` in the screen): `tasks` replace the tasks the planner
    proposed, as `[[tasks]]` entries of a production file would, and the plan is approved."""

    action: Literal[Action.EDIT_PLAN] = Action.EDIT_PLAN
    tasks: list[TaskSpec] = Field(
        min_length=1, max_length=MAX_TASKS, description="The plan, as the Orchestrator wrote it."
    )

    def particulars(self) -> dict[str, Any]:
        return {"tasks": [t.id for t in self.tasks]}


class RestoreCommand(BaseCommand):
    """Version `version` of the task becomes its current version again (a new event)."""

    action: Literal[Action.RESTORE] = Action.RESTORE
    version: int = Field(ge=1, strict=True, description="The version made current (1-based).")

    def particulars(self) -> dict[str, Any]:
        return {"version": self.version}


class PauseCommand(BaseCommand):
    action: Literal[Action.PAUSE] = Action.PAUSE


class ResumeCommand(BaseCommand):
    action: Literal[Action.RESUME] = Action.RESUME


class StopCommand(BaseCommand):
    action: Literal[Action.STOP] = Action.STOP


Command = Annotated[
    ApproveCommand
    | OverrideCommand
    | RetryCommand
    | SkipCommand
    | ReassignCommand
    | RequestAlternativesCommand
    | FeedbackCommand
    | ClarifyVisionCommand
    | AdjustConstraintsCommand
    | RerunStaleCommand
    | EditCommand
    | EditPlanCommand
    | RestoreCommand
    | PauseCommand
    | ResumeCommand
    | StopCommand,
    Field(discriminator="action"),
]
"""An Orchestrator command: one model per action, told apart by `action`."""

COMMAND_TYPES: dict[Action, type[BaseCommand]] = {
    t.model_fields["action"].default: t for t in get_args(get_args(Command)[0])
}
"""Each action's command model (every action has one)."""

_COMMON_FIELDS = frozenset(BaseCommand.model_fields)


@cache
def command_adapter() -> TypeAdapter[Command]:
    """Validates any command (a stored one too); built once, when first asked for."""
    return TypeAdapter(Command)


def command_problem(error: ValidationError) -> str:
    """The first thing wrong with a command's fields, as a sentence naming the field."""
    first = error.errors(include_url=False, include_input=False)[0]
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return f"the action is not one of {', '.join(a.value for a in Action)}"
    if first["type"] == "value_error":  # ours, and they name what they are about
        return str(first["msg"]).removeprefix("Value error, ")
    actions = {a.value for a in Action}
    loc = [str(p) for p in first["loc"] if not str(p).startswith(("list[", "str"))]
    where = ".".join(loc[1:] if loc and loc[0] in actions else loc)
    return f"{sanitize(where) or 'the command'}: {first['msg']}"


AUTO_ORIGIN = "--auto-approve"  # the origin of commands issued on a headless standing instruction
TIMEOUT_ORIGIN = "timeout"  # the origin of a collaborative item's default action
