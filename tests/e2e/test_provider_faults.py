"""A production on the litellm backend against a misbehaving OpenAI-compatible server on
127.0.0.1: each fault is retried within bounds or escalated with its cause; nothing is
dropped silently, and the API key never reaches the database."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import (  # noqa: E402
    EmptyChoices,
    FakeOpenAI,
    Malformed,
    Reply,
    Slow,
    Status,
    Truncated,
)
from podium.domain.escalation import EscalationKind  # noqa: E402
from podium.domain.events import ProductionState  # noqa: E402
from podium.domain.loading import parse_production  # noqa: E402
from podium.domain.tasks import TaskState  # noqa: E402
from podium.engine.engine import Engine  # noqa: E402
from podium.store import EventStore  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")

MODEL = "openai/gpt-4o-mini"
KEY_ENV = "PODIUM_FAULTS_KEY"
CANARY = "sk-podium-canary-faults-0c9d2e7a41b8"
GOOD = Reply(text=json.dumps({"title": "A chapter", "text": "The ice sang under the runners."}))


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=GOOD) as fake:
        yield fake


def spec_for(api_base: str) -> str:
    tasks = "".join(
        f'[[tasks]]\nid = "t{i}"\ntitle = "Chapter {i}"\nkind = "chapter"\nassignee = "w"\n'
        for i in range(1, 7)
    )
    return f"""
[production]
title = "Faults"
format = "illustrated_story"
brief = "Six chapters."
[vision]
premise = "A crossing of the ice."
[[crew]]
id = "w"
role = "writer"
model = "{MODEL}"
[constraints]
max_concurrency = 1
retries = 2
retry_backoff = 0.01
self_correction_attempts = 0
[planner]
mode = "explicit"
[models.settings."{MODEL}"]
api_base = "{api_base}"
api_key_env = "{KEY_ENV}"
timeout_s = 0.5
{tasks}"""


async def test_faults_are_retried_within_bounds_or_escalated_with_their_cause(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, CANARY)
    bad_schema = Reply(text=json.dumps({"bad": 1}))
    server.script(
        [
            Status(429, retry_after=0.2),
            GOOD,  # t1: rate limited, then fine
            Status(500),
            Status(503),
            GOOD,  # t2: two server errors, then fine
            Slow(seconds=3.0),
            GOOD,  # t3: slower than the timeout, then fine
            Malformed(),
            Malformed(),
            Malformed(),  # t4: never readable: escalated
            Truncated(),
            EmptyChoices(),
            GOOD,  # t5: cut stream, empty choices, then fine
            bad_schema,
            bad_schema,
            GOOD,  # t6: fails the schema, repair fails, retry is fine
        ]
    )
    spec = parse_production(spec_for(server.api_base), "faults.toml")
    db = tmp_path / "faults.db"
    store = await EventStore.open(db)
    engine = await Engine.open(store, spec=spec)
    assert await engine.run() is ProductionState.WAITING
    events = await store.read()
    await store.close()

    view = engine.view
    states = {t: r.state for t, r in view.tasks.items()}
    assert states == {
        "t1": TaskState.DONE,
        "t2": TaskState.DONE,
        "t3": TaskState.DONE,
        "t4": TaskState.FAILED,
        "t5": TaskState.DONE,
        "t6": TaskState.DONE,
    }
    [failure] = view.open_escalations()
    assert failure.kind is EscalationKind.FAILURE and failure.task_id == "t4"
    assert "malformed_output" in failure.detail or "server" in failure.detail

    per_task = Counter(
        next(t for t in states if f"TASK {t} " in json.dumps(r.body)) for r in server.chat_requests
    )
    assert per_task == {"t1": 2, "t2": 3, "t3": 2, "t4": 3, "t5": 3, "t6": 3}
    assert max(per_task.values()) <= spec.constraints.retries + 1  # one retry layer

    failed = [e.payload for e in events if e.kind == "call_finished" and not e.payload.ok]
    kinds = Counter(p.error_kind for p in failed)
    assert kinds["rate_limit"] == 1 and kinds["timeout"] == 1
    assert kinds == {
        "rate_limit": 1,
        "server": 2,
        "timeout": 1,
        "malformed_output": 5,
        "connection": 1,
    }

    t1 = [r for r in server.chat_requests if "TASK t1 " in json.dumps(r.body)]
    assert t1[1].at - t1[0].at >= 0.19  # Retry-After honoured
    assert all(r.headers.get("authorization") == f"Bearer {CANARY}" for r in server.chat_requests)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written)
    for path in written:  # the database, its WAL, the data folder's cache: no key anywhere
        assert CANARY.encode() not in path.read_bytes(), path


async def test_illustrations_are_drawn_by_the_image_model_when_one_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fakes.openai_server import PNG_1X1, Image

    monkeypatch.setenv(KEY_ENV, CANARY)
    with FakeOpenAI(default=Image()) as fake:
        fake.script([Status(429, retry_after=0.05)])  # the first image call is rate limited
        text = f"""
[production]
title = "Drawn"
format = "illustrated_story"
brief = "One picture."
[vision]
premise = "A lamp in the snow."
[[crew]]
id = "art"
role = "illustrator"
[constraints]
retry_backoff = 0.01
[planner]
mode = "explicit"
[[tasks]]
id = "pic"
title = "The lamp"
kind = "illustration"
assignee = "art"
[models]
image = "openai/dall-e-3"
[models.rehearsal]
latency_ms = 1.0
jitter_ms = 0.0
[models.settings."openai/dall-e-3"]
api_base = "{fake.api_base}"
api_key_env = "{KEY_ENV}"
timeout_s = 5
"""
        store = await EventStore.open(tmp_path / "drawn.db")
        engine = await Engine.open(store, spec=parse_production(text, "drawn.toml"))
        assert await engine.run() is ProductionState.COMPLETED
        events = await store.read(kinds=("call_finished",))
        await store.close()
    record = engine.view.tasks["pic"]
    brief = engine.view.artifacts[record.artifact_id or ""].content
    image = Path(brief["image_path"])
    assert image.read_bytes() == PNG_1X1
    assert image.parent == tmp_path / "drawn-images"
    image_calls = [e.payload for e in events if e.payload.purpose == "image"]
    assert [c.ok for c in image_calls] == [False, True]
    assert image_calls[0].error_kind == "rate_limit"
