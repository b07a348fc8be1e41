"""Terminal escapes stored by an older podium (issue 14 §2) never reach a terminal.

Today's door refuses a production file or a command carrying one; a database written before it
(built here with the engine's API, the door bypassed) may still hold them in every string: the
title, crew and character names, vision sections, task, phase and gate titles, the style guide,
feedback, an amended vision, an escalation's title, detail and resolution. `status`, `inbox`,
`ps`, headless progress and the TUI show that text sanitized: not one of the injected sequences
reaches the terminal, and Rich markup in it is shown as text.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from podium.domain.escalation import EscalationKind
from podium.domain.events import EscalationResolved, Feedback, ProductionState, VisionAmended
from podium.domain.production import ProductionSpec
from podium.engine.engine import Engine
from podium.store import EventStore

# Each injected sequence ends in a marker the sanitizer leaves (it removes only the sequence),
# so the raw bytes can be searched for the sequence itself, whatever the app draws around it.
OSC52 = "\x1b]52;c;SGVsbG8=\x07"
OSC0 = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2Jzq"
C1 = "\x9b31mzq"
BIDI = "\u202eevil"
MARKUP = "[bold red]x[/]"
PAYLOAD = f"{OSC52}{OSC0}{CLEAR}{C1}{BIDI} {MARKUP}"
INJECTED = [b"]52;c;SGVsbG8=", b"]0;pwned", b"\x1b[2Jzq", b"\xc2\x9b31m", "\u202e".encode()]

PRODUCTION = """
[production]
title = "T"
format = "short_film"
brief = "B"
logline = "L"
[vision]
premise = "P"
themes = ["one"]
tone = "T"
audience = "A"
locations = ["L"]
[[vision.characters]]
name = "Mara"
description = "D"
[style]
notes = "N"
palette = ["grey"]
[[crew]]
id = "prod"
role = "producer"
name = "Prod"
[[crew]]
id = "w"
role = "writer"
name = "W"
[[crew]]
id = "mara"
role = "character"
name = "M"
character = "Mara"
[[gates]]
id = "treatment"
title = "G"
[[tasks]]
id = "treat"
title = "Treatment"
kind = "treatment"
assignee = "w"
gate = "treatment"
phase = "Ph"
[[tasks]]
id = "scene1"
title = "Scene"
kind = "scene"
assignee = "w"
depends_on = ["treat"]
phase = "Ph2"
[planner]
mode = "explicit"
[models.rehearsal]
latency_ms = 0
jitter_ms = 0
tokens_per_s = 100000
"""

_FREE = {"title", "brief", "logline", "premise", "tone", "audience", "description", "notes", "name"}


def _poisoned(value: Any, key: str = "") -> Any:
    """Every free-text string with the payload in it, lists of text included."""
    if isinstance(value, dict):
        return {k: _poisoned(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_poisoned(v, key) for v in value]
    if isinstance(value, str) and (key in _FREE or key in ("themes", "locations", "palette")):
        return f"{value} {PAYLOAD}"
    if isinstance(value, str) and key == "phase":
        return f"{value}{PAYLOAD}"
    return value


def hostile_spec() -> ProductionSpec:
    data = _poisoned(tomllib.loads(PRODUCTION))
    # A character agent names its character as the vision spells it.
    data["crew"][2]["character"] = data["vision"]["characters"][0]["name"]
    return ProductionSpec.model_validate(data)  # what an older podium took: no door


async def _build(db: Path) -> ProductionState:
    from podium.cli.headless import run_headless

    store = await EventStore.open(db, create=True)
    try:
        engine = await Engine.open(store, spec=hostile_spec(), headless=True, keep_alive=False)
        state = await run_headless(engine, str(db))
        # What older commands and agents could leave behind.
        engine.emit(Feedback(agent_id="w", text=PAYLOAD, command_id="old-1"))
        engine.emit(
            VisionAmended(version=2, section="tone", value=PAYLOAD, reason=PAYLOAD, command_id="o2")
        )
        old = engine.open_escalation(
            EscalationKind.FAILURE, f"Old {PAYLOAD}", task_id="scene1", detail=PAYLOAD
        )
        engine.emit(
            EscalationResolved(
                escalation_id=old.id, action=old.actions[0], resolution=f"done {PAYLOAD}"
            )
        )
        engine.open_escalation(EscalationKind.FAILURE, f"Open {PAYLOAD}", detail=PAYLOAD)
        return state
    finally:
        await store.close()


def _clean(raw: bytes, where: str) -> None:
    if "--json" in where:  # data, escaped as JSON escapes it: no control byte at all
        for byte in (b"\x1b", b"\x07", b"\xc2\x9b", "\u202e".encode()):
            assert byte not in raw, f"{where}: {byte!r} reached the terminal"
        return
    for sequence in INJECTED:
        assert sequence not in raw, f"{where}: {sequence!r} reached the terminal"


def _env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "PODIUM_CONFIG_DIR": str(tmp_path / "config"),
        "PODIUM_DATA_DIR": str(tmp_path / "data"),
    }


def _podium(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "podium", *args],
        capture_output=True,
        timeout=120,
        env=_env(tmp_path) | env,
        check=False,
    )


@pytest.fixture
def hostile_db(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The database, built with headless progress drawn as on a terminal (Rich's live bars)."""
    db = tmp_path / "old.db"
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    assert asyncio.run(_build(db)) is ProductionState.WAITING
    out, err = capfd.readouterr()
    _clean((out + err).encode(), "headless progress (live)")
    assert "Open" in err and MARKUP in err  # markup is text, never parsed
    return db


