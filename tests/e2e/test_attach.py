"""Following an engine that runs in another process: events arrive as they are committed,
commands travel through the store, and several followers agree."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from podium.attach import StoreFollower
from podium.domain.escalation import ApproveCommand, EscalationKind
from podium.domain.tasks import TaskState
from podium.locks import holder
from podium.store import StoreError

from .test_headless_cli import SLOW, TWO, explicit, production


async def _open_when_written(db: Path, deadline: float) -> StoreFollower:
    """A follower on the engine's database once the engine has written its first event (the
    file exists a moment before that, empty or without its schema)."""
    while True:
        try:
            return await StoreFollower.open(db)
        except StoreError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_two_followers_steer_a_production_running_elsewhere(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO + SLOW))
    db = tmp_path / "p.db"
    engine = subprocess.Popen(
        [sys.executable, "-m", "podium", "run", str(path), "--headless", "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        first = await _open_when_written(db, deadline)
        second = await StoreFollower.open(db)
        seen: list[str] = []
        first.subscribe(lambda seq, payload: seen.append(payload.kind))
        runs = [asyncio.create_task(f.run()) for f in (first, second)]
        gate = None
        while gate is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            gate = next(
                (e for e in first.view.open_escalations() if e.kind is EscalationKind.MILESTONE),
                None,
            )
        assert gate is not None, "the gate never reached the follower"
        assert holder(db) == engine.pid  # the engine holds the production's lock
        result = await second.submit(ApproveCommand(id="attach-approve", escalation_id=gate.id))
        assert result.applied, result.detail
        while first.view.tasks["scene1"].state is TaskState.PENDING and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert first.view.tasks["scene1"].state is not TaskState.PENDING
        first.request_stop()  # a follower leaving never touches the engine
        await runs[0]
        await first.close()
        _, err = await asyncio.to_thread(engine.communicate, timeout=60)
        assert engine.returncode == 0, err
        await second.poll()
        second.request_stop()
        await runs[1]
        assert second.view.state.value == "completed"
        assert "task_state" in seen and "command_applied" in seen
        await second.close()
    finally:
        if engine.poll() is None:
            engine.kill()
