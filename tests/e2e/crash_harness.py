"""kill -9 at chosen and random points, resume, repeat; then check that nothing acknowledged
was lost.

Each kill has an aim: a random moment, while an agent streams (its output chunks are landing in
the database), right after a group commit lands new events, or right after `podium decide` has
made a human command durable. The harness only reads the database (read-only) to aim.
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
latency_ms = {latency_ms}
jitter_ms = {jitter_ms}
tokens_per_s = {tokens_per_s}
"""


def production_text(
    scenes: int = 8, *, latency_ms: float = 40.0, tokens_per_s: float = 1500.0
) -> str:
    text = PRODUCTION.format(
        latency_ms=latency_ms, jitter_ms=latency_ms / 2, tokens_per_s=tokens_per_s
    )
    text += (
        '[[tasks]]\nid = "treatment"\ntitle = "Treatment"\nkind = "treatment"\n'
        'assignee = "writer"\ngate = "treatment"\n'
    )
    text += '[[tasks]]\nid = "look"\ntitle = "Look"\nkind = "look"\nassignee = "dp"\n'
    for i in range(1, scenes + 1):
        text += (
            f'[[tasks]]\nid = "scene-{i}"\ntitle = "Scene {i}"\nkind = "scene"\n'
            f'assignee = "writer"\ndepends_on = ["treatment"]\nparams = {{ scene = {i} }}\n'
        )
        if i % 3 == 0:
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


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The engine, its progress going to `log` (a pipe nobody drains could fill and stall it)."""
    with log.open("w", encoding="utf-8") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "podium", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
            env=env,
        )


def _events(db: Path) -> list[tuple[int, str, dict[str, Any]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT seq, kind, payload FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(seq, kind, json.loads(payload)) for seq, kind, payload in rows]


def deliverables(db: Path) -> dict[str, Any]:
    """Each task's final output, from the log."""
    latest: dict[str, Any] = {}
    for _, kind, payload in _events(db):
        if kind == "artifact_created":
            art = payload["artifact"]
            latest[art["task_id"]] = art["content"]
    return latest


AIMS = ("command", "streaming", "commit", "random")
"""Where a kill lands; the harness takes them in turn. `command`: the moment `podium decide`
has made its command durable, while it still waits for the engine's verdict. It comes first:
the treatment gate opens early, and later runs may have nothing left to decide."""

POLL_S = 0.01
AIM_TIMEOUT_S = 5.0
"""An aimed kill whose moment has not come after this long (nothing left to stream, no
escalation open) lands then, and counts as `random`."""


@dataclass
class CrashReport:
    requested: int = 0
    kills: int = 0
    runs: int = 0
    aimed: Counter[str] = field(default_factory=Counter)
    """Kills done, by the moment they hit (`random` also counts aims whose moment never came)."""
    commands: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Reader:
    """A read-only look at the log while the engine writes it; silent until the DB exists."""

    def __init__(self, db: Path) -> None:
        self._db = db
        self._conn: sqlite3.Connection | None = None

    def query(self, sql: str, *args: object) -> list[Any]:
        try:
            if self._conn is None:
                if not self._db.exists():
                    return []
                self._conn = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True, timeout=1)
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.Error:  # not created yet, or mid-creation: look again later
            self.close()
            return []

    def last_seq(self, kind: str | None = None) -> int:
        if kind is None:
            rows = self.query("SELECT coalesce(max(seq), 0) FROM events")
        else:
            rows = self.query("SELECT coalesce(max(seq), 0) FROM events WHERE kind = ?", kind)
        return int(rows[0][0]) if rows else 0

    def open_escalations(self) -> int:
        rows = self.query(
            "SELECT (SELECT count(*) FROM events WHERE kind = 'escalation_opened') - "
            "(SELECT count(*) FROM events WHERE kind = 'escalation_resolved')"
        )
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def started(db: Path) -> bool:
    """True once the production's first event is durable, so `resume` has something to resume."""
    reader = _Reader(db)
    try:
        return reader.last_seq() > 0
    finally:
        reader.close()


def _aim(
    aim: str,
    proc: subprocess.Popen[str],
    db: Path,
    report: CrashReport,
    rng: random.Random,
    span: tuple[float, float],
    env: dict[str, str] | None,
) -> str | None:
    """Wait for the moment `aim` names and kill the engine then; what was hit, or None when
    the run ended first."""
    reader = _Reader(db)
    try:
        if aim == "random":
            deadline = time.monotonic() + rng.uniform(*span)
        else:
            deadline = time.monotonic() + AIM_TIMEOUT_S
        chunks = reader.last_seq("output_chunk")
        landed = reader.last_seq() + rng.randint(1, 20)
        while proc.poll() is None:
            hit = None
            if time.monotonic() >= deadline:
                hit = "random"
            elif aim == "streaming" and reader.last_seq("output_chunk") > chunks:
                hit = aim
            elif aim == "commit" and reader.last_seq() >= landed:
                hit = aim
            elif aim == "command" and reader.open_escalations() > 0:
                decision = _start_decision(db, report, env)
                if decision is not None:
                    command_id, decider = decision
                    # The moment the command is durable (podium decide still waiting for the
                    # engine's verdict) the engine dies: it was acknowledged, so it must apply.
                    while decider.poll() is None and not reader.query(
                        "SELECT 1 FROM commands WHERE id = ?", command_id
                    ):
                        time.sleep(POLL_S / 2)
                    killed = _kill(proc)
                    _finish_decision(command_id, decider, reader, report)
                    return aim if killed else None
            if hit is not None:
                return hit if _kill(proc) else None
            time.sleep(POLL_S)
        return None
    finally:
        reader.close()


