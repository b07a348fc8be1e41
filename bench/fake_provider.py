"""The fake provider as the benches point podium at it (bench/rate_limits.py, bench/ui_litellm.py).

The fake itself is tests/fakes/openai_server.py (an OpenAI-compatible server on 127.0.0.1, with
tests/fakes/rate_limited.py's limits when asked); this module is what both benches did alike to
reach it: the fakes on the import path, one model routed to its `api_base` with a key from an
environment variable that is set only for the bench (no real key is read or needed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = "openai/fake-model"
KEY_ENV = "PODIUM_BENCH_FAKE_KEY"
FAKE_KEY = "sk-bench-not-a-key"


def use_fakes() -> None:
    """Make `fakes` (tests/fakes) importable."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def key_env(**extra: str) -> dict[str, str]:
    """This process's environment with the fake's key (and `extra`), for a `podium` child."""
    return {**os.environ, KEY_ENV: FAKE_KEY, **extra}


def set_key() -> None:
    """Set the fake's key in this process (for an engine run in process)."""
    os.environ[KEY_ENV] = FAKE_KEY


def models_toml(api_base: str, *settings: str) -> list[str]:
    """The production file's [models] lines: every agent on MODEL at the fake's `api_base`,
    priced at nothing; `settings`: more `key = value` lines for the model."""
    return [
        "[models]",
        f'default = "{MODEL}"',
        "",
        f'[models.settings."{MODEL}"]',
        f'api_base = "{api_base}"',
        f'api_key_env = "{KEY_ENV}"',
        "input_cost_per_token = 0.0",
        "output_cost_per_token = 0.0",
        *settings,
        "",
    ]
