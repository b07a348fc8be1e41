"""Productions that outlive the terminal: detach, list, decide, stop, and a crashed engine."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from podium.locks import holder

from .test_headless_cli import FAST, TWO, explicit, podium, production


def wait_for(predicate: object, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_detach_then_steer_from_other_processes_then_stop(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    started = podium("run", str(path), "--detach", env=env)
    assert started.returncode == 0, started.stderr
    assert "podium attach" in started.stdout
    db = Path(started.stdout.split(" is running")[0].removeprefix("podium: ").strip())
    assert db.parent == tmp_path / "data" / "productions"
    pid = holder(db)
    assert pid is not None
    again = podium("run", str(path), "--detach", env=env)
    assert again.returncode == 2 and "already running" in again.stderr

    def waiting() -> bool:
        out = podium("inbox", str(db), "--json", env=env)
        return out.returncode == 0 and bool(json.loads(out.stdout))

    assert wait_for(waiting), "the gate never opened"
    listed = json.loads(podium("ps", "--json", env=env).stdout)
    [row] = listed
    assert row["state"] == "waiting" and row["pid"] == pid and row["open_escalations"] == 1
    # The engine waits on the Orchestrator instead of exiting; a decision reaches it.
    assert holder(db) == pid
    decided = podium("decide", str(db), "e1", "approve", env=env)
    assert decided.returncode == 0, decided.stderr
    assert wait_for(lambda: holder(db) is None), "a finished background production ends"
    assert json.loads(podium("status", str(db), "--json", env=env).stdout)["state"] == "completed"


def test_stop_and_a_crashed_engine(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    assert podium("run", str(path), "--detach", "--db", str(db), env=env).returncode == 0
    assert wait_for(lambda: podium("inbox", str(db), "--json", env=env).stdout.startswith("[{"))
    stopped = podium("stop", str(db), env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert holder(db) is None
    assert json.loads(podium("status", str(db), "--json", env=env).stdout)["state"] == "stopped"

    assert podium("resume", str(db), "--detach", env=env).returncode == 0
    pid = holder(db)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: holder(db) is None)
    attached = podium("attach", str(db), env=env)
    assert attached.returncode == 3
    assert "crashed" in attached.stderr and "podium resume" in attached.stderr
    assert "Traceback" not in attached.stderr