def test_status_inbox_ps_and_headless_show_stored_escapes_sanitized(
    hostile_db: Path, tmp_path: Path
) -> None:
    from podium.locations import remember

    for args in (["status"], ["status", "--json"], ["inbox"], ["inbox", "--all"]):
        result = _podium(tmp_path, *args, str(hostile_db))
        assert result.returncode == 0, result.stderr
        _clean(result.stdout + result.stderr, " ".join(args))
    shown = _podium(tmp_path, "status", str(hostile_db)).stdout.decode()
    assert f"T {MARKUP}" not in shown and MARKUP in shown  # sanitized, and markup as text
    inbox = _podium(tmp_path, "inbox", str(hostile_db), "--all").stdout.decode()
    assert MARKUP in inbox

    remember(hostile_db)  # PODIUM_DATA_DIR is the test's (the fixture set it)
    for args in (["ps"], ["ps", "--json"]):
        result = _podium(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        assert b"old.db" in result.stdout
        _clean(result.stdout + result.stderr, " ".join(args))

    # Headless progress, line by line (not a terminal), on resume.
    resumed = _podium(tmp_path, "resume", str(hostile_db), "--headless")
    assert resumed.returncode == 3, resumed.stderr
    assert b"Open" in resumed.stdout + resumed.stderr
    _clean(resumed.stdout + resumed.stderr, "resume --headless")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_tui_draws_stored_escapes_sanitized(hostile_db: Path, tmp_path: Path) -> None:
    from .test_tmux import Terminal
    from .test_tmux import _env as tmux_env

    raw = tmp_path / "raw.bin"
    command = [sys.executable, "-m", "podium", "resume", str(hostile_db)]
    terminal = Terminal(command, tmux_env(tmp_path), tmp_path)
    try:
        subprocess.run(
            [*terminal.tmux, "pipe-pane", "-t", terminal.name, "-o", f"cat >> {raw}"],
            check=True,
            timeout=30,
        )
        terminal.wait_for(lambda s: "Old" in s or "Open" in s, "the inbox with the old item")
        # Visit the panes that show stored text: agents, the vision, the inbox's detail.
        for keys in (["Tab"], ["Tab"], ["Tab"], ["v"], ["Escape"], ["enter"], ["Escape"]):
            terminal.press(*keys)
        terminal.press("q")
        terminal.wait_for(lambda s: "EXIT=" in s, "podium to exit", timeout=60)
        deadline = time.monotonic() + 10
        while not raw.exists() or raw.stat().st_size == 0:
            assert time.monotonic() < deadline, "pipe-pane wrote nothing"
            time.sleep(0.1)
    finally:
        terminal.close()
    data = raw.read_bytes()
    assert b"\x1b[" in data  # the app's own drawing is there
    _clean(data, "the TUI")
