"""Full speed under a provider's rate limits, through the CLI a user runs.

    .venv/bin/python bench/rate_limits.py [--calls 200] [--rpm 600] [--tpm 200000]

A fake provider on 127.0.0.1 (tests/fakes: an OpenAI-compatible server that enforces requests
and tokens per minute, answering 429 with Retry-After and OpenAI's x-ratelimit-* headers,
streaming each reply with its usage) serves a generated production of `--calls` independent
tasks, one model call each, written by a crew whose model is `openai/fake-model` at the fake's
`api_base`. The production runs through `podium run … --headless --auto-approve all` (every
event persisted), three times in a fresh data folder: with the adaptive limiter (the default)
first, the provider worker started by that run ("cold"), then again with the worker that run
left ("warm", issue 20: the worker is kept across runs), then with today's fixed limits alone
(`PODIUM_ADAPTIVE_LIMITS=0`, warm), the same `max_concurrency` for all; `--private` adds a run
with sharing off (`PODIUM_SHARED_WORKER=0`: a worker of the run's own, as before).

Then a user's first-reply delay: a one-task production run with the real model (the fake),
from launching `podium run` to the provider receiving the call (its reply streams at once),
cold then warm. Every line has the load average beside it; the worker is stopped at the end.

Prints one JSON line per run: the makespan (`podium status --json`), the lower bound
max(critical path, total tokens ÷ TPM, calls ÷ RPM) over the calls answered, their ratio,
tasks failed, and the share of requests answered 429; and whether the targets are met
(ratio ≤ 1.15, no task failed, ≤ 5 % 429s). The provider allows `--burst-s` seconds' worth of
its limits at once (providers enforce a minute's limit over shorter periods), so a run can
come in a little under the bound.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_provider import key_env, models_toml, use_fakes  # noqa: E402

use_fakes()

from fakes.openai_server import FakeOpenAI, Reply  # noqa: E402
from fakes.rate_limited import RateLimits  # noqa: E402

RUN_TIMEOUT_S = 300.0

# A report task's reply: its schema (StatusReport) as JSON.
TEXT = json.dumps(
    {
        "progress_pct": 100,
        "summary": "The shoot is on schedule, the set is dressed and the cast is ready.",
        "blockers": [],
    }
)


def production_toml(calls: int, api_base: str, concurrency: int, agents: int = 8) -> str:
    lines = [
        "[production]",
        'title = "Bench rate limits"',
        'format = "short_film"',
        f'brief = "Rate-limit bench: {calls} reports, one model call each."',
        "",
        "[vision]",
        'premise = "A crew that only reports, as fast as the provider lets it."',
        "",
        *models_toml(api_base),
        "[constraints]",
        f"max_concurrency = {concurrency}",
        "max_per_agent = 1024",
        "",
        "[planner]",
        'mode = "explicit"',
        "",
    ]
    for index in range(agents):
        lines += ["[[crew]]", f'id = "a{index}"', 'role = "producer"', ""]
    for number in range(calls):
        lines += [
            "[[tasks]]",
            f'id = "t{number}"',
            f'title = "Report {number}"',
            'kind = "report"',
            f'assignee = "a{number % agents}"',
            "",
        ]
    return "\n".join(lines)


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return ""


def run_once(
    args: argparse.Namespace, adaptive: bool, folder: Path, name: str, **extra: str
) -> dict[str, Any]:
    # Each reply streams in ten pieces 20 ms apart: a call takes about 0.2 s.
    reply = Reply(
        text=TEXT,
        chunks=[TEXT[i : i + 16] for i in range(0, len(TEXT), 16)][:10] or [TEXT],
        prompt_tokens=args.prompt_tokens,
        completion_tokens=args.completion_tokens,
        chunk_delay_s=0.02,
    )
    limits = RateLimits(rpm=args.rpm, tpm=args.tpm, burst_s=args.burst_s, reply=reply)
    with FakeOpenAI(default=limits) as server:
        path = folder / f"{name}.toml"
        path.write_text(production_toml(args.calls, server.api_base, args.concurrency) + "\n")
        db = folder / f"{name}.db"
        env = key_env(PODIUM_ADAPTIVE_LIMITS="1" if adaptive else "0", **extra)
        command = [sys.executable, "-m", "podium", "run", str(path), "--headless"]
        command += ["--auto-approve", "all", "--db", str(db)]
        started = time.monotonic()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
        wall = time.monotonic() - started
        requests_seen = server.chat_requests
        first_request = requests_seen[0].at - started if requests_seen else None
    status = subprocess.run(
        [sys.executable, "-m", "podium", "status", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    try:
        view = json.loads(status.stdout)
    except ValueError:
        raise SystemExit(
            f"{name}: no status (exit {done.returncode}): {done.stderr[-500:]}"
        ) from None
    makespan = float(view.get("makespan_s") or 0.0)
    answered, refused = limits.answered, limits.refused
    requests = answered + refused
    critical = 10 * 0.02  # one call: ten pieces 20 ms apart
    bound = max(critical, limits.tokens / args.tpm * 60, answered / args.rpm * 60)
    ratio = makespan / bound if bound else float("inf")
    failed = int(view["tasks"]["failed"])
    share_429 = refused / requests if requests else 0.0
    return {
        "bench": "rate_limits",
        "run": name,
        "limiter": "adaptive" if adaptive else "fixed",
        "calls": args.calls,
        "rpm": args.rpm,
        "tpm": args.tpm,
        "burst_s": args.burst_s,
        "max_concurrency": args.concurrency,
        "exit_code": done.returncode,
        "state": view.get("state"),
        "makespan_s": round(makespan, 3),
        "wall_s": round(wall, 3),
        "launch_to_first_request_s": None if first_request is None else round(first_request, 3),
        "lower_bound_s": round(bound, 3),
        "ratio": round(ratio, 3),
        "tasks_done": int(view["tasks"]["done"]),
        "tasks_failed": failed,
        "requests": requests,
        "answered_429": refused,
        "share_429": round(share_429, 4),
        "tokens": limits.tokens,
        "loadavg": loadavg(),
        "worker_tags": worker_tags(folder / "data"),
        "targets_met": {
            "ratio<=1.15": ratio <= 1.15,
            "no_task_failed": failed == 0 and view.get("state") == "completed",
            "share_429<=0.05": share_429 <= 0.05,
        },
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--tpm", type=int, default=200_000)
    parser.add_argument("--burst-s", type=float, default=2.0)
    parser.add_argument("--prompt-tokens", type=int, default=250)
    parser.add_argument("--completion-tokens", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32, help="max_concurrency of both runs")
    parser.add_argument("--only", choices=["adaptive", "fixed"], default=None)
    parser.add_argument("--private", action="store_true", help="add a run with sharing off")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-first-reply", action="store_true")
    return parser.parse_args()


def first_reply(folder: Path, name: str, **extra: str) -> dict[str, Any]:
    """Launch to the provider receiving the call, for a one-task production."""
    with FakeOpenAI(default=Reply(text=TEXT)) as server:
        path = folder / f"one-{name}.toml"
        path.write_text(production_toml(1, server.api_base, 1, agents=1) + "\n")
        db = folder / f"one-{name}-{time.monotonic_ns()}.db"
        command = [sys.executable, "-m", "podium", "run", str(path), "--headless"]
        command += ["--auto-approve", "all", "--db", str(db)]
        started = time.monotonic()
        done = subprocess.run(
            command, env=key_env(**extra), capture_output=True, text=True, timeout=120, check=False
        )
        wall = time.monotonic() - started
        seen = server.chat_requests
    return {
        "bench": "first_reply",
        "run": name,
        "exit_code": done.returncode,
        "launch_to_first_request_s": round(seen[0].at - started, 3) if seen else None,
        "wall_s": round(wall, 3),
        "loadavg": loadavg(),
        "worker_tags": worker_tags(folder / "data"),
    }


def worker_tags(data: Path) -> int:
    """How many builds of podium have started a shared worker in this data folder (more than
    one: the checkout's files changed during the bench, so a run started a new worker)."""
    return len(list((data / "run").glob("worker-*.lock")))


def stop_worker(data: Path) -> None:
    """The shared worker this bench started (its data folder's) ends."""
    from podium.llm import worker_share

    os.environ["PODIUM_DATA_DIR"] = str(data)
    worker_share.stop()


def say(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="podium-bench-rate-") as tmp:
        for round_ in range(args.rounds):
            folder = Path(tmp) / f"round{round_}"
            folder.mkdir()
            data = folder / "data"  # a fresh data folder: no worker runs for it yet
            shared = {"PODIUM_DATA_DIR": str(data), "PODIUM_WORKER_IDLE_S": "120"}
            shared["PODIUM_SHARED_WORKER"] = "1"
            runs: list[tuple[str, bool, dict[str, str]]] = [
                ("adaptive-cold", True, shared),
                ("adaptive-warm", True, shared),
                ("fixed-warm", False, shared),
            ]
            private = {**shared, "PODIUM_SHARED_WORKER": "0"}
            if args.private:  # before the cold run, or (odd rounds) after the fixed one
                runs.insert(0 if round_ % 2 == 0 else 3, ("adaptive-private", True, private))
            try:
                # First a one-task run with a worker of its own: litellm's provider cache made
                # in the data folder (a user's first run ever, not counted), then the first
                # replies: with a worker of the run's own (as before), cold, warm.
                say(first_reply(folder, "private-first-ever", **private))
                if not args.no_first_reply:
                    say(first_reply(folder, "private", **private))
                    say(first_reply(folder, "cold", **shared))
                    say(first_reply(folder, "warm", **shared))
                    say(first_reply(folder, "warm", **shared))
                stop_worker(data)
                for name, adaptive, env in runs:
                    if args.only and args.only != ("adaptive" if adaptive else "fixed"):
                        continue
                    say(run_once(args, adaptive, folder, name, **env))
            finally:
                stop_worker(data)


if __name__ == "__main__":
    main()
