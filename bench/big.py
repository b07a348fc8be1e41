"""Big productions (issue 20): a 12-episode series of about 2,000 tasks and 1,000,000 events.

    .venv/bin/python bench/big.py [--tasks 2000] [--events 1000000] [--cache DIR] [--only …]

The series is made once and kept in `--cache` (default: a folder in the system's temp folder),
so a rerun measures at once; making it is not a measured figure. It starts from a real log:
the Arcadian Summers sample (twelve episodes: season arc, episode arcs, scripts, reviews, a
debate, milestones, escalations and their decisions) run once by `podium run --headless
--auto-approve all` with the rehearsal model, 65 tasks and about 20,000 events. That log is
then written again, through the store's API (`EventStore.emit`), as many times as 2,000 tasks
need, every id renamed in each copy (tasks, artifacts, calls, escalations, commands, debates),
and its streamed output split at word boundaries until the log holds `--events` events: the
screenplay content, the plan, the task states, the calls, the decisions are the real ones.

Then, through the commands a user runs where one applies, one JSON line per figure set:

* reload: `podium status DB --json`, whole process (median of 3), and in the bench's process
  `Engine.open` on the store (median of 3), as `podium resume` and the TUI wait for it. Both
  start from the state snapshot the database holds (the first `Engine.open` stores one when
  there is none: its close takes it); `fold_whole_log_*` is the fold of the whole log without
  it (what a database from before snapshots costs once), `snapshot_kb` the stored snapshot;
* first_frame: `podium resume COPY` on a 160×48 pty, from the spawn to the drawn screen
  (bench/first_frame.py's clock), median of 3 after a warm-up round (byte-code compiled), and
  the CPU the process had used by then; `transcript_s` when the transcript pane shows its
  entries (the first frame draws the panes, the entries may follow); `first_key_s` (a start
  of its own) from `?` typed the moment the screen is drawn to the help it opens;
* keys: the app on the big production (Textual's Pilot, 160×48): key press → handler p95 while
  the cursor moves through the 2,000-task tree (down, expand, page down; from the last line
  `g` and on, opening what page down jumped over) and while the transcript filter is set and
  cleared. `p95_ms`, `tree_*` and `filter_*` are Pilot's press,
  which returns after two idle checks of at least 20 ms each (so never under ~40 ms);
  `frame_*` are from the key to the last frame it drew (the once-a-second update excluded,
  its own cost in `second_update_p95_ms`); `cpu_*` the process's CPU over each press;
  `by_key` each kind of key's CPU median, frame p95 (ms) and count (`enter` on the closed
  groups of the tree, `j`, `pagedown`, `g`, `G`; `slash`, a typed `char`, `search_enter`,
  `clear_enter`); `frames_per_key` how many frames each kind of key drew (a loaded machine
  stretches the wait for a second frame, not the count);
* memory: peak RSS (VmHWM) of each of those processes: status, the TUI 3 s after its first
  frame, export;
* export: `podium export DB --out DIR`, whole process, with and without (`--no-animatic`) the
  animatic, each with an empty export cache (a fresh data folder: `*_s`) and again with what
  that export kept (`*_repeat_s`: nothing changed, so nothing is drawn, voiced or encoded
  again); `*_cpu_s` counts ffmpeg's and espeak-ng's CPU too (rusage of reaped children).

`--before SRC` measures first_frame and keys twice in the same run, on this checkout and on
the podium sources in SRC (a `src` folder, e.g. of `git worktree add /tmp/before HEAD~1`,
put first on PYTHONPATH): the first-frame rounds alternate between them, the keys run in a
child process each; every line then says which (`"tree": "before"` or `"after"`).

Targets: reload ≤ 3 s, first frame ≤ 3 s, key p95 ≤ 16 ms, memory ≤ 400 MB, export ≤ 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
PODIUM = Path(sys.executable).parent / "podium"
SAMPLE = ROOT / "sample_productions" / "arcadian_summers.toml"
MADE_BY = 2  # bump when the maker changes: a cached series from an older maker is remade
TARGETS = {
    "reload_s": 3.0,
    "first_frame_s": 3.0,
    "key_p95_ms": 16.0,
    "rss_mb": 400.0,
    "export_s": 10.0,
}


def default_cache() -> Path:
    return Path(tempfile.gettempdir()) / "podium-bench-big"


# -- making the series -------------------------------------------------------------------------


def template(cache: Path) -> Path:
    """The sample run once, headless, with the rehearsal model (minutes; kept in the cache)."""
    db = cache / "template.db"
    if db.exists():
        return db
    part = cache / "template.part.db"
    for stale in cache.glob("template.part.db*"):
        stale.unlink()
    sys.stderr.write(f"big: running {SAMPLE.name} once for the template log (a few minutes)\n")
    done = subprocess.run(
        [str(PODIUM), "run", str(SAMPLE), "--headless", "--auto-approve", "all", "--db", str(part)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"big: the template run failed ({done.returncode}): {done.stderr[-600:]}")
    part.rename(db)
    return db


def read_template(db: Path) -> list[tuple[str, Any]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT kind, payload FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(kind, json.loads(text)) for kind, text in rows]


_ESCALATION = re.compile(r"e(\d+)")
_HEADER = {"production_opened", "run_started"}
_TRAILER = {"run_stopped"}


def id_map(body: list[tuple[str, Any]], copy: int, escalations: int) -> dict[str, str]:
    """Every id the template's log names, renamed for copy `copy` (copy 0 keeps its own)."""
    if copy == 0:
        return {}
    suffix = f"-k{copy}"
    tasks: dict[str, str] = {}
    names: dict[str, str] = {}
    for kind, payload in body:
        if kind == "tasks_planned":
            for task in payload["tasks"]:
                tasks[task["id"]] = task["id"] + suffix
    names.update(tasks)
    for kind, payload in body:
        if kind == "artifact_created":
            artifact = payload["artifact"]["id"]
            owner = payload["artifact"]["task_id"]
            if owner in tasks and artifact.startswith(owner + "-"):
                names[artifact] = tasks[owner] + artifact[len(owner) :]
            else:
                names[artifact] = artifact + suffix
        elif kind == "call_finished":
            call = payload["call_id"]
            owner, _, number = call.rpartition(":")
            names[call] = f"{tasks[owner]}:{number}" if owner in tasks else call + suffix
        elif kind == "escalation_opened":
            esc = payload["escalation"]["id"]
            match = _ESCALATION.fullmatch(esc)
            names[esc] = f"e{int(match[1]) + copy * escalations}" if match else esc + suffix
        elif kind == "debate_opened":
            names[payload["debate_id"]] = payload["debate_id"] + suffix
    for kind, payload in body:
        if kind == "command_recorded":
            command = payload["command"]["id"]
            if command.startswith("auto-") and command[5:] in names:
                names[command] = "auto-" + names[command[5:]]
            else:
                names[command] = command + suffix
    return names


