"""The provider worker process (issue 20, real streams): litellm's streams parsed in a process of
their own, against the fake OpenAI server on 127.0.0.1. A production completes through it with
its books right, a 429 reaches the limiter, a cancelled call is booked, a killed worker is one
clear error and is started again, and a worker never outlives its parent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import FakeOpenAI, Reply, Status  # noqa: E402
from podium.domain.loading import parse_production  # noqa: E402
from podium.domain.production import ModelSettings, StreamWorker  # noqa: E402
from podium.engine.engine import Engine  # noqa: E402
from podium.engine.limiter import CallLimiter, Limits  # noqa: E402
from podium.llm.gateway import STREAM_WORKER_ENV, Gateway  # noqa: E402
from podium.llm.litellm_backend import LiteLLMBackend  # noqa: E402
from podium.llm.types import (  # noqa: E402
    CompletionRequest,
    CompletionStream,
    FailureKind,
    LLMError,
    Message,
)
from podium.llm.worker_backend import ProcessBackend  # noqa: E402
from podium.store import EventStore  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")

MODEL = "openai/fake-model"
KEY_ENV = "PODIUM_WORKER_TEST_KEY"
KEY = "sk-podium-worker-test-5e1f"
PRICE_IN, PRICE_OUT = 1e-6, 2e-6
GOOD = Reply(text=json.dumps({"title": "A chapter", "text": "The ice sang under the runners."}))
DEADLINE_S = 60.0  # for the loops that wait on another process


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv(KEY_ENV, KEY)
    with FakeOpenAI(default=GOOD) as fake:
        yield fake


def settings(server: FakeOpenAI, **more: object) -> ModelSettings:
    return ModelSettings.model_validate(
        {
            "api_base": server.api_base,
            "api_key_env": KEY_ENV,
            "timeout_s": 30.0,
            "input_cost_per_token": PRICE_IN,
            "output_cost_per_token": PRICE_OUT,
            "stream_worker": "process",
            **more,
        }
    )


def request(text: str = "Write.") -> CompletionRequest:
    return CompletionRequest(model=MODEL, messages=(Message("user", text),), agent_id="w")


async def first_chunk(stream: CompletionStream) -> str:
    async with asyncio.timeout(DEADLINE_S):
        return await stream.__anext__()


def test_the_setting_then_the_environment_choose_where_streams_are_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(STREAM_WORKER_ENV, "inline")
    gateway = Gateway(settings={"openai/pinned": ModelSettings(stream_worker=StreamWorker.PROCESS)})
    assert isinstance(gateway.backend_for("openai/pinned"), ProcessBackend)
    assert isinstance(gateway.backend_for("openai/other"), LiteLLMBackend)
    monkeypatch.setenv(STREAM_WORKER_ENV, "process")
    assert isinstance(Gateway().backend_for("openai/other"), ProcessBackend)


async def test_a_production_completes_through_the_worker_with_its_books(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    chapters = 4
    server.default = Reply(text=GOOD.text, prompt_tokens=300, completion_tokens=40)
    tasks = "".join(
        f'[[tasks]]\nid = "t{i}"\ntitle = "Chapter {i}"\nkind = "chapter"\nassignee = "w"\n'
        for i in range(1, chapters + 1)
    )
    text = f"""
