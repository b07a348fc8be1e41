"""Keys act on what the Orchestrator points at, and several screens are told who decided
(issue 19 §5 and §11), at 80×24.

A key acts on the highlighted thing or says why not in one line; after a decision the
highlight stays with its item or moves, visibly, to the next item of the same kind; one click
selects and a double click opens; another client's decision is announced with who made it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette

from podium.domain.escalation import (
    DEFAULT_PRIORITY,
    KIND_ACTIONS,
    Action,
    ApproveCommand,
    Command,
    Escalation,
    EscalationKind,
)
from podium.domain.events import (
    CommandRecorded,
    EscalationOpened,
    EscalationResolved,
    Payload,
    ProductionOpened,
    TasksPlanned,
)
from podium.domain.state import ProductionView
from podium.seam.protocol import CommandResult
from podium.tui.app import PodiumApp
from podium.tui.screens.alternatives import AlternativesScreen
from podium.tui.screens.conductor import ConductorScreen
from podium.tui.screens.escalation import EscalationScreen
from podium.tui.screens.feedback import FeedbackScreen
from podium.tui.source import StaticSource
from podium.tui.widgets.escalation_inbox import EscalationInbox
from podium.tui.widgets.task_tree import TaskTree

from ..engine.harness import crew, production, tasks
from .conftest import BASE_TS, make_app, screen_text, until

SMALL = (80, 24)
GATE, MILESTONE, PLAN = EscalationKind.APPROVAL_GATE, EscalationKind.MILESTONE, EscalationKind.PLAN


def notified(app: PodiumApp, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


def said(app: PodiumApp) -> str:
    return " | ".join(str(n.message) for n in app._notifications)


class Deciding(StaticSource):
    """Decides as an engine would: a command on an open item resolves it, recorded with the
    command's origin, and the screen hears of it through the source. Keeps what was sent."""

    def __init__(self, view: ProductionView) -> None:
        super().__init__(view)
        self.sent: list[Command] = []
        self._seq = 1000

    def _apply(self, payload: Payload) -> None:
        self._seq += 1
        self.view.apply_payload(payload, BASE_TS + self._seq)
        self.announce(self._seq, payload)

    def decide(self, command: Command) -> None:
        """`command` applied, from whichever client issued it."""
        self._apply(CommandRecorded(command=command))
        esc_id = command.escalation_id or ""
        self._apply(
            EscalationResolved(escalation_id=esc_id, action=command.action, command_id=command.id)
        )

    async def submit(self, command: Command) -> CommandResult:
        self.sent.append(command)
        escalation = self.view.escalations.get(command.escalation_id or "")
        if escalation is None or not escalation.open:
            return CommandResult(command.id, False, "nothing open to decide")
        self.decide(command)
        return CommandResult(command.id, True, f"{command.action.value}d {escalation.id}")


def crew_and_tasks() -> str:
    return (
        crew(("dir", "director"), ("w", "writer"), ("w2", "writer"))
        + tasks(
            {
                "id": "x",
                "title": "Scene X",
                "kind": "scene",
                "assignee": "w",
                "reviewers": ["dir"],
                "phase": "screenplay",
            },
            {
                "id": "y",
                "title": "Scene Y",
                "kind": "scene",
                "assignee": "w",
                "phase": "screenplay",
            },
        )
        + '[planner]\nmode = "explicit"\n'
    )


def inbox_view(*items: tuple[str, EscalationKind, str | None]) -> ProductionView:
    """A production whose inbox holds these items (id, kind, task), opened in this order."""
    spec = production(crew_and_tasks())
    view = ProductionView()
    view.apply_payload(ProductionOpened(spec=spec.model_dump(mode="json")), BASE_TS)
    view.apply_payload(TasksPlanned(tasks=list(spec.tasks)), BASE_TS)
    for i, (esc_id, kind, task_id) in enumerate(items):
        escalation = Escalation(
            id=esc_id,
            kind=kind,
            priority=DEFAULT_PRIORITY[kind],
            title=f"Decide {esc_id}",
            task_id=task_id,
            actions=list(KIND_ACTIONS[kind]),
            opened_at=BASE_TS + i,
        )
        view.apply_payload(EscalationOpened(escalation=escalation), BASE_TS + i)
    return view


