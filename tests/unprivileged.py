"""Run a child without root's power over file permissions, so that a read-only file is
read-only to it even when the tests run as root (as CI does).

`setpriv` (util-linux) drops CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the
child's bounding and inheritable sets: it keeps uid 0, so it still reads root's files and the
test's temporary folders, but the permission bits now bind it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CAPS = "-dac_override,-dac_read_search,-fowner"
CHILD = "PODIUM_TEST_UNPRIVILEGED"
"""Set in a child started by `rerun_unprivileged`, so the test runs there instead of again."""


@functools.cache
def unprivileged() -> tuple[str, ...] | None:
    """A command prefix for such a child: () when we are not root, None when it is impossible
    here (no setpriv, or the capabilities may not be dropped)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, f"--inh-caps={CAPS}", f"--bounding-set={CAPS}", "--")
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_text("")
        probe.chmod(0o444)
        try:
            tried = subprocess.run(
                [*prefix, sys.executable, "-c", "import sys; open(sys.argv[1], 'a')", str(probe)],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            return None
    return prefix if "PermissionError" in tried.stderr else None


def require_unprivileged() -> tuple[str, ...]:
    prefix = unprivileged()
    if prefix is None:
        pytest.skip("cannot run a child bound by file permissions here (root, no setpriv)")
    return prefix


def rerun_unprivileged(request: pytest.FixtureRequest, tmp_path: Path) -> bool:
    """As root: run the calling test again in an unprivileged child, and pass or fail with it.

    True when the caller should return (the child ran it); False when the caller is already
    bound by file permissions and runs the test itself.
    """
    if os.geteuid() != 0 or os.environ.get(CHILD):
        return False
    prefix = require_unprivileged()
    done = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=-q",  # one -q, not two: the summary line says what ran
            "--basetemp",
            str(tmp_path / "child"),
            request.node.nodeid,
        ],
        cwd=request.config.rootpath,
        capture_output=True,
        text=True,
        env={**os.environ, CHILD: "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout, done.stdout[-4000:]
    return True
