"""The command palette (`:` or `ctrl+p`): every action of the conductor, by name.

A theme chosen here (or with Textual's own theme command) is remembered like `t`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from podium.domain.escalation import Action
from podium.tui.screens.conductor import ConductorScreen

Entry = tuple[str, str, Callable[[], object]]


class PodiumCommands(Provider):
    """Names for what the keys do, so nothing has to be remembered."""

    def _entries(self) -> list[Entry]:
        screen = self.screen
        app = self.app
        entries: list[Entry] = []
        if isinstance(screen, ConductorScreen):
            act = screen.act_on
            paused = screen.view.paused
            entries += [
                (
                    "Approve the selected inbox item",
                    "a",
                    partial(act, "escalation", Action.APPROVE),
                ),
                (
                    "Override the selected inbox item…",
                    "o",
                    partial(act, "escalation", Action.OVERRIDE),
                ),
                (
                    "Request alternatives for the selected inbox item",
                    "n",
                    partial(act, "escalation", Action.REQUEST_ALTERNATIVES),
                ),
                ("Retry the selected inbox item", "r", partial(act, "escalation", Action.RETRY)),
                ("Skip the selected inbox item", "s", partial(act, "escalation", Action.SKIP)),
                (
                    "Reassign the selected inbox item…",
                    "",
                    partial(act, "escalation", Action.REASSIGN),
                ),
                ("Override the selected task…", "o", partial(act, "task", Action.OVERRIDE)),
                ("Retry the selected task", "r", partial(act, "task", Action.RETRY)),
                ("Skip the selected task", "s", partial(act, "task", Action.SKIP)),
                ("Reassign the selected task…", "", partial(act, "task", Action.REASSIGN)),
                ("Feedback to the selected agent…", "f", partial(act, "agent", Action.FEEDBACK)),
                ("Clarify the vision…", "v", screen.action_clarify_vision),
                ("Adjust constraints…", "c", screen.action_adjust_constraints),
                (
                    "Resume the production" if paused else "Pause the production",
                    "p",
                    screen.action_pause,
                ),
                ("Filter the transcript…", "/", screen.action_filter),
                ("Clear the transcript filter", "", partial(screen.set_filter, "")),
                ("Go to the task tree", "tab", partial(screen.focus_pane, "tasks")),
                ("Go to the agents", "tab", partial(screen.focus_pane, "agents")),
                ("Go to the transcript", "tab", partial(screen.focus_pane, "transcript")),
                ("Go to the inbox", "tab", partial(screen.focus_pane, "inbox")),
            ]
        for name in getattr(app, "theme_names", []):
            entries.append((f"Theme: {name}", "t", partial(setattr, app, "theme", name)))
        entries += [
            (
                "Export the deliverables to a folder…",
                "e",
                partial(app.run_action, "export"),
            ),
            ("Help: every key", "?", partial(app.run_action, "help")),
            (
                "Quit (the production resumes with podium resume)",
                "q",
                partial(app.run_action, "quit"),
            ),
        ]
        return entries

    async def discover(self) -> Hits:
        for name, key, command in self._entries():
            yield DiscoveryHit(name, command, help=f"key: {key}" if key else None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, key, command in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(name), command, help=f"key: {key}" if key else None
                )
