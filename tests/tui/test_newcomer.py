"""The conductor's screen for a newcomer at 80×24 (issue 19 §1–4, 6, 9, 10): the footer's global
keys, the header's labels, notifications, dialogs, a completed production, the budget, help
and terminals without colours or UTF-8."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, Label, RadioSet, TextArea

from podium.attach import StoreFollower
from podium.config import config_path, load_config
from podium.domain.artifacts import Content, Prose
from podium.domain.events import ProductionState
from podium.domain.production import Constraints
from podium.domain.state import ProductionView
from podium.engine.engine import Engine
from podium.store import EventStore
from podium.tui.app import one_line
from podium.tui.ascii import AsciiFilter, ascii_terminal, to_ascii
from podium.tui.screens.clarify_vision import ClarifyVisionScreen
from podium.tui.screens.help import HelpScreen
from podium.tui.screens.override import OverrideScreen, human_text
from podium.tui.source import StaticSource
from podium.tui.themes import ANSI_THEME, DEFAULT_THEME, terminal_theme
from podium.tui.widgets.footer import footer_bindings
from podium.tui.widgets.status_bar import budget_text

from ..engine.harness import Script, ScriptedGateway, crew, production, tasks
from .conftest import app_for, make_app, screen_text, until, until_shown

SMALL = (80, 24)


def notes(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


# -- §1 the header keeps its labels; the footer's global keys come first --------------------------


async def test_at_80x24_the_header_keeps_the_words_phase_and_health(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        second = screen_text(app).splitlines()[1]
        assert "phase development" in second and "health ● guide" in second, second
        assert "$0.00/$6.00" in second and "7/26" in second


def test_the_footer_lists_help_quit_and_commands_before_the_panes_keys(
    view: ProductionView,
) -> None:
    from textual.binding import Binding

    pane = [
        (Binding("a", "approve", "approve"), True, ""),
        (Binding("o", "o", "override"), True, ""),
    ]
    app_keys = [
        (Binding("q", "quit", "quit", id="quit"), True, ""),
        (Binding("question_mark", "help", "help", id="help"), True, ""),
        (Binding("colon", "command_palette", "commands", id="command_palette"), True, ""),
        (Binding("ctrl+p", "command_palette", "commands", id="command_palette"), True, ""),
        (Binding("t", "cycle_theme", "theme", id="theme"), True, ""),
    ]
    shown = [b.description for b, _, _ in footer_bindings(pane + app_keys)]
    assert shown == ["help", "quit", "commands", "approve", "override", "theme"]


# -- §2 notifications ---------------------------------------------------------------------------


def test_a_long_list_of_ids_in_a_notification_becomes_its_count_and_where_it_is() -> None:
    stale = ", ".join(f"scene-{n:02d}" for n in range(17))
    line = one_line(f"vision v2: tone amended; stale: {stale}", "clarify vision")
    assert line == "clarify vision: vision v2: tone amended; stale: 17 (↺ in the task tree)"
    assert "\n" not in one_line("two\nlines", "a title")


async def test_notifications_are_short_one_line_and_wait_while_a_dialog_is_open(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.pause()
        app.notify("approved")
        await pilot.pause()
        [toast] = list(app._notifications)
        assert toast.timeout <= 3
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ClarifyVisionScreen), "the dialog")
        app.notify("a result that arrives while the dialog is open")
        await pilot.pause(0.2)
        assert "arrives while" not in screen_text(app)  # nothing covers the dialog
        assert not any("arrives while" in m for m in notes(app))
        await pilot.press("escape")
        await until_shown(pilot, "a result that arrives while the dialog is open")
        # one line, at the top right: the inbox (bottom right) stays uncovered
        row = next(
            i for i, line in enumerate(screen_text(app).splitlines()) if "arrives while" in line
        )
        assert row < 12


# -- §3 dialogs ---------------------------------------------------------------------------------


async def test_override_at_80x24_shows_the_task_labels_its_fields_and_keeps_what_is_typed(
    view: ProductionView,
) -> None:
    content: Content = Prose(text="INT. LAMP ROOM - NIGHT\n\nElias trims the wick.")
    screen = OverrideScreen(
        task_id="scene-02",
        title="Scene 2: The lamp room",
        excerpt="Elias trims the wick.",
        content=content,
    )
    app = app_for(view)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        app.push_screen(screen)
        await until(pilot, lambda: app.screen is screen, "the dialog")
        await pilot.pause()
        shown = screen_text(app)
        for text in ("scene-02: Scene 2: The lamp room", "Current output", "How it applies"):
            assert text in shown, shown
        assert "What the agent must do differently" in shown  # the placeholder
        assert "Override (ctrl+s)" in shown
        area = screen.query_one("#override-text", TextArea)
        assert screen.focused is area
        assert not screen.query_one(RadioSet).has_focus
        # Tab goes down to the buttons; what is typed there goes to the text, not lost
        await pilot.press("tab")
        assert isinstance(screen.focused, Button)
        await pilot.press("h", "i")
        assert screen.focused is area and area.text == "hi"
        # the radio row comes before the text in Tab order (top to bottom)
        await pilot.press("shift+tab")
        assert screen.focused is screen.query_one(RadioSet)
        await pilot.press("down", "enter")  # Replacement
        await pilot.pause()
        assert area.text == human_text(content)  # prefilled, in its human format
        assert "Replacement text" in str(screen.query_one("#override-label", Label).content)
        await pilot.press("up", "enter")  # back to a direction: what was typed is back
        await pilot.pause()
        assert area.text == "hi"


async def test_clarify_vision_at_80x24_shows_the_stale_tasks_reason_and_rerun_above_the_buttons(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ClarifyVisionScreen), "the dialog")
        await pilot.pause()
        shown = screen_text(app)
        for text in ("task(s) become stale", "↺ treatment", "Re-run the stale tasks", "Reason"):
            assert text in shown, shown
        assert "more (after the change: ↺ in the task tree)" in shown
        lines = shown.splitlines()
        row = {
            what: next(i for i, line in enumerate(lines) if what in line)
            for what in ("become stale", "Re-run the stale", "Reason", "Amend the vision")
        }
        assert row["become stale"] < row["Re-run the stale"] < row["Reason"]
        assert row["Reason"] < row["Amend the vision"]
        # Tab order: the text, the re-run box, the reason, then the buttons
        order = []
        for _ in range(4):
            await pilot.press("tab")
            focused = app.screen.focused
            order.append(focused.id if focused is not None else None)
        assert order == ["vision-rerun", "vision-reason", "confirm", "cancel"]
        assert isinstance(app.screen.query_one("#vision-reason"), Input)


# -- §4 a detached production that completes ---------------------------------------------------


async def test_an_attached_screen_shows_a_completed_production_as_completed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    store = await EventStore.open(db)
    spec = production(
        crew(("w", "writer"))
        + tasks({"id": "look", "title": "Look", "kind": "look", "assignee": "w"})
        + '[planner]\nmode = "explicit"\n'
    )
    engine = await Engine.open(store, spec=spec, gateway=ScriptedGateway(Script()), headless=True)
    try:
        assert await engine.run() is ProductionState.COMPLETED
    finally:
        await store.close()
    follower = await StoreFollower.open(db)  # no engine holds the lock: it finished
    app = make_app(follower, db_label=str(db), db_path=db)
    try:
        async with app.run_test(size=SMALL, notifications=True) as pilot:
            await until(pilot, lambda: follower.engine_lost is not None, "the look at the lock")
            await pilot.pause(1.2)  # the screen has seen it (it looks each second)
            await until_shown(pilot, "✓ completed")
            shown = screen_text(app)
            assert "NO ENGINE" not in shown and "resume" not in shown, shown
            assert "e exports" in shown.splitlines()[0]
            await pilot.pause(0.3)
            said = " ".join(notes(app))
            assert "No engine" not in said and "resume" not in said, said
            assert "completed" in said and "e exports" in said, said
    finally:
        await follower.close()


# -- §6 the binding budget -------------------------------------------------------------------------


def test_the_budget_shown_is_the_one_nearer_its_limit() -> None:
    view = ProductionView()
    view.constraints = Constraints(budget_usd=6.0, budget_tokens=10_000)
    view.input_tokens, view.output_tokens, view.cost_usd = 6_000, 3_600, 0.0
    assert budget_text(view) == "9.6k / 10.0k tok (96%)"  # as `podium status`: 96% used
    view.cost_usd = 5.9
    view.input_tokens, view.output_tokens = 100, 0
    assert budget_text(view) == "$5.90 / $6.00 (98%)"
    view.constraints = Constraints(budget_tokens=10_000)
    assert budget_text(view, compact=True) == "100/10.0k tok (1%)"


# -- §9 help ---------------------------------------------------------------------------------------


async def test_help_at_80x24_shows_whole_ids_and_the_config_files_path(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.pause()
        assert "The config file:" in screen_text(app)  # (a long path wraps on screen)
        assert isinstance(app.screen, HelpScreen)
        assert str(config_path()) in app.screen._intro().plain
        assert len(app.screen.query("#help-keys")) == 1  # one table, scrolled as one
        seen = ""
        for _ in range(40):  # every id, whole, somewhere while scrolling down
            seen += screen_text(app)
            await pilot.press("pagedown")
        for ident in ("request_alternatives", "adjust_constraints", "command_palette", "retry"):
            assert ident in seen, ident
        assert "request_alterna…" not in seen and "command_p…" not in seen


async def test_t_saves_the_theme_once_a_broken_config_is_fixed(_private_config: Path) -> None:
    _private_config.mkdir(parents=True)
    config_path().write_text("theme = [broken\n")
    app = make_app(StaticSource(ProductionView()))
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await until(pilot, lambda: any("Not saving" in m for m in notes(app)), "the refusal")
        config_path().write_text('[keymap]\napprove = "A"\n')  # fixed meanwhile
        await pilot.press("t")
        await until(pilot, lambda: load_config().config.theme == app.theme, "the theme saved")
    assert load_config().config.keymap == {"approve": "A"}  # the fixed file is kept


# -- §10 terminals -------------------------------------------------------------------------------


def test_a_16_colour_terminal_starts_in_the_16_colour_theme() -> None:
    assert terminal_theme({"TERM": "xterm-16color"}) == ANSI_THEME
    assert terminal_theme({"TERM": "screen"}) == ANSI_THEME
    assert terminal_theme({"TERM": "linux"}) == ANSI_THEME
    assert terminal_theme({"TERM": "xterm-256color"}) == DEFAULT_THEME
    assert terminal_theme({"TERM": "screen", "COLORTERM": "truecolor"}) == DEFAULT_THEME
    app = make_app(StaticSource(ProductionView()), default_theme=ANSI_THEME)
    assert app.theme == ANSI_THEME


def test_a_locale_that_is_not_utf8_asks_for_ascii() -> None:
    assert ascii_terminal({"LANG": "C"})
    assert ascii_terminal({"LANG": "C", "LC_CTYPE": "C.UTF-8"})  # Python's own coercion
    assert ascii_terminal({"LANG": "de_DE.ISO-8859-1"})
    assert not ascii_terminal({"LANG": "en_GB.UTF-8"})
    assert not ascii_terminal({"LANG": "C", "LC_ALL": "en_US.utf8"})
    assert to_ascii("╭─ ✓ ✗ ⏸ ▶ ◆ ▁▃▅█ ─╮") == "+- + x = > * _-=# -+"
    assert to_ascii("✓") != to_ascii("▼")  # done and an open phase stay apart
    assert to_ascii("café 漢") == "cafe ??"  # every cell keeps its width


async def test_an_ascii_screen_at_80x24_has_no_glyph_a_c_locale_cannot_show(
    view: ProductionView,
) -> None:
    app = app_for(view)
    app._filters.append(AsciiFilter())  # as PodiumApp(ascii=True) does
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert shown.isascii(), [c for c in shown if not c.isascii()][:10]
        assert "+- Tasks -" in shown and "phase development" in shown
