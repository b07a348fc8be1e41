"""The conductor's app: composes the screen, runs the engine in a worker, routes commands.

It touches the production only through a `ProductionSource` (`podium.seam`), so attaching to
an engine in another process is another source, not another app. One worker reads the
source's change stream and posts each change set to the conductor's screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker, WorkerFailed, WorkerState

from podium.config import Config, ConfigError, LoadedConfig, config_dir, load_config, save_config
from podium.domain.escalation import Command
from podium.domain.events import ProductionState
from podium.domain.tasks import TaskState
from podium.seam.protocol import ExportFailed, ProductionSource
from podium.seam.stream import ChangeStream
from podium.tui.ascii import AsciiFilter, ascii_terminal
from podium.tui.format import clip, flatten
from podium.tui.held_logs import logs_held
from podium.tui.messages import Changed
from podium.tui.screens.conductor import REFRESH_HZ, ConductorScreen
from podium.tui.themes import (
    DEFAULT_THEME,
    THEME_VARIABLES,
    ThemeSet,
    choose_theme,
    load_themes,
    terminal_theme,
)
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.escalation_inbox import EscalationInbox
from podium.tui.widgets.task_tree import TaskTree

if TYPE_CHECKING:
    from textual.command import Provider

    from podium.tui.screens.export import ExportRequest
    from podium.tui.screens.help import Section

log = logging.getLogger("podium.tui")


def _podium_commands() -> type[Provider]:
    """The command palette's provider, imported when the palette first opens."""
    from podium.tui.commands import PodiumCommands

    return PodiumCommands


