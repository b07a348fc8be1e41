"""A production on the litellm backend against a misbehaving OpenAI-compatible server on
127.0.0.1: each fault is retried within bounds or escalated with its cause; nothing is
dropped silently, and the API key never reaches the database."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from podium.cli.headless import summary_lines  # noqa: E402
from podium.domain.escalation import EscalationKind  # noqa: E402
from podium.domain.events import ProductionState  # noqa: E402
from podium.domain.loading import parse_production  # noqa: E402
from podium.domain.tasks import TaskState  # noqa: E402
from podium.engine.engine import AutoApprove, Engine  # noqa: E402
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


def crew_spec(api_base: str, models: list[str], settings: str, tasks: int = 4) -> str:
    """A production whose agents use `models` (one each, round robin over the tasks)."""
    crew = "".join(
        f'[[crew]]\nid = "w{i}"\nrole = "writer"\nmodel = "{m}"\n' for i, m in enumerate(models)
    )
    work = "".join(
        f'[[tasks]]\nid = "t{i}"\ntitle = "Chapter {i}"\nkind = "chapter"\n'
        f'assignee = "w{(i - 1) % len(models)}"\n'
        for i in range(1, tasks + 1)
    )
    blocks = "".join(
        f'[models.settings."{m}"]\napi_base = "{api_base}"\napi_key_env = "{KEY_ENV}"\n'
        f"timeout_s = 5\n{settings}\n"
        for m in dict.fromkeys(models)
    )
    return f"""
[production]
title = "Gateway"
format = "illustrated_story"
brief = "Chapters."
[vision]
premise = "A crossing of the ice."
{crew}
[constraints]
max_concurrency = 1
retries = 2
retry_backoff = 0.01
self_correction_attempts = 0
[planner]
mode = "explicit"
{blocks}
{work}"""


async def run_spec(
    text: str, db: Path, auto_approve: AutoApprove = AutoApprove.NONE
) -> tuple[Engine, list[Any]]:
    store = await EventStore.open(db)
    spec = parse_production(text, "gateway.toml")
    engine = await Engine.open(store, spec=spec, auto_approve=auto_approve)
    await engine.run()
    events = await store.read()
    await store.close()
    return engine, [e.payload for e in events]


async def test_every_agent_through_one_litellm_proxy(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One api_base, one virtual key from the environment, the proxy's model names as they
    are written: the way a studio shares keys and limits across productions."""
    virtual = "sk-litellm-virtual-3b9e0d"
    monkeypatch.setenv(KEY_ENV, virtual)
    models = ["litellm_proxy/studio-writer", "litellm_proxy/studio-fast"]
    engine, _ = await run_spec(crew_spec(server.api_base, models, ""), tmp_path / "g.db")
    assert engine.view.state is ProductionState.COMPLETED
    sent = server.chat_requests
    assert len(sent) == 4
    assert {r.headers["authorization"] for r in sent} == {f"Bearer {virtual}"}
    assert [r.json["model"] for r in sent] == ["studio-writer", "studio-fast"] * 2
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert virtual.encode() not in path.read_bytes(), path


async def test_a_dead_provider_stops_the_run_and_is_never_skipped(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `down_after` failures in a row, each task on the model fails at once as
    "provider down"; --auto-approve all neither retries nor skips it into "completed"."""
    monkeypatch.setenv(KEY_ENV, CANARY)
    server.script([GOOD])  # t1 is made; then the provider dies
    server.default = Status(503)
    text = crew_spec(server.api_base, [MODEL], "down_after = 3", tasks=4)
    engine, _ = await run_spec(text, tmp_path / "down.db", AutoApprove.ALL)
    view = engine.view
    assert view.state is ProductionState.FAILED
    states = {t: r.state for t, r in view.tasks.items()}
    assert states["t1"] is TaskState.DONE
    assert TaskState.SKIPPED not in states.values()
    down = [e for e in view.open_escalations() if e.title.startswith("Provider down")]
    assert down and all(e.kind is EscalationKind.FAILURE for e in down)
    assert "3 calls in a row" in down[0].detail
    # t2: three calls (the third makes it down); every later task: one call, then it stops
    assert len(server.chat_requests) == 1 + 3 + 1 + 1
    assert "every task is done" not in view.state_reason
    assert "skipped" not in " ".join(line.plain for line in summary_lines(view, "down.db"))


async def test_failed_calls_book_their_tokens_and_cost(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply that never fits still used the provider: its tokens and cost are booked, and
    a cached prompt is recorded with the call."""
    monkeypatch.setenv(KEY_ENV, CANARY)
    bad = Reply(text='{"bad": 1}', prompt_tokens=400, completion_tokens=50)
    cached = Reply(text=GOOD.text, prompt_tokens=1000, completion_tokens=20, cached_tokens=600)
    server.script([bad, bad, cached])
    text = crew_spec(server.api_base, [MODEL], "", tasks=1)
    engine, payloads = await run_spec(text, tmp_path / "books.db")
    calls = [p for p in payloads if getattr(p, "kind", "") == "call_finished"]
    failed, ok = calls[0], calls[1]
    assert not failed.ok and failed.error_kind == "malformed_output"
    assert (failed.input_tokens, failed.output_tokens) == (800, 100)
    assert failed.cost_usd == pytest.approx(800 * 0.15e-6 + 100 * 0.6e-6)
    assert ok.ok and ok.cached_input_tokens == 600
    assert ok.cost_usd == pytest.approx(400 * 0.15e-6 + 600 * 0.075e-6 + 20 * 0.6e-6)
    assert engine.view.cost_usd == pytest.approx(failed.cost_usd + ok.cost_usd)
    assert engine.view.input_tokens == 1800


async def test_the_summary_counts_calls_of_unknown_price(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, CANARY)
    text = crew_spec(server.api_base, ["openai/podium-unpriced"], "", tasks=2)
    engine, _ = await run_spec(text, tmp_path / "unpriced.db")
    lines = " ".join(line.plain for line in summary_lines(engine.view, "unpriced.db"))
    assert "price unknown for 2 calls" in lines


async def test_a_call_cut_off_by_a_stop_is_priced_at_the_models_price(
    server: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped mid-stream, the call books the tokens sent and received so far at
    gpt-4o-mini's price from litellm's list, not at the assumed $15/$75 per million."""
    import asyncio

    monkeypatch.setenv(KEY_ENV, CANARY)
    server.default = Reply(chunks=[f"w{i} " for i in range(200)], chunk_delay_s=0.05)
    store = await EventStore.open(tmp_path / "stop.db")
    spec = parse_production(crew_spec(server.api_base, [MODEL], "", tasks=1), "stop.toml")
    engine = await Engine.open(store, spec=spec)
    running = asyncio.create_task(engine.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not any(r.state is TaskState.RUNNING for r in engine.view.tasks.values()) or not (
        await store.read(kinds=("output_chunk",))
    ):
        assert loop.time() < deadline, "no streamed text arrived"
        await asyncio.sleep(0.05)
    engine.request_stop()
    assert await running is ProductionState.STOPPED
    [call] = [e.payload for e in await store.read(kinds=("call_finished",))]
    await store.close()
    assert call.error_kind == "cut_off"
    assert call.input_tokens > 0 and call.output_tokens > 0
    assert call.cost_usd == pytest.approx(call.input_tokens * 0.15e-6 + call.output_tokens * 0.6e-6)
    assert "at the model's price" in call.error
