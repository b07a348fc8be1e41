"""Alternatives the Orchestrator asked for: complete drafts of the task's content, not one-liners.

Each alternative is a call of its own for the task's content (a whole scene, a whole shot list),
made from the inputs' current versions like the task's own work, and recorded as a `proposed`
version of the task: never current, never exported, until the Orchestrator picks it. One item
offers them (alt1, alt2, …) beside *keep* (the current version); option i picks
`artifact_ids[i]` (`podium.engine.proposals`), so a screen can show each draft and its diff
against the current one (`podium.export.human.diff.between`) from the view alone.
"""

from __future__ import annotations

from podium.domain import lineage
from podium.domain.artifacts import KIND_CONTENT, Artifact, ArtifactStatus, Prose, Provenance
from podium.domain.escalation import Action, EscalationKind
from podium.domain.events import AgentState, AgentStateChanged, ArtifactCreated
from podium.domain.versions import current_of, next_number
from podium.engine.checking import findings_for
from podium.engine.errors import BudgetHold, TaskFailure
from podium.engine.port import EnginePort
from podium.engine.prompts import build_request
from podium.engine.proposals import alternative_options
from podium.engine.reply import parser
from podium.llm.types import CompletionRequest


async def draft(engine: EnginePort, task_id: str, count: int, command_id: str) -> None:
    """Draft `count` complete alternatives of the task and offer them; a failure is an item."""
    from podium.export.human.diff import between  # the export's renderers: not at start-up

    view = engine.view
    record = view.tasks[task_id]
    spec = record.spec
    agent_id = spec.assignee
    agent = view.agents[agent_id].spec
    model = engine.model_for(agent_id)
    schema = KIND_CONTENT.get(spec.kind, Prose)
    keep = current_of(view, record)
    inputs = [
        a
        for d in spec.depends_on
        if d in view.tasks and (a := current_of(view, view.tasks[d])) is not None
    ]
    drafts: list[Artifact] = []
    notes: list[str] = []
    engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.THINKING, task_id=task_id))
    try:
        for i in range(1, count + 1):
            ask = (
                f"ALTERNATIVE {i} OF {count}: write a complete {spec.kind.value} for this task, "
                "in full, as its deliverable (not a summary, not a one-line idea): a distinct "
                "take from the current version and from the other alternatives."
            )

            def request_for(n: int, text: str = ask, i: int = i) -> CompletionRequest:
                return build_request(
                    engine.view,
                    record,
                    agent,
                    model,
                    purpose="alternatives",
                    schema=schema,
                    inputs=inputs,
                    feedback=[],
                    call_number=n,
                    extra_hints={"count": count, "alternative": i},
                    extra_text=text,
                )

            request, result, content = await engine.call(
                request_for, record, agent_id, parser(schema)
            )
            version = next_number(engine.view.tasks[task_id])
            artifact = Artifact(
                id=f"{task_id}-v{version}",
                task_id=task_id,
                kind=spec.kind,
                content_type=type(content).__name__,
                content=content.model_dump(mode="json"),
                provenance=Provenance(
                    version=version,
                    made_from=lineage.made_from(engine.view, inputs),
                    vision_sections=lineage.sections_used(spec.kind),
                    agent_id=agent_id,
                    model=result.model,
                    prompt_hash=request.prompt_hash(),
                    attempt=1,
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    cost_usd=result.cost_usd,
                    vision_version=engine.view.vision.version if engine.view.vision else 1,
                    parents=tuple(a.id for a in inputs),
                    decision_id=command_id,
                ),
                status=ArtifactStatus.PROPOSED,
            )
            engine.emit(ArtifactCreated(artifact=artifact))
            drafts.append(artifact)
            found = findings_for(
                engine.view, engine.spec.validators, record, artifact, content, inputs
            )
            checks = "; ".join(f.message for f in found) if found else "meets every check"
            against = between(keep, artifact) if keep is not None else []
            changed = sum(1 for line in against if line[:1] in "+-" and line[:3] not in "+++---")
            notes.append(
                f"alt{i} ({artifact.id}): {changed} line(s) differ from the current version; "
                f"{checks}"
            )
    except (TaskFailure, BudgetHold) as exc:
        engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
        engine.open_escalation(
            EscalationKind.FAILURE,
            f"Alternatives for {spec.title} could not be drafted",
            task_id=task_id,
            detail=str(exc),
            actions=[Action.RETRY, Action.SKIP],
            transient=isinstance(exc, TaskFailure) and exc.error.retryable,
        )
        return
    engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
    engine.open_escalation(
        EscalationKind.APPROVAL_GATE,
        f"Choose an alternative for {spec.title}",
        task_id=task_id,
        artifact_ids=[a.id for a in drafts] + ([keep.id] if keep is not None else []),
        options=alternative_options(drafts, keep, agent_id),
        evidence=notes,
        detail=f"requested by command {command_id}: {len(drafts)} complete drafts; picking one "
        "makes it current (what was made from the task is made again), keep changes nothing",
        actions=[Action.APPROVE, Action.SKIP, Action.OVERRIDE],
    )
