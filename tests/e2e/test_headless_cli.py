"""The headless CLI as a user (or a script over SSH) runs it: real processes, real exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAST = """
[models.rehearsal]
latency_ms = 5.0
jitter_ms = 2.0
tokens_per_s = 20000.0
"""


def podium(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def production(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "prod.toml"
    path.write_text(
        '[production]\ntitle = "Night Ferry"\nformat = "short_film"\nbrief = "A crossing."\n'
        '[vision]\npremise = "Two strangers share a cabin."\n'
        '[[crew]]\nid = "prod"\nrole = "producer"\n'
        '[[crew]]\nid = "w"\nrole = "writer"\n'
        '[[crew]]\nid = "art"\nrole = "illustrator"\n' + body,
        encoding="utf-8",
    )
    return path


def explicit(tasks: str, extra: str = "") -> str:
    return tasks + '[planner]\nmode = "explicit"\n' + extra


TWO = """
[[tasks]]
id = "treat"
title = "Treatment"
kind = "treatment"
assignee = "w"
gate = "treatment"
[[tasks]]
id = "scene1"
title = "Scene 1"
kind = "scene"
assignee = "w"
depends_on = ["treat"]
"""


def test_run_completes_and_status_reports_it(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    done = podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "completed" in done.stderr
    status = podium("status", str(db), "--json")
    assert status.returncode == 0
    data = json.loads(status.stdout)
    assert data["state"] == "completed"
    assert data["tasks"]["done"] == 2
    assert data["open_escalations"] == 0
    assert data["tokens"] > 0 and data["cost_usd"] == 0.0
    assert data["makespan_s"] is not None and data["makespan_s"] > 0


def test_waiting_on_the_orchestrator_exits_3_and_lists_what_waits(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    waiting = podium("run", str(path), "--headless", "--db", str(db))
    assert waiting.returncode == 3, waiting.stderr
    assert "waiting on the Orchestrator" in waiting.stderr
    assert "e1" in waiting.stderr and "podium decide" in waiting.stderr
    inbox = json.loads(podium("inbox", str(db), "--json").stdout)
    assert [i["kind"] for i in inbox] == ["milestone"]
    item = inbox[0]
    assert {"id", "kind", "priority", "title", "task_id", "options"} <= set(item)
    decided = podium("decide", str(db), item["id"], "approve")
    assert decided.returncode == 4, decided.stderr  # recorded: no engine runs it
    again = podium("decide", str(db), item["id"], "approve")
    assert again.returncode == 2 and "already being decided" in again.stderr
    resumed = podium("resume", str(db), "--headless")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(podium("inbox", str(db), "--json").stdout) == []
    [decided_item] = json.loads(podium("inbox", str(db), "--json", "--all").stdout)
    assert decided_item["id"] == item["id"] and not decided_item["open"]
    assert decided_item["resolution"]  # what the decision did
    late = podium("decide", str(db), item["id"], "approve")
    assert late.returncode == 2 and "already decided" in late.stderr
    assert json.loads(podium("status", str(db), "--json").stdout)["state"] == "completed"


SLOW = """
[[tasks]]
id = "art1"
title = "Cover art"
kind = "illustration"
assignee = "art"
[models.rehearsal]
latency_ms = 5.0
jitter_ms = 1.0
tokens_per_s = 20000.0
latency_by_kind = { illustration = 6000.0 }
"""


def test_decide_from_a_second_process_is_applied_by_the_running_production(
    tmp_path: Path,
) -> None:
    path = production(tmp_path, explicit(TWO + SLOW))
    db = tmp_path / "p.db"
    env = dict(os.environ)
    runner = subprocess.Popen(
        [sys.executable, "-m", "podium", "run", str(path), "--headless", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        items: list[dict[str, object]] = []
        while time.monotonic() < deadline and not items:
            time.sleep(0.1)
            if db.exists():
                out = podium("inbox", str(db), "--json")
                if out.returncode == 0:
                    items = [i for i in json.loads(out.stdout) if i["kind"] == "milestone"]
        assert items, "the gate never opened"
        assert runner.poll() is None, "the production stopped before the decision"
        decided = podium("decide", str(db), str(items[0]["id"]), "approve")
        assert decided.returncode == 0, decided.stderr
        assert "approved treat" in decided.stdout
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, err
    data = json.loads(podium("status", str(db), "--json").stdout)
    assert data["state"] == "completed" and data["tasks"]["done"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.toml", "--headless"], "missing.toml:1: file: no such file"),
        (["resume", "missing.db", "--headless"], "missing.db"),
        (["status", "missing.db"], "missing.db"),
        (["decide", "missing.db", "e1", "approve"], "missing.db"),
        (["run", "--headless"], "error"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(args: list[str], message: str) -> None:
    result = podium(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_text("not a database at all\n" * 100)
    result = podium("status", str(junk), "--json")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(junk) in result.stderr
    assert junk.read_text() == "not a database at all\n" * 100


def test_an_unknown_model_is_refused_before_anything_starts(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    result = podium(
        "run",
        str(path),
        "--headless",
        "--model",
        "nonsense-model-xyz",
        "--db",
        str(tmp_path / "p.db"),
    )
    assert result.returncode == 2, result.stderr
    assert "nonsense-model-xyz" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "p.db").exists()


def test_a_changed_file_does_not_silently_reuse_the_old_database(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    assert (
        podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db)).returncode
        == 0
    )
    path.write_text(path.read_text().replace("A crossing.", "A different crossing."))
    result = podium("run", str(path), "--headless", "--db", str(db))
    assert result.returncode == 2 and "podium resume" in result.stderr


def test_a_model_litellm_cannot_route_is_refused_at_its_line(tmp_path: Path) -> None:
    """validate passes a well-shaped "foo/bar"; run asks litellm, and points at the line too."""
    path = production(tmp_path, explicit(TWO, FAST + '[models]\ndefault = "foo/bar"\n'))
    line = 1 + path.read_text().splitlines().index('default = "foo/bar"')
    assert podium("validate", str(path)).returncode == 0
    result = podium("run", str(path), "--headless", "--db", str(tmp_path / "p.db"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{path}:{line}: models.default: unknown model 'foo/bar'")
    assert not (tmp_path / "p.db").exists()


def _waiting(tmp_path: Path) -> Path:
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    assert podium("run", str(path), "--headless", "--db", str(db)).returncode == 3
    return db


def test_decide_text_may_follow_the_options(tmp_path: Path) -> None:
    from podium.cli.production import load_view

    db = _waiting(tmp_path)
    decided = podium("decide", str(db), "-", "feedback", "--task", "treat", "more", "salt")
    assert decided.returncode == 4, decided.stderr  # recorded; applied by the next engine
    mixed = podium("decide", str(db), "-", "feedback", "less", "--task", "treat", "light")
    assert mixed.returncode == 4, mixed.stderr
    assert podium("resume", str(db), "--headless").returncode == 3
    view = asyncio.run(load_view(db))
    assert view.agents["w"].feedback[-2:] == ["more salt", "less light"]


def test_vision_keeps_the_reason_given(tmp_path: Path) -> None:
    from podium.cli.production import load_view

    db = _waiting(tmp_path)
    amended = podium(
        "vision", str(db), "tone", "--reason", "the ending needs warmth", "warmer", "--rerun"
    )
    assert amended.returncode == 4, amended.stderr
    plain = podium("vision", str(db), "audience", "everyone")
    assert plain.returncode == 4, plain.stderr
    assert podium("resume", str(db), "--headless").returncode in (0, 3)
    first, second = asyncio.run(load_view(db)).vision_history[-2:]
    assert (first.section, first.value, first.reason) == (
        "tone",
        "warmer",
        "the ending needs warmth",
    )
    assert (second.section, second.value, second.reason) == ("audience", "everyone", "")


def test_the_inbox_says_why_a_task_failed_and_what_each_option_does(tmp_path: Path) -> None:
    failing = (
        FAST.replace("jitter_ms", "failure_rate = 1.0\njitter_ms") + "[constraints]\nretries = 0\n"
    )
    path = production(tmp_path, explicit(TWO, failing))
    db = tmp_path / "p.db"
    assert podium("run", str(path), "--headless", "--db", str(db)).returncode == 3
    lines = podium("inbox", str(db)).stdout.splitlines()
    assert lines[0].startswith("e1") and "failure" in lines[0]
    assert "rehearsal model: simulated" in lines[1]  # the cause, not only "failed"
    assert any(line.startswith("        option retry: Retry — ") for line in lines)
    assert not any(line.endswith(" — ") for line in lines)
