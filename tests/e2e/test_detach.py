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
    assert stopped.stdout == f"podium: stopped; continue with `podium resume {db}`\n"
    assert holder(db) is None
    assert json.loads(podium("status", str(db), "--json", env=env).stdout)["state"] == "stopped"
    again = podium("stop", str(db), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"podium: nothing to stop: no engine is running {db} (it is stopped)\n"

    assert podium("resume", str(db), "--detach", env=env).returncode == 0
    pid = holder(db)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: holder(db) is None)
    attached = podium("attach", str(db), env=env)
    assert attached.returncode == 3
    assert "crashed" in attached.stderr and "podium resume" in attached.stderr
    assert "Traceback" not in attached.stderr


def test_ps_lists_productions_run_with_db_elsewhere_while_they_exist(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    elsewhere = [tmp_path.resolve() / "a" / "one.db", tmp_path.resolve() / "b" / "two.db"]
    for db in elsewhere:
        db.parent.mkdir()
        assert podium("run", str(path), "--headless", "--db", str(db), env=env).returncode == 3
    assert podium("run", str(path), "--headless", env=env).returncode == 3  # the default folder
    assert podium("resume", str(elsewhere[0]), "--headless", env=env).returncode == 3
    listed = [Path(row["db"]) for row in json.loads(podium("ps", "--json", env=env).stdout)]
    assert listed[1:] == elsewhere and listed[0].parent.name == "productions"
    elsewhere[1].unlink()
    listed = [Path(row["db"]) for row in json.loads(podium("ps", "--json", env=env).stdout)]
    assert listed[1:] == elsewhere[:1]


def test_ps_has_a_header_row(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    assert podium("run", str(path), "--headless", env=env).returncode == 3
    header, row = podium("ps", env=env).stdout.splitlines()
    assert header.split() == ["TITLE", "STATE", "TASKS", "LAST", "EVENT", "DATABASE"]
    assert row.startswith("Night Ferry") and "waiting on you (1)" in row
    assert row.index("waiting") == header.index("STATE")
    assert row.index("0/2 done") == header.index("TASKS")


def test_serve_and_stop_on_something_that_is_not_a_database(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    junk = tmp_path / "junk.db"
    junk.write_text("not a database\n")
    for target in (path, junk):
        for command in ("serve", "stop"):
            result = podium(command, str(target))
            assert result.returncode == 2, result.stderr
            assert "not a podium production database" in result.stderr
            assert "podium resume" not in result.stderr
    assert f"start it with `podium run {path}`" in podium("serve", str(path)).stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.db", "prod.toml"]


def test_serve_a_completed_production_points_at_status_and_export(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    done = podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db))
    assert done.returncode == 0, done.stderr
    served = podium("serve", str(db))
    assert served.returncode == 3
    assert "it is completed" in served.stderr and f"podium export {db}" in served.stderr
    assert "--detach" not in served.stderr


def test_attach_to_a_completed_production_says_how_to_open_and_export_it(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    done = podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db), env=env)
    assert done.returncode == 0, done.stderr
    attached = podium("attach", str(db), env=env)
    assert attached.returncode == 0, attached.stderr  # nothing is wrong: it is finished
    [line] = attached.stderr.splitlines()
    assert f"{db} is completed" in line and "crashed" not in line
    assert f"podium resume {db}" in line and f"podium export {db} --out DIR" in line
