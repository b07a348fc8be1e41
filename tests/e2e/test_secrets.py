"""A canary API key in the environment never reaches the database, a log, an export or an
error message: through a full run, a provider error that echoes it, an export and a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import FakeOpenAI, Reply, Status  # noqa: E402

KEY_ENV = "PODIUM_CANARY_KEY"
CANARY = "sk-canary-podium-7d1e0b2c9a4f"
GOOD = Reply(text=json.dumps({"title": "Chapter", "text": "Snow on the lamp glass."}))


def production(path: Path, api_base: str, chapters: int = 4) -> Path:
    tasks = "".join(
        f'[[tasks]]\nid = "c{i}"\ntitle = "Chapter {i}"\nkind = "chapter"\nassignee = "w"\n'
        for i in range(1, chapters + 1)
    )
    path.write_text(
        f"""
[production]
title = "Canary"
format = "illustrated_story"
brief = "Four chapters."
[vision]
premise = "A keeper and a lamp."
[[crew]]
id = "w"
role = "writer"
model = "openai/gpt-4o-mini"
[constraints]
retries = 1
retry_backoff = 0.01
self_correction_attempts = 0
[planner]
mode = "explicit"
[models.settings."openai/gpt-4o-mini"]
api_base = "{api_base}"
api_key_env = "{KEY_ENV}"
timeout_s = 5
{tasks}""",
        encoding="utf-8",
    )
    return path


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_key_is_never_written_anywhere(tmp_path: Path) -> None:
    env = dict(os.environ, **{KEY_ENV: CANARY})
    outputs: list[str] = []
    leak = Status(
        401, message=f"Incorrect API key provided: {CANARY}", error_type="invalid_request_error"
    )
    with FakeOpenAI(default=GOOD) as server:
        server.script([GOOD, leak])  # c2's provider error echoes the key back
        path = production(tmp_path / "canary.toml", server.api_base)
        db = tmp_path / "canary.db"
        first = run(
            "run", str(path), "--headless", "--auto-approve", "none", "--db", str(db), env=env
        )
        outputs += [first.stdout, first.stderr]
        assert first.returncode == 3, first.stderr  # the auth failure waits on the Orchestrator
        inbox = run("inbox", str(db), "--json", env=env)
        outputs += [inbox.stdout, inbox.stderr]
        failure = json.loads(inbox.stdout)[0]
        assert failure["kind"] == "failure" and "auth" in failure["detail"]
        decided = run("decide", str(db), failure["id"], "retry", env=env)
        outputs += [decided.stdout, decided.stderr]
        server.default = Reply(text=json.dumps({"title": "C", "text": "Slow."}), chunk_delay_s=0.3)
        crashing = subprocess.Popen(
            [sys.executable, "-m", "podium", "resume", str(db), "--headless"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        time.sleep(1.5)
        crashing.send_signal(signal.SIGKILL)
        out, err = crashing.communicate()
        outputs += [out, err]
        server.default = GOOD
        finished = run("resume", str(db), "--headless", env=env)
        outputs += [finished.stdout, finished.stderr]
        assert finished.returncode == 0, finished.stderr
        assert all(
            r.headers.get("authorization") == f"Bearer {CANARY}" for r in server.chat_requests
        )
    exported = run("export", str(db), "--out", str(tmp_path / "out"), env=env)
    outputs += [exported.stdout, exported.stderr]
    assert exported.returncode == 0, exported.stderr
    status = run("status", str(db), "--json", env=env)
    outputs += [status.stdout, status.stderr]

    for text in outputs:
        assert CANARY not in text
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".fountain" or p.name == "decisions.jsonl" for p in written) or written
    for file in written:
        if file.name == "canary.toml":
            continue
        assert CANARY.encode() not in file.read_bytes(), file
        assert CANARY[3:].encode() not in file.read_bytes(), file
