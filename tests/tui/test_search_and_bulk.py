"""Issue 19 §8 at 80×24: search across the panes with n / N and its count line, no match,
a bulk retry of marked tasks, copy (OSC 52 through Textual) and maximise."""

from __future__ import annotations

from typing import Any

import pytest

from podium.domain.escalation import Action, Command
from podium.domain.events import TaskStateChanged
from podium.domain.state import ProductionView
from podium.domain.tasks import TaskState
from podium.tui.app import PodiumApp
from podium.tui.screens.bulk import BulkScreen
from podium.tui.screens.conductor import ConductorScreen
from podium.tui.widgets.debate_transcript import DebateTranscript
from podium.tui.widgets.escalation_inbox import EscalationInbox
from podium.tui.widgets.task_tree import TaskTree

from .conftest import app_for, frozen_view, read_events, screen_text, type_text, until

NARROW = (80, 24)


def conductor(app: PodiumApp) -> ConductorScreen:
    screen = app.screen
    assert isinstance(screen, ConductorScreen)
    return screen


def status(app: PodiumApp) -> str:
    return str(app.screen.query_one("#search-status").render())


async def test_search_goes_through_every_pane_with_n_and_back_with_shift_n(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await type_text(pilot, "OUTLINE")  # any case
        await pilot.press("enter")
        await pilot.pause()
        tree = app.screen.query_one(TaskTree)
        transcript = app.screen.query_one(DebateTranscript)
        inbox = app.screen.query_one(EscalationInbox)
        count = len(conductor(app)._matches)
        assert count >= 3
        assert status(app).startswith(f"match 1 of {count} · task tree")
        shown = screen_text(app)
        assert f"match 1 of {count} · task tree · n next · N previous" in shown  # at 80×24
        assert "/OUTLINE" in shown
        assert tree.has_focus and tree.cursor_node is not None
        assert tree.cursor_node.data is not None and tree.cursor_node.data.key == "outline"
        panes = {"tasks"}
        for n in range(2, count + 1):
            await pilot.press("n")
            await pilot.pause()
            assert status(app).startswith(f"match {n} of {count}")
            if transcript.has_focus:
                panes.add("transcript")
                entry = transcript.match
                assert entry is not None and "outline" in entry.lower
                first = transcript._starts[transcript._index[id(entry)]]
                height = transcript.scrollable_content_region.height
                assert transcript.scroll_y <= first < transcript.scroll_y + height
            if inbox.has_focus:
                panes.add("inbox")
                assert inbox.highlighted_option is not None
                assert inbox.highlighted_option.id == "e6"
        assert panes == {"tasks", "transcript", "inbox"}
        await pilot.press("n")  # past the last: round to the first
        await pilot.pause()
        assert status(app).startswith(f"match 1 of {count}") and tree.has_focus
        await pilot.press("N")  # and back to the last
        await pilot.pause()
        assert status(app).startswith(f"match {count} of {count}") and inbox.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert "match" not in screen_text(app)
        assert transcript.match is None and not conductor(app)._matches


async def test_a_search_with_no_match_says_so_and_n_is_alternatives_again(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        await type_text(pilot, "zebra crossing")
        await pilot.press("enter")
        await pilot.pause()
        assert "no match for “zebra crossing”" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "zebra" not in screen_text(app)
        assert not conductor(app).check_action("search_next", ())


async def test_a_task_id_filters_the_transcript_and_escape_clears_it(
    view: ProductionView,
) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        transcript = app.screen.query_one(DebateTranscript)
        everything = len(transcript._shown)
        await pilot.press("slash")
        await type_text(pilot, "scene-01")
        await pilot.press("enter")
        await pilot.pause()
        assert transcript.filter_text == "scene-01"
        assert 0 < len(transcript._shown) < everything
        assert all(e.task_id == "scene-01" for e in transcript._shown)
        await pilot.press("escape")
        await pilot.pause()
        assert transcript.filter_text == "" and len(transcript._shown) == everything


def _with_failures(view: ProductionView, failed: list[str]) -> ProductionView:
    for task_id in failed:
        view.apply_payload(
            TaskStateChanged(task_id=task_id, state=TaskState.FAILED, reason="the model timed out"),
            0.0,
        )
    return view


@pytest.fixture
def failing(waiting_db: Any) -> ProductionView:
    return _with_failures(frozen_view(read_events(waiting_db)), ["scene-3", "scene-5", "shot_list"])


async def test_marked_failed_tasks_are_retried_at_once_one_command_each(
    failing: ProductionView,
) -> None:
    app = app_for(failing)
    sent: list[Command] = []
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        conductor(app).submit = sent.append
        tree = app.screen.query_one(TaskTree)
        tree.focus()
        await pilot.press("M")  # every failed task
        await pilot.pause()
        assert list(tree.marked) == ["scene-3", "scene-5", "shot_list"]
        tree.reveal("scene-5")
        await pilot.press("space")  # and one unmarked again by hand
        await pilot.pause()
        assert list(tree.marked) == ["scene-3", "shot_list"]
        tree.reveal("scene-3")
        await pilot.pause()
        assert "● ✗ scene-3" in screen_text(app)  # a mark is seen
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen), "the bulk question")
        shown = screen_text(app)
        assert "scene-3" in shown and "shot_list" in shown and "scene-5" not in shown
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, BulkScreen), "the question to close")
        assert [(c.action, c.task_id) for c in sent] == [
            (Action.RETRY, "scene-3"),
            (Action.RETRY, "shot_list"),
        ]
        assert not tree.marked and "● ✗" not in screen_text(app)


