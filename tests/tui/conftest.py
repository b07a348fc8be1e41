"""TUI test fixtures: a private config folder, quick productions, and the engine harness."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from podium.attach import StoreFollower
from podium.domain.escalation import Escalation
from podium.domain.events import EscalationOpened, Event
from podium.domain.production import ProductionSpec
from podium.domain.state import ProductionView
from podium.engine.engine import Engine
from podium.seam.protocol import ProductionSource
from podium.seam.sources import AttachedSource, InProcessSource
from podium.store import EventStore
from podium.tui.app import PodiumApp
from podium.tui.source import StaticSource

from ..engine.harness import Script, ScriptedGateway

SIZE = (160, 48)
BASE_TS = 1_700_000_000.0  # every snapshot event happens at this instant…
CLOCK = BASE_TS + 754.0  # …and the snapshot's "now" is 12m34s later


@pytest.fixture(autouse=True)
def _private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads or writes the user's real config file."""
    folder = tmp_path / "config"
    monkeypatch.setenv("PODIUM_CONFIG_DIR", str(folder))
    yield folder


def make_app(source: ProductionSource | Engine | StoreFollower, **options: Any) -> PodiumApp:
    """The app on a source; an engine or a follower is wired in as the CLI wires it."""
    options.setdefault("cursor_blink", False)
    options.setdefault("db_label", "test.db")
    if isinstance(source, Engine):
        source = InProcessSource(source, options.get("db_path") or Path(options["db_label"]))
    elif isinstance(source, StoreFollower):
        source = AttachedSource(source)
    return PodiumApp(source, **options)


async def open_engine(
    spec: ProductionSpec, db: Path, script: Script | None = None
) -> tuple[Engine, EventStore]:
    """An engine as `podium run` opens it for the TUI: it stays alive while it waits."""
    store = await EventStore.open(db)
    options: dict[str, Any] = {"keep_alive": True, "headless": False}
    if script is not None:
        options["gateway"] = ScriptedGateway(script)
    engine = await Engine.open(store, spec=spec, **options)
    return engine, store


