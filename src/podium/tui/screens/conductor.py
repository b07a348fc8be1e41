"""The conductor's screen: four live panes, and what each change set redraws.

Panes never talk to each other: they post messages up (`Intent`, `DetailsRequested`,
`Selected`) and this screen turns them into modals and commands (the router is
`conductor_actions.ConductorActions`, which this screen inherits). The production's changes
come down as `Changed` messages (the app's change worker posts at most REFRESH_HZ a second,
each holding everything since the last), so each pane redraws at most once a message; a
timer moves the clock and the sparklines on each second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.containers import Grid, Vertical
from textual.reactive import Reactive
from textual.theme import Theme
from textual.widget import Widget

from podium.domain.escalation import Action
from podium.domain.events import ProductionState
from podium.seam.protocol import ProductionSource
from podium.seam.stream import ChangeSet
from podium.tui.decided import notice
from podium.tui.format import flatten
from podium.tui.live import Digest
from podium.tui.messages import Changed, DetailsRequested, Intent, Selected
from podium.tui.screens.conductor_actions import Submit, new_command, stamp
from podium.tui.screens.conductor_keys import ConductorKeys
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.debate_transcript import DebateTranscript, history
from podium.tui.widgets.escalation_detail import EscalationDetail, action_words, card_for
from podium.tui.widgets.escalation_inbox import EscalationInbox, Moved
from podium.tui.widgets.footer import PodiumFooter
from podium.tui.widgets.search_line import SearchLine
from podium.tui.widgets.status_bar import StatusBar
from podium.tui.widgets.steady import KeptLines, SteadyCompositor, settle
from podium.tui.widgets.task_tree import TaskTree

if TYPE_CHECKING:  # the dialogs are imported when first opened: none is on the first frame
    from podium.tui.screens.escalation import EscalationChoice
    from podium.tui.screens.filter import TranscriptFilter

REFRESH_HZ = 15
SHORT_ROWS = range(24, 31)
"""A terminal this many rows high is short: its inbox lists up to 5 items, where 40% of the
pane gave 3 at 24 rows, and its detail 3 lines or more (app.tcss, `ConductorScreen.-short`);
the other panes are as tall either way. Under 24 rows the detail would keep fewer than 3."""

# The focused pane's border (`ConductorScreen._focused_rules`), set on the pane alone:
#     border: round $primary; border-title-color: $primary; border-title-style: bold;

__all__ = ["REFRESH_HZ", "ConductorScreen", "new_command", "stamp"]


class Pane(KeptLines, Vertical):
    """One of the four panes: its border and titles drawn once for each look (`KeptLines`)."""


class ConductorScreen(ConductorKeys):
    """Tasks, agents, transcript and inbox; the footer shows the focused pane's keys."""

    # Textual's Screen repaints itself, every pane, on each change of focus; the widgets whose
    # look depends on focus (the panes' borders, the cursor lines) restyle and repaint
    # themselves. A whole-screen paint cost about a tenth to a fifth of `/`, enter and esc
    # on the 2,000-task series (issue 20).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "v",
            "clarify_vision",
            "vision",
            id="clarify_vision",
            tooltip="Clarify a section of the vision; shows what becomes stale first",
        ),
        Binding(
            "c",
            "adjust_constraints",
            "constraints",
            id="adjust_constraints",
            tooltip="Adjust budget, deadline, concurrency and debate limits, live",
        ),
        Binding(
            "p",
            "pause",
            "pause/resume",
            id="pause",
            tooltip="Pause (running calls finish, nothing new starts) or resume",
        ),
        Binding(
            "slash",
            "search",
            "search",
            id="search",
            tooltip="Search the tasks, the transcript and the inbox; an id filters the transcript",
        ),
        # While a search is shown (not while typing it): n and N go through its matches.
        Binding(
            "n",
            "search_next",
            "next match",
            id="search_next",
            tooltip="The search's next match, in whichever pane it is",
            priority=True,
        ),
        Binding(
            "N",
            "search_previous",
            "previous",
            id="search_previous",
            tooltip="The search's previous match",
            priority=True,
        ),
        Binding(
            "escape",
            "search_clear",
            "clear search",
            id="search_clear",
            tooltip="End the search: its highlight and the filter it set go",
            priority=True,
        ),
        Binding(
            "y",
            "copy",
            "copy",
            show=False,
            id="copy",
            tooltip="Copy the selected task's current version, or the transcript entry (OSC 52)",
        ),
        Binding(
            "z",
            "maximise",
            "maximise",
            show=False,
            id="maximise",
            tooltip="Fill the screen with the focused pane; again (or escape) restores",
        ),
        # In the tree and the inbox these keys act on the pane's own selection; from the
        # other panes they act on the inbox's highlighted item (the one shown in full).
        Binding(
            "a",
            "inbox('approve')",
            "approve",
            show=False,
            id="approve",
            tooltip="From the agents or the transcript: approve the highlighted inbox item",
        ),
        Binding(
            "o",
            "inbox('override')",
            "override",
            show=False,
            id="override",
            tooltip="From the agents or the transcript: override the highlighted inbox item",
        ),
        Binding(
            "n",
            "inbox('request_alternatives')",
            "alternatives",
            show=False,
            id="request_alternatives",
            tooltip="From the agents or the transcript: alternatives for the inbox item",
        ),
        Binding(
            "r",
            "inbox('retry')",
            "retry",
            show=False,
            id="retry",
            tooltip="From the agents or the transcript: retry the highlighted inbox item",
        ),
        Binding(
            "s",
            "inbox('skip')",
            "skip",
            show=False,
            id="skip",
            tooltip="From the agents or the transcript: skip the highlighted inbox item",
        ),
        Binding(
            "tab",
            "app.focus_next",
            "next pane",
            show=False,
            id="next_pane",
            tooltip="Move to the next pane",
        ),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "previous pane",
            show=False,
            id="previous_pane",
            tooltip="Move to the previous pane",
        ),
    ]

    def __init__(
        self,
        source: ProductionSource,
        *,
        submit: Submit,
        clock: Callable[[], float] = time.time,
        db_label: str = "",
    ) -> None:
        super().__init__(source, submit)
        self._compositor = SteadyCompositor()  # draws only the widgets under what changed
        self.clock = clock
        self.db_label = db_label
        self.digest = Digest()
        self._second = 0
        self._engine_lost: str | None = None
        self._open_seen: set[str] = set()  # the inbox's items when last drawn

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Grid(id="panes"):
            with Pane(id="tasks-pane", classes="pane") as tasks:
                tasks.border_title = "Tasks"
                yield TaskTree(id="tree")
            with Pane(id="agents-pane", classes="pane") as agents:
                agents.border_title = "Agents"
                yield AgentActivity(id="agents")
            with Pane(id="transcript-pane", classes="pane") as transcript:
                transcript.border_title = "Debates and reviews"
                yield DebateTranscript(id="transcript")
            with Pane(id="inbox-pane", classes="pane") as inbox:
                inbox.border_title = "Inbox"
                yield EscalationInbox(id="inbox")
                yield EscalationDetail(id="detail")
        yield SearchLine(id="search-line")
        yield PodiumFooter()  # help, quit and commands first, then the focused pane's keys

    async def on_idle(self) -> None:
        """Before Textual's idle handler starts the screen's update: what the key changed
        is drawn in it, not in a second frame 20-40 ms later (`steady.settle`)."""
        if self.app.screen is not self:  # under a dialog: Textual's way, unchanged
            return
        line = self.__dict__.get("_line_parts")
        if line is None:
            line = self.__dict__["_line_parts"] = list(self.query_one(SearchLine).walk_children())
        await settle([self._compositor.visible_widgets, line])  # noqa: SLF001 - on the screen

    def watch_focused(self, old: Widget | None, new: Widget | None) -> None:
        """The pane holding the focus is drawn with `_focused_rules`, set inline on the pane
        alone (the rest of its look is `.pane` in app.tcss). A `.pane:focus-within` rule made
        Textual restyle every widget in the two panes on each move of the focus, and
        repaint them (the border title's colour is inherited), for `/`, enter and esc."""
        was, now = _pane_of(old), _pane_of(new)
        if was is now:
            return
        if was is not None:
            for rule in self._focused_rules():
                was.styles.clear_rule(rule)
            was.refresh()
        self._draw_focused(now)

    def _draw_focused(self, pane: Widget | None) -> None:
        """`pane` (if any) drawn as the focused one, in the current theme's colours."""
        if pane is not None:
            for rule, value in self._focused_rules().items():
                pane.styles.set_rule(rule, value)
            pane.refresh()

    def _focused_rules(self) -> dict[str, object]:
        """FOCUSED_PANE's rules as the stylesheet stores them, in the theme's colours (kept
        for the theme: working its variables out took 1-2 ms of each move of the focus)."""
        theme = self.app.current_theme
        kept = self.__dict__.get("_focused_kept")
        if kept is not None and kept[0] is theme:
            return kept[1]  # type: ignore[no-any-return]
        primary = Color.parse(self.app.get_css_variables()["primary"])
        edge = ("round", primary)
        rules: dict[str, object] = {
            "border_top": edge,
            "border_right": edge,
            "border_bottom": edge,
            "border_left": edge,
            "border_title_color": primary,
            "auto_border_title_color": False,  # `.pane`'s $text-muted is "auto 60%"
            "border_title_style": Style(bold=True),
        }
        self.__dict__["_focused_kept"] = (theme, rules)
        return rules

    def on_mount(self) -> None:
        self._refresh_everything()
        transcript = self.query_one(DebateTranscript)
        transcript.add(history(self.view))
        self.query_one(TaskTree).focus()
        self._next_second()
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height in SHORT_ROWS, "-short")

    # -- refreshing --------------------------------------------------------------------------

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        self._update(message.changes)

    def _next_second(self) -> None:
        """Move the clock, the ages and the sparklines just after each second begins."""
        self.set_timer(1.02 - time.time() % 1, self._on_second, name="second")

    def _on_second(self) -> None:
        self._next_second()
        self._update(None)

    def _update(self, change_set: ChangeSet | None) -> None:
        """Redraw what changed: one update per pane per change set (or second)."""
        now = self.clock()
        new_second = int(now) != self._second
        self._second = int(now)
        spark_moved = self.digest.activity.tick(time.monotonic())
        lost = self.source.engine_lost
        if lost != self._engine_lost:
            self._engine_changed(lost)
        if change_set is None and not new_second and not spark_moved:
            return
        changes = self.digest.digest(change_set or ChangeSet())
        if changes.resync:
            self._refresh_everything()
            transcript = self.query_one(DebateTranscript)
            transcript.reset(history(self.view))
            return
        if spark_moved:  # a second went by
            changes.tasks |= self.digest.take_written()
        view = self.view
        for task_id in changes.runs:
            task = view.tasks.get(task_id)
            if task is not None:
                changes.agents.add(task.spec.assignee)
        tree = self.query_one(TaskTree)
        if changes.plan:
            tree.sync(view, self.digest.task_chars)
        elif changes.tasks:
            tree.refresh_tasks(changes.tasks)
        agents = self.query_one(AgentActivity)
        if changes.all_agents or spark_moved:
            agents.sync(view, self.digest.activity.series)
        elif changes.agents:
            agents.refresh_agents(view, changes.agents, self.digest.activity.series)
        if changes.transcript:
            transcript = self.query_one(DebateTranscript)
            transcript.set_roles({a: r.spec.role.value for a, r in view.agents.items()})
            transcript.add(changes.transcript)
        if changes.escalations or new_second:
            moved = self.query_one(EscalationInbox).sync(view, now)
            if changes.escalations:
                self._show_detail()
            self._tell_decided(moved)
        if changes.any or new_second:
            self._show_status(now)

    def _refresh_everything(self) -> None:
        view, now = self.view, self.clock()
        self._second = int(now)
        self._show_status(now)
        self.query_one(TaskTree).sync(view, self.digest.task_chars)
        self.query_one(AgentActivity).sync(view, self.digest.activity.series)
        self.query_one(DebateTranscript).set_roles(
            {a: r.spec.role.value for a, r in view.agents.items()}
        )
        self.query_one(EscalationInbox).sync(view, now)
        self._open_seen = {e.id for e in view.open_escalations()}
        self._show_detail()

    def _tell_decided(self, moved: Moved | None) -> None:
        """Who decided what closed since the inbox was last drawn (if not this screen), and
        where the highlight went: read from the view, whichever refresh finds it closed."""
        view = self.view
        seen, self._open_seen = self._open_seen, {e.id for e in view.open_escalations()}
        closed = [i for i in seen if i not in self._open_seen and not view.escalations[i].open]
        said = notice(view, closed, moved, self.origin)
        if said is not None:
            self.notify(said, markup=False)

    def _restyle(self, theme: Theme) -> None:
        """Colours are baked into drawn text; draw it all again in the new theme's."""
        view, now = self.view, self.clock()
        self.query_one(TaskTree).relabel()
        self.query_one(AgentActivity).sync(view, self.digest.activity.series)
        self.query_one(DebateTranscript).redraw()
        self.query_one(EscalationInbox).restyle(view, now)
        self._show_status(now)
        self._draw_focused(_pane_of(self.focused))  # its border in the new theme's primary

    def _show_status(self, now: float) -> None:
        self.query_one(StatusBar).show(self.view, now, self.db_label, self._engine_lost)

    def _engine_changed(self, lost: str | None) -> None:
        """An attached screen's engine went away (or came back): say so, and how to go on."""
        self._engine_lost = lost
        self._show_status(self.clock())
        hint = self.source.resume_hint
        if lost is not None and self.view.state is ProductionState.COMPLETED:
            # It stopped because the work is done: nothing is lost, nothing to resume.
            self.notify("The production is completed; e exports it.", markup=False)
        elif lost is not None:
            self.notify(
                f"No engine: continue with `{hint}` ({lost}); nothing acknowledged is "
                "lost, and what you send now applies then.",
                severity="error",
                markup=False,
            )
        else:
            self.notify("An engine runs the production again.", markup=False)

    def _show_detail(self) -> None:
        escalation_id = self._selected["escalation"]
        escalation = self.view.escalations.get(escalation_id or "")
        detail = self.query_one(EscalationDetail)
        if escalation is None or not escalation.open:
            detail.card = None
        else:
            detail.card = card_for(self.view, escalation)

    # -- messages from the panes ---------------------------------------------------------------

    @on(Selected)
    def _selected_item(self, message: Selected) -> None:
        self._selected[message.kind] = message.item_id
        if message.kind == "escalation":
            self._show_detail()

    @on(Intent)
    def _intent(self, message: Intent) -> None:
        if message.task_id is None and message.escalation_id is None and not message.agent_id:
            tree = self.query_one(TaskTree)
            if self.focused is tree:  # a phase or group row: no task, and not the inbox's
                self._not_a_task(tree, message.action)
                return
            self.action_inbox(message.action.value)
            return
        self.act(
            message.action,
            task_id=message.task_id,
            escalation_id=message.escalation_id,
            agent_id=message.agent_id,
        )

    def _not_a_task(self, tree: TaskTree, action: Action) -> None:
        """A task key on a phase or group row: say why nothing happens, and what does."""
        node = tree.cursor_node
        ref = node.data if node is not None else None
        if ref is None:
            if tree.root.children:  # rows, none highlighted yet
                self.notify(
                    "No task is highlighted: j/k pick one in the tree; Tab goes to the inbox, "
                    "where a key acts on its highlighted item.",
                    markup=False,
                )
            else:
                self.notify("The task tree is empty: nothing to act on yet.", markup=False)
            return
        name = flatten(ref.key.split("\x1f", 1)[-1])
        what = "a phase" if ref.kind == "phase" else "a group of tasks"
        verb = action_words(action)
        self.notify(
            f"{name} is {what}, not a task: {verb} acts on a task. Here enter opens or "
            "closes it; j/k move to its tasks.",
            markup=False,
        )

    @on(DetailsRequested)
    def _details(self, message: DetailsRequested) -> None:
        from podium.tui.screens.escalation import EscalationScreen
        from podium.tui.screens.task_detail import TaskDetailScreen

        view = self.view
        if message.escalation_id is not None:
            escalation = view.escalations.get(message.escalation_id)
            if escalation is not None:
                self.app.push_screen(
                    EscalationScreen(card_for(view, escalation)),
                    lambda choice: self._escalation_chosen(escalation.id, choice),
                )
        elif message.task_id is not None:
            self.app.push_screen(TaskDetailScreen(view, message.task_id))
        elif message.agent_id is not None:
            agent = view.agents.get(message.agent_id)
            if agent is not None and agent.task_id:
                self.app.push_screen(TaskDetailScreen(view, agent.task_id))
            elif agent is not None:
                from podium.tui.screens.agent_detail import AgentDetailScreen

                self.app.push_screen(AgentDetailScreen(view, agent.spec.id))

    def _escalation_chosen(self, escalation_id: str, choice: EscalationChoice | None) -> None:
        if choice is None:
            return
        if choice.option_id is not None:
            self.choose(escalation_id, choice.option_id)
            return
        self.act(choice.action, escalation_id=escalation_id)

    # -- screen-wide actions -------------------------------------------------------------------

    def action_filter(self) -> None:
        from podium.tui.screens.filter import FilterScreen

        transcript = self.query_one(DebateTranscript)
        known = list(self.view.debates) + [
            t for t, r in self.view.tasks.items() if r.reviews or t in self._debated()
        ]

        def apply(result: TranscriptFilter | None) -> None:
            if result is not None:
                self.set_filter(result.text)

        self.app.push_screen(FilterScreen(current=transcript.filter_text, known=known), apply)

    def _debated(self) -> set[str]:
        return {d.task_id for d in self.view.debates.values()}

    def focus_pane(self, name: str) -> None:
        target = {"tasks": TaskTree, "agents": AgentActivity, "transcript": DebateTranscript}.get(
            name, EscalationInbox
        )
        self.query_one(target).focus()


def _pane_of(widget: Widget | None) -> Widget | None:
    """The pane (`.pane`) `widget` is in, if any."""
    node = widget
    while node is not None:
        if node.has_class("pane"):
            return node
        parent = node.parent
        node = parent if isinstance(parent, Widget) else None
    return None
