"""Agent text is shown literally everywhere: escape sequences stripped, markup never parsed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import OptionList, Static

from podium.domain.artifacts import Critique, Position
from podium.domain.escalation import EscalationKind
from podium.llm.types import CompletionRequest, CompletionResult
from podium.tui.screens.alternatives import AlternativesScreen
from podium.tui.screens.escalation import EscalationScreen
from podium.tui.screens.override import OverrideScreen
from podium.tui.screens.task_detail import TaskDetailScreen
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.task_tree import TaskTree

from ..engine.harness import Script, ScriptedBackend, ScriptedGateway, crew, production, tasks
from .conftest import SIZE, make_app, screen_text, until, until_shown

HOSTILE = "[b]B[/b] [link=x://e]L[/link] [@click=app.quit]Q[/]"
RAW = "\x1b[31m\x1b]8;;x://e\x07" + HOSTILE + "\x1b[0m\x07"
TITLE = "S [b]1[/b] [@click=app.quit]q[/]"


class HostileBackend(ScriptedBackend):
    """Streams what the scripted model says, then raw escapes and markup."""

    async def _run(self, request: CompletionRequest) -> AsyncIterator[str | CompletionResult]:
        async for item in super()._run(request):
            if isinstance(item, CompletionResult):
                yield RAW
            yield item


class HostileGateway(ScriptedGateway):
    def __init__(self, script: Script) -> None:
        super().__init__(script)
        self.backend = HostileBackend(script)


def answer(request: CompletionRequest) -> Any:
    if request.purpose == "review":
        return Critique(verdict="revise", summary=HOSTILE, issues=[HOSTILE])
    if request.purpose == "debate":
        return Position(stance=HOSTILE, reasoning=HOSTILE, concedes=False)
    return None


def spec_text() -> str:
    return (
        crew(
            ("prod", "producer"),
            ("dir", "director"),
            ("w", "writer"),
            ("dp", "director_of_photography"),
        )
        + tasks(
            {
                "id": "s1",
                "title": TITLE,
                "kind": "scene",
                "assignee": "w",
                "reviewers": ["dir"],
                "phase": "screenplay",
            },
            {"id": "look", "title": "Look", "kind": "look", "assignee": "dp"},
        )
        + '[planner]\nmode = "explicit"\n[constraints]\nreview_rounds = 1\ndebate_rounds = 1\n'
    )


def widget_text(app: App[Any]) -> str:
    """The plain text of every Static and option on the current screen."""
    parts: list[str] = []
    for static in app.screen.query(Static):
        visual = static.visual
        parts.append(str(getattr(visual, "plain", visual)))
    for options in app.screen.query(OptionList):
        for index in range(options.option_count):
            prompt = options.get_option_at_index(index).prompt
            parts.append(str(getattr(prompt, "plain", prompt)))
    return "\n".join(parts)


async def test_agent_text_is_literal_in_every_pane_and_dialog(tmp_path: Path) -> None:
    from podium.engine.engine import Engine
    from podium.store import EventStore

    script = Script(answer=answer, ruling_decided=False)
    store = await EventStore.open(tmp_path / "p.db")
    engine = await Engine.open(
        store,
        spec=production(spec_text()),
        gateway=HostileGateway(script),
        keep_alive=True,
        headless=False,
    )
    app = make_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(
            pilot,
            lambda: any(e.kind is EscalationKind.CONFLICT for e in engine.view.open_escalations()),
            "the conflict",
        )
        await until_shown(pilot, f"Conflict on {TITLE}")
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown
        assert TITLE in shown  # the tree and the inbox
        assert f"   {HOSTILE}" in shown  # the review in the transcript
        assert f"w (writer): {HOSTILE}" in shown  # the debate turn
        activity = app.query_one(AgentActivity)
        rows = "\n".join(activity.row_text(agent_id) for agent_id in engine.view.agents)
        assert "[@click=app.quit]Q[/]" in rows  # the tail of what the DP streamed
        assert app.is_running

        app.screen.focus_pane("inbox")
        await pilot.press("g")  # the conflict sorts first
        await until(pilot, lambda: HOSTILE in widget_text(app), "the options in the detail")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EscalationScreen), "the detail dialog")
        assert HOSTILE in widget_text(app) and TITLE in widget_text(app)
        await pilot.press("escape")

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AlternativesScreen), "the picker")
        assert HOSTILE in widget_text(app) and HOSTILE in screen_text(app)
        await pilot.press("escape")

        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OverrideScreen), "the override dialog")
        assert TITLE in widget_text(app)
        await pilot.press("escape")

        tree = app.query_one(TaskTree)
        tree.focus()
        for _ in range(3):
            node = tree.cursor_node
            if node is not None and node.data is not None and node.data.key == "s1":
                break
            await pilot.press("j")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen), "the task detail")
        assert TITLE in widget_text(app) and HOSTILE in widget_text(app)
        await pilot.press("escape")
        assert app.is_running
        assert "\x1b" not in screen_text(app)
    await store.close()
