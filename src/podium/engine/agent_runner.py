"""Running one task: prompt, stream, parse, validate and self-correct, review, then authority.

The single retry layer lives here: a retryable model failure is retried with exponential
backoff and jitter (honouring the provider's Retry-After) up to `constraints.retries`; after
that the task's `on_failure` decides (retry later, skip, or escalate). Nothing is dropped
silently.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from podium.domain import assembly, lineage
from podium.domain.artifacts import (
    KIND_CONTENT,
    PODIUM,
    Artifact,
    ArtifactStatus,
    Content,
    IllustrationBrief,
    Prose,
    Provenance,
    StatusReport,
)
from podium.domain.escalation import Action, EscalationKind, Option
from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    ArtifactCreated,
    CallFinished,
    OutputChunk,
    StatusReported,
    TerritoryAssigned,
    ValidationReported,
    VersionCause,
)
from podium.domain.loading import MAX_NESTING, too_deep
from podium.domain.policy import Territory, classify
from podium.domain.production import ModelSettings
from podium.domain.state import TaskRecord
from podium.domain.tasks import OnFailure, TaskKind, TaskState
from podium.domain.text import sanitize, sanitize_joined, sanitize_tree, tree_is_clean
from podium.domain.validators import Finding, Severity, run_validators
from podium.domain.versions import current_of, next_number
from podium.engine.budget import ASSUMED, counted, estimate
from podium.engine.debate import Escalated, review
from podium.engine.prompts import build_request
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    FailureKind,
    ImageRequest,
    ImageResult,
    LLMError,
)
from podium.store import StoreError

if TYPE_CHECKING:
    from podium.engine.engine import Engine

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

RETRY_CAP_S = 30.0
RETRY_AFTER_MAX_S = 600.0  # a provider asking for a longer wait gets a failure, not a nap


def _wait_asked(error: LLMError) -> float | None:
    """The provider's Retry-After, when podium will honour it; raise TaskFailure (through the
    caller) when it asks for longer than RETRY_AFTER_MAX_S, or for forever."""
    wait = error.retry_after
    if wait is None:
        return None
    if not math.isfinite(wait) or wait > RETRY_AFTER_MAX_S:
        asked = f"{wait:.0f}s" if math.isfinite(wait) else "forever"
        raise LLMError(
            error.kind,
            f"{error.message} (the provider asks to wait {asked}; podium waits at most "
            f"{RETRY_AFTER_MAX_S:.0f}s in one call, so it is yours to retry)",
            model=error.model,
        )
    return max(0.0, wait)


CUT_OFF = "cut_off"  # CallFinished.error_kind of a call cancelled before it finished
COALESCE_S = 0.05  # streamed text: at most one event per call this often
LATER_ROUNDS = 2  # "retry later" rounds before a failure escalates anyway


class TaskFailure(Exception):
    def __init__(self, error: LLMError, calls: int, *, provider_down: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.calls = calls
        self.debate_id: str | None = None  # the debate it cut short, for the escalation
        self.provider_down = provider_down  # never skipped, not even by --auto-approve all


# Failures that say the provider (not the reply) is failing: enough of them in a row, and
# the model is down (`ModelSettings.down_after`).
PROVIDER_FAILURES = frozenset(
    {
        FailureKind.RATE_LIMIT,
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.SERVER,
        FailureKind.AUTH,
        FailureKind.NOT_FOUND,
    }
)


class BudgetHold(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.debate_id: str | None = None  # the debate it cut short, for the escalation


class AgentRunner:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._jitter = random.Random()
        self._later: dict[str, int] = {}
        self._made: dict[str, int] = {}  # task → calls made in its current run
        self._failing: dict[str, int] = {}  # model → provider failures in a row

    # -- model calls -----------------------------------------------------------------------

    async def call(
        self,
        request_for: Callable[[int], CompletionRequest],
        record: TaskRecord,
        agent_id: str,
        parse: Callable[[CompletionResult], T],
    ) -> tuple[CompletionRequest, CompletionResult, T]:
        """One logical call with the retry layer. `request_for(n)` builds the n-th request of
        the task; `parse` turns the reply into what was asked (LLMError if it cannot)."""
        engine = self.engine
        limits = engine.limits
        for retry in range(limits.retries + 1):
            # Calls are numbered from the start of this run of the task, so a run interrupted
            # and resumed asks the same questions again and (with a seeded model) gets the
            # same answers.
            self._made[record.spec.id] = made = self._made.get(record.spec.id, 0) + 1
            request = request_for(record.run_base + made)
            prompt_chars = sum(len(m.content) for m in request.messages)
            target = request.hints.get("target_words")
            over = engine.ledger.overrun(
                record.spec.id,
                estimate(prompt_chars, record.spec.kind, target),
                limits,
                request.agent_id,
                request.model,
            )
            if over is not None:
                raise BudgetHold(over)
            result: CompletionResult | None = None
            try:
                result = await self._stream(request, record, agent_id)
                parsed = parse(within_limit(result, engine.spec.reply_limit(request.model)))
            except LLMError as error:
                self._finished(request, record, result, error)
                down = self._provider_down(request.model, error)
                if down is not None:
                    raise TaskFailure(down, retry + 1, provider_down=True) from None
                if not error.retryable or retry == limits.retries:
                    raise TaskFailure(error, retry + 1) from None
                try:
                    asked = _wait_asked(error)
                except LLMError as too_long:
                    raise TaskFailure(too_long, retry + 1) from None
                pause = min(RETRY_CAP_S, limits.retry_backoff * (2**retry))
                pause *= self._jitter.uniform(0.75, 1.25)
                if asked is not None:
                    pause = max(pause, asked)
                await asyncio.sleep(pause)
                continue
            self._failing.pop(request.model, None)
            self._finished(request, record, result, None)
            return request, result, parsed
        raise AssertionError("unreachable: the last retry raises")

    def _provider_down(self, model: str, error: LLMError) -> LLMError | None:
        """Count failures of the provider in a row for `model`; from `down_after` on, the
        model is down: each further failure fails its task at once as "provider down"."""
        if error.kind not in PROVIDER_FAILURES:
            self._failing.pop(model, None)  # it answered: the provider is up
            return None
        failing = self._failing[model] = self._failing.get(model, 0) + 1
        settings = self.engine.spec.models.settings.get(model)
        if failing < (settings.down_after if settings else ModelSettings().down_after):
            return None
        return LLMError(
            error.kind,
            f"provider down: {failing} calls in a row to {model} failed (last: "
            f"{sanitize(error.message)[:200]}); check the provider, the key and api_base, "
            "then retry",
            model=model,
        )

    async def _stream(
        self, request: CompletionRequest, record: TaskRecord, agent_id: str
    ) -> CompletionResult:
        """One completion, whatever its purpose, inside its slot of the call limiter (in all,
        per model, per agent): taken before the provider is asked, given back however the
        call ends. Every completion the engine makes passes here, as every image passes the
        same limiter in `illustrate`."""
        async with self.engine.calls.hold(request.agent_id, request.model):
            return await self._streamed(request, record, agent_id)

    async def _streamed(
        self, request: CompletionRequest, record: TaskRecord, agent_id: str
    ) -> CompletionResult:
        engine = self.engine
        store = engine.store
        if store.congested:  # the disk is behind: wait for it before making more (backpressure)
            await store.drained()
        stream = engine.gateway.complete(request)
        out = _Coalescer(engine, record.spec.id, agent_id, request.attempt)
        started = time.monotonic()
        cut = False
        try:
            async for chunk in stream:
                if chunk:
                    out.add(chunk)  # sanitized when sent, exactly as one by one
                if store.congested:
                    await store.drained()
        except asyncio.CancelledError:
            cut = True  # a time limit, a pause or a stop: the provider has still been paid
            raise
        finally:
            try:
                out.flush()  # what arrived is kept, even when the call then failed
            finally:
                await stream.aclose()
                if cut:
                    latency = time.monotonic() - started
                    self._cut_off(request, record, out.chars, latency, stream.spent())
        return stream.result

    def _cut_off(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        chars: int,
        latency_s: float,
        spent: CompletionResult | None = None,
    ) -> None:
        """A call cancelled before it finished still used tokens: record them, estimated the
        way the budget estimates, so no spend goes unaccounted."""
        engine = self.engine
        if spent is not None:  # the backend counted what was sent and what arrived
            self._cut_off_spent(request, record, spent, latency_s)
            return
        used = counted(sum(len(m.content) for m in request.messages), chars)
        price = engine.ledger.price(request.agent_id, request.model) or ASSUMED
        try:
            self._record_call(
                request,
                record,
                used.input_tokens,
                used.output_tokens,
                price.of(used),
                latency_s,
                error_kind=CUT_OFF,
                error=f"cut off after {latency_s:.1f}s; tokens and cost estimated ({price.basis})",
            )
        except StoreError:
            pass  # the store has stopped the run already; the cancellation goes on

    def _cut_off_spent(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        spent: CompletionResult,
        latency_s: float,
    ) -> None:
        price = "at the model's price" if spent.cost_usd is not None else "price unknown"
        try:
            self._record_call(
                request,
                record,
                spent.input_tokens,
                spent.output_tokens,
                spent.cost_usd,
                latency_s,
                error_kind=CUT_OFF,
                error=f"cut off after {latency_s:.1f}s; tokens counted from what was sent and "
                f"what arrived ({price})",
                cached=(spent.cached_input_tokens, spent.cache_write_tokens),
            )
        except StoreError:
            pass  # the store has stopped the run already; the cancellation goes on

    def _finished(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        result: CompletionResult | None,
        error: LLMError | None,
    ) -> None:
        used = result if result is not None else error.spent if error is not None else None
        self._record_call(  # a failed call that reached a provider books what it used
            request,
            record,
            used.input_tokens if used else 0,
            used.output_tokens if used else 0,
            used.cost_usd if used else 0.0,
            used.latency_s if used else 0.0,
            error_kind=error.kind.value if error else None,
            error=sanitize(error.message)[:500] if error else "",
            cached=(used.cached_input_tokens, used.cache_write_tokens) if used else (0, 0),
        )

    def _record_call(
        self,
        request: CompletionRequest,
        record: TaskRecord,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float | None,
        latency_s: float,
        *,
        error_kind: str | None,
        error: str,
        cached: tuple[int, int] = (0, 0),
    ) -> None:
        self.engine.emit(
            CallFinished(
                call_id=f"{record.spec.id}:{record.calls + 1}",
                task_id=record.spec.id,
                agent_id=request.agent_id,
                model=request.model,
                purpose=request.purpose,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=cost_usd,
                latency_s=latency_s,
                ok=error_kind is None,
                error_kind=error_kind,
                error=error,
                cached_input_tokens=cached[0],
                cache_write_tokens=cached[1],
            )
        )

    # -- a task ----------------------------------------------------------------------------

    async def run(self, task_id: str) -> None:
        engine = self.engine
        record = engine.view.tasks[task_id]
        if record.spec.kind is TaskKind.PLAN:
            from podium.engine.planner import run_planner

            self._made.pop(task_id, None)
            await run_planner(engine, record)
            return
        agent_id = record.spec.assignee
        self._made.pop(task_id, None)
        attempt = record.attempt + 1 if record.state is TaskState.READY else 1
        engine.set_task_state(task_id, TaskState.RUNNING, "started", attempt=attempt)
        engine.emit(
            AgentStateChanged(agent_id=agent_id, state=AgentState.THINKING, task_id=task_id)
        )
        try:
            artifact, findings = await self._produce(record, agent_id)
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
            self.fail(record, failure)
            return
        except Escalated:
            engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
            return
        engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
        self._conclude(record, artifact, findings)

    async def _produce(self, record: TaskRecord, agent_id: str) -> tuple[Artifact, list[Finding]]:
        """Write, validate and self-correct (bounded); then reviews. A script made from scenes
        is podium's assembly of their current versions."""
        if assembly.assembles(self.engine.view, record):
            return self.assemble(record), []
        artifact, findings = await self.write(record, agent_id, [])
        if not findings and record.spec.reviewers:
            artifact, findings = await review(self.engine, record, artifact, agent_id)
        return artifact, findings

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
        return await self.write(
            record, agent_id, notes, debate_id=debate_id, debate_round=debate_round
        )

    async def write(
        self,
        record: TaskRecord,
        agent_id: str,
        feedback: list[str],
        *,
        debate_id: str | None = None,
        debate_round: int | None = None,
    ) -> tuple[Artifact, list[Finding]]:
        """The self-correction loop: each attempt's findings are fed back, up to the limit."""
        engine = self.engine
        view = engine.view
        spec = record.spec
        schema = KIND_CONTENT.get(spec.kind, Prose)
        agent = view.agents[agent_id].spec
        model = engine.model_for(agent_id)
        inputs = [
            a
            for d in spec.depends_on
            if d in view.tasks and (a := current_of(view, view.tasks[d])) is not None
        ]
        attempts = 1 + engine.limits.self_correction_attempts
        artifact: Artifact | None = None
        findings: list[Finding] = []
        for attempt in range(1, attempts + 1):

            def request_for(n: int, fb: list[str] = feedback) -> CompletionRequest:
                return build_request(
                    view,
                    record,
                    agent,
                    model,
                    schema=schema,
                    inputs=inputs,
                    feedback=fb,
                    call_number=n,
                )

            request, result, content = await self.call(
                request_for, record, agent_id, lambda r: _content(schema, r)
            )
            # Recorded with the draft and folded (`TaskRecord.claim`) until the task concludes.
            claim = claimed_territory(result.text)
            if isinstance(content, IllustrationBrief) and engine.spec.models.image:
                content = await self.illustrate(record, agent_id, content)
            version = next_number(record)
            artifact = Artifact(
                id=f"{spec.id}-v{version}",
                task_id=spec.id,
                kind=spec.kind,
                content_type=type(content).__name__,
                content=content.model_dump(mode="json"),
                provenance=Provenance(
                    version=version,
                    made_from=lineage.made_from(view, inputs),
                    vision_sections=lineage.sections_used(spec.kind),
                    agent_id=agent_id,
                    model=result.model,
                    prompt_hash=request.prompt_hash(),
                    attempt=attempt,
                    input_tokens=result.input_tokens,
                    output_tokens=result.output_tokens,
                    cost_usd=result.cost_usd,
                    vision_version=view.vision.version if view.vision else 1,
                    parents=tuple(a.id for a in inputs),
                    debate_id=debate_id,
                    debate_round=debate_round,
                    direction=record.direction or None,
                ),
                status=ArtifactStatus.DRAFT,
            )
            engine.emit(ArtifactCreated(artifact=artifact, agent_claim=claim))
            findings = run_validators(engine.spec.validators, spec, content)
            engine.emit(
                ValidationReported(
                    task_id=spec.id, attempt=attempt, artifact_id=artifact.id, findings=findings
                )
            )
            if not findings:
                break
            feedback = [f.message for f in findings]
        assert artifact is not None
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

    async def illustrate(
        self, record: TaskRecord, agent_id: str, brief: IllustrationBrief
    ) -> IllustrationBrief:
        """Draw the brief with the production's image model; the file lands beside the
        database and the brief points at it. Retried like any call; then on_failure decides."""
        engine = self.engine
        model = engine.spec.models.image or ""
        prompt = brief.plain_text()[:4000]
        limits = engine.limits
        for retry in range(limits.retries + 1):
            started = time.monotonic()
            try:
                async with engine.calls.hold(agent_id, model):  # the one limiter, as `_stream`
                    started = time.monotonic()
                    image = await engine.gateway.generate_image(
                        ImageRequest(
                            model=model, prompt=prompt, agent_id=agent_id, task_id=record.spec.id
                        )
                    )
            except LLMError as error:
                self._image_call(record, agent_id, model, None, error, time.monotonic() - started)
                if not error.retryable or retry == limits.retries:
                    raise TaskFailure(error, retry + 1) from None
                try:
                    asked = _wait_asked(error)
                except LLMError as too_long:
                    raise TaskFailure(too_long, retry + 1) from None
                await asyncio.sleep(max(asked or 0.0, limits.retry_backoff * 2**retry))
                continue
            self._image_call(record, agent_id, model, image, None, image.latency_s)
            suffix = {"image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}.get(
                image.mime_type, ".png"
            )
            folder = engine.store.path.parent / f"{engine.store.path.stem}-images"
            target = folder / f"{record.spec.id}-v{len(record.artifact_ids) + 1}{suffix}"
            await asyncio.to_thread(_write_file, target, image.data)
            return brief.model_copy(update={"image_path": str(target)})
        raise AssertionError("unreachable: the last retry raises")

    def _image_call(
        self,
        record: TaskRecord,
        agent_id: str,
        model: str,
        image: ImageResult | None,
        error: LLMError | None,
        latency_s: float,
    ) -> None:
        self.engine.emit(
            CallFinished(
                call_id=f"{record.spec.id}:{record.calls + 1}",
                task_id=record.spec.id,
                agent_id=agent_id,
                model=model,
                purpose="image",
                cost_usd=image.cost_usd if image else 0.0,
                latency_s=latency_s,
                ok=error is None,
                error_kind=error.kind.value if error else None,
                error=sanitize(error.message)[:500] if error else "",
            )
        )

    # -- outcomes --------------------------------------------------------------------------

    def _conclude(self, record: TaskRecord, artifact: Artifact, findings: list[Finding]) -> None:
        engine = self.engine
        spec = record.spec
        if spec.kind is TaskKind.REPORT:
            self._report(record, artifact)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        deviations = [f for f in findings if f.severity is Severity.DEVIATION]
        claim = record.claim
        territory = classify(
            engine.spec.authority,
            spec.decision_kind,
            gate=engine.spec.gate_territory(spec.gate),
            agent_claim=claim,
        )
        engine.emit(
            TerritoryAssigned(
                task_id=spec.id,
                territory=territory,
                decision_kind=spec.decision_kind.value,
                agent_claim=claim,
            )
        )
        if errors or deviations:
            kind = EscalationKind.QUALITY if errors else EscalationKind.DEVIATION
            what = "fails its checks" if errors else "drifts from the vision"
            engine.set_task_state(spec.id, TaskState.AWAITING_APPROVAL, kind.value)
            engine.open_escalation(
                kind,
                f"{spec.title} {what}",
                task_id=spec.id,
                artifact_ids=[artifact.id],
                detail=f"after {record.attempt} attempt(s) by {spec.assignee}",
                evidence=[
                    f"{f.rule}: {f.message}" + (f" — {f.evidence}" if f.evidence else "")
                    for f in findings
                ],
            )
            return
        self.settle(record, artifact, territory)

    def _report(self, record: TaskRecord, artifact: Artifact) -> None:
        """A department head's status report becomes an event the Orchestrator sees as such."""
        report = artifact.parsed()
        if isinstance(report, StatusReport):
            self.engine.emit(
                StatusReported(
                    agent_id=artifact.provenance.agent_id,
                    task_id=record.spec.id,
                    artifact_id=artifact.id,
                    progress_pct=report.progress_pct,
                    summary=report.summary,
                    blockers=list(report.blockers),
                )
            )

    def settle(self, record: TaskRecord, artifact: Artifact, territory: Territory) -> None:
        """Apply the authority territory to a task's accepted output."""
        from podium.domain.events import ArtifactStatusChanged

        engine = self.engine
        spec = record.spec
        if territory is Territory.APPROVAL_REQUIRED:
            engine.set_task_state(spec.id, TaskState.AWAITING_APPROVAL, "approval required")
            title = f"Milestone {spec.gate}: {spec.title}" if spec.gate else f"Approve {spec.title}"
            engine.open_escalation(
                EscalationKind.MILESTONE if spec.gate else EscalationKind.APPROVAL_GATE,
                title,
                task_id=spec.id,
                artifact_ids=[artifact.id],
                detail=f"{spec.decision_kind.value.replace('_', ' ')} by {spec.assignee}",
            )
            return
        status = (
            ArtifactStatus.PROVISIONAL
            if territory is Territory.COLLABORATIVE
            else ArtifactStatus.ACCEPTED
        )
        engine.emit(ArtifactStatusChanged(artifact_id=artifact.id, status=status.value))
        cause = VersionCause.OVERRIDE if artifact.provenance.direction else VersionCause.MADE
        engine.lineage.make_current(artifact, cause)
        engine.set_task_state(spec.id, TaskState.DONE, territory.value)
        if territory is Territory.COLLABORATIVE:
            engine.open_escalation(
                EscalationKind.COLLABORATIVE,
                f"Applied provisionally: {spec.title}",
                task_id=spec.id,
                territory=Territory.COLLABORATIVE,
                artifact_ids=[artifact.id],
                detail=f"{spec.decision_kind.value.replace('_', ' ')}; override to change it",
            )

    def fail(self, record: TaskRecord, failure: TaskFailure) -> None:
        engine = self.engine
        spec = record.spec
        error = failure.error
        cause = f"{error.kind.value}: {sanitize(error.message)[:300]}"
        engine.set_task_state(spec.id, TaskState.FAILED, cause)
        policy = spec.on_failure if error.retryable else OnFailure.ESCALATE
        if failure.provider_down:
            self._provider_down_escalation(record, failure)
            return
        if policy is OnFailure.RETRY and self._later.get(spec.id, 0) < LATER_ROUNDS:
            self._later[spec.id] = self._later.get(spec.id, 0) + 1
            pause = engine.limits.retry_backoff * (2 ** (engine.limits.retries + 1))

            async def later() -> None:
                await asyncio.sleep(min(pause, 4 * RETRY_CAP_S))
                if engine.view.tasks[spec.id].state is TaskState.FAILED:
                    engine.set_task_state(spec.id, TaskState.READY, "retrying later")

            engine.start_background(later())
            return
        if policy is OnFailure.SKIP:
            engine.set_task_state(spec.id, TaskState.SKIPPED, f"skipped after failure: {cause}")
            return
        engine.open_escalation(
            EscalationKind.FAILURE,
            f"{spec.title} failed after {failure.calls} call(s)",
            task_id=spec.id,
            detail=cause + (f"; see debate {failure.debate_id}" if failure.debate_id else ""),
            evidence=[cause],
            transient=error.retryable,
            debate_id=failure.debate_id,
            options=[
                Option(
                    id="retry",
                    label="Retry",
                    proposer="podium",
                    reasoning="the failure may be passing"
                    if error.retryable
                    else "after fixing the cause (key, model, prompt)",
                ),
                Option(
                    id="skip",
                    label="Skip",
                    proposer="podium",
                    reasoning="dependents go on without it, marked",
                ),
                Option(
                    id="reassign",
                    label="Reassign",
                    proposer="podium",
                    reasoning="give the task to another agent",
                ),
            ],
            actions=[Action.RETRY, Action.SKIP, Action.REASSIGN, Action.OVERRIDE],
        )

    def _provider_down_escalation(self, record: TaskRecord, failure: TaskFailure) -> None:
        """A dead provider is the Orchestrator's to see: no retry later, no skip (so no
        standing instruction turns it into "completed" with everything skipped)."""
        error = failure.error
        self.engine.open_escalation(
            EscalationKind.FAILURE,
            f"Provider down: {error.model} ({record.spec.title})",
            task_id=record.spec.id,
            detail=sanitize(error.message)[:300],
            evidence=[f"{error.kind.value}: {sanitize(error.message)[:300]}"],
            transient=False,
            options=[
                Option(
                    id="retry",
                    label="Retry",
                    proposer="podium",
                    reasoning="once the provider answers again",
                ),
                Option(
                    id="reassign",
                    label="Reassign",
                    proposer="podium",
                    reasoning="give the task to an agent on another model",
                ),
            ],
            actions=[Action.RETRY, Action.REASSIGN, Action.OVERRIDE],
        )

    def internal_failure(self, task_id: str, exc: Exception) -> None:
        record = self.engine.view.tasks[task_id]
        error = LLMError(FailureKind.UNKNOWN, f"internal error: {type(exc).__name__}: {exc}")
        if record.state is TaskState.RUNNING:
            self.fail(record, TaskFailure(error, 0))


