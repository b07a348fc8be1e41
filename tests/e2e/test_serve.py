"""`podium serve` binds loopback and serves the attached screen's page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .test_headless_cli import FAST, TWO, explicit, podium, production


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_binds_loopback_and_serves_the_page(tmp_path: Path) -> None:
    env = dict(os.environ, PODIUM_DATA_DIR=str(tmp_path / "data"))
    path = production(tmp_path, explicit(TWO, FAST))
    db = tmp_path / "p.db"
    not_running = podium("serve", str(db), env=env)
    assert not_running.returncode == 2 and "no such production" in not_running.stderr
    assert podium("run", str(path), "--detach", "--db", str(db), env=env).returncode == 0
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "podium", "serve", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        page = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not page:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    page = reply.read().decode()
            except OSError:
                time.sleep(0.2)
        assert "textual.js" in page
        with socket.socket() as probe:  # loopback only: nothing listens on other addresses
            probe.settimeout(1)
            address = socket.gethostbyname(socket.gethostname())
            if not address.startswith("127."):
                assert probe.connect_ex((address, port)) != 0
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
        podium("stop", str(db), env=env)
    assert "ssh -L" in out