async def test_a_cancelled_bulk_sends_nothing_and_keeps_the_marks(
    failing: ProductionView,
) -> None:
    app = app_for(failing)
    sent: list[Command] = []
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        conductor(app).submit = sent.append
        app.screen.query_one(TaskTree).focus()
        await pilot.press("M", "s")
        await until(pilot, lambda: isinstance(app.screen, BulkScreen), "the bulk question")
        await pilot.press("escape")
        await pilot.pause()
        assert not sent and len(app.screen.query_one(TaskTree).marked) == 3


async def test_y_copies_the_selected_tasks_version_as_podium_show_prints_it(
    view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.domain import versions
    from podium.export.human import render

    copied: list[str] = []
    monkeypatch.setattr(PodiumApp, "copy_to_clipboard", lambda self, text: copied.append(text))
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TaskTree)
        assert tree.reveal("scene-02")
        await pilot.pause()
        assert not copied  # only on a key
        await pilot.press("y")
        await pilot.pause()
        artifact = versions.current(view, "scene-02")
        assert artifact is not None
        assert copied == [render(artifact.parsed()).text]
        assert "INT." in copied[0] or "EXT." in copied[0]  # Fountain, not JSON
        assert any(
            f"Copied scene-02's current version (Fountain): {len(copied[0]):,} characters"
            in n.message
            for n in app._notifications
        )