class _Coalescer:
    """Streamed text becomes at most one OutputChunk per COALESCE_S for each call.

    A provider may send a hundred chunks a second and the rehearsal model sends a whole reply
    at once; each event is a row, a fold and a screen update, while nobody reads faster than
    this. Text is never held longer than COALESCE_S: a timer sends what waits. The joined text
    is exactly the chunks' (each sanitized on its own, as it arrived: `sanitize_joined`).
    """

    def __init__(self, engine: Engine, task_id: str, agent_id: str, attempt: int) -> None:
        self.engine = engine
        self.task_id = task_id
        self.agent_id = agent_id
        self.attempt = attempt
        self.pending: list[str] = []
        self.chars = 0  # all the text that arrived, for a call cut off before its usage
        self.last = -COALESCE_S  # loop time of the last event
        self.timer: asyncio.Handle | None = None
        self.error: Exception | None = None
        self.loop = asyncio.get_running_loop()

    def add(self, text: str) -> None:
        if self.error is not None:
            raise self.error  # the timer could not emit: fail the call as emit would have
        self.pending.append(text)
        self.chars += len(text)
        if self.timer is None:
            # Nothing sent lately: send at the end of this burst (the next loop turn), so
            # chunks that arrive together travel together; else when the interval is up.
            delay = self.last + COALESCE_S - self.loop.time()
            if delay > 0:
                self.timer = self.loop.call_later(delay, self._due)
            else:  # the next turn, as call_later(0), without a timer to file and cancel
                self.timer = self.loop.call_soon(self._due)

    def _due(self) -> None:
        self.timer = None
        try:
            self._send()
        except Exception as exc:  # raised in the task at its next chunk or at the end
            self.error = exc

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        self._send()

    def _send(self) -> None:
        if not self.pending:
            return
        text = sanitize_joined(self.pending)
        self.pending.clear()
        self.last = self.loop.time()
        self.engine.emit(
            OutputChunk(
                task_id=self.task_id, agent_id=self.agent_id, attempt=self.attempt, text=text
            )
        )


