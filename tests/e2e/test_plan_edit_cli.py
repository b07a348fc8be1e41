"""`podium decide DB ESC edit [--file plan.toml]` and `podium show DB plan`: the plan escalation's
edit from the shell, on a real (fast) production."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from .conftest import env_for, fast_sample
from .test_headless_cli import podium

pytestmark = pytest.mark.slow


def waiting_on_the_plan(folder: Path) -> tuple[Path, str]:
    """Last Light run until it waits on the Orchestrator; the plan escalation's id."""
    db = folder / "last_light.db"
    done = podium(
        "run", str(fast_sample(folder)), "--headless", "--db", str(db), env=env_for(folder)
    )
    assert done.returncode == 3, done.stderr
    inbox = json.loads(podium("inbox", str(db), "--json", env=env_for(folder)).stdout)
    [plan] = [e for e in inbox if e["kind"] == "plan"]
    assert "edit_plan" in plan["actions"]
    return db, plan["id"]


def decided(db: Path, folder: Path) -> list[str]:
    log = json.loads(podium("log", str(db), "--json", env=env_for(folder)).stdout)
    return [e["summary"] for e in log if e["kind"] == "command"]


def test_an_edited_plan_file_is_the_plan_the_run_makes(tmp_path: Path) -> None:
    db, esc = waiting_on_the_plan(tmp_path)
    shown = podium("show", str(db), "plan", env=env_for(tmp_path))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# The plan by ") and "[[tasks]]" in shown.stdout
    first = re.search(r'(?m)^title = "(.*)"$', shown.stdout)
    assert first is not None
    edited = shown.stdout.replace(first.group(0), 'title = "Opening, as I want it"', 1)
    plan = tmp_path / "plan.toml"
    plan.write_text(edited, encoding="utf-8")
    done = podium("decide", str(db), esc, "edit", "--file", str(plan), env=env_for(tmp_path))
    assert done.returncode == 4, done.stderr  # recorded; applied when an engine runs
    # Applied by the next engine, before anything else decides the plan: the standing
    # instruction (--auto-approve all) approved the proposed plan first and the edit was
    # refused as already decided.
    run = podium("resume", str(db), "--headless", "--auto-approve", "all", env=env_for(tmp_path))
    assert run.returncode == 0, run.stderr
    inbox = json.loads(podium("inbox", str(db), "--all", "--json", env=env_for(tmp_path)).stdout)
    [plan_item] = [e for e in inbox if e["id"] == esc]
    assert plan_item["resolution"].startswith("approved the Orchestrator's plan: ")
    after = json.loads(podium("show", str(db), "plan", "--json", env=env_for(tmp_path)).stdout)
    assert after["tasks"][0]["title"] == "Opening, as I want it"
    status = json.loads(podium("status", str(db), "--json", env=env_for(tmp_path)).stdout)
    assert status["state"] == "completed"


def test_an_invalid_plan_file_names_the_line_and_records_nothing(tmp_path: Path) -> None:
    db, esc = waiting_on_the_plan(tmp_path)
    text = podium("show", str(db), "plan", env=env_for(tmp_path)).stdout
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("assignee = "))
    lines[at] = 'assignee = "nobody"'
    plan = tmp_path / "plan.toml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = decided(db, tmp_path)
    done = podium("decide", str(db), esc, "edit", "--file", str(plan), env=env_for(tmp_path))
    assert done.returncode == 2
    assert f"{plan}:{at + 1}: tasks[0].assignee: unknown agent 'nobody'" in done.stderr
    assert "nothing was recorded" in done.stderr and "Traceback" not in done.stderr
    assert decided(db, tmp_path) == before
    inbox = json.loads(podium("inbox", str(db), "--json", env=env_for(tmp_path)).stdout)
    assert any(e["id"] == esc for e in inbox)


def test_without_a_file_the_editor_opens_on_the_plan(tmp_path: Path) -> None:
    """$EDITOR is a script that breaks the TOML; with no terminal to reopen the editor on,
    the error is said (naming the line) and nothing is recorded."""
    db, esc = waiting_on_the_plan(tmp_path)
    script = tmp_path / "editor.py"
    script.write_text(
        "import pathlib, sys\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "text = p.read_text()\n"
        "if 'podium: line' not in text:\n"
        "    p.write_text(text + '\\n[[tasks]\\n')\n"
        "else:\n"
        "    body = text.split('\\n', 1)[1].replace('\\n[[tasks]\\n', '')\n"
        "    p.write_text(body.replace('[[tasks]]', '[[tasks]]\\n# mine', 1))\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = env_for(tmp_path) | {"EDITOR": f"{os.sys.executable} {script}", "VISUAL": ""}
    done = podium("decide", str(db), esc, "edit", env=env)
    # stdin is not a terminal here: the first error is said and nothing is recorded.
    assert done.returncode == 2, done.stderr
    assert "TOML syntax" in done.stderr and "nothing was recorded" in done.stderr
    assert re.search(r"podium-plan-e\d+-\w+\.toml:\d+: toml: TOML syntax", done.stderr)
    assert decided(db, tmp_path) == []
