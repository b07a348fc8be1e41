"""Agent text that reaches a notification, and an agent line of 200,000 characters: shown
literally and harmlessly, and the conductor's screen stays up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from podium.domain.artifacts import Prose
from podium.domain.escalation import EscalationKind
from podium.domain.tasks import TaskState
from podium.domain.text import PLACEHOLDER
from podium.llm.types import CompletionRequest, CompletionResult
from podium.tui.screens.alternatives import AlternativesScreen
from podium.tui.screens.task_detail import TaskDetailScreen
from podium.tui.widgets.agent_activity import AgentActivity
from podium.tui.widgets.task_tree import TaskTree

from ..engine.harness import Script, ScriptedBackend, ScriptedGateway, crew, production, tasks
from .conftest import SIZE, make_app, screen_text, until

MARKUP = "[b]B[/b] [@click=app.quit]Q[/]"
LABEL = "\x1b[31m" + MARKUP + "\x1b]0;pwned\x07 \u202eevil\u202c"
SHOWN_LABEL = f"{PLACEHOLDER}{MARKUP}{PLACEHOLDER} {PLACEHOLDER}evil{PLACEHOLDER}"
END = "\x1b[2J THE END " + MARKUP
LONG_LINE = "[i]I[/i] " + "word " * 40_000 + END  # 200,000 characters and more, one line


def spec_text() -> str:
    return (
        crew(("prod", "producer"), ("w", "writer"))
        + tasks({"id": "s1", "title": "Scene", "kind": "chapter", "assignee": "w"})
        + '[planner]\nmode = "explicit"\n'
    )


async def open_engine(tmp_path: Path, gateway: ScriptedGateway) -> Any:
    from podium.engine.engine import Engine
    from podium.store import EventStore

    store = await EventStore.open(tmp_path / "p.db")
    engine = await Engine.open(
        store, spec=production(spec_text()), gateway=gateway, keep_alive=True, headless=False
    )
    return engine, store


def asking(request: CompletionRequest) -> Any:
    """s1's agent asks a question first, offering a hostile option (agent text that a
    decision's notification quotes), then writes with the answer."""
    schema = request.response_schema
    if request.purpose != "task" or schema is None:
        return None
    if not request.hints.get("clarifications"):
        question = {"text": "Which way?", "options": [LABEL, "plain"]}
        return schema.model_validate({"text": "draft", "question": question})
    return schema.model_validate({"text": "Written."})


def done(engine: Any) -> bool:
    record = engine.view.tasks.get("s1")
    return record is not None and record.state is TaskState.DONE


async def select_s1(pilot: Pilot[Any], app: Any) -> None:
    """Put the tree's cursor on s1 as a user would: open the phase if it is closed, go down."""
    tree = app.query_one(TaskTree)
    tree.focus()
    for _ in range(6):
        await pilot.pause()
        node = tree.cursor_node
        if node is not None and node.data is not None and node.data.key == "s1":
            return
        await pilot.press("space" if node is not None and not node.is_expanded else "j")
    raise AssertionError(f"s1 not reached in the tree\n{screen_text(app)}")


def messages(app: Any) -> list[str]:
    return [n.message for n in app._notifications] + [n.title for n in app._notifications]


async def test_a_notification_shows_agent_text_literally(tmp_path: Path) -> None:
    # An alternatives pick is announced by its option id and version (alt1: s1-v2 is
    # current), so an agent's own words reach a notification through an answered question:
    # the notification quotes the option the agent offered.
    engine, store = await open_engine(tmp_path, ScriptedGateway(Script(answer=asking)))
    app = make_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(
            pilot,
            lambda: any(
                e.kind is EscalationKind.QUESTION and e.options
                for e in engine.view.open_escalations()
            ),
            "the agent's question",
        )
        await select_s1(pilot, app)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AlternativesScreen), "the picker")
        await pilot.press("enter")  # the first: the hostile option
        await until(pilot, lambda: any(SHOWN_LABEL in m for m in messages(app)), "the notification")
        [said] = [m for m in messages(app) if SHOWN_LABEL in m]
        # one line, its title first
        assert said.startswith(f"approve: answered s1's question: {SHOWN_LABEL}")
        await until(pilot, lambda: "[@click=app.quit]Q[/]" in screen_text(app), "the toast")
        shown = screen_text(app)
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
        assert "[b]B[/b]" in shown  # markup shown as typed, not made bold
        assert app.is_running  # [@click=app.quit] did not quit
    await store.close()


class LongLineBackend(ScriptedBackend):
    """Streams one 200,000-character line before the (scripted) reply."""

    async def _run(self, request: CompletionRequest) -> AsyncIterator[str | CompletionResult]:
        async for item in super()._run(request):
            if isinstance(item, CompletionResult) and request.purpose == "task":
                yield LONG_LINE
            yield item


class LongLineGateway(ScriptedGateway):
    def __init__(self, script: Script) -> None:
        super().__init__(script)
        self.backend = LongLineBackend(script)


def long_prose(request: CompletionRequest) -> Any:
    if request.purpose == "task":
        return Prose(title="Long", text=LONG_LINE)
    return None


async def test_a_200000_character_agent_line_is_shown_and_the_screen_stays_up(
    tmp_path: Path,
) -> None:
    assert len(LONG_LINE) > 200_000 and "\n" not in LONG_LINE
    engine, store = await open_engine(tmp_path, LongLineGateway(Script(answer=long_prose)))
    app = make_app(engine)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: done(engine), "s1 done")
        activity = app.query_one(AgentActivity)
        await until(pilot, lambda: "THE END" in activity.row_text("w"), "the line's tail")
        row = activity.row_text("w")
        assert MARKUP in row and "\x1b" not in row
        # the row's text is the widget's; the screen shows it at its next refresh
        await until(pilot, lambda: "word word" in screen_text(app), "the words on screen")
        shown = screen_text(app)
        assert [line for line in shown.splitlines() if "\x1b" in line] == []

        await select_s1(pilot, app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TaskDetailScreen), "the task detail")
        # the output as `podium show` prints prose (Markdown, its brackets escaped): the
        # agent's markup shown as typed, not made italic
        await until(pilot, lambda: r"\[i\]I\[/i\] word" in screen_text(app), "the output")
        assert "\x1b" not in screen_text(app)
        await pilot.press("escape")
        assert app.is_running
    await store.close()