def _content(schema: type[Content], result: CompletionResult) -> Content:
    """The call's structured content; malformed output is a retryable failure."""
    parsed: BaseModel | None = result.parsed
    if isinstance(parsed, schema):
        return clean(parsed)
    try:
        if schema is Prose and not result.text.lstrip().startswith("{"):
            return clean(Prose(text=result.text))
        return clean(schema.model_validate_json(_strip_fences(result.text)))
    except ValidationError as exc:
        raise LLMError(
            FailureKind.MALFORMED_OUTPUT,
            f"the reply is not a valid {schema.__name__}: {exc.error_count()} problem(s)",
        ) from None


def within_limit(result: CompletionResult, limit: int) -> CompletionResult:
    """The reply, unless it is longer than `limit` UTF-8 bytes: then it is malformed output
    (retried like any; its cost is booked by the caller, as for any failed parse)."""
    text = result.text
    if len(text) * 4 <= limit:  # no reply of this many characters can be over
        return result
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return result
    raise LLMError(
        FailureKind.MALFORMED_OUTPUT,
        f"the reply is {size:,} bytes; at most {limit:,} are taken "
        "(raise models.settings.<model>.max_reply_bytes if it must be longer)",
    )


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def claimed_territory(text: str) -> Territory | None:
    """The territory an agent asks for in its reply (`"territory": "…"`), if any.

    It is only ever used to raise a decision (see `classify`); a claim to lower one is ignored.
    """
    if "territory" not in text and "\\u" not in text:
        return None  # no such key, not even \u-escaped: skip parsing the whole reply
    try:
        data = json.loads(_strip_fences(text))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return Territory(str(data.get("territory", "")))
    except ValueError:
        return None


def _strip_fences(text: str) -> str:
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return body


def clean(reply: M) -> M:
    """Sanitize every string a model wrote before it is stored or shown.

    A reply nested deeper than a production file may be is malformed output: stored in an
    event, a few levels more would make the log unreadable (JSON is read back with a depth
    limit), so it never gets that far. A reply with nothing to clean (nearly all of them) is
    returned as it is, after one walk that checks both.
    """
    data = reply.model_dump(mode="json")
    verdict = tree_is_clean(data, MAX_NESTING)
    if verdict is None:
        where = too_deep(data) or ()
        path = ".".join(str(part) for part in where)
        raise LLMError(
            FailureKind.MALFORMED_OUTPUT,
            f"the reply nests deeper than {MAX_NESTING} levels (at {path})",
        )
    if verdict:
        return reply
    return type(reply).model_validate(sanitize_tree(data))
