"""kill -9 at random points, resume, repeat; then check that nothing acknowledged was lost.

Used by tests/e2e/test_crash.py (a few kills) and bench/crash.py (many).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRODUCTION = """
[production]
title = "Crash Test"
format = "short_film"
brief = "A short film made under fire."
[vision]
premise = "A projectionist keeps the last cinema in town open through a blackout."
themes = ["persistence", "light"]
locations = ["the projection booth", "the empty auditorium"]
[[vision.characters]]
name = "Ines"
description = "the projectionist"
[[crew]]
id = "producer"
role = "producer"
[[crew]]
id = "director"
role = "director"
[[crew]]
id = "writer"
role = "writer"
[[crew]]
id = "dp"
role = "director_of_photography"
[constraints]
max_concurrency = 4
max_per_agent = 2
review_rounds = 1
debate_rounds = 1
[planner]
mode = "explicit"
[models.rehearsal]
seed = 7
latency_ms = 40.0
jitter_ms = 20.0
tokens_per_s = 1500.0
"""


def production_text(scenes: int = 8) -> str:
    text = PRODUCTION
    text += (
        '[[tasks]]\nid = "treatment"\ntitle = "Treatment"\nkind = "treatment"\n'
        'assignee = "writer"\ngate = "treatment"\n'
    )
    text += '[[tasks]]\nid = "look"\ntitle = "Look"\nkind = "look"\nassignee = "dp"\n'
    for i in range(1, scenes + 1):
        review = ', reviewers = ["director"]' if i % 3 == 0 else ""
        text += (
            f'[[tasks]]\nid = "scene-{i}"\ntitle = "Scene {i}"\nkind = "scene"\n'
            f'assignee = "writer"\ndepends_on = ["treatment"]\nparams = {{ scene = {i} }}\n'
        )
        if review:
            text += 'reviewers = ["director"]\n'
    deps = ", ".join(f'"scene-{i}"' for i in range(1, scenes + 1))
    text += (
        f'[[tasks]]\nid = "shots"\ntitle = "Shot list"\nkind = "shot_list"\nassignee = "dp"\n'
        f'depends_on = [{deps}, "look"]\n'
    )
    return text


def podium(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "podium", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@dataclass
class CrashReport:
    kills: int = 0
    runs: int = 0
    commands: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _events(db: Path) -> list[tuple[int, str, dict[str, Any]]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def deliverables(db: Path) -> dict[str, Any]:
    """Each task's final output, from the log."""
    latest: dict[str, Any] = {}
    for _, kind, payload in _events(db):
        if kind == "artifact_created":
            art = payload["artifact"]
            latest[art["task_id"]] = art["content"]
    return latest


def crash_until_done(
    workdir: Path,
    *,
    kills: int,
    seed: int = 0,
    min_s: float = 0.3,
    max_s: float = 2.0,
    human: bool = True,
    env: dict[str, str] | None = None,
) -> CrashReport:
    """Run headless, kill -9 `kills` times at random points, decide gates by hand, finish."""
    rng = random.Random(seed)
    path = workdir / "crash.toml"
    path.write_text(production_text(), encoding="utf-8")
    db = workdir / "crash.db"
    report = CrashReport()
    mode = "gates" if not human else "none"
    first = True
    for _ in range(kills * 4 + 20):
        args = ["run", str(path)] if first else ["resume", str(db)]
        first = False
        proc = start(
            [*args, "--headless", "--auto-approve", mode, "--db", str(db)]
            if args[0] == "run"
            else [*args, "--headless", "--auto-approve", mode],
            env=env,
        )
        report.runs += 1
        if report.kills < kills:
            deadline = time.monotonic() + rng.uniform(min_s, max_s)
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
                if human and rng.random() < 0.3 and _decide_all(db, report, env):
                    break  # kill right after a command the running engine acknowledged
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                report.kills += 1
                continue
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            report.problems.append("a run hung")
            break
        if "Traceback" in err:
            report.problems.append(f"traceback: {err[-2000:]}")
        if proc.returncode == 0:
            break
        if proc.returncode == 3 and human:
            _decide_all(db, report, env)
            continue
        if proc.returncode not in (0, 3):
            report.problems.append(f"exit {proc.returncode}: {err[-2000:]}")
            break
    report.problems.extend(check(db, report.commands))
    return report


def _decide_all(db: Path, report: CrashReport, env: dict[str, str] | None) -> bool:
    """Approve every open escalation as the Orchestrator would; True if any was decided."""
    if not db.exists():
        return False
    listed = podium("inbox", str(db), "--json", env=env)
    if listed.returncode != 0:
        return False
    decided_any = False
    for item in json.loads(listed.stdout):
        command_id = f"human-{item['id']}"
        if command_id in report.commands:
            continue
        decided = podium("decide", str(db), item["id"], "approve", "--id", command_id, env=env)
        if decided.returncode == 0:
            report.commands.append(command_id)
            decided_any = True
    return decided_any


def check(db: Path, acknowledged: list[str]) -> list[str]:
    problems: list[str] = []
    events = _events(db)
    recorded = Counter(p["command"]["id"] for _, k, p in events if k == "command_recorded")
    applied = Counter(p["command_id"] for _, k, p in events if k == "command_applied")
    rejected = Counter(p["command_id"] for _, k, p in events if k == "command_rejected")
    for command_id in acknowledged:
        if recorded[command_id] != 1:
            problems.append(f"{command_id} recorded {recorded[command_id]} times")
        if applied[command_id] + rejected[command_id] != 1:
            problems.append(f"{command_id} applied {applied[command_id]} times")
    artifact_ids = Counter(p["artifact"]["id"] for _, k, p in events if k == "artifact_created")
    for art, count in artifact_ids.items():
        if count > 1:
            problems.append(f"artifact {art} created {count} times")
    states: dict[str, str] = {}
    for _, kind, payload in events:
        if kind == "task_state":
            states[payload["task_id"]] = payload["state"]
    stuck = {t: s for t, s in states.items() if s not in ("done", "skipped")}
    if stuck:
        problems.append(f"tasks not finished: {stuck}")
    seqs = [seq for seq, _, _ in events]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append("the event sequence has gaps")
    return problems


def reference_run(workdir: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    path = workdir / "crash.toml"
    path.write_text(production_text(), encoding="utf-8")
    db = workdir / "reference.db"
    done = podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db), env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return deliverables(db)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    return env
