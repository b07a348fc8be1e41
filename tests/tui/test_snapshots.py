"""Snapshots of the conductor's screen in each theme and of every dialog.

Deterministic: the production comes from the rehearsal model with a fixed seed, one task at a
time; every event is folded at one instant and the clock is fixed; nothing runs while the
picture is taken; animations and cursor blink are off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from podium.domain.state import ProductionView
from podium.tui.screens.conductor import ConductorScreen
from podium.tui.screens.confirm import ConfirmQuitScreen

from .conftest import SIZE, app_for, frozen_view, read_events, stalled_debate

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def _config_where_a_snapshot_can_show_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Help prints the config file's path: one fixed folder keeps its snapshot the same."""
    folder = Path("/tmp/podium-snapshots/config")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.iterdir():
        stale.unlink()
    monkeypatch.setenv("PODIUM_CONFIG_DIR", str(folder))


@pytest.mark.parametrize("theme", ["podium-dark", "podium-light", "podium-ansi"])
def test_conductor_screen(snap_compare: SnapCompare, view: ProductionView, theme: str) -> None:
    assert snap_compare(app_for(view, theme), terminal_size=SIZE)


def test_the_snapshot_state_has_history_to_show(view: ProductionView) -> None:
    """What the snapshots are meant to show is there: reviews, a tree under way, options."""
    assert any(r.reviews for r in view.tasks.values())
    assert any(e.options for e in view.open_escalations())
    assert {r.state.value for r in view.tasks.values()} >= {"done", "pending", "awaiting_approval"}


@pytest.fixture(scope="session")
def conflict_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("conflict") / "conflict.db"
    asyncio.run(stalled_debate(db))
    return db


def test_a_stalled_debate_with_its_positions(snap_compare: SnapCompare, conflict_db: Path) -> None:
    """The transcript coloured by speaker, and the conflict's options side by side."""
    view = frozen_view(read_events(conflict_db))
    assert view.debates
    assert snap_compare(app_for(view), terminal_size=SIZE)


DIALOGS: dict[str, tuple[str, ...]] = {
    "escalation_detail": ("enter",),  # these three from the inbox (tab, tab, tab)
    "alternatives_picker": ("a",),
    "override": ("o",),
    "clarify_vision": ("v",),
    "adjust_constraints": ("c",),
    "help": ("question_mark",),
    "feedback": ("tab", "f"),
    "task_detail": ("down", "down", "enter"),
}


@pytest.mark.parametrize("name", sorted(DIALOGS))
def test_dialog(snap_compare: SnapCompare, view: ProductionView, name: str) -> None:
    async def from_the_inbox(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        if name in ("escalation_detail", "alternatives_picker", "override"):
            screen = pilot.app.screen
            assert isinstance(screen, ConductorScreen)
            screen.focus_pane("inbox")

    assert snap_compare(
        app_for(view), press=DIALOGS[name], terminal_size=SIZE, run_before=from_the_inbox
    )


def test_quit_question(snap_compare: SnapCompare, view: ProductionView) -> None:
    def ask(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(
            ConfirmQuitScreen(running=2, resume_hint="podium resume last_light.db")
        )

    assert snap_compare(app_for(view), run_before=ask, terminal_size=SIZE)