async def on_inbox(pilot: Any, first: str) -> EscalationInbox:
    inbox: EscalationInbox = pilot.app.query_one(EscalationInbox)
    inbox.focus()
    await until(pilot, lambda: inbox.current_escalation == first, f"{first} highlighted")
    return inbox


async def test_a_on_a_phase_row_says_why_and_opens_nothing() -> None:
    source = Deciding(inbox_view(("gate-1", GATE, None)))
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        tree = app.query_one(TaskTree)
        tree.focus()
        tree.cursor_line = 0
        await pilot.pause()
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        assert tree.cursor_node.data.kind == "phase"
        await pilot.press("a")
        await until(pilot, lambda: notified(app, "screenplay is a phase, not a task"), "why")
        assert notified(app, "enter opens or closes it")
        assert isinstance(app.screen, ConductorScreen)  # no picker, no dialog
    assert source.sent == []


async def test_a_key_an_item_does_not_offer_says_what_it_offers() -> None:
    source = Deciding(inbox_view(("plan-1", PLAN, None)))
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await on_inbox(pilot, "plan-1")
        await pilot.press("n")
        line = "plan-1 (plan) does not offer alternatives; it offers a approve, "
        await until(pilot, lambda: notified(app, line), "the refusal", 5)
        assert notified(app, "o override")
        await pilot.press("r")
        await until(pilot, lambda: notified(app, "does not offer retry"), "the refusal", 5)
        assert isinstance(app.screen, ConductorScreen)
    assert source.sent == []


async def test_a_a_a_approves_the_highlighted_item_then_the_next_of_its_kind() -> None:
    """The inbox shows gate-1, mile-1, gate-2, mile-2: after gate-1 the highlight goes to
    gate-2 (not mile-1, which took gate-1's row), then to nothing, and the third a says so."""
    source = Deciding(
        inbox_view(
            ("gate-1", GATE, None),
            ("mile-1", MILESTONE, None),
            ("gate-2", GATE, None),
            ("mile-2", MILESTONE, None),
        )
    )
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        inbox = await on_inbox(pilot, "gate-1")
        await pilot.press("a")
        moved = "gate-1 approved; now on gate-2 (Decide gate-2)"  # its title: the id says little
        await until(pilot, lambda: notified(app, moved), said(app))
        assert inbox.current_escalation == "gate-2"
        await until(pilot, lambda: "Decide gate-2" in screen_text(app), "its detail shown")
        await pilot.press("a")
        line = "gate-2 approved; no other approval gate waits"
        await until(pilot, lambda: notified(app, line), "the highlight going nowhere")
        assert inbox.current_escalation is None
        await pilot.press("a")
        await until(pilot, lambda: notified(app, "No inbox item is highlighted"), "why not")
    assert [c.escalation_id for c in source.sent] == ["gate-1", "gate-2"]
    assert source.view.escalations["mile-1"].open and source.view.escalations["mile-2"].open


async def test_one_click_selects_and_a_double_click_opens() -> None:
    source = Deciding(inbox_view(("gate-1", GATE, None), ("gate-2", GATE, None)))
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        inbox = app.query_one(EscalationInbox)
        await until(pilot, lambda: inbox.current_escalation == "gate-1", "the first item")
        await pilot.click(EscalationInbox, offset=(10, 1))
        await until(pilot, lambda: inbox.current_escalation == "gate-2", "the click's item")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConductorScreen)  # selected, not opened
        assert "Decide gate-2" in screen_text(app)  # the detail shows it
        await pilot.double_click(EscalationInbox, offset=(10, 0))
        await until(pilot, lambda: isinstance(app.screen, EscalationScreen), "the item opened")
        assert inbox.current_escalation == "gate-1"