def screen_text(app: App[Any]) -> str:
    """The screen as plain text, as a user reads it."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        legacy_windows=False,
        color_system=None,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return console.export_text()


async def until(
    pilot: Pilot[Any], check: Callable[[], bool], what: str, patience: float = 15.0
) -> None:
    """Wait (without asserting timings) until `check` holds; say what was awaited if not."""
    deadline = time.monotonic() + patience
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)


async def until_shown(pilot: Pilot[Any], text: str, patience: float = 15.0) -> None:
    await until(pilot, lambda: text in screen_text(pilot.app), f"{text!r} on screen", patience)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    keys = {" ": "space", "\n": "enter", ".": "full_stop", ",": "comma", ":": "colon"}
    await pilot.press(*(keys.get(c, c) for c in text))


def frozen_view(events: list[Event]) -> ProductionView:
    """Fold a log as if everything happened at one instant: ages and times never drift."""
    view = ProductionView()
    for event in events:
        payload = event.payload
        if isinstance(payload, EscalationOpened):
            escalation: Escalation = payload.escalation.model_copy(update={"opened_at": BASE_TS})
            payload = EscalationOpened(escalation=escalation)
        view.apply(Event(seq=event.seq, ts=BASE_TS, payload=payload))
    return view


def read_events(db: Path) -> list[Event]:
    async def read() -> list[Event]:
        store = await EventStore.open(db, create=False, read_only=True)
        try:
            return [e async for e in store.iter_events()]
        finally:
            await store.close()

    return asyncio.run(read())


def quick(spec: ProductionSpec) -> ProductionSpec:
    """The same production with an instant rehearsal model and one task at a time, so the
    log (and every snapshot made from it) is the same on every run."""
    rehearsal = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e9, "latency_by_kind": {}}
    )
    models = spec.models.model_copy(update={"rehearsal": rehearsal})
    constraints = spec.constraints.model_copy(update={"max_concurrency": 1})
    return spec.model_copy(update={"models": models, "constraints": constraints})


async def last_light_waiting(db: Path) -> None:
    """Last Light after the plan and treatment are approved and the outline's alternatives
    are drafted: a tree under way, a settled debate, reviews, and an inbox with options."""
    from podium.domain.escalation import (
        ApproveCommand,
        EscalationKind,
        RequestAlternativesCommand,
    )
    from podium.loader import read_production

    from ..conftest import SAMPLES

    spec = quick(read_production(SAMPLES / "last_light.toml"))
    store = await EventStore.open(db)
    engine = await Engine.open(store, spec=spec, headless=True)
    try:
        await engine.run()
        gate = None
        for _ in range(4):  # the plan, the treatment's question, its milestone: until a gate
            for escalation in engine.view.open_escalations():
                await engine.apply_offline(
                    ApproveCommand(id=f"ok-{escalation.id}", escalation_id=escalation.id)
                )
            await engine.run()
            gate = next(
                (
                    e
                    for e in engine.view.open_escalations()
                    if e.kind is EscalationKind.APPROVAL_GATE
                ),
                None,
            )
            if gate is not None:
                break
        assert gate is not None
        await engine.apply_offline(
            RequestAlternativesCommand(id="alternatives", escalation_id=gate.id, count=3)
        )
        await engine.run()
    finally:
        await store.close()


async def stalled_debate(db: Path) -> None:
    """A scene the writer and the director cannot agree on: the debate stalls and the
    conflict comes to the inbox with both positions and the judge's recommendation."""
    from podium.domain.artifacts import Critique, Position

    from ..engine.harness import crew, production, tasks

    def answer(request: Any) -> Any:
        if request.purpose == "review":
            return Critique(
                verdict="revise",
                summary="The keeper explains his grief; let the lamp carry it instead.",
                issues=["cut the speech at the rail", "keep the logbook beat"],
            )
        if request.purpose == "debate":
            if request.agent_id == "w":
                return Position(
                    stance="Keep the speech: it is the only time Elias says it aloud.",
                    reasoning="Without it the ending has nothing to release.",
                )
            return Position(
                stance="Cut it: the lamp turning in an empty room already says it.",
                reasoning="The vision asks for tasks instead of speeches.",
            )
        return None

    spec = production(
        crew(
            ("prod", "producer"),
            ("dir", "director"),
            ("w", "writer"),
            ("dp", "director_of_photography"),
        )
        + tasks(
            {
                "id": "scene-07",
                "title": "Scene 7: The rail",
                "kind": "scene",
                "assignee": "w",
                "reviewers": ["dir"],
                "phase": "screenplay",
            },
            {"id": "look", "title": "Look book", "kind": "look", "assignee": "dp"},
        )
        + '[planner]\nmode = "explicit"\n'
        + "[constraints]\nmax_concurrency = 1\nreview_rounds = 1\ndebate_rounds = 2\n"
    )
    store = await EventStore.open(db)
    script = Script(answer=answer, ruling_decided=False, delay_s=0.0)
    engine = await Engine.open(store, spec=spec, gateway=ScriptedGateway(script))
    try:
        await engine.run()
    finally:
        await store.close()


# -- the waiting Last Light, shared by the snapshot and readability tests --------------------


@pytest.fixture(scope="session")
def waiting_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("snapshots") / "last_light.db"
    asyncio.run(last_light_waiting(db))
    return db


@pytest.fixture(scope="session")
def view(waiting_db: Path) -> ProductionView:
    return frozen_view(read_events(waiting_db))


def app_for(view: ProductionView, theme: str = "podium-dark") -> PodiumApp:
    return PodiumApp(
        StaticSource(view),
        db_label="last_light.db",
        theme=theme,
        clock=lambda: CLOCK,
        cursor_blink=False,
        remember=False,
    )
