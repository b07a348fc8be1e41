"""What a human pours in through a command is held to the production file's rules (issue 14
§2, §5): directions are capped like the vision's premise, no command carries a terminal
control character, and live constraints validate exactly as the file's do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from podium.domain.escalation import Action, command_adapter, command_problem
from podium.domain.events import ProductionState
from podium.domain.production import MAX_DIRECTION
from podium.engine.engine import Engine

from .harness import Script, crew, open_engine, production, tasks

BODY = (
    crew(("w", "writer"))
    + tasks({"id": "x", "title": "X", "kind": "chapter", "assignee": "w"})
    + '[planner]\nmode = "explicit"\n'
)


async def _done(tmp_path: Path) -> Engine:
    engine = await open_engine(production(BODY), tmp_path / "p.db", Script())
    assert await engine.run() is ProductionState.COMPLETED
    return engine


async def _apply(engine: Engine, action: Action, text: str = "", **args: Any) -> tuple[bool, str]:
    """The command refused as it is made (what the CLI and the dialogs say), or its outcome."""
    fields: dict[str, Any] = {
        "id": f"c{len(engine.view.agents['w'].feedback)}-{action.value}-{len(text)}-{args}",
        "action": action,
        "task_id": "x",
    }
    if action in (Action.FEEDBACK, Action.OVERRIDE):
        fields["text"] = text
    fields |= {"changes": args} if action is Action.ADJUST_CONSTRAINTS else args
    try:
        command = command_adapter().validate_python(fields)
    except ValidationError as exc:
        return False, command_problem(exc)
    result = await engine.apply_offline(command)
    return result.applied, result.detail


async def test_feedback_and_a_direction_are_capped_like_the_premise(tmp_path: Path) -> None:
    engine = await _done(tmp_path)
    try:
        applied, detail = await _apply(engine, Action.FEEDBACK, "x" * (MAX_DIRECTION + 1))
        assert not applied
        assert detail.startswith("feedback is 20,001 characters; at most 20,000")
        assert (await _apply(engine, Action.FEEDBACK, "y" * MAX_DIRECTION))[0]
        applied, detail = await _apply(engine, Action.OVERRIDE, "z" * (MAX_DIRECTION + 1))
        assert not applied
        assert detail.startswith("the direction is 20,001 characters; at most 20,000")
        assert engine.view.agents["w"].feedback == ["y" * MAX_DIRECTION]
    finally:
        await engine.store.close()


@pytest.mark.parametrize(
    ("action", "text", "args"),
    [
        (Action.FEEDBACK, "\x1b]52;c;SGVsbG8=\x07 darker", {}),
        (Action.OVERRIDE, "make it \x1b[2J darker", {}),
        (Action.OVERRIDE, "new text \x9b31m", {"replace": True}),
        (Action.CLARIFY_VISION, "", {"section": "tone", "value": "warm\x1b]0;pwned\x07"}),
        (Action.CLARIFY_VISION, "", {"section": "themes", "value": ["a", "b\u202ec"]}),
        (Action.CLARIFY_VISION, "", {"section": "tone", "value": "warm", "reason": "\x1b[2J"}),
        (Action.ADJUST_CONSTRAINTS, "", {"max_per_model": {"rehearsal/\x1b]0;x\x07": 2}}),
    ],
)
async def test_a_terminal_control_in_a_command_is_refused(
    tmp_path: Path, action: Action, text: str, args: dict[str, Any]
) -> None:
    engine = await _done(tmp_path)
    try:
        applied, detail = await _apply(engine, action, text, **args)
        assert not applied
        assert "a terminal control character; remove it" in detail or "bidirectional" in detail
    finally:
        await engine.store.close()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_concurrency": True}, "max_concurrency: Input should be a valid integer"),
        ({"retries": "3"}, "retries: Input should be a valid integer"),
        ({"max_per_agent": 2.0}, "max_per_agent: Input should be a valid integer"),
        ({"budget_usd": "5"}, "budget_usd: Input should be a valid number"),
        ({"max_per_model": {"gpt4": 2}}, "max_per_model.gpt4: 'gpt4' names no provider"),
    ],
)
async def test_live_constraints_are_refused_as_the_file_refuses_them(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    engine = await _done(tmp_path)
    try:
        applied, detail = await _apply(engine, Action.ADJUST_CONSTRAINTS, **changes)
        assert not applied
        assert detail.startswith(message), detail
    finally:
        await engine.store.close()


async def test_live_constraints_the_file_takes_are_taken(tmp_path: Path) -> None:
    engine = await _done(tmp_path)
    try:
        for changes in (
            {"max_per_model": {"openai/gpt-4o-mini": 2}},
            {"budget_usd": 5},
            {"deadline": "45m"},
            {"max_concurrency": 3},
        ):
            applied, detail = await _apply(engine, Action.ADJUST_CONSTRAINTS, **changes)
            assert applied, detail
        assert engine.view.constraints is not None
        assert engine.view.constraints.deadline == 2700.0
        assert engine.view.constraints.budget_usd == 5.0
    finally:
        await engine.store.close()


async def test_a_premise_of_whitespace_alone_is_refused(tmp_path: Path) -> None:
    engine = await _done(tmp_path)
    try:
        applied, detail = await _apply(
            engine, Action.CLARIFY_VISION, section="premise", value="   "
        )
        assert not applied
        assert detail == "vision premise: only whitespace; write the premise"
    finally:
        await engine.store.close()
