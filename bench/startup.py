"""Startup: `podium --help` as a whole process, and what the paths to work import.

    .venv/bin/python bench/startup.py [--runs 15]

Prints one JSON line:

* `help_s`: median wall time of `podium --help` (a new process each time), beside
  `python_s`, the same for `python -c pass` (the interpreter's own start);
* `import_s`: median time, in a fresh process, to import what each path needs: the CLI, the
  engine with the rehearsal model and the store (`podium run --headless`), and the TUI app
  (the path to the first frame); with the reference costs of `litellm` and `textual.app`;
* `heavy_modules`: which of litellm and textual each path imported (litellm must appear on
  none: it is imported only when a real model is configured).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PODIUM = BIN / "podium"

PATHS = {
    "cli": "import podium.cli",
    "headless": (
        "import podium.engine.engine, podium.engine.agent_runner, podium.llm.rehearsal.backend, "
        "podium.store, podium.cli.headless"
    ),
    "tui": "import podium.tui.app, podium.engine.engine, podium.llm.rehearsal.backend",
    "litellm (reference)": "import litellm",
    "textual.app (reference)": "import textual.app",
}

_PROBE = """
import sys, time
start = time.perf_counter()
{code}
took = time.perf_counter() - start
heavy = sorted(m for m in ("litellm", "textual") if m in sys.modules)
print(took, ",".join(heavy))
"""


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return env


def wall(command: list[str], runs: int) -> float:
    times = []
    env = environment()
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def probe(code: str, runs: int) -> tuple[float | None, list[str]]:
    times = []
    heavy: list[str] = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE.format(code=code)],
            capture_output=True,
            text=True,
            env=environment(),
            cwd=ROOT,
        )
        if done.returncode != 0:
            return None, [done.stderr.strip().splitlines()[-1] if done.stderr else "failed"]
        took, _, modules = done.stdout.strip().rpartition("\n")[2].partition(" ")
        times.append(float(took))
        heavy = [m for m in modules.split(",") if m]
    return statistics.median(times), heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    line: dict[str, Any] = {
        "bench": "startup",
        "runs": args.runs,
        "help_s": round(wall([str(PODIUM), "--help"], args.runs), 4),
        "python_s": round(wall([sys.executable, "-c", "pass"], args.runs), 4),
        "import_s": {},
        "heavy_modules": {},
    }
    for name, code in PATHS.items():
        runs = args.runs if "reference" not in name else max(3, args.runs // 5)
        seconds, heavy = probe(code, runs)
        line["import_s"][name] = round(seconds, 4) if seconds is not None else None
        line["heavy_modules"][name] = heavy
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
