"""Keys the audit found silent or missing: ctrl+p, the inbox keys from other panes, export,
enter on an idle agent, and a theme picked from the palette being remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.command import CommandPalette

from podium.config import config_path, load_config
from podium.domain.events import ProductionOpened, TasksPlanned
from podium.domain.state import ProductionView
from podium.engine.engine import Engine
from podium.seam.sources import export_deliverables
from podium.store import EventStore
from podium.tui.app import PodiumApp
from podium.tui.screens.agent_detail import AgentDetailScreen
from podium.tui.screens.export import ExportScreen
from podium.tui.source import StaticSource
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.debate_transcript import DebateTranscript

from ..engine.harness import Script, ScriptedGateway, crew, production, tasks
from .conftest import SIZE, frozen_view, make_app, until, until_shown


def exporting(view: ProductionView, db: Path) -> StaticSource:
    """A read-only look at the production in `db` that exports it as the CLI's sources do."""
    return StaticSource(view, exporter=lambda folder: export_deliverables(db, folder))


def notified(app: PodiumApp, text: str) -> bool:
    """Whether a notification says this (a toast wraps its lines, so the screen may not)."""
    return any(text in n.message for n in app._notifications)


def gated() -> str:
    return (
        crew(("prod", "producer"), ("dir", "director"), ("w", "writer"))
        + tasks(
            {
                "id": "treat",
                "title": "Treatment",
                "kind": "treatment",
                "assignee": "w",
                "gate": "treatment",
            },
            {
                "id": "scene1",
                "title": "Scene 1",
                "kind": "scene",
                "assignee": "w",
                "depends_on": ["treat"],
            },
        )
        + '[planner]\nmode = "explicit"\n'
    )


async def waiting_on_the_milestone(db: Path) -> None:
    """A production that has written its treatment and waits on the Orchestrator."""
    store = await EventStore.open(db)
    engine = await Engine.open(
        store, spec=production(gated()), gateway=ScriptedGateway(Script()), headless=True
    )
    try:
        await engine.run()
    finally:
        await store.close()


async def folded(db: Path) -> ProductionView:
    store = await EventStore.open(db, create=False, read_only=True)
    try:
        return frozen_view([e async for e in store.iter_events()])
    finally:
        await store.close()


def small_view() -> ProductionView:
    spec = production(gated())
    view = ProductionView()
    view.apply_payload(ProductionOpened(spec=spec.model_dump(mode="json")), 0.0)
    view.apply_payload(TasksPlanned(tasks=list(spec.tasks)), 0.0)
    return view


async def test_ctrl_p_opens_the_command_palette_as_colon_does() -> None:
    app = make_app(StaticSource(small_view()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app), "the palette on ctrl+p")
        await pilot.press("escape")
        await until(pilot, lambda: not CommandPalette.is_open(app), "the palette to close")
        await pilot.press("colon")
        await until(pilot, lambda: CommandPalette.is_open(app), "the palette on :")


async def test_a_theme_chosen_in_the_palette_is_remembered(_private_config: Path) -> None:
    app = make_app(StaticSource(small_view()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app), "the palette")
        await pilot.press(*"theme: podium-light")
        await until_shown(pilot, "Theme: podium-light")
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "podium-light", "the light theme")
        await until(pilot, lambda: config_path().exists(), "the config file")
        await until(pilot, lambda: load_config().config.theme == "podium-light", "it saved")
        app.theme = "podium-ansi"  # as Textual's own theme command sets it
        await until(pilot, lambda: load_config().config.theme == "podium-ansi", "saved again")


async def test_inbox_keys_from_the_agents_pane_act_on_the_highlighted_inbox_item(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    app = make_app(StaticSource(await folded(db)))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_shown(pilot, "Milestone treatment")
        app.query_one(AgentActivity).focus()
        await pilot.press("a")
        # The static source refuses every command, so the refusal shows the key reached it.
        await until(pilot, lambda: notified(app, "(the inbox item): Milestone"), "the target")
        await until(pilot, lambda: notified(app, "read-only view"), "the command to be sent")
        app.query_one(DebateTranscript).focus()
        await pilot.press("s")
        await until(pilot, lambda: notified(app, "skip (the inbox item)"), "skip from transcript")


async def test_inbox_keys_with_an_empty_inbox_say_what_to_select() -> None:
    app = make_app(StaticSource(small_view()))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.query_one(AgentActivity).focus()
        for key in ("a", "o", "n", "r", "s"):
            await pilot.press(key)
        await until(pilot, lambda: notified(app, "Nothing waits in the inbox to retry"), "why")
        assert notified(app, "act on the task under the cursor")


async def test_enter_on_an_idle_agent_shows_what_it_wrote(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    view = await folded(db)
    writer = view.agents["w"]
    assert writer.task_id is None and writer.output_tokens > 0
    app = make_app(StaticSource(view))
    async with app.run_test(size=SIZE) as pilot:
        agents = app.query_one(AgentActivity)
        agents.focus()
        agents.highlighted = list(view.agents).index("w")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AgentDetailScreen), "the agent")
        await until_shown(pilot, "what it made")
        await until_shown(pilot, "treat-v1")
        await until_shown(pilot, "tokens ·")


async def test_e_exports_the_deliverables_beside_the_database_in_a_worker(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    app = make_app(exporting(await folded(db), db), db_path=db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        await until_shown(pilot, str(tmp_path / "p-export"))
        await pilot.press("enter")
        await until(pilot, lambda: notified(app, "Wrote "), "the export to finish", 60)
        assert notified(app, str(tmp_path / "p-export"))
    written = {p.name for p in (tmp_path / "p-export").iterdir()}
    assert {"README.md", "bible.md", "decisions.jsonl"} <= written
    # the production waits on its milestone: exported as it stands, and marked so
    assert "**Not final:**" in (tmp_path / "p-export" / "README.md").read_text()


async def test_export_says_why_it_failed(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    (tmp_path / "taken").write_text("a file, not a folder")
    app = make_app(exporting(await folded(db), db), db_path=db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        field: Any = app.screen.query_one("#export-folder")
        field.value = "taken"
        await pilot.press("enter")
        await until_shown(pilot, "is a file, not a")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ExportScreen), "cancelled")


async def test_export_without_a_database_says_so() -> None:
    app = make_app(StaticSource(small_view()))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await until(pilot, lambda: notified(app, "no database"), "the reason")


async def test_a_dialogs_buttons_do_what_their_keys_do(tmp_path: Path) -> None:
    """Clicked, not keyed: Cancel closes without applying, the confirm button applies."""
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    app = make_app(exporting(await folded(db), db), db_path=db)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        await pilot.click("#cancel")
        await until(pilot, lambda: not isinstance(app.screen, ExportScreen), "cancelled")
        assert not (tmp_path / "p-export").exists()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ExportScreen), "the export dialog")
        await pilot.click("#confirm")
        await until(pilot, lambda: notified(app, "Wrote "), "the export to finish", 60)
    assert (tmp_path / "p-export" / "bible.md").exists()
