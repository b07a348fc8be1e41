"""An attached screen notices when the engine it follows goes away, and says how to go on."""

from __future__ import annotations

from pathlib import Path

from podium.attach import StoreFollower
from podium.domain.escalation import Action
from podium.locks import EngineLock
from podium.store import EventStore
from podium.tui.screens.conductor import new_command

from .conftest import SIZE, make_app, screen_text, until, until_shown
from .test_keys import notified, waiting_on_the_milestone


async def test_the_header_and_a_notice_say_the_engine_is_gone_and_commands_wait(
    tmp_path: Path,
) -> None:
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    engine = EngineLock.acquire(db)  # stands in for the engine process holding its lock
    follower = await StoreFollower.open(db)
    app = make_app(follower, db_label=str(db))
    try:
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until_shown(pilot, "Milestone treatment")
            await pilot.pause(1.2)  # a liveness look has been made
            assert "NO ENGINE" not in screen_text(app)
            engine.release()  # as kill -9 releases it
            await until_shown(pilot, "NO ENGINE")
            await until(pilot, lambda: notified(app, f"podium resume {db}"), "the resume hint")
            assert "its engine has stopped" in screen_text(app)  # its run ended cleanly
            await pilot.press("p")
            await until(
                pilot,
                lambda: notified(app, "applies when the production is resumed"),
                "the pause to be reported as waiting for a resume",
            )
            assert not notified(app, "the engine will apply it")
            engine = EngineLock.acquire(db)  # an engine runs it again
            await until(pilot, lambda: "NO ENGINE" not in screen_text(app), "the engine back")
            await until(pilot, lambda: notified(app, "runs the production again"), "a notice")
    finally:
        engine.release()
        await follower.close()
    store = await EventStore.open(db, create=False)
    try:
        pending = await store.pending_commands()
    finally:
        await store.close()
    assert [c.action for c in pending] == [Action.PAUSE]  # kept for `podium resume`


async def test_a_command_to_a_gone_engine_is_recorded_for_the_resume(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    await waiting_on_the_milestone(db)
    follower = await StoreFollower.open(db)  # no engine holds the lock
    try:
        result = await follower.submit(new_command(Action.PAUSE))
        assert not result.applied
        assert f"podium resume {db}" in result.detail
        assert follower.engine_lost == "its engine has stopped (the production is waiting)"
    finally:
        await follower.close()
