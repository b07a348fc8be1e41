"""Versions made beside the current one and never current until the Orchestrator picks one.

* A **proposal**: text the Orchestrator wrote (a replacement, an edit, a version kept) reaches
  the deliverables verbatim. An agent's pass over it (a dialogue pass over a scene the
  Orchestrator rewrote, a re-made script the Orchestrator had replaced) does not replace it: its
  output is `proposed` and an approval item shows the change as a unified diff of the human
  formats, with two options, *accept* (the proposal becomes current; what was made from the
  text goes stale) and *keep* (the Orchestrator's text stands, as this task's version).
* **Alternatives** the Orchestrator asked for: complete drafts of the task's content, each a
  `proposed` version; picking one makes it current (cause `alternative`), *keep* leaves the
  current version as it is.

Both are one kind of item: option i picks `escalation.artifact_ids[i]` (`picks`). The standing
instruction never decides one (`is_pick`): a change to the Orchestrator's text, or a choice among
drafts, is the Orchestrator's.
"""

from __future__ import annotations

import time

from podium.domain.artifacts import (
    ORCHESTRATOR,
    PODIUM,
    Artifact,
    ArtifactStatus,
    Content,
    Provenance,
)
from podium.domain.assembly import SCREEN_KINDS
from podium.domain.escalation import Action, BaseCommand, Escalation, EscalationKind, Option
from podium.domain.events import ArtifactCreated, ArtifactStatusChanged, VersionCause
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.versions import current_number, current_of, next_number
from podium.engine.command_base import CommandBase, Plan
from podium.engine.port import EnginePort
from podium.seam.validators import Rejected

ACCEPT, KEEP = "accept", "keep"
PASS_KINDS = frozenset({TaskKind.DIALOGUE})  # a pass revises its screen input, scene or script


def revised_text(view: ProductionView, record: TaskRecord, made: Artifact) -> Artifact | None:
    """The Orchestrator's version that `made` would replace in the deliverables, when it differs
    from it: the current version of a screen input a pass revises, or the task's own current
    version, when the Orchestrator wrote it. None: nothing the Orchestrator wrote is changed."""
    found: list[Artifact] = []
    if record.spec.kind in PASS_KINDS:
        for dep in record.spec.depends_on:
            source = view.tasks.get(dep)
            if source is None or source.spec.kind not in SCREEN_KINDS:
                continue
            artifact = current_of(view, source)
            if artifact is not None and artifact.content_type == made.content_type:
                found.append(artifact)
    own = current_of(view, record)
    if own is not None and own.id != made.id:
        found.append(own)
    for artifact in found:
        if artifact.provenance.by_orchestrator and artifact.content != made.content:
            return artifact
    return None


def offer(engine: EnginePort, record: TaskRecord, made: Artifact, revised: Artifact) -> None:
    """`made` is proposed beside the Orchestrator's text, which stands meanwhile as the task's
    current version (so the deliverables, and the work made from them, go on with it); an item
    asks which stands."""
    from podium.export.human.diff import between  # the export's renderers: not at start-up

    spec = record.spec
    engine.emit(ArtifactStatusChanged(artifact_id=made.id, status=ArtifactStatus.PROPOSED))
    standing = _stand(engine, record, revised)
    who = "podium's assembly" if made.provenance.agent_id == PODIUM else made.provenance.agent_id
    where = (
        f"your version {revised.provenance.version}"
        if revised.task_id == spec.id
        else f"your text of {revised.task_id} (v{revised.provenance.version})"
    )
    engine.open_escalation(
        EscalationKind.APPROVAL_GATE,
        f"Proposal: {who} would change {where}",
        task_id=spec.id,
        artifact_ids=[made.id, standing.id],
        detail=f"{spec.title}: your text stands in the deliverables until you accept the change",
        evidence=between(revised, made),
        options=[
            Option(
                id=ACCEPT,
                label="Accept the change",
                proposer=made.provenance.agent_id,
                summary=f"{made.id} becomes current; what was made from it is made again",
            ),
            Option(
                id=KEEP,
                label="Keep yours",
                proposer="podium",
                summary=f"your text stands as {spec.id}'s version ({standing.id})",
            ),
        ],
        actions=[Action.APPROVE, Action.SKIP, Action.OVERRIDE],
    )


def _stand(engine: EnginePort, record: TaskRecord, revised: Artifact) -> Artifact:
    """The Orchestrator's text as the task's current version, against its inputs as they are:
    their own version of the task, its lineage rebased; or the text of the input a pass revised,
    verbatim, as a new version of the task written by the Orchestrator (cause `kept`)."""
    task_id = record.spec.id
    view = engine.view
    if revised.task_id == task_id:
        engine.lineage.keep(task_id, None)
        standing = revised
    else:
        version = next_number(view.tasks[task_id])
        standing = Artifact(
            id=f"{task_id}-v{version}",
            task_id=task_id,
            kind=record.spec.kind,
            content_type=revised.content_type,
            content=revised.content,
            provenance=Provenance(
                agent_id=ORCHESTRATOR,
                model="human",
                prompt_hash="",
                attempt=1,
                vision_version=view.vision.version if view.vision else 1,
                decision_id=revised.provenance.decision_id,
                version=version,
                parents=(revised.id,),
                made_from={
                    dep: n
                    for dep in record.spec.depends_on
                    if dep in view.tasks and (n := current_number(view, view.tasks[dep]))
                },
            ),
            status=ArtifactStatus.APPROVED,
            created_at=time.time(),
        )
        engine.emit(ArtifactCreated(artifact=standing))
        engine.lineage.make_current(standing, VersionCause.KEPT)
    engine.set_task_state(task_id, TaskState.DONE, "your text stands; a change is proposed")
    return standing


