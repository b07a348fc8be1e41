"""First frame: from `podium run` / `podium resume` to the conductor's screen on a terminal.

    .venv/bin/python bench/first_frame.py [--runs 5] [--events 100000] [--db BIG.db]

The whole process, as a user starts it, on a pseudo-terminal of 160×48: the clock runs from
the spawn to the first bytes of the drawn screen (the pane titles) on the terminal. Two cases:

* new: `podium run sample_productions/last_light.toml --db NEW.db`;
* resumed: `podium resume BIG.db` on a production of `--events` events (made once by
  bench/reload.py's maker, or given with --db);
* new_real_model: the new case with `--model openai/gpt-4o-mini` (no key is set, so nothing
  reaches the network): litellm must stay off the path to the first frame. A warm-up run
  lets litellm's first import leave its provider list, as a user's first run does.

Byte-code is cached (as after an install), so imports are what a second start pays. Prints
one JSON line with the medians (`*_cpu_s`: the CPU the process had used by then, steadier than
the wall clock on a busy machine; in clock ticks, 10 ms).

`--before SRC` measures the new case only, on this checkout and on the podium sources in SRC
(a `src` folder, e.g. of `git worktree add /tmp/before HEAD~1`, put first on PYTHONPATH), the
two alternating round by round; one JSON line per tree, with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
PODIUM = Path(sys.executable).parent / "podium"
SAMPLE = ROOT / "sample_productions" / "last_light.toml"
MARKER = b"Inbox"  # a pane title: the screen is drawn
ROWS, COLUMNS = 48, 160
PATIENCE_S = 60.0


def environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's install has its byte-code cached
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    env["PODIUM_CONFIG_DIR"] = str(folder / "config")
    env["PODIUM_DATA_DIR"] = str(folder / "data")
    for key in [k for k in env if k.endswith("_API_KEY")]:
        del env[key]  # the real-model case must fail its first call, not reach a provider
    env["TERM"] = "xterm-256color"
    env["COLUMNS"], env["LINES"] = str(COLUMNS), str(ROWS)
    env.pop("TEXTUAL", None)
    return env


def first_frame(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning `podium argv` on a pty to the drawn screen; then stop it."""
    return frame(argv, env).drawn_s


@dataclass
class Frame:
    """What one start showed, in seconds from the spawn (CPU: the process's own, all threads,
    the steadier figure on a busy machine; 0 where /proc cannot tell)."""

    drawn_s: float  # the screen drawn (its pane titles)
    cpu_s: float  # CPU used by then
    peak_mb: float  # peak resident memory (VmHWM) `hold_s` after it was drawn; 0 if unknown
    then_s: float | None = None  # `then` first on the terminal (None: not asked for)
    then_cpu_s: float | None = None
    key_s: float | None = None  # from `key` sent (as the screen is drawn) to its `answer`


def frame(
    argv: list[str],
    env: dict[str, str],
    hold_s: float = 0.0,
    then: bytes = b"",
    key: bytes = b"",
    answer: bytes = b"",
) -> Frame:
    """Start `podium argv` on a pty and wait for the drawn screen, `hold_s` more, the bytes
    `then` if given (e.g. text only a filled pane shows) and, if `key` is given, its `answer`
    (the key is typed the moment the screen is drawn); then stop it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(PODIUM), *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""  # everything until the screen is drawn, then the last bytes a mark may span
    drawn: float | None = None
    cpu = 0.0
    wanted = [mark for mark in (then, answer if key else b"") if mark]
    found: dict[bytes, tuple[float, float]] = {}
    key_sent = 0.0
    try:
        while True:
            now = time.perf_counter()
            waiting = [mark for mark in wanted if mark not in found]
            if drawn is not None and now - started >= drawn + hold_s and not waiting:
                then_s, then_cpu = found.get(then, (None, None)) if then else (None, None)
                key_s = found[answer][0] - key_sent if key else None
                return Frame(drawn, cpu, peak_mb(child.pid), then_s, then_cpu, key_s)
            left = PATIENCE_S - (now - started)
            if left <= 0:
                raise SystemExit(f"no screen after {PATIENCE_S:.0f}s: {seen[-400:]!r}")
            if drawn is not None and not waiting:
                left = min(left, drawn + hold_s - (now - started))
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                data = b""
            if not data:
                raise SystemExit(f"podium {' '.join(argv)} ended before drawing: {seen[-400:]!r}")
            if drawn is not None and not waiting:
                continue
            seen += data
            at = time.perf_counter() - started
            if drawn is None and MARKER in seen:
                drawn, cpu = at, cpu_s(child.pid)
                if key:
                    os.write(master, key)
                    key_sent = time.perf_counter() - started
            for mark in waiting:
                if mark in seen and (mark != answer or drawn is not None):
                    found[mark] = (at, cpu_s(child.pid))
            if drawn is not None:
                seen = seen[-max(map(len, wanted), default=0) :]
    finally:
        with_group(child, signal.SIGTERM)
        drain(master, child)
        os.close(master)


def peak_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM) in MB; 0 where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """A live process's CPU time so far (user and system, all its threads) in seconds."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_group(child: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(child.pid, sig)
    except ProcessLookupError:
        pass


