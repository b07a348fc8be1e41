"""Running one task: prompt, call, parse, validate and self-correct, review, then the verdict.

The call itself (limiter, budget, streaming, retries, booking) is the call path's
(`calls`); reviews and debates are `debate`'s; the verdict on the output or the failure is
`verdicts`'; an illustration brief is drawn by `illustration`.
"""

from __future__ import annotations

from collections.abc import Callable

from podium.domain import assembly, lineage
from podium.domain.artifacts import (
    KIND_CONTENT,
    PODIUM,
    Artifact,
    ArtifactStatus,
    Prose,
    Provenance,
)
from podium.domain.asking import content_of, question_in, reply_object
from podium.domain.escalation import EscalationKind
from podium.domain.events import AgentState, AgentStateChanged, ArtifactCreated, ValidationReported
from podium.domain.state import TaskRecord
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.validators import Finding
from podium.domain.versions import current_of, next_number
from podium.engine.asking import ask, may_ask, summaries_for
from podium.engine.calls import CallPath
from podium.engine.checking import findings_for, revised_input
from podium.engine.debate import review
from podium.engine.errors import BudgetHold, Escalated, TaskFailure
from podium.engine.illustration import Illustrator, draws
from podium.engine.planner import run_planner
from podium.engine.port import EnginePort
from podium.engine.prompts import Composed, build_request, compose
from podium.engine.reply import parser, territory_in
from podium.engine.verdicts import Verdicts
from podium.llm.types import CompletionRequest


def _first_built(
    composed: Composed, build: Callable[[int], CompletionRequest]
) -> Callable[[int], CompletionRequest]:
    """The first call's request is the one built already; a retry's is built again (what the
    view says then)."""
    unused = [composed]

    def request_for(n: int) -> CompletionRequest:
        return unused.pop().numbered(n) if unused else build(n)

    return request_for


