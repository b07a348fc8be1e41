"""kill -9 during streaming, group commits and right after human commands: nothing that was
acknowledged is lost, nothing is applied twice, and the film is the one an uninterrupted run
makes."""

from __future__ import annotations

from pathlib import Path

from .crash_harness import crash_until_done, deliverables, environment, reference_run


def test_kill_nine_then_resume_loses_nothing(tmp_path: Path) -> None:
    env = environment()
    expected = reference_run(tmp_path, env)
    report = crash_until_done(tmp_path, kills=3, seed=11, env=env)
    assert report.problems == []
    assert report.kills == 3
    assert report.commands, "no human command was exercised"
    assert deliverables(tmp_path / "crash.db") == expected
