"""Loading litellm: keys come from the environment the Orchestrator set, never from a `.env`
file litellm finds above its install folder (its default DEV mode loads one at import)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import dotenv
calls = []
dotenv.load_dotenv = lambda *args, **kwargs: calls.append(args) or True
from podium.llm.litellm_loader import load_litellm
load_litellm()
print(len(calls))
"""


def test_loading_litellm_reads_no_dotenv_file() -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0"