async def test_f_in_the_inbox_gives_feedback_on_the_items_task_or_says_why_not() -> None:
    source = Deciding(inbox_view(("gate-1", GATE, "x"), ("gate-2", GATE, None)))
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        inbox = await on_inbox(pilot, "gate-1")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen), "feedback to w")
        assert "w" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConductorScreen), "closed")
        inbox.focus()
        inbox.highlighted = 1
        await until(pilot, lambda: inbox.current_escalation == "gate-2", "the second item")
        await pilot.press("f")
        await until(pilot, lambda: notified(app, "gate-2 is about no task"), "why not")
    assert source.sent == []


async def test_another_clients_decision_is_told_with_who_made_it() -> None:
    source = Deciding(
        inbox_view(("gate-1", GATE, None), ("gate-2", GATE, None), ("gate-3", GATE, None))
    )
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        inbox = await on_inbox(pilot, "gate-1")
        source.decide(ApproveCommand(id="c-1", escalation_id="gate-3", origin="cli"))
        line = "gate-3 approved by podium decide (CLI)"
        await until(pilot, lambda: notified(app, line), "the CLI's decision")
        assert inbox.current_escalation == "gate-1"  # not the highlighted one: it stays
        other = ApproveCommand(id="t-2", escalation_id="gate-1", origin="tui 0ther")
        source.decide(other)
        line = "gate-1 approved by another screen; now on gate-2"
        await until(pilot, lambda: notified(app, line), said(app))
        assert inbox.current_escalation == "gate-2"
        auto = ApproveCommand(id="a-3", escalation_id="gate-2", origin="--auto-approve gates")
        source.decide(auto)
        line = "gate-2 approved automatically by the engine (--auto-approve gates)"
        await until(pilot, lambda: notified(app, line), "the engine's decision")


async def test_the_reassign_picker_labels_agents_by_role_and_model_and_leaves_reviewers_out() -> (
    None
):
    source = Deciding(inbox_view())
    app = make_app(source)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        screen = app.screen
        assert isinstance(screen, ConductorScreen)
        screen.act(Action.REASSIGN, task_id="x")
        await until(pilot, lambda: isinstance(app.screen, AlternativesScreen), "the picker")
        await until(pilot, lambda: "Reassign x to" in screen_text(app), "the picker drawn")
        text = screen_text(app)
        model = source.view.spec.models.default if source.view.spec else ""
        assert "w2" in text and f"writer · {model}" in text, text
        assert "proposed by" not in text
        picker = app.screen
        assert isinstance(picker, AlternativesScreen)
        assert [c.id for c in picker.choices] == ["w2"]  # dir reviews x; w has it
        assert "Not offered, as they review it: dir" in text


@pytest.mark.parametrize("works", [True, False])
async def test_the_palettes_screenshot_says_where_it_saved_or_why_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, works: bool
) -> None:
    from podium.tui import screenshot

    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path if works else tmp_path / "a-file"
    monkeypatch.setattr(screenshot, "screenshot_folder", lambda: folder)
    app = make_app(Deciding(inbox_view()))
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: CommandPalette.is_open(app), "the palette")
        await pilot.press(*"screenshot")
        await until(pilot, lambda: "Save an SVG" in screen_text(app), "the command listed")
        await pilot.press("enter")
        if works:
            await until(pilot, lambda: notified(app, f"Screenshot saved to {tmp_path}"), said(app))
            assert list(tmp_path.glob("*.svg"))
        else:
            line = f"Screenshot not saved: cannot write {folder}/"
            await until(pilot, lambda: notified(app, line), said(app))
            assert notified(app, "(Not a directory).")


async def test_one_click_on_a_task_moves_the_cursor_and_a_double_click_opens_it() -> None:
    from podium.tui.screens.task_detail import TaskDetailScreen

    app = make_app(Deciding(inbox_view()))
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        tree = app.query_one(TaskTree)
        await until(pilot, lambda: "Scene Y" in screen_text(app), "the tasks shown")
        row = next(
            line
            for line in range(5)
            if (n := tree.get_node_at_line(line)) and n.data and n.data.key == "y"
        )
        await pilot.click(TaskTree, offset=(8, row))
        await until(pilot, lambda: tree.cursor_line == row, "the cursor on y")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ConductorScreen)  # selected, not opened
        await pilot.double_click(TaskTree, offset=(8, row))
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen), "y's details")
