from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_engine_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """An exception the engine had to catch and log is a bug, even if the test passed."""
    yield
    errors = [r for r in caplog.records if r.name.startswith("podium") and r.levelname == "ERROR"]
    assert not errors, [r.getMessage() for r in errors]
