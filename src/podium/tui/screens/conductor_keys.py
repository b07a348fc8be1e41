"""The conductor's keys that work across panes: search (`/`, `n`, `N`, `escape`), a bulk
retry or skip of marked tasks, copy (`y`) and maximise (`z`).

`ConductorScreen` inherits this (and through it `ConductorActions`); its bindings are in
`conductor.py` with the others, so help and the keymap list them in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual import on
from textual.widget import Widget
from textual.widgets import Input

from podium.domain.escalation import Action
from podium.domain.tasks import TaskState
from podium.domain.text import sanitize
from podium.tui.format import clip, flatten
from podium.tui.screens.conductor_actions import ConductorActions, new_command
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.debate_transcript import DebateTranscript, Entry
from podium.tui.widgets.escalation_inbox import EscalationInbox
from podium.tui.widgets.search_line import SearchLine
from podium.tui.widgets.task_tree import TaskTree

if TYPE_CHECKING:
    from podium.domain.artifacts import Artifact
    from podium.tui.screens.bulk import BulkChoice

# What a bulk command cannot be sent for (the engine would refuse it), by state.
REFUSED: dict[Action, frozenset[TaskState]] = {
    Action.RETRY: frozenset({TaskState.RUNNING}),
    Action.SKIP: frozenset({TaskState.RUNNING, TaskState.DONE, TaskState.SKIPPED}),
}


@dataclass(frozen=True)
class Match:
    """One place the search found its words: a task, a transcript entry or an inbox item."""

    pane: Literal["tasks", "transcript", "inbox"]
    item: str | Entry


class ConductorKeys(ConductorActions):
    """Search across the panes, bulk retry / skip, copy and maximise."""

    _query = ""  # the search's words as typed; empty: no search
    _matches: tuple[Match, ...] = ()
    _at = -1  # the current match
    _filtered = False  # the search set the transcript's filter (its words are an id)
    _before: Widget | None = None  # focus before `/`, given back when the line closes

    def set_filter(self, text: str) -> None:
        """Filter the transcript by a task or debate id ("" shows everything), said on its pane."""
        self.query_one(DebateTranscript).filter_text = text
        pane = self.query_one("#transcript-pane")
        pane.border_title = "Debates and reviews"
        pane.border_subtitle = Text(f"filter: {text}") if text else None

    # -- which keys apply now ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`n`, `N` and `escape` are the search's while one is shown (never while typing)."""
        if action in ("search_next", "search_previous"):
            return bool(self._query) and not isinstance(self.focused, Input)
        if action == "search_clear":
            return bool(self._query) or self._line().is_open
        return super().check_action(action, parameters)

    def _line(self) -> SearchLine:
        return self.query_one(SearchLine)

    # -- search --------------------------------------------------------------------------------

    def action_search(self) -> None:
        line = self._line()
        if not isinstance(self.focused, Input):
            self._before = self.focused
        line.open(self._query)
        self.refresh_bindings()

    @on(SearchLine.Submitted)
    def _search_submitted(self, message: SearchLine.Submitted) -> None:
        self.search(message.query)

    def search(self, query: str) -> None:
        """Find `query` (plain words, any case) in the tasks, the transcript and the inbox,
        and go to the first match. A task or debate id also filters the transcript."""
        words = query.strip()
        if not words:
            self.action_search_clear()
            return
        needle = words.lower()
        if needle in self._ids():
            self.set_filter(words)
            self._filtered = True
        elif self._filtered:
            self.set_filter("")
            self._filtered = False
        tree = self.query_one(TaskTree)
        transcript = self.query_one(DebateTranscript)
        found = [Match("tasks", t) for t in tree.search(needle)]
        found += [Match("transcript", e) for e in transcript.search(needle)]
        found += [Match("inbox", e) for e, text in self._open_texts() if needle in text]
        self._query, self._matches, self._at = words, tuple(found), -1
        self.refresh_bindings()
        if found:
            self._go(0)
            return
        transcript.show_match(None)
        self._line().show_status(
            f"no match for “{clip(flatten(words), 40)}” · esc clears", none=True
        )
        self._give_focus_back()

    def _open_texts(self) -> list[tuple[str, str]]:
        """The open escalations, in the inbox's order, each with the text a search looks in
        (lower case); made again when the view has moved on (`last_seq`: every event folded
        moves it), not on every search (a walk of the big series' 1,200 escalations)."""
        view = self.view
        kept = self.__dict__.get("_open_kept")
        if kept is None or kept[0] is not view or kept[1] != view.last_seq:
            texts = [
                (e.id, f"{e.id}\n{e.kind.value}\n{e.task_id or ''}\n{e.title}".lower())
                for e in view.open_escalations()
            ]
            kept = self.__dict__["_open_kept"] = (view, view.last_seq, texts)
        return kept[2]

    def _ids(self) -> set[str]:
        """The task and debate ids, lower case; made again only when one was added (they are
        never removed): 2,000 ids lowered on every search."""
        tasks, debates = self.view.tasks, self.view.debates
        kept = self.__dict__.get("_ids_kept")
        if kept is None or not (
            kept[0] is tasks
            and kept[1] == len(tasks)
            and kept[2] is debates
            and kept[3] == len(debates)
        ):
            ids = {t.lower() for t in tasks} | {d.lower() for d in debates}
            kept = self.__dict__["_ids_kept"] = (tasks, len(tasks), debates, len(debates), ids)
        return kept[4]

    def action_search_next(self) -> None:
        if self._matches:
            self._go((self._at + 1) % len(self._matches))

    def action_search_previous(self) -> None:
        if self._matches:
            self._go((self._at - 1) % len(self._matches))

    def action_search_clear(self) -> None:
        """`escape`: the search ends; its highlight and the filter it set go."""
        line = self._line()
        typing = isinstance(self.focused, Input)
        line.close()
        self.query_one(DebateTranscript).show_match(None)
        if self._filtered:
            self.set_filter("")
        self._query, self._matches, self._at, self._filtered = "", (), -1, False
        if typing:
            self._give_focus_back()
        self.refresh_bindings()

    def _give_focus_back(self) -> None:
        # `set_focus` now rather than `focus()` (a callback after the key's frame): the
        # focus's look is drawn in the key's frame, not in a second one 25-40 ms later.
        before = self._before
        if before is not None and before.is_attached and before.focusable:
            self.set_focus(before)
        else:
            self.set_focus(self.query_one(TaskTree))

    def _go(self, index: int) -> None:
        """Make match `index` current: show it in its pane, highlighted, and focus it."""
        self._at = index
        match = self._matches[index]
        transcript = self.query_one(DebateTranscript)
        shown = True
        if isinstance(match.item, Entry):
            transcript.show_match(match.item)
            self.set_focus(transcript)
        else:
            transcript.show_match(None)
            if match.pane == "tasks":
                tree = self.query_one(TaskTree)
                shown = tree.reveal(match.item)
                self.set_focus(tree)
            else:
                inbox = self.query_one(EscalationInbox)
                try:
                    inbox.highlighted = inbox.get_option_index(match.item)
                except LookupError:  # decided since the search
                    shown = False
                self.set_focus(inbox)
        where = {"tasks": "task tree", "transcript": "transcript", "inbox": "inbox"}[match.pane]
        status = f"match {index + 1} of {len(self._matches)}"
        status += f" · {where}" if shown else " · no longer shown"
        self._line().show_status(status + " · n next · N previous · esc ends")

    # -- bulk retry and skip ---------------------------------------------------------------------

    @on(TaskTree.BulkIntent)
    def _bulk(self, message: TaskTree.BulkIntent) -> None:
        from podium.tui.screens.bulk import BulkScreen

        action, tree = message.action, message.tree
        refused = REFUSED.get(action, frozenset())
        sent: list[tuple[str, str]] = []
        left_out: list[str] = []
        for task_id in message.task_ids:
            record = self.view.tasks.get(task_id)
            if record is None:
                left_out.append(f"{task_id} (no longer in the plan)")
            elif record.state in refused:
                left_out.append(f"{task_id} ({record.state.value.replace('_', ' ')})")
            else:
                sent.append((task_id, record.spec.title))

        def chosen(choice: BulkChoice | None) -> None:
            if choice is None:
                return
            for task_id in choice.task_ids:
                escalation = self._open_for(task_id, action)
                self.submit(
                    new_command(
                        action,
                        escalation_id=escalation.id if escalation is not None else None,
                        task_id=task_id,
                    )
                )
            tree.clear_marks()
            self.notify(f"{action.value}: sent for {len(choice.task_ids)} task(s).", markup=False)

        self.app.push_screen(BulkScreen(action.value, sent, left_out), chosen)

    # -- copy and maximise -----------------------------------------------------------------------

    def action_copy(self) -> None:
        """Copy what is selected to the clipboard (OSC 52): in the transcript the entry
        highlighted (the match, else the one at the top), elsewhere the selected task's
        current version in its human format, as `podium show` prints it."""
        focused = self.focused
        if isinstance(focused, DebateTranscript):
            entry = focused.selected
            if entry is None:
                self.notify("The transcript is empty: nothing to copy.", markup=False)
                return
            self._copy(entry.plain, "the transcript entry")
            return
        task_id = self._task_to_copy(focused)
        if task_id is None:
            self.notify(
                "Nothing to copy: select a task (or an inbox item about one), or a "
                "transcript entry.",
                markup=False,
            )
            return
        from podium.domain import versions

        record = self.view.tasks.get(task_id)
        artifact = versions.current_of(self.view, record) if record is not None else None
        if artifact is None:
            self.notify(f"{task_id} has no version yet: nothing to copy.", markup=False)
            return
        text, form = _human(artifact)
        self._copy(text, f"{task_id}'s current version ({form})")

    def _task_to_copy(self, focused: Widget | None) -> str | None:
        view = self.view
        if isinstance(focused, EscalationInbox):
            escalation = view.escalations.get(self._selected.get("escalation") or "")
            return escalation.task_id if escalation is not None else None
        if isinstance(focused, AgentActivity):
            agent = view.agents.get(self._selected.get("agent") or "")
            return agent.task_id if agent is not None else None
        return self._selected.get("task")

    def _copy(self, text: str, what: str) -> None:
        clean = sanitize(text)
        self.app.copy_to_clipboard(clean)
        self.notify(f"Copied {what}: {len(clean):,} characters.", markup=False)

    def action_maximise(self) -> None:
        """The focused pane fills the screen; again (or `escape`) restores the four."""
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        pane: Widget | None = None
        for node in focused.ancestors if focused is not None else []:
            if isinstance(node, Widget) and node.has_class("pane"):
                pane = node
                break
        if pane is None:
            self.notify("Move to a pane first (tab), then z fills the screen with it.")
            return
        self.maximized = pane


def _human(artifact: Artifact) -> tuple[str, str]:
    """A version's text as `podium show` prints it, and the format's name."""
    import json

    from podium.export import human

    try:
        rendered = human.render(artifact.parsed())
    except Exception:  # noqa: BLE001 - an old or odd content is still copied, as JSON
        return json.dumps(artifact.content, indent=2, ensure_ascii=False) + "\n", "JSON"
    names = {"fountain": "Fountain", "markdown": "Markdown", "csv": "CSV"}
    return rendered.text, names.get(rendered.name, rendered.name)
