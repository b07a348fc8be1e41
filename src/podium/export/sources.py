"""What an export reads: a production's folded state, plus the decision trail the fold drops.

Every writer takes an `ExportSource`. It answers the questions they share: the plan order, which
artifact of a task counts, how finished it is, and which human decision approved or overrode it.
Ordering is always by plan order (never by when something happened), so an export of the same
production is the same bytes whatever the timing of its run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from podium.domain.artifacts import Artifact, ArtifactStatus, Content
from podium.domain.base import whole_number
from podium.domain.escalation import ClarifyVisionCommand, Escalation
from podium.domain.events import (
    ArtifactStatusChanged,
    EscalationResolved,
    Event,
    TaskDirected,
)
from podium.domain.production import Format
from podium.domain.state import CommandRecord, ProductionView, TaskRecord
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import PLACEHOLDER, sanitize
from podium.domain.versions import REPLACED as REPLACED
from podium.domain.versions import USABLE as USABLE
from podium.domain.versions import current_of

_SURROGATES = re.compile("[\ud800-\udfff\ufffe\uffff]")


def clean(text: object) -> str:
    """Untrusted text made safe to write anywhere: no terminal escapes, no unencodable code points.

    Text was sanitized when it was stored; it is cleaned again because the export must not
    depend on every writer of the log having done so. Lone surrogates (valid JSON, invalid
    UTF-8) and the XML non-characters become the same visible placeholder.
    """
    value = sanitize(str(text)) if text is not None else ""
    if value.isascii():  # O(1): nothing to replace (a big series' export: 786,000 cells)
        return value
    return _SURROGATES.sub(PLACEHOLDER, value)


def one_line(text: object) -> str:
    """`clean` text folded onto one line, for headings, cells of a title page, names."""
    return " ".join(clean(text).split())


number = whole_number
"""A task parameter that should be a number (chapter, episode, scene), or None."""

NOTED = frozenset(
    str(kind.model_fields["kind"].default)
    for kind in (ArtifactStatusChanged, EscalationResolved, TaskDirected)
)
"""The kinds of event whose payloads an `ExportSource` keeps beside its view (`note`)."""

SHARED = frozenset({TaskKind.SHOT_LIST, TaskKind.EDIT, TaskKind.MUSIC_CUES})
"""The kinds whose contents several files read (`ExportSource.parsed` parses them once)."""


@dataclass
class ExportSource:
    """A production as the exporters see it."""

    view: ProductionView
    status_changes: dict[str, list[ArtifactStatusChanged]] = field(default_factory=dict)
    resolutions: dict[str, EscalationResolved] = field(default_factory=dict)
    directions: dict[str, list[TaskDirected]] = field(default_factory=dict)
    files_root: Path | None = None  # where image files of this production may live
    mark: str | None = None  # exported stale or unfinished (`--allow-stale`): what is, in words
    _about: dict[str, list[Escalation]] = field(default_factory=dict, repr=False, compare=False)
    _about_state: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    _parsed: dict[str, Content | None] = field(default_factory=dict, repr=False, compare=False)
    _plan: tuple[object, list[TaskRecord]] | None = field(default=None, repr=False, compare=False)

    def record(self, event: Event) -> None:
        """Fold one event, keeping what the view forgets: who changed an artifact's status."""
        self.view.apply(event)
        self.note(event)

    def note(self, event: Event) -> None:
        """Keep what the view forgets of one event (of the `NOTED` kinds), without folding it:
        for a view folded elsewhere (a replay from the state snapshot)."""
        payload = event.payload
        if isinstance(payload, ArtifactStatusChanged):
            self.status_changes.setdefault(payload.artifact_id, []).append(payload)
        elif isinstance(payload, EscalationResolved):
            self.resolutions[payload.escalation_id] = payload
        elif isinstance(payload, TaskDirected):
            self.directions.setdefault(payload.task_id, []).append(payload)

    # -- the production ----------------------------------------------------------------------

    @property
    def title(self) -> str:
        spec = self.view.spec
        return one_line(spec.production.title) if spec else "Untitled production"

    @property
    def format(self) -> Format | None:
        return self.view.spec.production.format if self.view.spec else None

    def agent_name(self, agent_id: str) -> str:
        """The crew member's display name, or the id; the Orchestrator is named as such."""
        if agent_id == "orchestrator":
            return "the Orchestrator"
        record = self.view.agents.get(agent_id)
        if record is not None and record.spec.name:
            return one_line(record.spec.name)
        return one_line(agent_id)

    # -- tasks in plan order -----------------------------------------------------------------

    def plan(self) -> list[TaskRecord]:
        """Tasks in plan order: as planned, except that a task never precedes its inputs.
        Worked out once per state of the view (every file asks, a big series' 5,800 tasks)."""
        view = self.view
        state = (view.last_seq, id(view.spec), len(view.tasks), len(view.artifacts))
        if self._plan is None or self._plan[0] != state:
            self._plan = (state, self._ordered())
        return list(self._plan[1])

    def _ordered(self) -> list[TaskRecord]:
        tasks = self.view.tasks
        order: list[str] = []
        seen: set[str] = set()
        for root in tasks:
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                task_id, i = stack.pop()
                if i == 0:
                    if task_id in seen:
                        continue
                    seen.add(task_id)
                deps = [d for d in tasks[task_id].spec.depends_on if d in tasks]
                if i < len(deps):
                    stack.append((task_id, i + 1))
                    if deps[i] not in seen:
                        stack.append((deps[i], 0))
                else:
                    order.append(task_id)
        return [tasks[t] for t in order]

    def plan_index(self) -> dict[str, int]:
        return {record.spec.id: i for i, record in enumerate(self.plan())}

    # -- artifacts ---------------------------------------------------------------------------

    def versions(self, record: TaskRecord) -> list[Artifact]:
        """A task's artifacts that still stand (not superseded or overridden), oldest first."""
        found = (self.view.artifacts.get(a) for a in record.artifact_ids)
        return [a for a in found if a is not None and a.status not in REPLACED]

    def current(self, record: TaskRecord) -> Artifact | None:
        """The artifact that represents the task: its current version (`domain.versions`)."""
        return current_of(self.view, record)

    def parsed(self, artifact: Artifact) -> Content | None:
        """The artifact's content read by its schema; None when it does not fit it.

        A version of a `SHARED` kind is parsed once for every file that reads it (the shot
        list, the storyboard, the edit plan and the report read each shot list and edit plan:
        on a big series each pass parsed 0.2 to 0.35 s of them again). They stay parsed for
        as long as the source: the report holds them all at once anyway, and it comes last.
        The content objects are shared: never change one.
        """
        if artifact.kind not in SHARED:
            return parsed(artifact)
        if artifact.id in self._parsed:
            return self._parsed[artifact.id]
        found = self._parsed[artifact.id] = parsed(artifact)
        return found

    def status_label(self, artifact: Artifact) -> str | None:
        """How unfinished an artifact is, in words for a reader; None when it is settled."""
        record = self.view.tasks.get(artifact.task_id)
        state = record.state if record else None
        if artifact.status is ArtifactStatus.DRAFT:
            if state is TaskState.AWAITING_APPROVAL:
                return "DRAFT — awaiting approval"
            return "DRAFT — not approved"
        if artifact.status is ArtifactStatus.PROVISIONAL:
            return "PROVISIONAL — applied, the Orchestrator may still override it"
        if state is TaskState.STALE:
            return "STALE — made from work or a vision that has changed since"
        return None

    def short_status(self, artifact: Artifact) -> str | None:
        """The one-word form of `status_label`, for Markdown headings."""
        label = self.status_label(artifact)
        return label.split(" — ")[0].lower() if label else None

    # -- decisions ---------------------------------------------------------------------------

    def command(self, command_id: str | None) -> CommandRecord | None:
        return self.view.commands.get(command_id) if command_id else None

    def decision_for(self, artifact: Artifact) -> tuple[CommandRecord, Escalation | None] | None:
        """The human command that approved or overrode the artifact, with its escalation.

        In order of precedence: the last status change that names a command, the command that
        wrote the artifact (the Orchestrator's replacement), then a resolved escalation about it.
        """
        for change in reversed(self.status_changes.get(artifact.id, [])):
            found = self.command(change.decision_id)
            if found is not None:
                return found, self._escalation_of(found)
        found = self.command(artifact.provenance.decision_id)
        if found is not None:
            return found, self._escalation_of(found)
        for escalation in self._escalations_about(artifact.id):
            resolved = self.resolutions.get(escalation.id)
            if resolved is None:
                continue
            found = self.command(resolved.command_id)
            if found is not None:
                return found, escalation
        return None

    def _escalations_about(self, artifact_id: str) -> list[Escalation]:
        """The escalations naming the artifact, in the view's order; indexed once per state
        of the view (the decision log asks for each of a big series' 2,500 versions, and
        scanning its 900 escalations each time was most of the log's time)."""
        escalations = self.view.escalations
        state = (self.view.last_seq, len(escalations))
        if self._about_state != state:
            self._about = {}
            for escalation in escalations.values():
                for named in dict.fromkeys(escalation.artifact_ids):
                    self._about.setdefault(named, []).append(escalation)
            self._about_state = state
        return self._about.get(artifact_id, [])

    def direction_for(self, artifact: Artifact) -> CommandRecord | None:
        """The Orchestrator's command whose direction the artifact was made under, if any."""
        wanted = artifact.provenance.direction
        if not wanted:
            return None
        for directed in reversed(self.directions.get(artifact.task_id, [])):
            if directed.direction == wanted:
                return self.command(directed.command_id)
        return None

    def _escalation_of(self, record: CommandRecord) -> Escalation | None:
        escalation_id = record.command.escalation_id
        return self.view.escalations.get(escalation_id) if escalation_id else None

    def commands(self) -> list[CommandRecord]:
        """Every Orchestrator command, in the order the log recorded them."""
        return sorted(self.view.commands.values(), key=lambda c: c.seq)

    def command_target(self, record: CommandRecord) -> str:
        """What a command was about, as a short text: a task, the vision, the constraints…"""
        command = record.command
        escalation = self._escalation_of(record)
        task_id = command.task_id or (escalation.task_id if escalation else None)
        if task_id:
            return one_line(task_id)
        action = command.action.value
        if isinstance(command, ClarifyVisionCommand):
            return f"vision:{one_line(command.section)}"
        if action == "adjust_constraints":
            return "constraints"
        if escalation is not None:
            return one_line(escalation.id)
        return "production"


def parsed(artifact: Artifact) -> Content | None:
    """The artifact's content read by its schema; None when it does not fit it."""
    try:
        return artifact.parsed()
    except (ValidationError, KeyError):
        return None
