"""kill -9 while an agent streams, right after a group commit, right after a human command and
at a random moment: nothing that was acknowledged is lost, nothing is applied twice, and the
film is the one an uninterrupted run makes."""

from __future__ import annotations

from pathlib import Path

from .crash_harness import (
    AIMS,
    crash_until_done,
    deliverables,
    environment,
    production_text,
    reference_run,
)

PRODUCTION = production_text(latency_ms=20.0, tokens_per_s=3000.0)


def test_kill_nine_then_resume_loses_nothing(tmp_path: Path) -> None:
    env = environment()
    expected = reference_run(tmp_path, env, PRODUCTION)
    report = crash_until_done(tmp_path, kills=len(AIMS), seed=11, production=PRODUCTION, env=env)
    assert report.problems == []
    assert report.kills == report.requested == len(AIMS)
    assert report.commands, "no human command was exercised"
    assert deliverables(tmp_path / "crash.db") == expected
    assert report.aimed["command"] >= 1, report.aimed


def test_a_kill_before_the_database_exists_starts_the_run_again(tmp_path: Path) -> None:
    """The first kill can land before the engine has saved anything: run again, not resume."""
    env = environment()
    report = crash_until_done(
        tmp_path,
        kills=1,
        aims=("random",),
        min_s=0.0,
        max_s=0.0,
        human=False,
        production=PRODUCTION,
        env=env,
    )
    assert report.problems == []
    assert report.kills == 1
    assert deliverables(tmp_path / "crash.db")