def is_pick(view: ProductionView, escalation: Escalation) -> bool:
    """An item whose options pick among versions, one of them proposed: a proposal or
    alternatives (an older log's alternatives name no versions and are not one)."""
    ids = escalation.artifact_ids
    return (
        bool(ids)
        and len(ids) == len(escalation.options)
        and any(
            (a := view.artifacts.get(i)) is not None and a.status is ArtifactStatus.PROPOSED
            for i in ids
        )
    )


def picks(escalation: Escalation) -> dict[str, str]:
    """Option id → the version it picks."""
    return {o.id: a for o, a in zip(escalation.options, escalation.artifact_ids, strict=True)}


def keep_option(escalation: Escalation) -> str | None:
    """The option that changes nothing the Orchestrator has (skip chooses it); None when the
    task had no version to keep."""
    return KEEP if any(o.id == KEEP for o in escalation.options) else None


def alternative_options(
    drafts: list[Artifact], keep: Artifact | None, agent_id: str
) -> list[Option]:
    """One option per complete draft (alt1, alt2, …), then keep (the current version)."""
    options = [
        Option(
            id=f"alt{i}",
            label=f"Alternative {i}: {_first_line(a.parsed())}"[:80],
            proposer=agent_id,
            summary=_excerpt(a.parsed()),
            reasoning=f"a complete draft ({a.id}); pick it to make it current",
        )
        for i, a in enumerate(drafts, start=1)
    ]
    if keep is not None:
        options.append(
            Option(
                id=KEEP,
                label="Keep the current version",
                proposer="podium",
                summary=f"{keep.id} stands",
            )
        )
    return options


def _first_line(content: Content) -> str:
    text = content.plain_text().strip()
    return text.splitlines()[0] if text else "(empty)"


def _excerpt(content: Content, limit: int = 300) -> str:
    text = " ".join(content.plain_text().split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choose(
    base: CommandBase, command: BaseCommand, escalation: Escalation, option_id: str | None
) -> Plan:
    """The Orchestrator's pick on a proposal or alternatives (checked; applied by the Plan).
    Approving with no option accepts a proposal; alternatives need one named."""
    view = base.view
    task_id = escalation.task_id
    record = view.tasks.get(task_id) if task_id else None
    if record is None or task_id is None:
        raise Rejected(f"{escalation.id} names no task")
    chosen = picks(escalation)
    if option_id is None:
        if set(chosen) != {ACCEPT, KEEP}:
            raise Rejected(f"choose one of {', '.join(chosen)} (skip keeps the current version)")
        option_id = ACCEPT
    if option_id not in chosen:
        raise Rejected(f"{escalation.id} has no option {option_id!r}; options: {', '.join(chosen)}")
    artifact = view.artifacts.get(chosen[option_id])
    if artifact is None:
        raise Rejected(f"{chosen[option_id]} is not in this production's log")
    others = [
        a
        for i in escalation.artifact_ids
        if i != artifact.id
        and (a := view.artifacts.get(i)) is not None
        and a.task_id == task_id
        and a.status is ArtifactStatus.PROPOSED
    ]
    declined = ArtifactStatus.OVERRIDDEN if option_id == KEEP else ArtifactStatus.SUPERSEDED

    def pick() -> None:
        engine = base.engine
        current = current_of(engine.view, record)
        if artifact.task_id != task_id:
            # The Orchestrator's text of the input this pass revised stands as the pass's version.
            content = artifact.parsed()
            base.write_version(task_id, content, command, VersionCause.KEPT, None)
        elif current is not None and artifact.id == current.id:
            engine.lineage.keep(task_id, command.id)  # stands against the inputs as they are now
        else:
            engine.emit(
                ArtifactStatusChanged(
                    artifact_id=artifact.id, status=ArtifactStatus.APPROVED, decision_id=command.id
                )
            )
            engine.lineage.make_current(artifact, VersionCause.ALTERNATIVE, command.id)
        for other in others:
            engine.emit(
                ArtifactStatusChanged(artifact_id=other.id, status=declined, decision_id=command.id)
            )
        if engine.view.tasks[task_id].state in (TaskState.AWAITING_APPROVAL, TaskState.STALE):
            engine.set_task_state(task_id, TaskState.DONE, f"{option_id} chosen {command.by}")

    what = "kept the current version" if option_id == KEEP else f"{artifact.id} is current"
    return Plan(f"{option_id}: {what} of {task_id}", pick)
