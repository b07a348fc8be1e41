"""Issue 17's reply protocol and whole inputs through the real provider path: litellm against an
OpenAI-compatible server on 127.0.0.1. An agent's question becomes an escalation with its
options and the answer reaches the next request; a territory claim raises the decision; a long
input reaches the reader whole; the strict schema offers both protocol fields."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import FakeOpenAI, RecordedRequest, Reply  # noqa: E402
from podium.domain.escalation import ApproveCommand, EscalationKind  # noqa: E402
from podium.domain.events import ArtifactCreated, Clarified, ProductionState  # noqa: E402
from podium.domain.loading import parse_production  # noqa: E402
from podium.domain.policy import Territory  # noqa: E402
from podium.domain.tasks import TaskState  # noqa: E402
from podium.engine.engine import Engine  # noqa: E402
from podium.store import EventStore  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")

MODEL = "openai/gpt-4o-mini"
KEY_ENV = "PODIUM_PROTOCOL_KEY"
ASK = {"text": "Tension or intimacy?", "options": ["Tension", "Intimacy"]}
ANSWERED = "THE ORCHESTRATOR ANSWERED (binding): Intimacy"
# Chapter 1's text: far past the 1,200 characters inputs were once cut to; every word distinct.
LONG = " ".join(f"floe{i}" for i in range(1500))

SPEC = f"""
[production]
title = "Protocol"
format = "illustrated_story"
brief = "Three chapters."
[vision]
premise = "A crossing of the ice."
[[crew]]
id = "w"
role = "writer"
model = "{MODEL}"
[constraints]
max_concurrency = 1
retries = 0
self_correction_attempts = 0
[planner]
mode = "explicit"
[models.settings."{MODEL}"]
api_base = "API_BASE"
api_key_env = "{KEY_ENV}"
timeout_s = 10
[[tasks]]
id = "t1"
title = "Chapter One"
kind = "chapter"
assignee = "w"
[[tasks]]
id = "t2"
title = "Chapter Two"
kind = "chapter"
assignee = "w"
depends_on = ["t1"]
[[tasks]]
id = "t3"
title = "Chapter Three"
kind = "chapter"
assignee = "w"
"""


def prompt(request: RecordedRequest) -> str:
    parts = []
    for message in request.json.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(block.get("text", "") for block in content or [])
    return "\n".join(parts)


TITLES = {"Chapter One": "t1", "Chapter Two": "t2", "Chapter Three": "t3"}


def the_task(request: RecordedRequest) -> str:
    """Which chapter a request is about: the title its prompt names last (the task's part)."""
    text = prompt(request)
    return TITLES[max(TITLES, key=text.rfind)]


def answer(request: RecordedRequest) -> Reply:
    task = the_task(request)
    reply: dict[str, Any] = {"title": f"Chapter {task}", "text": "The ice sang."}
    if task == "t1":
        if ANSWERED in prompt(request):
            reply["text"] = LONG
        else:
            reply["question"] = ASK
    elif task == "t3":
        reply["territory"] = "approval_required"
    return Reply(text=json.dumps(reply))


async def test_a_question_a_claim_and_a_whole_input_through_litellm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-podium-protocol-canary")
    with FakeOpenAI(default=answer) as server:
        spec = parse_production(SPEC.replace("API_BASE", server.api_base), "protocol.toml")
        store = await EventStore.open(tmp_path / "p.db")
        engine = await Engine.open(store, spec=spec)
        try:
            assert await engine.run() is ProductionState.WAITING
            view = engine.view
            items = {e.task_id: e for e in view.open_escalations()}
            question = items["t1"]
            assert question.kind is EscalationKind.QUESTION
            assert question.detail == "Tension or intimacy?"
            assert [o.label for o in question.options] == ["Tension", "Intimacy"]
            assert view.tasks["t1"].artifact_ids == []  # the asking reply is not a version
            assert view.tasks["t2"].state is not TaskState.DONE  # it reads t1: it waits

            # the claim: t3's work waits for the Orchestrator's approval
            assert items["t3"].territory is Territory.APPROVAL_REQUIRED
            claims = [
                e.payload.agent_claim
                for e in await store.read(kinds=("artifact_created",))
                if isinstance(e.payload, ArtifactCreated)
            ]
            assert claims == [Territory.APPROVAL_REQUIRED]

            # the strict schema offered both protocol fields to the model
            schema = server.chat_requests[0].json["response_format"]["json_schema"]["schema"]
            assert {"question", "territory"} <= set(schema["properties"])

            chosen = question.options[1].id
            done = await engine.apply_offline(
                ApproveCommand(id="answer", escalation_id=question.id, option_id=chosen)
            )
            assert done.applied, done.detail
            await engine.run()

            [clarified] = [e.payload for e in await store.read(kinds=("clarified",))]
            assert isinstance(clarified, Clarified) and clarified.answer == "Intimacy"
            by_task: dict[str, list[RecordedRequest]] = {}
            for request in server.chat_requests:
                by_task.setdefault(the_task(request), []).append(request)
            assert ANSWERED in prompt(by_task["t1"][-1])  # the answer reached the model
            assert engine.view.tasks["t1"].state is TaskState.DONE
            # Chapter Two's request holds Chapter One whole (7,000+ characters), not cut
            assert len(LONG) > 7000 and LONG in prompt(by_task["t2"][-1])
        finally:
            await store.close()
