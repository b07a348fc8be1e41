"""The engine: one asyncio service that owns a production while it runs.

It publishes events (through the store, folded into `view`) and accepts commands. It knows
nothing about screens. A `TaskGroup` owns every task it starts; limits come from the live
constraints; a human command is durable before it takes effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from podium.domain.escalation import (
    DEFAULT_PRIORITY,
    KIND_ACTIONS,
    Action,
    Command,
    Escalation,
    EscalationKind,
)
from podium.domain.events import (
    CommandRecorded,
    CommandRejected,
    EscalationOpened,
    Payload,
    ProductionState,
    ProductionStateChanged,
    RunStarted,
    RunStopped,
    StaleCause,
    TaskSettled,
    TaskStateChanged,
)
from podium.domain.policy import Territory
from podium.domain.production import Constraints, ProductionSpec
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskState, can_move
from podium.engine.agent_runner import AgentRunner
from podium.engine.auto_approve import AutoApprove, StandingInstruction
from podium.engine.budget import Ledger
from podium.engine.calls import CallPath
from podium.engine.commands import CommandHandler
from podium.engine.errors import TaskFailure
from podium.engine.illustration import Illustrator
from podium.engine.limiter import CallLimiter, limits_of
from podium.engine.lineage import Lineage
from podium.engine.opening import opened_view, recover
from podium.engine.outcome import Outcome
from podium.engine.planner import install_plan
from podium.engine.prompts import needs_model_map
from podium.engine.scheduler import Scheduler
from podium.engine.verdicts import Verdicts
from podium.engine.warming import warm_models
from podium.llm.context_windows import model_map
from podium.llm.gateway import Gateway
from podium.llm.types import CompletionRequest, CompletionResult
from podium.seam.protocol import CommandResult
from podium.store import EventStore, StoreError

log = logging.getLogger("podium.engine")

Listener = Callable[[int, Payload], None]
T = TypeVar("T")

COMMAND_POLL_S = 0.25
CANCEL_GRACE_S = 10.0  # how long a stop waits for cancelled work to end

__all__ = ["AutoApprove", "CommandRejectedError", "Engine"]


class CommandRejectedError(Exception):
    pass


class Engine:
    def __init__(
        self,
        store: EventStore,
        gateway: Gateway,
        view: ProductionView,
        *,
        auto_approve: AutoApprove = AutoApprove.NONE,
        keep_alive: bool = False,
        headless: bool = True,
        exit_when_done: bool = False,
    ) -> None:
        if view.spec is None:
            raise ValueError("the production has not been opened")
        self.store = store
        self.gateway = gateway
        self.view = view
        self.spec: ProductionSpec = view.spec
        self.auto_approve = auto_approve
        self.keep_alive = keep_alive
        self.exit_when_done = exit_when_done  # a background engine ends once all is done
        self.headless = headless
        self.ledger = Ledger(view)
        self.scheduler = Scheduler(view, self.model_for)
        self.calls = CallLimiter(limits_of(view))  # every model call holds one of its slots
        self.standing = StandingInstruction(
            self, auto_approve, lambda: [c for c, _ in self._commands]
        )
        self.outcome = Outcome(view, self.scheduler, self.standing)
        self._listeners: list[Listener] = []
        self._wake = asyncio.Event()
        self._commands: list[tuple[Command, asyncio.Future[CommandResult] | None]] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._stopping: str | None = None
        self._group: asyncio.TaskGroup | None = None
        # The collaborators see the engine through its port (`EnginePort`), never the whole
        # of it; the engine composes them and answers `call` and `fail` through two of them.
        self.caller = CallPath(self, store, gateway, self.ledger)
        self.verdicts = Verdicts(self)
        images = store.path.parent / f"{store.path.stem}-images"
        self.runner = AgentRunner(
            self, self.caller, Illustrator(self, gateway, images), self.verdicts
        )
        self.handler = CommandHandler(self)
        self.lineage = Lineage(self)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        store: EventStore,
        *,
        spec: ProductionSpec | None = None,
        source: str = "",
        seed: int | None = None,
        model_override: str | None = None,
        **options: Any,
    ) -> Engine:
        """Load the production from its log, or start it from `spec` when the log is empty."""
        view = await opened_view(store, spec, source, seed, model_override)
        assert view.spec is not None
        settings = view.spec.models.rehearsal.model_copy(update={"seed": view.seed})
        gateway = options.pop("gateway", None) or Gateway(settings, view.spec.models.settings)
        engine = cls(store, gateway, view, **options)
        await engine._warm()
        return engine

    async def _warm(self) -> None:
        """What the run's first calls would otherwise pay for, done as the production opens:
        each model's backend made (the rehearsal model's modules imported, the provider worker
        started, litellm imported there in the background), and litellm's model map read in a
        thread for a model whose context window it gives."""
        models = {self.model_for(a) for a in self.view.agents} | {self.spec.models.default}
        warm = getattr(self.gateway, "warm", None)
        if callable(warm):
            warm(models)
        if needs_model_map(self.spec, models):
            await asyncio.to_thread(model_map)

    # -- events ----------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, payload: Payload) -> int:
        """Store the event and fold exactly what was stored, its timestamp included: the live
        view is the replay of the log (one path, one clock)."""
        seq, ts = self.store.emit(payload)
        view = self.view
        view.mark(seq, ts)
        view.apply_payload(payload, ts)
        for listener in self._listeners:
            listener(seq, payload)
        return seq

    def wake(self) -> None:
        self._wake.set()

    @property
    def limits(self) -> Constraints:
        assert self.view.constraints is not None
        return self.view.constraints

    def limits_changed(self) -> None:
        """The constraints changed (`ConstraintsAdjusted`): resize the call limiter and the
        task slots now; calls in flight keep their slots, the next calls see the new limits."""
        self.calls.resize(limits_of(self.view))
        self.wake()

    def call(
        self,
        request_for: Callable[[int], CompletionRequest],
        record: TaskRecord,
        agent_id: str,
        parse: Callable[[CompletionResult], T],
    ) -> Coroutine[Any, Any, tuple[CompletionRequest, CompletionResult, T]]:
        """One logical model call, through the call path (`podium.engine.calls`): its
        coroutine itself, awaited by the caller (no coroutine of the engine's around it)."""
        return self.caller.call(request_for, record, agent_id, parse)

    def fail(self, record: TaskRecord, failure: TaskFailure) -> None:
        """A task failed: its `on_failure` decides (`podium.engine.verdicts`)."""
        self.verdicts.fail(record, failure)

    def deps_settled(self, task_id: str) -> bool:
        return self.scheduler.deps_settled(task_id)

    def model_for(self, agent_id: str) -> str:
        if self.view.model_override:
            return self.view.model_override
        record = self.view.agents.get(agent_id)
        if record is None:
            return self.spec.models.default
        return record.spec.model or self.spec.models.default

    # -- task state --------------------------------------------------------------------------

    def set_task_state(
        self,
        task_id: str,
        state: TaskState,
        reason: str = "",
        *,
        attempt: int = 0,
        interrupted: bool = False,
        stale_cause: StaleCause | None = None,
        settled: TaskSettled | None = None,
    ) -> None:
        record = self.view.tasks[task_id]
        old = record.state
        if old is state and state is not TaskState.READY:
            return
        if old is not state and not can_move(old, state):
            raise RuntimeError(f"task {task_id}: {old.value} → {state.value} is not allowed")
        self.emit(
            settled  # done, with its territory, status and current version (`Verdicts.settle`)
            or TaskStateChanged(
                task_id=task_id,
                state=state,
                reason=reason,
                attempt=attempt,
                interrupted=interrupted,
                stale_cause=stale_cause,
            )
        )
        for dependent in self.scheduler.on_state(task_id, old, state):
            self._recheck(dependent)
        self.wake()

    def _recheck(self, task_id: str) -> None:
        record = self.view.tasks[task_id]
        if record.state is TaskState.PENDING and self.scheduler.deps_settled(task_id):
            self.set_task_state(task_id, TaskState.READY, "inputs ready")
        elif record.state is TaskState.READY and not self.scheduler.deps_settled(task_id):
            self.set_task_state(task_id, TaskState.PENDING, "an input is no longer settled")

    def promote_ready(self) -> None:
        for task_id in self.scheduler.promotable():
            self.set_task_state(task_id, TaskState.READY, "inputs ready")

    def plan_changed(self) -> None:
        self.scheduler.rebuild()
        self.promote_ready()
        self.wake()

    # -- escalations -----------------------------------------------------------------------

    def open_escalation(
        self,
        kind: EscalationKind,
        title: str,
        *,
        task_id: str | None = None,
        territory: Territory = Territory.APPROVAL_REQUIRED,
        **fields: Any,
    ) -> Escalation:
        fields.setdefault("priority", DEFAULT_PRIORITY[kind])
        fields.setdefault("actions", list(KIND_ACTIONS[kind]))
        fields.setdefault("task_ids", [task_id] if task_id else [])
        if territory is not Territory.COLLABORATIVE:
            fields["timeout_s"] = None  # approval-required items never time out
            fields["default_action"] = None
        elif fields.get("timeout_s") is None and self.spec.authority.collaborative_timeout_s:
            fields["timeout_s"] = self.spec.authority.collaborative_timeout_s
            fields.setdefault("default_action", Action.APPROVE)
        escalation = Escalation(
            id=f"e{len(self.view.escalations) + 1}",
            kind=kind,
            title=title,
            task_id=task_id,
            territory=territory,
            opened_at=time.time(),
            **fields,
        )
        self.emit(EscalationOpened(escalation=escalation))
        self.standing.apply(escalation)
        return escalation

    # -- commands --------------------------------------------------------------------------

    async def submit(self, command: Command) -> CommandResult:
        """Record a command durably, then have the main loop apply it; wait for the outcome."""
        known = self.view.commands.get(command.id)
        if known is not None and known.status != "recorded":
            return CommandResult(command.id, known.status == "applied", known.detail)
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        if known is None:
            await self._record(command)
        self._commands.append((command, future))
        self.wake()
        return await future

    async def apply_offline(self, command: Command) -> CommandResult:
        """Apply a command while no run is under way (`podium decide` on a stopped production)."""
        known = self.view.commands.get(command.id)
        if known is not None and known.status != "recorded":
            return CommandResult(command.id, known.status == "applied", known.detail)
        if known is None:
            await self._record(command)
        if command.action is Action.REQUEST_ALTERNATIVES:
            # Drafting needs a run: check it now, so a command that cannot apply says why.
            reason = self.handler.rejection(command)
            if reason is not None:
                self.emit(CommandRejected(command_id=command.id, reason=reason))
                await self.store.flush()
                return CommandResult(command.id, False, reason)
            return CommandResult(
                command.id, True, "recorded; the alternatives are drafted when the run resumes"
            )
        result = self.handler.apply(command)
        self.lineage.refresh()
        await self.store.flush()
        return result

    async def _record(self, command: Command) -> None:
        payload = CommandRecorded(command=command)
        event = await self.store.append_durable(payload)
        self.view.apply(event)
        for listener in self._listeners:
            listener(event.seq, payload)

    def enqueue(self, command: Command) -> None:
        """Queue a command the engine itself issues (auto-approve, timeouts)."""
        self._commands.append((command, None))
        self.wake()

    async def _drain_commands(self) -> None:
        while self._commands:
            command, future = self._commands.pop(0)
            if command.id not in self.view.commands:
                await self._record(command)
            record = self.view.commands[command.id]
            if record.status != "recorded":
                result = CommandResult(command.id, record.status == "applied", record.detail)
            else:
                result = self.handler.apply(command)
            if future is not None and not future.done():
                future.set_result(result)

    async def _poll_external(self) -> None:
        """Pick up commands other processes wrote to the store (`podium decide`)."""
        while True:
            await self._take_external()
            await asyncio.sleep(COMMAND_POLL_S)

    async def _take_external(self) -> None:
        try:
            pending = await self.store.pending_commands()
        except Exception:  # a busy database must not stop the crew
            log.exception("reading pending commands")
            pending = []
        for command in pending:
            if command.id not in self.view.commands:
                await self._record(command)
                self._commands.append((command, None))
            await self.store.mark_command_taken(command.id, self.view.last_seq)
            self.wake()

    # -- running ---------------------------------------------------------------------------

    def start_background(self, coro: Any) -> None:
        """Run side work (alternatives, timed retries) inside the engine's task group."""
        if self._group is None:
            coro.close()  # no run under way: the work is redone when the run resumes
            return
        task = self._group.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        self.wake()

    def _recover(self) -> None:
        """After a crash or a stop: what was running starts again; unapplied commands apply."""
        self._commands += [(command, None) for command in recover(self)]
        self.scheduler.rebuild()

    def _stand_on_waiting(self) -> None:
        """What waits from an earlier run gets this run's standing instruction, once each:
        after the Orchestrator's own recorded decisions are taken, which come first."""
        for escalation in self.view.open_escalations():
            self.standing.apply(escalation)

    async def run(self) -> ProductionState:
        """Run until the production completes, fails, waits on the Orchestrator, or stops."""
        return await self._run()

    async def _run(self) -> ProductionState:
        resumed = self.view.runs > 0
        # The validators a task's events use and its kinds' reply schemas, built before the
        # first task rather than by the first tasks, all waiting on the one loop (here, not at
        # open: the screen's first frame does not wait for it).
        warm_models(
            [r.spec.kind for r in self.view.tasks.values()] + [t.kind for t in self.spec.tasks]
        )
        self._recover()
        self.emit(RunStarted(pid=os.getpid(), resumed=resumed, headless=self.headless))
        self._set_state(ProductionState.RUNNING, "resumed" if resumed else "started")
        # The start is on disk before anything else (a database that cannot be written stops
        # the run here, said once), and commands recorded while no engine ran apply now, even
        # when the run ends at once.
        await self.store.flush()
        await self._take_external()
        self._stand_on_waiting()
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                poller = group.create_task(self._poll_external())
                try:
                    final = await self._main_loop(group)
                finally:
                    poller.cancel()
                    await self._cancel_all()
        except* StoreError as failed:  # the bare error, for the CLI to say in one line
            raise failed.exceptions[0] from None
        finally:
            self._group = None
        reason = self._stopping or final.value
        self.emit(RunStopped(reason=reason))
        await self.store.flush()
        return final

    async def _main_loop(self, group: asyncio.TaskGroup) -> ProductionState:
        if not self.view.planned:
            install_plan(self)
        self.promote_ready()
        while True:
            await self._drain_commands()
            if self._stopping is not None:
                if self.view.state is ProductionState.COMPLETED:
                    return ProductionState.COMPLETED  # nothing left to stop: it stays complete
                self._set_state(ProductionState.STOPPED, self._stopping)
                return ProductionState.STOPPED
            self.lineage.refresh()  # what changed may have made work stale, or ready again
            if not self.view.paused:
                for task_id in self.scheduler.pick(self.calls.limits):
                    self._tasks[task_id] = group.create_task(self._run_task(task_id))
            if not self._tasks and not self._background and not self._commands:
                outcome = self.outcome.state()
                if outcome is not ProductionState.RUNNING:
                    self._set_state(outcome, self.outcome.reason(outcome))
                    if (
                        not self.keep_alive
                        or outcome is ProductionState.FAILED
                        or (outcome is ProductionState.COMPLETED and self.exit_when_done)
                    ):
                        return outcome
            elif self.view.state is not ProductionState.RUNNING and not self.view.paused:
                self._set_state(ProductionState.RUNNING, "working")
            self._wake.clear()
            if self._commands:
                continue
            timeout = self.handler.next_timeout()
            if timeout is None:
                await self._wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self.handler.fire_timeouts()

    async def _run_task(self, task_id: str) -> None:
        try:
            await self.runner.run(task_id)
        except asyncio.CancelledError:
            record = self.view.tasks.get(task_id)
            if record is not None and record.state is TaskState.RUNNING:
                self.set_task_state(task_id, TaskState.READY, "interrupted", interrupted=True)
            raise
        except StoreError:
            raise  # the database failed, not the task: the run stops and says so once
        except Exception as exc:  # a bug in one task must not bring down the crew
            log.exception("task %s", task_id)
            self.verdicts.internal_failure(task_id, exc)
        finally:
            self._tasks.pop(task_id, None)
            self.scheduler.finished(task_id)
            self.wake()

    async def _cancel_all(self) -> None:
        """Cancel the crew's work and wait for it, at most CANCEL_GRACE_S: a task that does not
        end by then is named in the log with where it waits, and the run stops without it
        (what it did is in the log already; resume makes it again)."""
        pending = list(self._tasks.values()) + list(self._background)
        for task in pending:
            task.cancel()
        if not pending:
            return
        ended, stuck = await asyncio.wait(pending, timeout=CANCEL_GRACE_S)
        for task in ended:
            if not task.cancelled():
                task.exception()  # retrieved, as gather(return_exceptions=True) did
        for task in stuck:
            frames = "; ".join(f"{f.f_code.co_filename}:{f.f_lineno}" for f in task.get_stack())
            log.warning(
                "%s did not end within %.0f s of its cancel: %s", task, CANCEL_GRACE_S, frames
            )

    def _set_state(
        self, state: ProductionState, reason: str, *, paused: bool | None = None
    ) -> None:
        if self.view.state is state and self.view.state_reason == reason and paused is None:
            return
        self.emit(ProductionStateChanged(state=state, reason=reason, paused=paused))

    def set_paused(self, paused: bool) -> None:
        if paused:
            self._set_state(ProductionState.WAITING, "paused", paused=True)
        else:
            self._set_state(ProductionState.RUNNING, "resumed", paused=False)
        self.wake()

    def request_stop(self, reason: str = "stopped by the Orchestrator") -> None:
        self._stopping = reason
        self.wake()