class PodiumApp(App[ProductionState]):
    """The face of podium. Returns the production's state when it exits."""

    CSS_PATH = "app.tcss"
    TITLE = "podium"
    ENABLE_COMMAND_PALETTE = True
    NOTIFICATION_TIMEOUT: ClassVar[float] = 3  # short: a notification must not hide the work
    COMMANDS: ClassVar = App.COMMANDS | {_podium_commands}
    settled: ClassVar[Callable[[], None] | None] = None
    """Called once the transcript has drawn the history: the `podium` command sets it, to
    freeze what the screen made for it (podium.cli.settle_collector); the app never collects."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "q",
            "quit",
            "quit",
            id="quit",
            tooltip="Stop the crew cleanly and quit; `podium resume DB` goes on later",
        ),
        Binding("question_mark", "help", "help", id="help", tooltip="Every key, and what it does"),
        Binding(
            f"colon,{App.COMMAND_PALETTE_BINDING}",
            "command_palette",
            "commands",
            id="command_palette",
            tooltip="Find any action by name (the command palette)",
        ),
        Binding(
            "t",
            "cycle_theme",
            "theme",
            id="theme",
            tooltip="Next theme; the choice is remembered in the config file",
        ),
        Binding(
            "e",
            "export",
            "export",
            id="export",
            tooltip="Write the deliverables (screenplay, shot list, bible, decisions) to a folder",
        ),
    ]

    def __init__(
        self,
        source: ProductionSource,
        *,
        db_label: str = "",
        db_path: Path | None = None,
        theme: str | None = None,
        config: LoadedConfig | None = None,
        themes: ThemeSet | None = None,
        clock: Callable[[], float] = time.time,
        cursor_blink: bool = True,
        remember: bool = True,
        default_theme: str = DEFAULT_THEME,
        ascii: bool = False,
    ) -> None:
        super().__init__()
        if ascii:  # a terminal that is not UTF-8: every glyph and border in ASCII
            self._filters.append(AsciiFilter())
        self.source = source
        self.db_label = db_label
        self.db_path = db_path
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.remember = remember
        self.settings = config or load_config()
        found = themes or load_themes(config_dir() / "themes")
        self.warnings = list(self.settings.warnings) + list(found.warnings)
        self.theme_names = found.names
        for item in found.themes:
            self.register_theme(item)
        known = self.theme_names + [n for n in self.available_themes if n not in self.theme_names]
        configured = self.settings.config.theme
        self._start_in_theme(choose_theme(theme, configured, known, default_theme))
        self.final_state: ProductionState | None = None
        self.engine_error: str | None = None
        self._engine: Worker[None] | None = None
        self._changes: ChangeStream | None = None
        self._conductor: ConductorScreen | None = None
        self._quitting = False
        self._saving = threading.Lock()  # one config write at a time, the latest choice last
        self._held: list[tuple[str, SeverityLevel, float | None]] = []  # while a dialog is up

    def _start_in_theme(self, name: str) -> None:
        """Start in this theme without `self.theme = name`: its watcher queues a second parse
        of every stylesheet, and a restyle, for a screen not drawn yet. Nothing is parsed
        yet, so the first parse is simply made in this theme's colours."""
        if name == self.theme:
            return
        self.set_reactive(PodiumApp.theme, name)
        theme = self.current_theme
        self.set_class(theme.dark, "-dark-mode", update=False)
        self.set_class(not theme.dark, "-light-mode", update=False)
        self.set_class(True, f"-theme-{name}", update=False)
        self.stylesheet.set_variables(self.get_css_variables())
        self._refresh_truecolor_filter(self.ansi_theme)

    # -- notifications -----------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """One short line, never markup, never over an open dialog: while one is up the line
        waits, and shows when the dialog closes (thread-safe, as Textual's is)."""
        line = one_line(message, title)
        if timeout is None:
            timeout = NOTE_TIMEOUT[severity]
        if self._thread_id != threading.get_ident():
            self.call_from_thread(self._notify_now, line, severity, timeout)
        else:
            self._notify_now(line, severity, timeout)

    def _notify_now(self, line: str, severity: SeverityLevel, timeout: float | None) -> None:
        if self._dialog_open():
            self._held.append((line, severity, timeout))
            return
        self.release_held()
        super().notify(line, severity=severity, timeout=timeout, markup=False)

    def _dialog_open(self) -> bool:
        from textual.screen import ModalScreen

        try:
            return isinstance(self.screen, ModalScreen)
        except Exception:  # no screen yet (starting) or none left (exiting)
            return False

    def release_held(self) -> None:
        """Show what waited while a dialog was up (a dialog calls this when it closes)."""
        if self._dialog_open():
            return
        held, self._held = self._held, []
        for line, severity, timeout in held:
            super().notify(line, severity=severity, timeout=timeout, markup=False)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands, its Screenshot saying where it saved or why not."""
        from podium.tui.screenshot import with_screenshot

        return with_screenshot(self, super().get_system_commands(screen))

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_VARIABLES)

    def get_default_screen(self) -> Screen[Any]:
        self._conductor = ConductorScreen(
            self.source,
            submit=self.submit,
            clock=self.clock,
            db_label=self.db_label,
        )
        return self._conductor

    def on_mount(self) -> None:
        if self.settings.config.keymap:  # checking ids imports every dialog: only when needed
            known = binding_ids()
            unknown = sorted(set(self.settings.config.keymap) - known)
            if unknown:
                self.warnings.append(
                    f"[keymap] has unknown binding id(s) {', '.join(unknown)}; help (?) lists"
                    f" the ids and the config file ({self.settings.path})"
                )
            keymap = {k: v for k, v in self.settings.config.keymap.items() if k not in unknown}
            if keymap:
                self.set_keymap(keymap)
        for warning in self.warnings:
            self.notify(warning, severity="warning", timeout=8, markup=False)
        self._changes = self.source.subscribe()
        self.follow_changes(self._changes)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        # The production as it stands is drawn first; new work starts after that frame.
        self.call_after_refresh(self.start_engine)

    def on_unmount(self) -> None:
        if self._changes is not None:
            self._changes.close()

    def on_debate_transcript_history_drawn(self) -> None:
        settled = type(self).settled  # a plain function, not bound to the app
        if settled is not None:
            settled()

    @work(exclusive=True, exit_on_error=False, group="changes", name="changes")
    async def follow_changes(self, changes: ChangeStream) -> None:
        """Post what changed to the conductor's screen, at most REFRESH_HZ times a second:
        what arrives in between waits in the stream and comes as one set."""
        async for change_set in changes:
            if self._conductor is not None:
                self._conductor.post_message(Changed(change_set))
            await asyncio.sleep(1 / REFRESH_HZ)

    # -- the engine ----------------------------------------------------------------------------

    def start_engine(self) -> None:
        """Run the production in a worker; again after it stopped on its own (e.g. failed)."""
        if self._quitting or self.engine_error is not None:
            return
        if self._engine is not None and self._engine.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            return
        self.final_state = None
        self._engine = self.run_worker(
            self._run_engine(), name="engine", group="engine", exit_on_error=False
        )

    async def _run_engine(self) -> None:
        state = await self.source.run()
        self.final_state = state
        if not self._quitting:
            self.notify(
                f"The production is {state.value}: {self.source.view.state_reason}. "
                "A command starts it again; q quits.",
                severity="warning" if state is ProductionState.FAILED else "information",
                markup=False,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one error handler for every worker: say what went wrong, keep the app up."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error
        log.error("worker %s failed", worker.name, exc_info=error)
        if worker.group == "engine":
            self.engine_error = f"{type(error).__name__}: {error}"
            self.notify(
                f"The engine stopped: {self.engine_error}. What was decided is saved; "
                f"quit (q) and continue with `podium resume {self.db_label or 'DB'}`.",
                severity="error",
                markup=False,
            )
        else:
            self.notify(f"{worker.name} failed: {error}", severity="error", markup=False)

    def submit(self, command: Command) -> None:
        """Send a command; its outcome comes back as a notification."""
        if self._quitting:
            self.notify("The production is stopping; nothing new is taken.", markup=False)
            return
        if self.engine_error is not None:
            self.notify(
                f"Cannot send it: the engine stopped ({self.engine_error}).",
                severity="error",
                markup=False,
            )
            return
        self.start_engine()
        self.run_worker(
            self._submit(command), name=command.action.value, group="commands", exit_on_error=False
        )

    async def _submit(self, command: Command) -> None:
        result = await self.source.submit(command)
        what = command.action.value.replace("_", " ")
        if result.applied:
            self.notify(result.detail or "done", title=what, markup=False)
        else:
            self.notify(
                result.detail, title=f"{what}: not applied", severity="warning", markup=False
            )

    # -- quitting ---------------------------------------------------------------------------------

    def work_running(self) -> bool:
        view = self.source.view
        if self._engine is None or self._engine.state is not WorkerState.RUNNING:
            return False
        return any(
            r.state is TaskState.RUNNING or (r.state is TaskState.READY and not view.paused)
            for r in view.tasks.values()
        )

    async def action_quit(self) -> None:
        if self._quitting:
            return
        if self.source.attached:
            self.stop_and_exit()  # detaching only stops following; the engine runs on
            return
        if self.work_running():
            from podium.tui.screens.confirm import ConfirmQuitScreen

            running = sum(
                1 for r in self.source.view.tasks.values() if r.state is TaskState.RUNNING
            )
            self.push_screen(
                ConfirmQuitScreen(running=running, resume_hint=self.resume_hint),
                self._quit_answer,
            )
            return
        self.stop_and_exit()

    def _quit_answer(self, stop: bool | None) -> None:
        if stop:
            self.stop_and_exit()

    def stop_and_exit(self) -> None:
        """Ask the engine to stop, wait until it has, then exit with its final state."""
        self._quitting = True
        self.source.request_stop("stopped by the Orchestrator")
        self.run_worker(self._exit_when_stopped(), name="quit", group="quit", exit_on_error=False)

    async def _exit_when_stopped(self) -> None:
        worker = self._engine
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            with contextlib.suppress(WorkerFailed):
                await worker.wait()
        self.exit(self.final_state or self.source.view.state)

    @property
    def resume_hint(self) -> str:
        return f"podium resume {self.db_label}" if self.db_label else "podium resume DB"

    # -- help and themes ---------------------------------------------------------------------------

    def action_help(self) -> None:
        from podium.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            settings = self.settings
            self.push_screen(HelpScreen(key_sections(), settings.config.keymap, settings.path))

    def action_cycle_theme(self) -> None:
        names = self.theme_names or list(self.available_themes)
        index = names.index(self.theme) if self.theme in names else -1
        self.choose_theme(names[(index + 1) % len(names)])

    def choose_theme(self, name: str) -> None:
        self.theme = name  # remembered by _theme_changed, as a theme picked anywhere else is

    def _theme_changed(self, theme: Theme) -> None:
        """Any theme change (`t`, the palette's own theme command, a keymap) is remembered in
        the config file, unless that file is broken."""
        self.notify(f"theme: {theme.name}", timeout=2, markup=False)
        if not self.remember or self.settings.config.theme == theme.name:
            return
        if not self.settings.writable:
            # It was broken when the app started; it may have been fixed since: read it again.
            again = load_config(self.settings.path)
            if not again.writable:
                self.notify(
                    f"Not saving the theme: {self.settings.path} could not be read; fix it"
                    " first (then press t again).",
                    severity="warning",
                    markup=False,
                )
                return
            self.settings = again
            if self.settings.config.theme == theme.name:
                return
        self.settings.config = self.settings.config.model_copy(update={"theme": theme.name})
        self.run_worker(self._save, name="save config", thread=True, exit_on_error=False)

    def _save(self) -> None:
        with self._saving:  # whichever write runs last writes the latest choice
            config: Config = self.settings.config
            try:
                save_config(config, self.settings.path)
            except ConfigError as exc:
                self.call_from_thread(self.notify, str(exc), severity="warning", markup=False)

    # -- export ------------------------------------------------------------------------------

    def action_export(self) -> None:
        """Ask where (beside the database by default), then export in a thread."""
        from podium.tui.screens.export import ExportScreen, default_folder

        if self.db_path is None:
            self.notify("There is no database to export from here.", markup=False)
            return
        db = self.db_path
        if not isinstance(self.screen, ExportScreen):
            self.push_screen(ExportScreen(db, default_folder(db)), self._export_to)

    def _export_to(self, request: ExportRequest | None) -> None:
        if request is None or self.db_path is None:
            return
        folder = request.folder
        self.notify(f"Exporting to {folder}…", title="export", timeout=3, markup=False)
        self.run_worker(
            lambda: self._export(folder),
            name="export",
            group="export",
            thread=True,
            exit_on_error=False,
        )

    def _export(self, folder: Path) -> None:
        """Runs in a thread (the source's export may run an event loop of its own): the
        screen never waits on it."""
        try:
            written = self.source.export(folder)
        except ExportFailed as exc:
            self.call_from_thread(
                self.notify, str(exc), title="export failed", severity="error", markup=False
            )
            return
        self.call_from_thread(
            self.notify,
            f"Wrote {len(written)} files to {folder} (README.md lists them).",
            title="export",
            timeout=6,
            markup=False,
        )


# -- notifications ----------------------------------------------------------------------------

NOTE_TIMEOUT: dict[str, float] = {"information": 3.0, "warning": 6.0, "error": 10.0}
NOTE_CHARS = 240  # one line of a toast (CSS cuts it at the screen's edge); lead with the point
_LIST = re.compile(r"(?P<what>[\w ]+): (?P<items>[\w.\-]+(?:, [\w.\-]+){3,})(?P<end>[.;)]?)")
_WHERE = {"stale": "↺ in the task tree", "tasks": "in the task tree"}


def one_line(message: str, title: str = "") -> str:
    """A notification as one line: the title leads, a list of ids becomes its count (and
    where the list is), and what is still too long is clipped."""
    text = flatten(f"{title}: {message}" if title else message)

    def counted(match: re.Match[str]) -> str:
        what = match["what"].strip()
        count = len(match["items"].split(", "))
        where = _WHERE.get(what.split()[-1], "listed in the task tree")
        return f"{match['what']}: {count} ({where}){match['end']}"

    text = _LIST.sub(counted, text)
    return clip(text, NOTE_CHARS)


# -- keys -------------------------------------------------------------------------------------


def key_sections() -> list[Section]:
    """Every binding, by where it applies: the help screen and docs/tui.md show these."""
    from podium.tui.screens.confirm import ConfirmQuitScreen
    from podium.tui.screens.dialog import Dialog
    from podium.tui.screens.escalation import EscalationScreen
    from podium.tui.screens.override import OverrideScreen

    return [
        ("Everywhere", [*PodiumApp.BINDINGS, *ConductorScreen.BINDINGS]),
        ("Task tree", TaskTree.BINDINGS),
        ("Agents", AgentActivity.BINDINGS),
        ("Debates and reviews", DebateTranscript.BINDINGS),
        ("Inbox", EscalationInbox.BINDINGS),
        ("Dialogs", [*Dialog.BINDINGS, *OverrideScreen.BINDINGS, *EscalationScreen.BINDINGS]),
        ("Quit?", ConfirmQuitScreen.BINDINGS),
    ]


def binding_ids() -> set[str]:
    from podium.tui.screens.adjust_constraints import AdjustConstraintsScreen
    from podium.tui.screens.alternatives import AlternativesScreen
    from podium.tui.screens.bulk import BulkScreen
    from podium.tui.screens.clarify_vision import ClarifyVisionScreen
    from podium.tui.screens.feedback import FeedbackScreen

    ids: set[str] = set()
    for _, items in key_sections():
        ids.update(b.id for b in items if isinstance(b, Binding) and b.id)
    for dialog in (
        AdjustConstraintsScreen,
        AlternativesScreen,
        BulkScreen,
        ClarifyVisionScreen,
        FeedbackScreen,
    ):
        ids.update(b.id for b in dialog.BINDINGS if isinstance(b, Binding) and b.id)
    return ids


# -- running it from the command line -----------------------------------------------------------


async def run_tui(
    source: ProductionSource, db: str, *, theme: str | None = None
) -> ProductionState:
    """Open the conductor's screen on a production; returns its state when the user quits.

    Raises ThemeError (a ValueError) for an unknown --theme before anything is drawn.
    """
    app = PodiumApp(
        source,
        db_label=db,
        db_path=Path(db),
        theme=theme,
        default_theme=terminal_theme(os.environ),
        ascii=ascii_terminal(os.environ),
    )
    with logs_held() as held:
        try:
            state = await app.run_async()
        finally:
            source.request_stop("the screen closed")
    for record in held.records:
        sys.stderr.write(f"podium: {record.levelname.lower()}: {record.getMessage()}\n")
    final = state or source.view.state
    lost = source.engine_lost
    if lost is not None:
        sys.stderr.write(f"podium: detached; {lost}. Continue with: podium resume {db}\n")
    elif source.attached:
        sys.stderr.write(f"podium: detached; the production runs on (podium attach {db})\n")
    elif final is not ProductionState.COMPLETED:
        sys.stderr.write(f"podium: {final.value}; continue with: podium resume {db}\n")
    return final
