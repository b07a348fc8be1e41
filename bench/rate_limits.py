"""Full speed under a provider's rate limits, through the CLI a user runs.

    .venv/bin/python bench/rate_limits.py [--calls 200] [--rpm 600] [--tpm 200000]

A fake provider on 127.0.0.1 (tests/fakes: an OpenAI-compatible server that enforces requests
and tokens per minute, answering 429 with Retry-After and OpenAI's x-ratelimit-* headers,
streaming each reply with its usage) serves a generated production of `--calls` independent
tasks, one model call each, written by a crew whose model is `openai/fake-model` at the fake's
`api_base`. The production runs through `podium run … --headless --auto-approve all` (every
event persisted), twice: with the adaptive limiter (the default) and with today's fixed limits
alone (`PODIUM_ADAPTIVE_LIMITS=0`), the same `max_concurrency` for both.

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


def run_once(args: argparse.Namespace, adaptive: bool, folder: Path) -> dict[str, Any]:
    # Each reply streams in ten pieces 20 ms apart: a call takes about 0.2 s.
    reply = Reply(
        text=TEXT,
        chunks=[TEXT[i : i + 16] for i in range(0, len(TEXT), 16)][:10] or [TEXT],
        prompt_tokens=args.prompt_tokens,
        completion_tokens=args.completion_tokens,
        chunk_delay_s=0.02,
    )
    limits = RateLimits(rpm=args.rpm, tpm=args.tpm, burst_s=args.burst_s, reply=reply)
    name = "adaptive" if adaptive else "fixed"
    with FakeOpenAI(default=limits) as server:
        path = folder / f"{name}.toml"
        path.write_text(production_toml(args.calls, server.api_base, args.concurrency) + "\n")
        db = folder / f"{name}.db"
        env = key_env(PODIUM_ADAPTIVE_LIMITS="1" if adaptive else "0")
        command = [sys.executable, "-m", "podium", "run", str(path), "--headless"]
        command += ["--auto-approve", "all", "--db", str(db)]
        started = time.perf_counter()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
        )
        wall = time.perf_counter() - started
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
        "limiter": name,
        "calls": args.calls,
        "rpm": args.rpm,
        "tpm": args.tpm,
        "burst_s": args.burst_s,
        "max_concurrency": args.concurrency,
        "exit_code": done.returncode,
        "state": view.get("state"),
        "makespan_s": round(makespan, 3),
        "wall_s": round(wall, 3),
        "lower_bound_s": round(bound, 3),
        "ratio": round(ratio, 3),
        "tasks_done": int(view["tasks"]["done"]),
        "tasks_failed": failed,
        "requests": requests,
        "answered_429": refused,
        "share_429": round(share_429, 4),
        "tokens": limits.tokens,
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
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="podium-bench-rate-") as tmp:
        for adaptive in (True, False):
            if args.only and args.only != ("adaptive" if adaptive else "fixed"):
                continue
            line = run_once(args, adaptive, Path(tmp))
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