class AgentRunner:
    def __init__(
        self,
        engine: EnginePort,
        caller: CallPath,
        illustrator: Illustrator,
        verdicts: Verdicts,
    ) -> None:
        self.engine = engine
        self.caller = caller
        self.illustrator = illustrator
        self.verdicts = verdicts

    # -- a task ----------------------------------------------------------------------------

    async def run(self, task_id: str) -> None:
        engine = self.engine
        record = engine.view.tasks[task_id]
        if record.spec.kind is TaskKind.PLAN:
            self.caller.begin(task_id)
            await run_planner(engine, record)
            return
        agent_id = record.spec.assignee
        self.caller.begin(task_id)
        attempt = record.attempt + 1 if record.state is TaskState.READY else 1
        # The agent thinking on the task, and idle once it concludes, are folded from the
        # task's state (`podium.domain.folds._agent_busy`): no event of their own. A budget
        # hold, a failure and a question are recorded as ever.
        engine.set_task_state(task_id, TaskState.RUNNING, "started", attempt=attempt)
        try:
            artifact, findings, checked = await self._produce(record, agent_id)
        except BudgetHold as hold:
            engine.emit(
                AgentStateChanged(agent_id=agent_id, state=AgentState.WAITING, task_id=task_id)
            )
            engine.set_task_state(task_id, TaskState.AWAITING_APPROVAL, "budget")
            engine.open_escalation(
                EscalationKind.BUDGET,
                f"Budget: {record.spec.title} would overrun",
                task_id=task_id,
                detail=hold.reason,
                evidence=[hold.reason],
                debate_id=hold.debate_id,
            )
            return
        except TaskFailure as failure:
            engine.emit(
                AgentStateChanged(agent_id=agent_id, state=AgentState.FAILED, task_id=task_id)
            )
            self.verdicts.fail(record, failure)
            return
        except Escalated:
            engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
            return
        try:
            self.verdicts.conclude(record, artifact, findings, checked)
        except Exception:
            # A bug in the verdict (the engine fails the task): the clean check it held is
            # recorded, so the task shows this version's findings, not an earlier attempt's.
            if checked is not None and engine.view.tasks[task_id].findings:
                engine.emit(checked)
            raise

    async def _produce(
        self, record: TaskRecord, agent_id: str
    ) -> tuple[Artifact, list[Finding], ValidationReported | None]:
        """Write, validate and self-correct (bounded); then reviews. A script made from scenes
        is podium's assembly of their current versions. Without reviews, a clean check of the
        last attempt is returned unrecorded (`write`'s `hold`): the verdict, which follows with
        no await between, records it first (in the `TaskSettled`, or as its own event)."""
        if assembly.assembles(self.engine.view, record):
            return (*self.assembled(record), None)
        reviewed = bool(record.spec.reviewers)
        artifact, findings, checked = await self.write(record, agent_id, [], hold=not reviewed)
        if not findings and reviewed:
            artifact, findings = await review(self.engine, record, artifact, agent_id, self.revise)
        return artifact, findings, checked

    async def revise(
        self,
        record: TaskRecord,
        agent_id: str,
        notes: list[str],
        *,
        debate_id: str | None = None,
        debate_round: int | None = None,
    ) -> tuple[Artifact, list[Finding]]:
        """A revision from reviewers' notes or a debate's outcome, validated like any attempt;
        after a debate its provenance names the debate and the round that decided it."""
        artifact, findings, _ = await self.write(
            record, agent_id, notes, debate_id=debate_id, debate_round=debate_round
        )
        return artifact, findings

    async def write(
        self,
        record: TaskRecord,
        agent_id: str,
        feedback: list[str],
        *,
        debate_id: str | None = None,
        debate_round: int | None = None,
        hold: bool = False,
    ) -> tuple[Artifact, list[Finding], ValidationReported | None]:
        """The self-correction loop: each attempt's findings are fed back, up to the limit.
        Each attempt's `ValidationReported` is recorded after its version; with `hold`, a clean
        one is returned instead, for the caller to record (`_produce`)."""
        engine = self.engine
        view = engine.view
        spec = record.spec
        schema = KIND_CONTENT.get(spec.kind, Prose)
        agent = view.agents[agent_id].spec
        model = engine.model_for(agent_id)
        # The inputs (each dependency's current version) and what the versions made from them
        # record (`made_from`, `parents`), read once for every attempt.
        tasks = view.tasks
        inputs = [
            a
            for d in spec.depends_on
            if (dep := tasks.get(d)) is not None and (a := current_of(view, dep)) is not None
        ]
        made = lineage.made_from(view, inputs)
        parents = tuple(a.id for a in inputs)
        revising, rule = revised_input(record, inputs)
        attempts = 1 + engine.limits.self_correction_attempts
        artifact: Artifact | None = None
        findings: list[Finding] = []
        for attempt in range(1, attempts + 1):

            def build(n: int, fb: list[str] = feedback) -> CompletionRequest:
                return build_request(
                    view,
                    record,
                    agent,
                    model,
                    schema=schema,
                    inputs=inputs,
                    feedback=fb,
                    call_number=n,
                    extra_hints={"revising": revising.content} if revising else None,
                    extra_text=rule,
                )

            if attempt == 1:
                # One build of the first prompt serves the summaries it needs (inputs that do
                # not all fit whole, summarised here once per version) and its first call.
                composed = compose(
                    view,
                    record,
                    agent,
                    model,
                    schema=schema,
                    inputs=inputs,
                    feedback=feedback,
                    call_number=1,
                    extra_hints={"revising": revising.content} if revising else None,
                    extra_text=rule,
                )
                if inputs:
                    await summaries_for(engine, record, agent, model, composed.given)
                    composed = composed.with_summaries(view.summaries)
                request_for = _first_built(composed, build)
            else:
                request_for = build

            request, result, content = await self.engine.call(
                request_for, record, agent_id, parser(schema)
            )
            # The reply's JSON read once for the protocol's fields (ask, claim).
            protocol = reply_object(result.text)
            # A question on a first draft goes to the Orchestrator; the task waits for the answer.
            question = question_in(protocol) if attempt == 1 and not feedback else None
            if question is not None and debate_id is None and may_ask(engine, record):
                ask(engine, record, agent_id, question)
                raise Escalated
            content = content_of(content, schema)
            # Recorded with the draft and folded (`TaskRecord.claim`) until the task concludes.
            claim = territory_in(protocol)
            if engine.spec.models.image and draws(content):  # an illustration, a shot list
                content = await self.illustrator.illustrate(record, agent_id, content)
            version = next_number(record)
            artifact = Artifact(
                id=f"{spec.id}-v{version}",
                task_id=spec.id,
                kind=spec.kind,
                content_type=type(content).__name__,
                content=content.model_dump(mode="json"),
                provenance=Provenance(
                    version=version,
                    made_from=made,
                    vision_sections=lineage.sections_used(spec.kind),
                    agent_id=agent_id,
                    model=result.model,
                    prompt_hash=request.prompt_hash(),
                    attempt=attempt,
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    cost_usd=result.cost_usd,
                    vision_version=view.vision.version if view.vision else 1,
                    parents=parents,
                    debate_id=debate_id,
                    debate_round=debate_round,
                    direction=record.direction or None,
                ),
                status=ArtifactStatus.DRAFT,
            )
            engine.emit(ArtifactCreated(artifact=artifact, agent_claim=claim))
            findings = findings_for(view, engine.spec.validators, record, artifact, content, inputs)
            checked = ValidationReported(
                task_id=spec.id, attempt=attempt, artifact_id=artifact.id, findings=findings
            )
            if not findings and hold:
                return artifact, findings, checked
            engine.emit(checked)
            if not findings:
                break
            feedback = [f.message for f in findings]
        assert artifact is not None
        return artifact, findings, None

    def assembled(self, record: TaskRecord) -> tuple[Artifact, list[Finding]]:
        """Podium's assembly, checked like any version: what fails is not the model's to correct
        (it made no call), so it goes to the Orchestrator with the figures (`Verdicts`)."""
        engine = self.engine
        artifact = self.assemble(record)
        findings = findings_for(
            engine.view, engine.spec.validators, record, artifact, artifact.parsed(), []
        )
        engine.emit(
            ValidationReported(
                task_id=record.spec.id, attempt=1, artifact_id=artifact.id, findings=findings
            )
        )
        return artifact, findings

    def assemble(self, record: TaskRecord) -> Artifact:
        """Podium's version of a script: its inputs' current scenes, in order, verbatim."""
        engine = self.engine
        view = engine.view
        spec = record.spec
        play, used = assembly.assemble(view, record)
        version = next_number(record)
        artifact = Artifact(
            id=f"{spec.id}-v{version}",
            task_id=spec.id,
            kind=spec.kind,
            content_type=type(play).__name__,
            content=play.model_dump(mode="json"),
            provenance=Provenance(
                agent_id=PODIUM,
                model=PODIUM,
                prompt_hash="",
                attempt=1,
                vision_version=view.vision.version if view.vision else 1,
                parents=tuple(a.id for a in used),
                version=version,
                made_from=lineage.made_from(view, used),
                vision_sections=(),
            ),
            status=ArtifactStatus.DRAFT,
        )
        engine.emit(ArtifactCreated(artifact=artifact))
        return artifact