def _kill(proc: subprocess.Popen[str]) -> bool:
    """kill -9 the process; False when it had already ended."""
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _start_decision(
    db: Path, report: CrashReport, env: dict[str, str] | None
) -> tuple[str, subprocess.Popen[str]] | None:
    """`podium decide … approve` on the first open escalation not yet decided, in the
    background; None when there is none."""
    listed = podium("inbox", str(db), "--json", env=env)
    if listed.returncode != 0:
        return None
    for item in json.loads(listed.stdout):
        command_id = f"human-{item['id']}"
        if command_id not in report.commands:
            args = ["decide", str(db), item["id"], "approve", "--id", command_id]
            decider = subprocess.Popen(
                [sys.executable, "-m", "podium", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            return command_id, decider
    return None


def _finish_decision(
    command_id: str, decider: subprocess.Popen[str], reader: _Reader, report: CrashReport
) -> None:
    """The engine is dead; `podium decide`, if still waiting for its verdict, dies with it (the
    Orchestrator's session dropped too). The command was acknowledged when decide said it
    applied, or when it is durable in the store: either way it must apply exactly once."""
    _kill(decider)
    decider.communicate()
    durable = bool(reader.query("SELECT 1 FROM commands WHERE id = ?", command_id))
    if decider.returncode == 0 or durable:
        report.commands.append(command_id)


def crash_until_done(
    workdir: Path,
    *,
    kills: int,
    seed: int = 0,
    min_s: float = 0.3,
    max_s: float = 2.0,
    human: bool = True,
    aims: tuple[str, ...] = AIMS,
    first_aim: int = 0,
    production: str | None = None,
    env: dict[str, str] | None = None,
) -> CrashReport:
    """Run headless, kill -9 `kills` times, taking `aims` in turn from `first_aim`, resume
    until the production finishes; then `check` the log.

    With `human`, the engine runs as a detached one does (it stays up while it waits on the
    Orchestrator) and the harness approves what it asks, through `podium decide`, while it runs
    and, now and then, between a kill and the resume; otherwise `--auto-approve gates` does.
    """
    rng = random.Random(seed)
    path = workdir / "crash.toml"
    path.write_text(production or production_text(), encoding="utf-8")
    db = workdir / "crash.db"
    report = CrashReport(requested=kills)
    options = ["--headless", "--auto-approve", "none", "--stay"] if human else []
    options = options or ["--headless", "--auto-approve", "gates"]
    for _ in range(kills * 4 + 20):
        if started(db):
            args = ["resume", str(db), *options]
        else:  # killed before the first event was saved: nothing to resume, start again
            args = ["run", str(path), "--db", str(db), *options]
        log = workdir / f"run-{report.runs}.log"
        proc = start(args, log, env=env)
        report.runs += 1
        if report.kills < kills:
            aim = aims[(first_aim + report.kills) % len(aims)]
            hit = _aim(aim, proc, db, report, rng, (min_s, max_s), env)
            if hit is not None:
                report.kills += 1
                report.aimed[hit] += 1
                upcoming = aims[(first_aim + report.kills) % len(aims)]
                if human and upcoming != "command" and rng.random() < 0.5:
                    _decide_all(db, report, env)  # no engine runs: decided on the spot
                continue
        code = _see_through(proc, db, report, human, env)
        err = log.read_text(encoding="utf-8", errors="replace")
        if "Traceback" in err:
            report.problems.append(f"traceback: {err[-2000:]}")
        if code == 0:
            break
        if code == 3 and human:  # stopped waiting: possible only without --stay
            _decide_all(db, report, env)
            continue
        report.problems.append(f"exit {code}: {err[-2000:]}")
        break
    else:
        report.problems.append(f"not finished after {report.runs} runs")
    report.problems.extend(check(db, report.commands))
    return report


def _see_through(
    proc: subprocess.Popen[str],
    db: Path,
    report: CrashReport,
    human: bool,
    env: dict[str, str] | None,
    timeout_s: float = 120.0,
) -> int | None:
    """Let the run end, approving what it waits for; its exit code, or None when it hung."""
    reader = _Reader(db)
    deadline = time.monotonic() + timeout_s
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                report.problems.append("a run hung")
                return None
            if human and reader.open_escalations() > 0:
                _decide_all(db, report, env)
            time.sleep(0.05)
        return proc.returncode
    finally:
        reader.close()


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
    if not db.exists():
        return [f"{db} was never created"]
    try:
        events = _events(db)
    except sqlite3.Error as exc:
        return [f"{db} cannot be read: {exc}"]
    problems: list[str] = []
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
        elif kind == "task_settled":  # done, with its territory, status and current version
            states[payload["task_id"]] = "done"
    stuck = {t: s for t, s in states.items() if s not in ("done", "skipped")}
    if stuck:
        problems.append(f"tasks not finished: {stuck}")
    seqs = [seq for seq, _, _ in events]
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append("the event sequence has gaps")
    return problems


def reference_run(
    workdir: Path, env: dict[str, str] | None = None, production: str | None = None
) -> dict[str, Any]:
    path = workdir / "reference.toml"
    path.write_text(production or production_text(), encoding="utf-8")
    db = workdir / "reference.db"
    done = podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db), env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return deliverables(db)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    return env
