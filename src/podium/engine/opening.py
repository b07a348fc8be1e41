"""Opening a production and resuming it: the view read from its log (or the production
started from its file), and what a crash or a stop left half done put right."""

from __future__ import annotations

from podium import __version__
from podium.domain.debate import STOPPED_MID_DEBATE, DebateState
from podium.domain.escalation import Command
from podium.domain.events import (
    AgentState,
    AgentStateChanged,
    DebateClosed,
    ProductionOpened,
    TaskStateChanged,
)
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.engine.port import EnginePort
from podium.store import EventStore
from podium.store.replay import replay


async def opened_view(
    store: EventStore,
    spec: ProductionSpec | None,
    source: str,
    seed: int | None,
    model_override: str | None,
) -> ProductionView:
    """The production's view from its log; from `spec` (its opening event stored) when the log
    is empty."""
    view = ProductionView()
    await replay(store, view)
    if view.spec is None:
        if spec is None:
            raise ValueError("this database holds no production yet")
        rehearsal_seed = spec.models.rehearsal.seed if seed is None else seed
        opened = ProductionOpened(
            spec=spec.model_dump(mode="json"),
            source=source,
            podium_version=__version__,
            seed=rehearsal_seed,
            model_override=model_override,
        )
        view.mark(*store.emit(opened))
        view.apply_payload(opened, view.last_ts or 0.0)
        await store.set_meta("title", spec.production.title)
        await store.set_meta("format", spec.production.format.value)
        await store.flush()
    return view


def recover(engine: EnginePort) -> list[Command]:
    """After a crash or a stop: what was running is ready again, every agent idle, an open
    debate closed as stalled; returns the commands recorded and not yet applied."""
    for task_id, record in engine.view.tasks.items():
        if record.state is TaskState.RUNNING:
            engine.emit(
                TaskStateChanged(
                    task_id=task_id,
                    state=TaskState.READY,
                    reason="interrupted; resumed",
                    interrupted=True,
                )
            )
    for agent_id, agent in engine.view.agents.items():
        if agent.state is not AgentState.IDLE:
            engine.emit(AgentStateChanged(agent_id=agent_id, state=AgentState.IDLE))
    for debate in engine.view.debates.values():
        if debate.state is DebateState.OPEN:  # the run crashed mid-debate
            engine.emit(
                DebateClosed(
                    debate_id=debate.id,
                    state=DebateState.STALLED,
                    reason=STOPPED_MID_DEBATE,
                )
            )
    return [c.command for c in engine.view.commands.values() if c.status == "recorded"]
