"""The shared provider worker (issue 20): litellm imported once, not at every run. Podium
processes (here: small scripts making one call through `ProcessBackend`, against the fake
OpenAI server on 127.0.0.1) share one worker that outlives them: a second process reuses it, a
killed one is replaced, a process's own key is the one its calls use, two processes starting at
once start one worker, and the worker ends by itself when idle. Each test has its own data
folder (so its own socket) and kills what it started."""

from __future__ import annotations

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

from test_worker_process import _alive  # noqa: E402

from fakes.openai_server import FakeOpenAI, Reply  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets")

MODEL = "openai/fake-model"
KEY_ENV = "PODIUM_SHARED_TEST_KEY"
GOOD = Reply(text=json.dumps({"title": "A chapter", "text": "The ice sang under the runners."}))
DEADLINE_S = 60.0

SCRIPT = """
import asyncio, json, sys
from podium.domain.production import ModelSettings
from podium.llm.types import CompletionRequest, Message
from podium.llm.worker_backend import ProcessBackend

async def main():
    settings = ModelSettings(api_base=sys.argv[1], api_key_env=sys.argv[2], timeout_s=30.0)
    backend = ProcessBackend({sys.argv[3]: settings})
    request = CompletionRequest(model=sys.argv[3], messages=(Message("user", "Hi."),), agent_id="w")
    result = await backend.complete(request).collect()
    print(json.dumps({"pid": backend.worker_pid, "text": result.text}), flush=True)
    backend.close()

asyncio.run(main())
"""


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + DEADLINE_S
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Podiums:
    """Runs the script as a podium process would, sharing on; kills the workers at the end."""

    def __init__(self, server: FakeOpenAI, folder: Path) -> None:
        self.server = server
        self.script = folder / "call.py"
        self.script.write_text(textwrap.dedent(SCRIPT))
        self.env = {
            **os.environ,
            "PODIUM_DATA_DIR": str(folder / "data"),
            "PODIUM_SHARED_WORKER": "1",
            "PODIUM_WORKER_IDLE_S": "60",
            KEY_ENV: "sk-first",
        }
        self.pids: set[int] = set()

    def start(self, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(self.script), self.server.api_base, KEY_ENV, MODEL],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, **env},
        )

    def finish(self, process: subprocess.Popen[str]) -> dict[str, object]:
        out, err = process.communicate(timeout=DEADLINE_S)
        assert process.returncode == 0, err[-2000:]
        line: dict[str, object] = json.loads(out.strip().splitlines()[-1])
        assert isinstance(line["pid"], int)
        self.pids.add(line["pid"])
        return line

    def call(self, **env: str) -> dict[str, object]:
        return self.finish(self.start(**env))

    def kill_all(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def podiums(tmp_path: Path) -> Iterator[Podiums]:
    with FakeOpenAI(default=GOOD) as server:
        runner = Podiums(server, tmp_path)
        try:
            yield runner
        finally:
            runner.kill_all()


def _keys(server: FakeOpenAI) -> list[str]:
    return [r.headers["authorization"] for r in server.chat_requests]


def test_a_second_process_reuses_the_worker_with_its_own_key(podiums: Podiums) -> None:
    first = podiums.call()
    assert first["text"] == GOOD.text
    pid = first["pid"]
    assert isinstance(pid, int) and _alive(pid)  # it outlived the process that started it
    second = podiums.call(**{KEY_ENV: "sk-second"})
    assert second["pid"] == pid  # no new worker
    assert second["text"] == GOOD.text
    assert _keys(podiums.server) == ["Bearer sk-first", "Bearer sk-second"]


def test_a_process_whose_provider_variables_differ_starts_its_own(podiums: Podiums) -> None:
    first = podiums.call(OPENAI_API_KEY="sk-one")
    second = podiums.call(OPENAI_API_KEY="sk-two")  # litellm would read it by itself
    assert second["pid"] != first["pid"]
    assert second["pid"] is not None and _wait_gone(int(str(second["pid"])))  # its own: ends
    third = podiums.call(OPENAI_API_KEY="sk-one")
    assert third["pid"] == first["pid"]


def test_a_killed_worker_is_replaced(podiums: Podiums) -> None:
    pid = podiums.call()["pid"]
    assert isinstance(pid, int)
    os.kill(pid, signal.SIGKILL)
    assert _wait_gone(pid)
    again = podiums.call()  # the socket is stale: a new worker starts
    assert again["text"] == GOOD.text
    assert again["pid"] not in (None, pid) and _alive(int(str(again["pid"])))
    assert podiums.call()["pid"] == again["pid"]


def test_two_processes_starting_at_once_start_one_worker(podiums: Podiums) -> None:
    started = [podiums.start(), podiums.start()]
    lines = [podiums.finish(p) for p in started]
    assert lines[0]["pid"] == lines[1]["pid"]


def test_the_worker_ends_when_idle_and_takes_its_socket_with_it(podiums: Podiums) -> None:
    pid = podiums.call(PODIUM_WORKER_IDLE_S="1")["pid"]
    assert isinstance(pid, int)
    assert _wait_gone(pid), "the idle worker did not end"
    run = Path(podiums.env["PODIUM_DATA_DIR"]) / "run"
    assert not list(run.glob("*.sock"))
    assert (run.stat().st_mode & 0o777) == 0o700
    assert podiums.call()["text"] == GOOD.text  # and the next process starts another


def test_the_worker_stops_when_asked(podiums: Podiums) -> None:
    pid = podiums.call()["pid"]
    assert isinstance(pid, int) and _alive(pid)
    stop = [sys.executable, "-m", "podium.cli.provider_worker", "--stop"]
    done = subprocess.run(stop, env=podiums.env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == f"stopping the shared provider worker {pid}"
    assert _wait_gone(pid), "the worker did not stop"
    done = subprocess.run(stop, env=podiums.env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "none runs"


def test_stop_ends_a_worker_started_by_another_name_of_the_python_or_another_podium(
    podiums: Podiums, tmp_path: Path
) -> None:
    """The `podium` script runs `python3`; a user stops with `.venv/bin/python -m …`: one
    Python, one worker. And a worker an upgraded podium left (another tag) is stopped too."""
    pid = podiums.call()["pid"]
    assert isinstance(pid, int) and _alive(pid)
    here = Path(sys.executable)
    names = [here.with_name(n) for n in ("python", "python3", f"python3.{sys.version_info[1]}")]
    alias = next(p for p in names if p.exists() and p.name != here.name)  # a venv has all three
    script = "import sys; from podium.llm import worker_share as w; print(w.build_tag())"
    tags = {
        subprocess.run(
            [python, "-c", script], env=podiums.env, capture_output=True, text=True, timeout=60
        ).stdout.strip()
        for python in (sys.executable, str(alias))
    }
    assert len(tags) == 1, tags
    sockets = list((tmp_path / "data" / "run").glob("worker-*.sock"))
    assert len(sockets) == 1
    sockets[0].rename(sockets[0].with_name("worker-0000000000000000.sock"))  # another podium's
    stop = [str(alias), "-m", "podium.cli.provider_worker", "--stop"]
    done = subprocess.run(stop, env=podiums.env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == f"stopping the shared provider worker {pid}"
    assert _wait_gone(pid), "the worker did not stop"


@pytest.fixture
def in_process_shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """This process's backends on the shared worker (of the test's data folder), stopped after;
    the fake server with test_worker_process's key."""
    import test_worker_process as wp

    from podium.llm import worker_share

    monkeypatch.setenv("PODIUM_SHARED_WORKER", "1")
    monkeypatch.setenv(worker_share.IDLE_ENV, "60")
    monkeypatch.setenv(wp.KEY_ENV, wp.KEY)
    try:
        with FakeOpenAI(default=wp.GOOD) as server:
            yield server
    finally:
        pids = worker_share.stop()
        assert len(pids) == 1, "no shared worker ran"
        assert _wait_gone(pids[0])


async def test_a_connection_s_429_cancellation_and_killed_worker_as_with_its_own(
    in_process_shared: FakeOpenAI,
) -> None:
    """test_worker_process's tests of a 429 reaching the limiter's slot, a cancelled call
    booked, and a worker killed mid-call (one clear error, then a new worker), through the
    shared worker."""
    import test_worker_process as wp

    await wp.test_a_429_through_the_worker_reaches_the_limiters_slot(in_process_shared)
    in_process_shared.reset()
    await wp.test_a_cancelled_call_is_stopped_in_the_worker_and_booked(in_process_shared)
    in_process_shared.reset()
    await wp.test_a_worker_killed_mid_call_is_one_clear_error_and_the_next_call_works(
        in_process_shared
    )