async def test_y_in_the_transcript_copies_the_matched_entry(
    view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied: list[str] = []
    monkeypatch.setattr(PodiumApp, "copy_to_clipboard", lambda self, text: copied.append(text))
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        transcript = app.screen.query_one(DebateTranscript)
        found = transcript.search("outline")
        assert found
        transcript.show_match(found[0])
        transcript.focus()
        await pilot.press("y")
        await pilot.pause()
        assert copied == [found[0].plain] and "outline" in copied[0].lower()


async def test_z_maximises_the_focused_pane_and_restores_it(view: ProductionView) -> None:
    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        app.screen.query_one(DebateTranscript).focus()
        await pilot.press("z")
        await pilot.pause()
        pane = app.screen.query_one("#transcript-pane")
        assert app.screen.maximized is pane
        assert pane.region.width == NARROW[0]
        assert "Inbox" not in screen_text(app)
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None and "Inbox" in screen_text(app)


async def test_a_new_filter_lays_out_kept_lines_without_drawing_entries_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 20: a filter change on a long transcript cost a redraw of every entry (2-9 s
    with 2,000 entries); each entry is drawn once and its lines kept."""
    from textual.app import App, ComposeResult

    from podium.domain.events import ReviewGiven

    class _One(App[None]):
        def compose(self) -> ComposeResult:
            yield DebateTranscript(id="t")

    drawn: list[object] = []
    original = DebateTranscript._lines_for

    def counting(self: DebateTranscript, item: Any) -> Any:
        drawn.append(item)
        return original(self, item)

    monkeypatch.setattr(DebateTranscript, "_lines_for", counting)
    app = _One()
    async with app.run_test(size=NARROW) as pilot:
        transcript = app.query_one(DebateTranscript)
        transcript.add(
            ReviewGiven(
                task_id=f"scene-{i % 10}",
                artifact_id=f"a{i}",
                reviewer="dir",
                round=1,
                verdict="approve",
                summary=f"note {i}",
            )
            for i in range(200)
        )
        await pilot.pause()
        first = len(drawn)
        assert first == 200 and len(transcript.lines) >= 400
        for text in ("scene-3", "", "scene-7", ""):
            transcript.filter_text = text
            await pilot.pause()
            shown = " ".join(strip.text for strip in transcript.lines)
            assert ("note 3 " in shown) == (text in ("scene-3", ""))
        assert len(drawn) == first  # nothing drawn again


async def test_the_footer_is_drawn_again_only_when_what_it_shows_changes(
    view: ProductionView,
) -> None:
    """Textual signals a change of bindings several times a key press; the footer (one line,
    not a widget per key) repaints only when the keys it shows changed."""
    from podium.tui.widgets.footer import PodiumFooter

    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(PodiumFooter)
        assert not footer.children  # one widget drawing its keys, no widget per key
        before = footer.entries
        assert before
        painted: list[object] = []
        refresh = footer.refresh
        footer.refresh = lambda *a, **k: painted.append(a) or refresh(*a, **k)  # type: ignore[method-assign]
        app.screen.refresh_bindings()
        await pilot.pause()
        assert footer.entries is before and not painted  # nothing it says changed
        app.screen.query_one(DebateTranscript).focus()  # other keys: drawn again
        await pilot.pause()
        after = [entry.description for entry in footer.entries]
        assert after != [entry.description for entry in before] and painted
        assert after[:3] == ["help", "quit", "commands"]


async def test_a_click_on_a_footer_key_runs_it_and_the_key_under_the_mouse_has_its_tooltip(
    view: ProductionView,
) -> None:
    """As Textual's footer did with a widget per key: a click presses the key (`?`: help),
    the key under the mouse is highlighted and shows its binding's tooltip."""
    from podium.tui.screens.help import HelpScreen
    from podium.tui.widgets.footer import PodiumFooter

    app = app_for(view)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(PodiumFooter)
        assert [e.description for e in footer.entries[:2]] == ["help", "quit"]
        await pilot.hover(PodiumFooter, offset=(3, 0))  # "? help"
        assert footer.tooltip == "Every key, and what it does"
        await pilot.hover(PodiumFooter, offset=(6, 0))  # the gap between two keys
        assert footer.tooltip is None
        await pilot.click(PodiumFooter, offset=(2, 0))
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help from a click")


def test_the_tree_search_sees_a_tasks_new_state_reason_and_title(view: ProductionView) -> None:
    """The search keeps each task's text between searches, until the task changes (an event
    folded: the fold marks where the view stands, as `folded` does here)."""
    import copy

    from podium.tui.widgets.task_shape import TaskSearch, shape

    view = copy.deepcopy(view)  # the fixture is shared with the snapshots

    def folded() -> None:
        view.mark(view.last_seq + 1, view.last_ts or 0.0)

    search, tree_shape = TaskSearch(), shape(view)
    task_id, record = next(iter(view.tasks.items()))
    assert search.find(view, tree_shape, "zebra-crossing") == []
    record.reason = "Waiting on the zebra-crossing shot"
    folded()
    assert search.find(view, tree_shape, "zebra-crossing") == [task_id]
    record.spec = record.spec.model_copy(update={"title": "Quokka montage"})
    folded()
    assert search.find(view, tree_shape, "quokka") == [task_id]
    record.reason = ""
    folded()
    assert search.find(view, tree_shape, "zebra-crossing") == []


def test_the_tree_search_finds_what_a_test_of_each_task_finds(view: ProductionView) -> None:
    """Searched as one text, the tasks found are those whose own text holds the words, each
    once, in the tree's order; words across two tasks' texts find neither."""
    from podium.tui.format import TASK_WORDS
    from podium.tui.widgets.task_shape import SEP, NodeRef, TaskSearch, shape

    search, tree_shape = TaskSearch(), shape(view)
    order = [
        t for phase in tree_shape.phases for t in tree_shape.tasks_under(NodeRef("phase", phase))
    ]

    def each(needle: str) -> list[str]:
        found = []
        for task_id in order:
            record = view.tasks.get(task_id)
            if record is None:
                continue
            spec, words = record.spec, TASK_WORDS[record.state]
            text = f"{task_id}\n{spec.title}\n{spec.assignee}\n{words}\n{record.reason or ''}"
            if needle in text.lower():
                found.append(task_id)
        return found

    first, last = order[0], order[-1]
    needles = ["e", "t", "done", first.lower(), last.lower(), "\n", "zz-none", SEP, "e" + SEP]
    needles.append(view.tasks[first].spec.title.lower()[-3:] + SEP + last.lower()[:3])
    for needle in needles:
        assert search.find(view, tree_shape, needle) == each(needle), repr(needle)
    assert len(search.find(view, tree_shape, "e")) == len(set(each("e"))) > 1


def _failure_item(view: ProductionView, task_id: str) -> ProductionView:
    """A failure item on `task_id`, as the engine opens one: Retry, Skip, Reassign."""
    from podium.domain.escalation import Escalation, EscalationKind, Option, Priority
    from podium.domain.events import EscalationOpened

    options = [Option(id=o, label=o.title(), proposer="podium") for o in ("retry", "reassign")]
    escalation = Escalation(
        id="fail-1",
        kind=EscalationKind.FAILURE,
        priority=Priority.HIGH,
        title=f"{task_id} failed",
        task_id=task_id,
        options=options,
        actions=[Action.RETRY, Action.SKIP, Action.REASSIGN, Action.OVERRIDE],
    )
    view.apply_payload(EscalationOpened(escalation=escalation), 0.0)
    return view


async def test_a_failures_reassign_option_asks_to_whom_and_retry_retries(
    failing: ProductionView,
) -> None:
    """Choosing the option "Reassign" is the reassign action (it was sent as an approval naming
    no agent, which the engine refused: "no agent ''")."""
    from podium.tui.screens.alternatives import AlternativesScreen
    from podium.tui.screens.escalation import EscalationChoice

    app = app_for(_failure_item(failing, "scene-3"))
    sent: list[Command] = []
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        screen = conductor(app)
        screen.submit = sent.append
        screen._escalation_chosen("fail-1", EscalationChoice(Action.APPROVE, "reassign"))
        await until(pilot, lambda: isinstance(app.screen, AlternativesScreen), "the picker")
        await until(pilot, lambda: "Reassign scene-3 to" in screen_text(app), "the picker drawn")
        assert not sent
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AlternativesScreen), "closed")
        screen._escalation_chosen("fail-1", EscalationChoice(Action.APPROVE, "retry"))
        await until(pilot, lambda: bool(sent), "a command")
        assert [(c.action, c.escalation_id) for c in sent] == [(Action.RETRY, "fail-1")]


async def test_a_task_made_but_not_yet_drawn_is_drawn_as_it_is_by_then(
    view: ProductionView,
) -> None:
    """A group's tasks are labelled as they are first drawn (issue 20): one that changed
    in between shows its new title."""
    import copy

    from podium.tui.widgets.task_shape import NodeRef

    view = copy.deepcopy(view)  # the fixture is shared with the snapshots
    app = app_for(view)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        tree = app.screen.query_one(TaskTree)
        hidden = [t for t in view.tasks if NodeRef("task", t) not in tree._node_for]
        task_id = hidden[len(hidden) // 2]
        tree._reveal_quietly(task_id)  # made, not shown
        record = view.tasks[task_id]
        record.spec = record.spec.model_copy(update={"title": "Quokka montage"})
        tree.refresh_tasks([task_id])
        assert tree.reveal(task_id)
        await pilot.pause()
        assert "Quokka montage" in screen_text(app)