ID_FIELDS = frozenset(
    {
        "id", "task_id", "depends_on", "artifact_id", "artifact_ids", "escalation_id",
        "call_id", "command_id", "debate_id", "task_ids", "stale_tasks", "decision_id",
    }
)  # fmt: skip
KEYED_BY_ID = frozenset({"made_from"})  # dicts whose keys are task ids


def renamed(value: Any, names: dict[str, str]) -> Any:
    """`value` with the ids in its id fields renamed (a kind named like a task is left alone)."""
    if isinstance(value, list):
        return [renamed(item, names) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ID_FIELDS:
            if isinstance(item, str):
                item = names.get(item, item)
            elif isinstance(item, list):
                item = [names.get(v, v) if isinstance(v, str) else v for v in item]
        elif key in KEYED_BY_ID and isinstance(item, dict):
            item = {names.get(k, k): v for k, v in item.items()}
        else:
            item = renamed(item, names)
        out[key] = item
    return out


def split_words(text: str, pieces: int) -> list[str]:
    """`text` in up to `pieces` parts, cut after a space (a piece never straddles a word)."""
    if pieces <= 1:
        return [text]
    size = max(1, len(text) // pieces)
    parts: list[str] = []
    start = 0
    while len(parts) < pieces - 1:
        cut = text.find(" ", start + size)
        if cut < 0 or cut + 1 >= len(text):
            break
        parts.append(text[start : cut + 1])
        start = cut + 1
    parts.append(text[start:])
    return parts


async def make(path: Path, tasks: int, events: int, cache: Path) -> None:
    from podium.store import EventStore
    from podium.store.events import decode_payload

    rows = read_template(template(cache))
    header = [(k, p) for k, p in rows if k in _HEADER]
    trailer = [(k, p) for k, p in rows if k in _TRAILER]
    body = [(k, p) for k, p in rows if k not in _HEADER and k not in _TRAILER]
    planned = sum(len(p["tasks"]) for k, p in body if k == "tasks_planned")
    copies = max(1, round(tasks / planned))
    chunks = sum(1 for k, _ in body if k == "output_chunk")
    escalations = sum(1 for k, _ in body if k == "escalation_opened")
    others = len(header) + len(trailer) + copies * (len(body) - chunks)
    per_chunk = max(1.0, (events - others) / (copies * chunks))
    whole, fraction = int(per_chunk), per_chunk - int(per_chunk)
    rng = random.Random(1989)
    part = path.with_name(path.name + ".part")
    for stale in path.parent.glob(part.name + "*"):
        stale.unlink()
    store = await EventStore.open(part)
    seq = 0

    async def emit(kind: str, payload: Any) -> None:
        nonlocal seq
        seq += 1
        store.emit(decode_payload(seq, kind, json.dumps(payload)))
        if store.congested:
            await store.drained()

    try:
        for kind, payload in header:
            await emit(kind, payload)
        for copy in range(copies):
            names = id_map(body, copy, escalations)
            for kind, payload in body:
                if (
                    kind == "production_state"
                    and payload["state"] != "running"
                    and copy < copies - 1
                ):
                    continue  # the series ends once, after its last copy
                if kind == "production_state" and payload["state"] == "running" and copy > 0:
                    continue
                if copy:
                    payload = renamed(payload, names)
                    if kind == "tasks_planned":
                        for task in payload["tasks"]:
                            task["title"] = f"{task['title']} (take {copy + 1})"[:200]
                if kind == "output_chunk":
                    pieces = whole + (1 if rng.random() < fraction else 0)
                    for text in split_words(payload["text"], pieces):
                        await emit(kind, {**payload, "text": text})
                    continue
                await emit(kind, payload)
        for kind, payload in trailer:
            await emit(kind, payload)
        await store.flush()
    finally:
        await store.close()
    await asyncio.to_thread(_finish, part, path)


def _finish(part: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(part) + suffix).unlink(missing_ok=True)
    part.rename(path)


def series(cache: Path, tasks: int, events: int) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"series-{tasks}-{events}-m{MADE_BY}.db"
    if not path.exists():
        started = time.perf_counter()
        asyncio.run(make(path, tasks, events, cache))
        sys.stderr.write(f"big: made {path} in {time.perf_counter() - started:.0f}s\n")
    return path


# -- measuring ---------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def _tree_rss_mb(pid: int) -> float:
    """The summed RSS of `pid` and its descendants (ffmpeg, espeak-ng), in MB."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        one = todo.pop()
        todo += parents.get(one, [])
        try:
            with open(f"/proc/{one}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
    return total / (1 << 20)


def run_measured(
    argv: list[str],
    env: dict[str, str] | None = None,
    timeout_s: float = 1800.0,
    tree: list[float] | None = None,
) -> tuple[float, float, str, float]:
    """Seconds, peak RSS in MB, stdout and CPU seconds of `podium argv`, whole process (its
    rusage from wait4: the peak is the biggest of podium and each child it reaped, CPU time
    theirs summed, the steadier figure on a busy machine). With `tree`, the peak of podium's
    RSS and its running children's summed (sampled every 50 ms) is appended to it."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(PODIUM), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None and child.stderr is not None
    stop = threading.Timer(timeout_s, child.kill)  # a deadline: the figure is then "over"
    stop.start()
    done = threading.Event()
    peak = [0.0]

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_rss_mb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    if tree is not None:
        sampler.start()
    err_lines: list[bytes] = []
    reader = threading.Thread(target=lambda: err_lines.append(child.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    out = child.stdout.read()
    reader.join()
    err = b"".join(err_lines)
    if tree is not None:
        peak[0] = max(peak[0], _tree_rss_mb(child.pid))  # before it is reaped
        done.set()
        sampler.join()
        tree.append(peak[0])
    _, status, usage = os.wait4(child.pid, 0)
    stop.cancel()
    seconds = time.perf_counter() - started
    if seconds >= timeout_s:
        raise TimeoutError(f"podium {' '.join(argv)} took over {timeout_s:.0f}s")
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"podium {' '.join(argv)} exited {child.returncode}: {err[-600:]!r}")
    return seconds, usage.ru_maxrss / 1024, out.decode(), usage.ru_utime + usage.ru_stime


async def _whole_log(db: Path) -> tuple[float, float]:
    """Wall and CPU seconds of folding the whole log, no snapshot (in this process)."""
    from podium.domain.state import ProductionView
    from podium.store import EventStore
    from podium.store.replay import replay

    store = await EventStore.open(db, read_only=True)
    try:
        started, started_cpu = time.perf_counter(), time.process_time()
        await replay(store, ProductionView(), snapshot=False)
        return time.perf_counter() - started, time.process_time() - started_cpu
    finally:
        await store.close()


def _snapshot_kb(db: Path) -> float | None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT length(body) FROM snapshots ORDER BY seq DESC").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    return round(row[0] / 1024) if row else None


def measure_reload(db: Path, rounds: int) -> dict[str, Any]:
    from reload import reload as engine_open

    asyncio.run(engine_open(db))  # stores a snapshot if the database has none yet
    whole_s, whole_cpu = asyncio.run(_whole_log(db))
    walls, peaks, cpus = [], [], []
    events = 0
    for _ in range(rounds):
        seconds, peak, out, cpu_s = run_measured(["status", str(db), "--json"])
        walls.append(seconds)
        cpus.append(cpu_s)
        peaks.append(peak)
        events = int(json.loads(out).get("events", 0))
    in_process, cpu = [], []
    for _ in range(rounds):
        started_cpu = time.process_time()
        seconds, _ = asyncio.run(engine_open(db))
        in_process.append(seconds)
        cpu.append(time.process_time() - started_cpu)
    return {
        "bench": "big_reload",
        "events": events,
        "status_json_s": round(statistics.median(walls), 2),
        "status_json_cpu_s": round(statistics.median(cpus), 2),
        "status_json_rss_mb": round(max(peaks)),
        "engine_open_s": round(statistics.median(in_process), 2),
        "engine_open_cpu_s": round(statistics.median(cpu), 2),
        "fold_whole_log_s": round(whole_s, 2),
        "fold_whole_log_cpu_s": round(whole_cpu, 2),
        "snapshot_kb": _snapshot_kb(db),
        "load_average": os.getloadavg()[0],
        "rounds": rounds,
        "target_s": TARGETS["reload_s"],
    }


TRANSCRIPT = b"review by"  # on the terminal once the transcript pane shows its entries
HELP_SHOWN = b"esc closes"  # the help `?` opens: the first key, typed as the screen is drawn


def measure_first_frame(
    db: Path, rounds: int, trees: dict[str, Path | None] | None = None
) -> list[dict[str, Any]]:
    """One line per tree (None: this checkout; else a `src` folder put on PYTHONPATH), the
    trees' rounds alternating so each sees the same moments of a busy machine."""
    from first_frame import environment, frame

    trees = trees or {"": None}
    times: dict[str, list[float]] = {name: [] for name in trees}
    cpus: dict[str, list[float]] = {name: [] for name in trees}
    filled: dict[str, list[float]] = {name: [] for name in trees}
    filled_cpus: dict[str, list[float]] = {name: [] for name in trees}
    keys: dict[str, list[float]] = {name: [] for name in trees}
    peaks: dict[str, list[float]] = {name: [] for name in trees}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        folder = Path(tmp)
        envs = {name: environment(folder) for name in trees}
        for name, src in trees.items():
            if src is not None:
                envs[name]["PYTHONPATH"] = str(src)
            subprocess.run(
                [str(PODIUM), "--help"], env=envs[name], stdout=subprocess.DEVNULL, check=True
            )
        copy = folder / "resume.db"
        for round_ in range(rounds + 1):
            for name in trees:
                shutil.copyfile(db, copy)  # a resumed run appends; every round starts alike
                loads.append(os.getloadavg()[0])
                shown = frame(["resume", str(copy)], envs[name], 3.0, then=TRANSCRIPT)
                if not round_:
                    continue  # a warm-up: the screen's byte-code compiled, as after an install
                times[name].append(shown.drawn_s)
                cpus[name].append(shown.cpu_s)
                filled[name].append(shown.then_s or 0.0)
                filled_cpus[name].append(shown.then_cpu_s or 0.0)
                peaks[name].append(shown.peak_mb)
                # A start of its own: the help would hide the transcript's entries.
                shutil.copyfile(db, copy)
                asked = frame(["resume", str(copy)], envs[name], key=b"?", answer=HELP_SHOWN)
                keys[name].append(asked.key_s or 0.0)
    lines = []
    for name in trees:
        line: dict[str, Any] = {"bench": "big_first_frame", **({"tree": name} if name else {})}
        line |= {
            "resumed_s": round(statistics.median(times[name]), 2),
            "all_s": [round(t, 2) for t in times[name]],
            "cpu_s": round(statistics.median(cpus[name]), 2),
            "all_cpu_s": [round(t, 2) for t in cpus[name]],
            "transcript_s": round(statistics.median(filled[name]), 2),
            "transcript_cpu_s": round(statistics.median(filled_cpus[name]), 2),
            "all_transcript_s": [round(t, 2) for t in filled[name]],
            "first_key_s": round(statistics.median(keys[name]), 2),
            "all_first_key_s": [round(t, 2) for t in keys[name]],
            "tui_rss_mb": round(max(peaks[name])),
            "load_average": os.getloadavg()[0],
            "load_average_range": [round(min(loads), 2), round(max(loads), 2)],
            "rounds": rounds,
            "target_s": TARGETS["first_frame_s"],
        }
        lines.append(line)
    return lines


async def _keys(db: Path) -> dict[str, Any]:
    from ui_stream import SIZE

    from podium import cli
    from podium.domain.state import ProductionView
    from podium.store import EventStore
    from podium.store.replay import replay
    from podium.tui import app as tui_app
    from podium.tui.app import PodiumApp
    from podium.tui.source import StaticSource
    from podium.tui.widgets.debate_transcript import DebateTranscript
    from podium.tui.widgets.task_tree import TaskTree

    # As `podium resume` and `podium attach` open a production: collection off while the log is
    # replayed, what it made frozen before the screen starts (podium.cli.hold_collector); a
    # tree without them (--before on an older tree) collects as it did.
    getattr(cli, "hold_collector", lambda: None)()
    store = await EventStore.open(db, read_only=True)
    try:
        view = ProductionView()
        await replay(store, view)
    finally:
        await store.close()
    getattr(cli, "release_collector", lambda: None)()

    class BigApp(PodiumApp):
        CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))

    # As `podium resume` and `attach` hand the screen its hook (the history drawn: frozen).
    if hasattr(cli, "settle_collector"):
        BigApp.settled = cli.settle_collector

    app = BigApp(StaticSource(view), db_label=db.name, cursor_blink=False, remember=False)
    tree_ms: list[float] = []
    filter_ms: list[float] = []
    cpu_ms: list[float] = []  # the same keys in CPU time: steadier on a busy machine
    # Key → its last frame: Pilot's press returns only after two idle checks of at least
    # 20 ms each (textual._wait), so its wall time is never under ~40 ms, whatever the key.
    frames: list[float] = []  # when each frame was composed and handed to the driver
    ticks: list[tuple[float, float]] = []  # the screen's once-a-second update: start, end
    tree_frame_ms: list[float] = []
    filter_frame_ms: list[float] = []
    by_kind: dict[str, tuple[list[float], list[float]]] = {}  # kind of key: CPU ms, frame ms
    frame_count: dict[str, list[int]] = {}  # kind of key: frames each key drew
    frameless = 0
    display = app._display  # noqa: SLF001 - the one place every frame goes through

    def timed_display(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is None:
            return
        if hasattr(renderable, "render_segments"):  # headless skips what a terminal is sent
            renderable.render_segments(app.console)
        frames.append(time.perf_counter())

    app._display = timed_display  # type: ignore[method-assign]  # noqa: SLF001
    async with app.run_test(headless=True, size=SIZE) as pilot:
        await pilot.pause(0.5)
        screen: Any = app.screen
        second = screen._on_second  # noqa: SLF001 - scheduled anew each second

        def timed_second() -> None:
            started = time.perf_counter()
            second()
            ticks.append((started, time.perf_counter()))

        screen._on_second = timed_second  # noqa: SLF001
        # The transcript draws its older entries after the first paint; Pilot's press waits
        # for an idle loop, so the first key would wait for all of them (a key on a terminal
        # does not: first_frame's first_key_s). The walk starts once they are drawn.
        transcript = app.screen.query_one(DebateTranscript)
        settle = time.monotonic() + 60
        while getattr(transcript, "waiting", 0) and time.monotonic() < settle:
            await pilot.pause(0.05)
        tree = app.screen.query_one(TaskTree)
        tree.focus()
        await pilot.pause()

        async def press(key: str, into: list[float], kind: str = "") -> None:
            nonlocal frameless
            started, started_cpu = time.perf_counter(), time.process_time()
            await pilot.press(key)
            into.append((time.perf_counter() - started) * 1000)
            cpu_ms.append((time.process_time() - started_cpu) * 1000)
            kind_cpu, kind_frame = by_kind.setdefault(kind or key, ([], []))
            kind_cpu.append(cpu_ms[-1])
            # The key's last frame; a once-a-second update in the window is not the key's:
            # only the frames before it count, unless the key drew nothing before it.
            drawn = [t for t in frames if t > started]
            tick = [s for s, _ in ticks if s > started]
            if tick:
                drawn = [t for t in drawn if t < tick[0]] or drawn
            frame_count.setdefault(kind or key, []).append(len(drawn))
            if drawn:
                into_frame = tree_frame_ms if into is tree_ms else filter_frame_ms
                into_frame.append((drawn[-1] - started) * 1000)
                kind_frame.append(into_frame[-1])
            else:
                frameless += 1  # nothing on the screen changed (e.g. down on the last line)

        for step in range(600):  # walk down, opening every closed phase or group on the way
            node = tree.cursor_node
            closed = node is not None and node.allow_expand and not node.is_expanded
            if closed and node is not None and node.data and node.data.kind != "task":
                await press("enter", tree_ms)
            elif tree.cursor_line >= tree.last_line:
                # The end (page down jumps over closed groups): from the top again, opening
                # those, rather than keys that cannot move.
                await press("g", tree_ms)
            elif step % 50 == 49:
                await press("pagedown", tree_ms)
            else:
                await press("j", tree_ms)
        await press("G", tree_ms)
        await press("g", tree_ms)
        for needle in ("ep05", "ep12-script-k17", "season-arc", "d1"):
            await press("slash", filter_ms)
            for char in needle:
                await press(char if char != "-" else "minus", filter_ms, "char")
            await press("enter", filter_ms, "search_enter")
            await press("slash", filter_ms)
            await press("ctrl+u", filter_ms, "char")
            await press("enter", filter_ms, "clear_enter")
        shown = sum(1 for _ in tree._tree_nodes)  # noqa: SLF001 - nodes made so far
    both = tree_ms + filter_ms
    both_frames = tree_frame_ms + filter_frame_ms
    tick_ms = [(end - start) * 1000 for start, end in ticks]
    return {
        "bench": "big_keys",
        "tasks": len(view.tasks),
        "keys": len(both),
        "p95_ms": round(percentile(both, 95), 1),
        "tree_p50_ms": round(statistics.median(tree_ms), 1),
        "tree_p95_ms": round(percentile(tree_ms, 95), 1),
        "tree_max_ms": round(max(tree_ms), 1),
        "filter_p95_ms": round(percentile(filter_ms, 95), 1),
        "filter_max_ms": round(max(filter_ms), 1),
        "cpu_p50_ms": round(statistics.median(cpu_ms), 1),
        "cpu_p95_ms": round(percentile(cpu_ms, 95), 1),
        "frame_p50_ms": round(statistics.median(both_frames), 1),
        "frame_p95_ms": round(percentile(both_frames, 95), 1),
        "tree_frame_p95_ms": round(percentile(tree_frame_ms, 95), 1),
        "filter_frame_p95_ms": round(percentile(filter_frame_ms, 95), 1),
        "filter_frame_max_ms": round(max(filter_frame_ms), 1),
        "frameless_keys": frameless,
        # per kind of key: CPU median, frame p95 (ms), how many
        "by_key": {
            kind: [
                round(statistics.median(kind_cpu), 1),
                round(percentile(kind_frame, 95), 1) if kind_frame else None,
                len(kind_cpu),
            ]
            for kind, (kind_cpu, kind_frame) in by_kind.items()
        },
        # per kind of key: frames drawn per key, mean (a second frame is what costs 20-40 ms)
        "frames_per_key": {
            kind: round(statistics.mean(counts), 2) for kind, counts in frame_count.items()
        },
        "second_update_p95_ms": round(percentile(tick_ms, 95), 1) if tick_ms else None,
        "tree_nodes_made": shown,
        "target_p95_ms": TARGETS["key_p95_ms"],
    }


def measure_keys(db: Path) -> dict[str, Any]:
    from ui_stream import private_config

    with private_config():
        line = asyncio.run(_keys(db))
    line["load_average"] = os.getloadavg()[0]
    return line


def keys_in_child(args: argparse.Namespace, name: str, src: Path | None) -> dict[str, Any]:
    """The keys measured in a child process on this checkout or on the sources in `src`."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    argv = [sys.executable, __file__, "--only", "keys", "--tasks", str(args.tasks)]
    argv += ["--events", str(args.events), "--cache", str(args.cache)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"keys on the {name} tree failed: {done.stderr[-600:]}")
    line: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return {"bench": "big_keys", "tree": name} | line


def measure_export(db: Path, timeout_s: float) -> dict[str, Any]:
    from reload import reload as engine_open

    # The snapshot as the production's last run left it: a cached series made by an older
    # podium holds an older fold's snapshot, which a reader ignores (it folds the whole log).
    asyncio.run(engine_open(db))
    line: dict[str, Any] = {"bench": "big_export", "ffmpeg": shutil.which("ffmpeg") is not None}
    cases = [("without_animatic", ["--no-animatic"])]
    if line["ffmpeg"]:
        cases.append(("with_animatic", []))
    for name, extra in cases:
        with tempfile.TemporaryDirectory(prefix="podium-bench-data-") as data:
            env = dict(os.environ, PODIUM_DATA_DIR=data)  # the export's cache starts empty
            for run in (name, f"{name}_repeat"):
                with tempfile.TemporaryDirectory(prefix="podium-bench-export-") as tmp:
                    tree: list[float] = []
                    try:
                        seconds, peak, out, cpu_s = run_measured(
                            ["export", str(db), "--out", tmp, *extra], env, timeout_s, tree
                        )
                    except TimeoutError:
                        line[f"{run}_s"] = f"over {timeout_s:.0f}"
                        continue
                    files = [Path(p) for p in out.splitlines() if p.strip()]
                    line[f"{run}_s"] = round(seconds, 2)
                    line[f"{run}_cpu_s"] = round(cpu_s, 2)
                    line[f"{run}_rss_mb"] = round(peak)
                    line[f"{run}_tree_mb"] = round(tree[0])  # podium and its children at once
                    line[f"{run}_files"] = len(files)
                    line[f"{run}_mp4"] = sum(1 for p in files if p.suffix == ".mp4")
                    line[f"{run}_load"] = round(os.getloadavg()[0], 1)
    line["target_s"] = TARGETS["export_s"]
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--export-timeout", type=float, default=600.0, help="seconds before an export is stopped"
    )
    parser.add_argument(
        "--only", nargs="*", choices=["reload", "first_frame", "keys", "export"], default=None
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="podium sources (a src folder) to measure first_frame and keys on as well",
    )
    args = parser.parse_args()
    trees: dict[str, Path | None] = {"after": None, "before": args.before} if args.before else {}
    from podium.cli import collector_policy

    collector_policy()  # as the `podium` command runs
    db = series(args.cache, args.tasks, args.events)
    chosen = args.only or ["reload", "first_frame", "keys", "export"]
    for name in chosen:
        if name == "reload":
            lines = [measure_reload(db, args.rounds)]
        elif name == "first_frame":
            lines = measure_first_frame(db, args.rounds, trees)
        elif name == "keys" and trees:
            lines = [keys_in_child(args, tree, src) for tree, src in trees.items()]
        elif name == "keys":
            lines = [measure_keys(db)]
        else:
            lines = [measure_export(db, args.export_timeout)]
        for line in lines:
            sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
