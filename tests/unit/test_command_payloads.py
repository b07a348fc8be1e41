"""Commands are one model per action (issue 15 §2): each validates its own fields, refuses a
wrong shape with a sentence naming the field, and a command an older podium stored (one model,
its particulars in `text`, `option_id` and an `args` dict) is read into the new fields."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from podium.domain.artifacts import ArtifactStatus
from podium.domain.escalation import (
    COMMAND_TYPES,
    Action,
    AdjustConstraintsCommand,
    ApproveCommand,
    ClarifyVisionCommand,
    ConstraintChanges,
    FeedbackCommand,
    OverrideCommand,
    PauseCommand,
    ReassignCommand,
    RequestAlternativesCommand,
    VisionSection,
    command_adapter,
    command_problem,
)
from podium.domain.events import (
    PAYLOAD_ADAPTER,
    ArtifactStatusChanged,
    CommandRecorded,
    ConstraintsAdjusted,
    VisionAmended,
)
from podium.domain.production import VISION_SECTIONS, Character, Constraints
from podium.store import EventStore


def problem(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        command_adapter().validate_python({"id": "c"} | data)
    return command_problem(caught.value)


def test_every_action_has_its_model_and_the_sections_agree() -> None:
    assert set(COMMAND_TYPES) == set(Action)
    assert all(t.model_fields["action"].default is a for a, t in COMMAND_TYPES.items())
    assert VisionSection.__args__ == (*VISION_SECTIONS, "style")  # type: ignore[attr-defined]
    assert set(ConstraintChanges.model_fields) == set(Constraints.model_fields)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"action": "approve", "option_id": "alt2"}, ApproveCommand(id="c", option_id="alt2")),
        (
            {"action": "override", "text": "Colder.", "replace": True},
            OverrideCommand(id="c", text="Colder.", replace=True),
        ),
        ({"action": "reassign", "agent": "w2"}, ReassignCommand(id="c", agent="w2")),
        ({"action": "request_alternatives"}, RequestAlternativesCommand(id="c", count=3)),
        ({"action": "feedback", "text": "Shorter."}, FeedbackCommand(id="c", text="Shorter.")),
        (
            {"action": "clarify_vision", "section": "themes", "value": ["salt", "trust"]},
            ClarifyVisionCommand(id="c", section="themes", value=["salt", "trust"]),
        ),
        (
            {"action": "adjust_constraints", "changes": {"deadline": "45m"}},
            AdjustConstraintsCommand(id="c", changes=ConstraintChanges(deadline=2700.0)),
        ),
        ({"action": "pause"}, PauseCommand(id="c")),
    ],
)
def test_each_action_validates_its_own_fields(data: dict[str, Any], expected: object) -> None:
    command = command_adapter().validate_python({"id": "c"} | data)
    assert command == expected
    assert command_adapter().validate_json(command_adapter().dump_json(command)) == command


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "request_alternatives", "count": 9}, "count: Input should be less than"),
        ({"action": "request_alternatives", "count": "3"}, "count: Input should be a valid int"),
        ({"action": "override"}, "text: Field required"),
        ({"action": "override", "text": "x", "option_id": "a"}, "option_id: Extra inputs"),
        ({"action": "reassign"}, "agent: Field required"),
        ({"action": "clarify_vision", "section": "mood", "value": "x"}, "unknown vision section"),
        ({"action": "clarify_vision", "section": "tone", "value": 5}, "value: Input should be"),
        (
            {"action": "adjust_constraints", "changes": {"max_concurrency": True}},
            "max_concurrency: Input should be a valid integer",
        ),
        (
            {"action": "adjust_constraints", "changes": {"speed": 2}},
            "unknown constraint 'speed'; one of budget_usd",
        ),
        (
            {"action": "adjust_constraints", "changes": {"max_per_model": {"gpt4": 2}}},
            "max_per_model.gpt4: 'gpt4' names no provider",
        ),
        ({"action": "retry", "args": 3, "text": []}, ""),  # an older shape: lifted, nothing kept
        ({"action": "launch"}, "the action is not one of approve, override"),
    ],
)
def test_a_wrong_shape_is_refused_in_one_sentence(data: dict[str, Any], message: str) -> None:
    if not message:
        assert command_adapter().validate_python({"id": "c"} | data).action is Action.RETRY
        return
    said = problem(data)
    assert said.startswith(message), said
    assert "\n" not in said and "pydantic" not in said


# What a podium before the union stored (the commands table's `body`, and CommandRecorded):
OLD = {
    "approve": (
        '{"id":"a","action":"approve","escalation_id":"e1","task_id":null,"option_id":"alt2",'
        '"text":"","args":{},"issued_at":1.0,"origin":"tui"}',
        ApproveCommand(id="a", escalation_id="e1", option_id="alt2", issued_at=1.0),
    ),
    "override": (
        '{"id":"o","action":"override","escalation_id":null,"task_id":"c1","option_id":null,'
        '"text":"New text.","args":{"replace":true},"issued_at":2.0,"origin":"cli"}',
        OverrideCommand(
            id="o", task_id="c1", text="New text.", replace=True, issued_at=2.0, origin="cli"
        ),
    ),
    "reassign": (  # the CLI named the agent in `text` only
        '{"id":"r","action":"reassign","escalation_id":"e2","task_id":null,"option_id":null,'
        '"text":"w2","args":{},"issued_at":3.0,"origin":"cli"}',
        ReassignCommand(id="r", escalation_id="e2", agent="w2", issued_at=3.0, origin="cli"),
    ),
    "feedback": (
        '{"id":"f","action":"feedback","escalation_id":null,"task_id":null,"option_id":null,'
        '"text":"Shorter.","args":{"agent":"w"},"issued_at":4.0,"origin":"tui"}',
        FeedbackCommand(id="f", text="Shorter.", agent="w", issued_at=4.0),
    ),
    "alternatives": (
        '{"id":"n","action":"request_alternatives","escalation_id":null,"task_id":"c1",'
        '"option_id":null,"text":"","args":{"count":4},"issued_at":5.0,"origin":"tui"}',
        RequestAlternativesCommand(id="n", task_id="c1", count=4, issued_at=5.0),
    ),
    "vision": (
        '{"id":"v","action":"clarify_vision","escalation_id":null,"task_id":null,'
        '"option_id":null,"text":"","args":{"section":"characters","value":[{"name":"Mara",'
        '"description":"a pilot"}],"rerun":true,"reason":"she flies"},"issued_at":6.0,'
        '"origin":"tui"}',
        ClarifyVisionCommand(
            id="v",
            section="characters",
            value=[Character(name="Mara", description="a pilot")],
            rerun=True,
            reason="she flies",
            issued_at=6.0,
        ),
    ),
    "constraints": (
        '{"id":"k","action":"adjust_constraints","escalation_id":null,"task_id":null,'
        '"option_id":null,"text":"","args":{"max_concurrency":4,"deadline":"45m"},'
        '"issued_at":7.0,"origin":"cli"}',
        AdjustConstraintsCommand(
            id="k",
            changes=ConstraintChanges(max_concurrency=4, deadline=2700.0),
            issued_at=7.0,
            origin="cli",
        ),
    ),
    "pause": (
        '{"id":"p","action":"pause","escalation_id":null,"task_id":null,"option_id":null,'
        '"text":"","args":{},"issued_at":8.0,"origin":"tui"}',
        PauseCommand(id="p", issued_at=8.0),
    ),
}


@pytest.mark.parametrize("name", list(OLD))
def test_a_command_an_older_podium_recorded_is_read(name: str) -> None:
    body, expected = OLD[name]
    assert command_adapter().validate_json(body) == expected
    event = PAYLOAD_ADAPTER.validate_json(f'{{"kind":"command_recorded","command":{body}}}')
    assert isinstance(event, CommandRecorded)
    assert event.command == expected
    # and it is written back in the new shape, which reads the same
    again = PAYLOAD_ADAPTER.validate_json(PAYLOAD_ADAPTER.dump_json(event))
    assert again == event
    assert b'"args"' not in PAYLOAD_ADAPTER.dump_json(event)


def test_an_old_command_refused_then_still_loads_and_is_refused_again() -> None:
    """An older podium checked a command only when applying it: a count of 9, an unknown
    constraint were recorded, then refused. The log still loads; the handler refuses them."""
    count = command_adapter().validate_json(
        '{"id":"n","action":"request_alternatives","escalation_id":null,"task_id":"c1",'
        '"option_id":null,"text":"","args":{"count":9},"issued_at":5.0,"origin":"cli"}'
    )
    assert isinstance(count, RequestAlternativesCommand) and count.count == 9
    unknown = command_adapter().validate_json(
        '{"id":"k","action":"adjust_constraints","escalation_id":null,"task_id":null,'
        '"option_id":null,"text":"","args":{"speed":2},"issued_at":7.0,"origin":"cli"}'
    )
    assert isinstance(unknown, AdjustConstraintsCommand)
    assert unknown.changes.as_changes() == {}  # the engine refuses: no constraint given


def test_constraint_changes_keep_only_what_was_given() -> None:
    lifted = ConstraintChanges.model_validate({"budget_usd": None, "retries": 2})
    assert lifted.as_changes() == {"budget_usd": None, "retries": 2}
    assert json.loads(lifted.model_dump_json()) == {"budget_usd": None, "retries": 2}
    assert ConstraintChanges.model_validate_json(lifted.model_dump_json()) == lifted


@pytest.mark.parametrize(
    "payload",
    [
        '{"kind":"artifact_status","artifact_id":"a1","status":"approved","decision_id":null}',
        '{"kind":"vision_amended","version":2,"section":"characters","value":[{"name":"Mara",'
        '"description":"","arc":"","voice":""}],"reason":"","command_id":"v","stale_tasks":[]}',
        '{"kind":"vision_amended","version":3,"section":"themes","value":["salt"],"reason":"",'
        '"command_id":null,"stale_tasks":["c1"]}',
        '{"kind":"constraints_adjusted","changes":{"max_concurrency":2,"deadline":2700.0},'
        '"command_id":"k"}',
    ],
)
def test_typed_event_fields_read_what_an_older_podium_wrote(payload: str) -> None:
    event = PAYLOAD_ADAPTER.validate_json(payload)
    assert PAYLOAD_ADAPTER.validate_json(PAYLOAD_ADAPTER.dump_json(event)) == event
    if isinstance(event, ArtifactStatusChanged):
        assert event.status is ArtifactStatus.APPROVED
    if isinstance(event, ConstraintsAdjusted):
        assert event.changes.as_changes() == {"max_concurrency": 2, "deadline": 2700.0}
    if isinstance(event, VisionAmended) and event.section == "characters":
        assert event.value == [Character(name="Mara")]


@pytest.mark.parametrize(
    "payload",
    [
        '{"kind":"artifact_status","artifact_id":"a1","status":"shiny"}',
        '{"kind":"vision_amended","version":2,"section":"mood","value":"x"}',
        '{"kind":"vision_amended","version":2,"section":"tone","value":{"tone":"x"}}',
        '{"kind":"constraints_adjusted","changes":{"speed":2}}',
    ],
)
def test_typed_event_fields_refuse_what_no_podium_wrote(payload: str) -> None:
    with pytest.raises(ValidationError):
        PAYLOAD_ADAPTER.validate_json(payload)


async def test_old_shape_commands_in_a_database_load(tmp_path: Path) -> None:
    """A database an older podium wrote: a CommandRecorded event and a pending command, both in
    the old shape, as SQL rows; the store reads them into the new models."""
    db = tmp_path / "old.db"
    async with await EventStore.open(db):
        pass
    body, expected = OLD["override"]
    pending_body, pending = OLD["constraints"]
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "INSERT INTO events (seq, ts, kind, payload) VALUES (1, 1.0, 'command_recorded', ?)",
            (f'{{"kind":"command_recorded","command":{body}}}',),
        )
        conn.execute(
            "INSERT INTO commands (id, issued_at, body, taken_seq) VALUES ('k', 7.0, ?, NULL)",
            (pending_body,),
        )
        conn.commit()
    finally:
        conn.close()
    async with await EventStore.open(db, create=False) as store:
        [event] = await store.read()
        assert isinstance(event.payload, CommandRecorded)
        assert event.payload.command == expected
        assert await store.pending_commands() == [pending]


async def test_every_action_round_trips_through_the_store(tmp_path: Path) -> None:
    commands = [expected for _, expected in OLD.values()]
    async with await EventStore.open(tmp_path / "new.db") as store:
        for command in commands:
            await store.append_durable(CommandRecorded(command=command))
            assert await store.submit_command(command.model_copy(update={"id": f"q{command.id}"}))
        assert [e.payload for e in await store.read()] == [
            CommandRecorded(command=c) for c in commands
        ]
        pending = await store.pending_commands()
        assert sorted(pending, key=lambda c: c.id) == sorted(
            (c.model_copy(update={"id": f"q{c.id}"}) for c in commands), key=lambda c: c.id
        )
