"""`podium serve` binds loopback, prints first the address to open, and serves the page there.

The helpers here start a real `podium serve` and find the `podium attach` processes it runs;
test_serve_security.py and test_serve_browser.py use them.
"""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from .test_headless_cli import FAST, TWO, explicit, podium, production

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Serving:
    process: subprocess.Popen[str]
    first_line: str
    url: str
    """The address `serve` printed first, token included."""
    port: int

    @property
    def token(self) -> str:
        return self.url.split("?token=", 1)[1]

    def stop(self) -> str:
        """Stop serve (if it still runs) and return everything it printed."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:  # read() and not communicate(): readline() may hold more than the first line
            assert self.process.stdout is not None
            out = self.process.stdout.read()
            self.process.stdout.close()
        return self.first_line + out


def start_serve(db: Path, env: dict[str, str], *extra: str) -> Serving:
    """`podium serve DB` on a free loopback port, once it has printed its first line."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "podium", "serve", str(db), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    first = process.stdout.readline() if ready else ""
    found = re.search(r"http://\S+", first)
    if found is None:
        process.kill()
        rest, _ = process.communicate(timeout=30)
        raise AssertionError(f"serve printed no address first: {first + rest!r}")
    deadline = time.monotonic() + 30
    while not listening(port):  # already, normally: serve prints its address once it listens
        assert time.monotonic() < deadline, "serve printed its address but does not listen"
        time.sleep(0.05)
    return Serving(process, first, found.group(0), port)


def attach_processes(db: Path) -> list[int]:
    """The live `python -m podium attach DB` processes (zombies are gone already)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"attach" in argv and str(db).encode() in argv and state != "Z":
            found.append(int(entry.name))
    return found


def test_serve_binds_loopback_and_serves_the_page_to_its_first_address(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    not_running = podium("serve", str(db), env=env)
    assert not_running.returncode == 2 and "no such production" in not_running.stderr
    assert podium("run", str(path), "--detach", "--db", str(db), env=env).returncode == 0
    serving = start_serve(db, env)
    try:
        assert serving.first_line.startswith(f"podium: serving {db} at http://127.0.0.1:")
        assert serving.url.startswith(f"http://127.0.0.1:{serving.port}/?token=")
        # As a browser does: the token is traded for a cookie and a redirect to the bare page.
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(serving.url, timeout=30) as reply:
            page = reply.read().decode()
            assert reply.url == f"http://127.0.0.1:{serving.port}/"
        assert "textual.js" in page
        with pytest.raises(urllib.error.HTTPError) as refused:  # the same page, no token
            urllib.request.urlopen(f"http://127.0.0.1:{serving.port}/", timeout=5)
        assert refused.value.code == 401
        with socket.socket() as probe:  # loopback only: nothing listens on other addresses
            probe.settimeout(1)
            address = socket.gethostbyname(socket.gethostname())
            if not address.startswith("127."):
                assert probe.connect_ex((address, serving.port)) != 0
    finally:
        out = serving.stop()
        podium("stop", str(db), env=env)
    assert "ssh -L" in out
    assert "Traceback" not in out