def drain(master: int, child: subprocess.Popen[bytes]) -> None:
    """Read until the child has gone (a full pty would block its exit)."""
    deadline = time.monotonic() + 10
    while child.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 1 << 16)
            except OSError:
                break
    if child.poll() is None:
        with_group(child, signal.SIGKILL)
        child.wait()


def big_production(folder: Path, events: int) -> Path:
    from reload import make

    db = folder / "big.db"
    asyncio.run(make(db, events))
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="the big production to resume (else made)")
    parser.add_argument("--before", type=Path, help="podium sources (a src folder) to compare")
    args = parser.parse_args()
    if args.before:
        compare(args.before, args.runs)
        return
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        folder = Path(tmp)
        env = environment(folder)
        subprocess.run([str(PODIUM), "--help"], env=env, stdout=subprocess.DEVNULL, check=True)
        big = args.db or big_production(folder, args.events)
        new_times, resumed_times, real_times = [], [], []
        new_cpu, resumed_cpu = [], []
        first_frame(["run", str(SAMPLE), "--db", str(folder / "warm.db")], env)  # byte-code
        real = ["--model", "openai/gpt-4o-mini"]
        first_frame(["run", str(SAMPLE), "--db", str(folder / "warm-real.db"), *real], env)
        for run in range(args.runs):
            fresh = folder / f"{run}.db"
            shown = frame(["run", str(SAMPLE), "--db", str(fresh)], env)
            new_times.append(shown.drawn_s)
            new_cpu.append(shown.cpu_s)
            fresh = folder / f"{run}-real.db"
            real_times.append(first_frame(["run", str(SAMPLE), "--db", str(fresh), *real], env))
            copy = folder / "resume.db"
            shutil.copyfile(big, copy)  # a resumed run appends; every round starts alike
            shown = frame(["resume", str(copy)], env)
            resumed_times.append(shown.drawn_s)
            resumed_cpu.append(shown.cpu_s)
        events = count_events(big)
    line: dict[str, Any] = {
        "bench": "first_frame",
        "runs": args.runs,
        "new_s": round(statistics.median(new_times), 3),
        "resumed_s": round(statistics.median(resumed_times), 3),
        "new_real_model_s": round(statistics.median(real_times), 3),
        "new_cpu_s": round(statistics.median(new_cpu), 3),
        "resumed_cpu_s": round(statistics.median(resumed_cpu), 3),
        "resumed_events": events,
        "new_all_s": [round(t, 3) for t in new_times],
        "new_real_model_all_s": [round(t, 3) for t in real_times],
        "resumed_all_s": [round(t, 3) for t in resumed_times],
    }
    sys.stdout.write(json.dumps(line) + "\n")


def compare(before: Path, runs: int) -> None:
    """The new case on this checkout and on `before`'s sources, alternating round by round."""
    trees = {"after": str(ROOT / "src"), "before": str(before.resolve())}
    shown: dict[str, list[Frame]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
        folder = Path(tmp)
        envs = {name: {**environment(folder), "PYTHONPATH": src} for name, src in trees.items()}
        for name, env in envs.items():  # byte-code
            first_frame(["run", str(SAMPLE), "--db", str(folder / f"warm-{name}.db")], env)
        for run in range(runs):
            order = list(trees) if run % 2 == 0 else list(trees)[::-1]
            for name in order:
                fresh = folder / f"{name}-{run}.db"
                shown[name].append(frame(["run", str(SAMPLE), "--db", str(fresh)], envs[name]))
    load = os.getloadavg()
    for name, frames in shown.items():
        line = {
            "bench": "first_frame",
            "tree": name,
            "runs": runs,
            "new_s": round(statistics.median(f.drawn_s for f in frames), 3),
            "new_cpu_s": round(statistics.median(f.cpu_s for f in frames), 3),
            "new_all_s": [round(f.drawn_s, 3) for f in frames],
            "new_all_cpu_s": [round(f.cpu_s, 2) for f in frames],
            "loadavg": [round(x, 2) for x in load],
        }
        sys.stdout.write(json.dumps(line) + "\n")


def count_events(db: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


if __name__ == "__main__":
    main()