[production]
title = "Worker"
format = "illustrated_story"
brief = "Chapters."
[vision]
premise = "A crossing of the ice."
[[crew]]
id = "w"
role = "writer"
model = "{MODEL}"
[constraints]
max_concurrency = 2
self_correction_attempts = 0
[planner]
mode = "explicit"
[models.settings."{MODEL}"]
api_base = "{server.api_base}"
api_key_env = "{KEY_ENV}"
input_cost_per_token = {PRICE_IN}
output_cost_per_token = {PRICE_OUT}
stream_worker = "process"
{tasks}"""
    store = await EventStore.open(tmp_path / "worker.db")
    engine = await Engine.open(store, spec=parse_production(text, "worker.toml"))
    await engine.run()
    calls = [e.payload for e in await store.read(kinds=("call_finished",))]
    await store.close()
    backend = engine.gateway.backend_for(MODEL)
    assert isinstance(backend, ProcessBackend) and backend.worker_pid is not None
    assert all(call.ok for call in calls)
    assert len(calls) == len(server.chat_requests) >= chapters
    assert sum(c.input_tokens for c in calls) == 300 * len(calls)
    assert sum(c.output_tokens for c in calls) == 40 * len(calls)
    assert engine.view.cost_usd == pytest.approx(len(calls) * (300 * PRICE_IN + 40 * PRICE_OUT))
    backend.close()


async def test_a_429_through_the_worker_reaches_the_limiters_slot(server: FakeOpenAI) -> None:
    server.script([Status(429, retry_after=30)])
    now = 1000.0
    limiter = CallLimiter(Limits(total=4, per_agent=4), adaptive=True, clock=lambda: now)
    backend = ProcessBackend({MODEL: settings(server)})
    try:
        with pytest.raises(LLMError) as caught:
            async with limiter.hold("w", MODEL):
                await backend.complete(request()).collect()
    finally:
        backend.close()
    assert caught.value.kind is FailureKind.RATE_LIMIT and caught.value.retry_after == 30
    lane = limiter.lane(MODEL)
    assert lane is not None and lane.limited == 1
    assert lane.paused_until == now + 30  # the Retry-After pauses the model's lane


async def test_a_cancelled_call_is_stopped_in_the_worker_and_booked(server: FakeOpenAI) -> None:
    server.default = Reply(chunks=[f"w{i} " for i in range(400)], chunk_delay_s=0.05)
    backend = ProcessBackend({MODEL: settings(server)})
    stream = backend.complete(request())
    got: list[str] = []

    async def consume() -> None:  # as the engine does: close the stream however it ends
        try:
            async for chunk in stream:
                got.append(chunk)
        finally:
            await stream.aclose()

    running = asyncio.create_task(consume())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not got:
        assert loop.time() < deadline, "no text came through the worker"
        await asyncio.sleep(0.02)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    spent = stream.spent()
    try:
        assert spent is not None, "the worker sent no books for the cancelled call"
        assert spent.input_tokens > 0 and 0 < spent.output_tokens < 400
        assert spent.cost_usd == pytest.approx(
            spent.input_tokens * PRICE_IN + spent.output_tokens * PRICE_OUT
        )
        server.default = GOOD  # the same worker takes the next call
        assert (await backend.complete(request()).collect()).text == GOOD.text
    finally:
        backend.close()


async def test_a_worker_killed_mid_call_is_one_clear_error_and_the_next_call_works(
    server: FakeOpenAI,
) -> None:
    server.default = Reply(chunks=[f"w{i} " for i in range(400)], chunk_delay_s=0.05)
    backend = ProcessBackend({MODEL: settings(server)})
    try:
        stream = backend.complete(request())
        await first_chunk(stream)
        pid = backend.worker_pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(LLMError) as caught:
            async with asyncio.timeout(DEADLINE_S):
                async for _ in stream:
                    pass
        error = caught.value
        assert error.kind is FailureKind.CONNECTION and error.retryable
        assert "provider worker process stopped during the call" in error.message
        assert "Traceback" not in error.message
        server.default = GOOD
        result = await backend.complete(request()).collect()
        assert result.text == GOOD.text
        assert backend.worker_pid not in (None, pid)  # a new worker
    finally:
        backend.close()


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie left for its reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_no_worker_outlives_a_killed_parent(server: FakeOpenAI, tmp_path: Path) -> None:
    server.default = Reply(chunks=[f"w{i} " for i in range(2000)], chunk_delay_s=0.05)
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio, sys, time
            from podium.domain.production import ModelSettings
            from podium.llm.types import CompletionRequest, Message
            from podium.llm.worker_backend import ProcessBackend

            async def main():
                settings = ModelSettings(api_base={server.api_base!r}, api_key_env={KEY_ENV!r})
                backend = ProcessBackend({{{MODEL!r}: settings}})
                request = CompletionRequest(
                    model={MODEL!r}, messages=(Message("user", "Hi."),), agent_id="w"
                )
                stream = backend.complete(request)
                await stream.__anext__()
                print(backend.worker_pid, flush=True)
                async for _ in stream:
                    pass

            asyncio.run(main())
            """
        )
    )
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().strip()  # the parent's first chunk came through
        assert line.isdigit(), f"the parent printed {line!r}"
        worker = int(line)
        assert _alive(worker)
    finally:
        parent.kill()
        parent.wait(timeout=DEADLINE_S)
    deadline = time.monotonic() + DEADLINE_S
    while _alive(worker):
        if time.monotonic() > deadline:
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the worker outlived its killed parent")
        time.sleep(0.05)


def test_the_worker_imports_litellm_with_the_collector_off_then_collects_again() -> None:
    """The worker's entry turns collection off (a third of its start was spent collecting
    while importing); once litellm is in, what was imported is frozen and the collector is on
    again, so the streams' garbage is collected as before."""
    import gc

    from podium.cli import provider_worker
    from podium.llm import worker_backend

    assert worker_backend._WORKER_MAIN == "from podium.cli.provider_worker import main; main()"
    was = gc.isenabled()
    gc.disable()
    try:
        worker_backend._import_litellm(provider_worker.collect_again)
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if not was:
            gc.disable()
