"""`podium serve` as an attacker meets it: a real websocket client against a real server.

Each test starts its own `podium serve` on a free 127.0.0.1 port, on one production (shared by
the module) that waits at a gate, so every `podium attach` a tab starts stays up until ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from .test_headless_cli import FAST, TWO, explicit, podium, production
from .test_serve import Serving, attach_processes, free_port, start_serve

pytestmark = pytest.mark.slow

Running = tuple[Path, dict[str, str]]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    folder = tmp_path_factory.mktemp("serve")
    env = dict(os.environ, PODIUM_DATA_DIR=str(folder / "data"))
    env.pop("PODIUM_SERVE_TOKEN", None)
    db = folder / "p.db"
    started = podium(
        "run", str(production(folder, explicit(TWO, FAST))), "--detach", "--db", str(db), env=env
    )
    assert started.returncode == 0, started.stderr
    yield db, env
    podium("stop", str(db), env=env)


@pytest.fixture
def serving(running: Running) -> Iterator[Serving]:
    db, env = running
    served = start_serve(db, env)
    yield served
    out = served.stop()
    assert "Traceback" not in out
    wait_until(lambda: not attach_processes(db), "every attach to end with serve", 10)


def wait_until(check: object, what: str, seconds: float) -> None:
    assert callable(check)
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.05)


def cookie_session() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP address, as a browser does.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def base(served: Serving) -> str:
    return f"http://127.0.0.1:{served.port}"


async def refused(
    http: aiohttp.ClientSession, url: str, *, origin: str | None = None, **headers: str
) -> int:
    """The status a websocket handshake was refused with (it must be refused)."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as error:
        await http.ws_connect(url, origin=origin, headers=headers)
    return error.value.status


async def first_screen_bytes(socket: aiohttp.ClientWebSocketResponse) -> bytes:
    async with asyncio.timeout(60):
        while True:
            message = await socket.receive()
            assert message.type is aiohttp.WSMsgType.BINARY, message
            if message.data:
                return bytes(message.data)


async def attached_tabs(
    http: aiohttp.ClientSession, serving: Serving, count: int
) -> list[aiohttp.ClientWebSocketResponse]:
    """`count` tabs open at once, each showing its first screen."""
    url = f"{base(serving)}/ws?token={serving.token}"
    tabs = [await http.ws_connect(url, origin=base(serving)) for _ in range(count)]
    for tab in tabs:
        assert await first_screen_bytes(tab)
    return tabs


async def test_without_the_token_nothing_is_served(serving: Serving, running: Running) -> None:
    db, _ = running
    url = base(serving)
    origin = url
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/?token=wrong-token-wrong-token", "/static/js/textual.js"):
            async with http.get(url + path, allow_redirects=False) as reply:
                assert reply.status == 401, path
                assert "token" in await reply.text()
        assert await refused(http, f"{url}/ws", origin=origin) == 401
        assert await refused(http, f"{url}/ws?token=wrong", origin=origin) == 401
        assert await refused(http, f"{url}/ws?token={serving.token}x", origin=origin) == 401
        assert await refused(http, f"{url}/ws", origin=origin, Authorization="token nope") == 401
    assert attach_processes(db) == []


async def test_the_token_becomes_a_strict_cookie_and_the_page_its_websocket(
    serving: Serving, running: Running
) -> None:
    db, _ = running
    async with cookie_session() as http:
        async with http.get(serving.url + "&fontsize=12", allow_redirects=False) as reply:
            assert reply.status == 303
            assert reply.headers["Location"] == "/?fontsize=12"  # the token leaves the address
            cookie = reply.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert serving.token not in cookie
        async with http.get(base(serving) + "/") as reply:
            assert reply.status == 200
            page = await reply.text()
        assert f'"ws://127.0.0.1:{serving.port}/ws"' in page
        # The cookie alone opens the websocket, from the page's own origin.
        async with http.ws_connect(f"{base(serving)}/ws", origin=base(serving)) as tab:
            assert await first_screen_bytes(tab)
            assert len(attach_processes(db)) == 1
    # A tab opened at `localhost` is told to dial `localhost`, where its cookie goes.
    async with cookie_session() as http:
        async with http.get(serving.url.replace("127.0.0.1", "localhost")) as reply:
            assert reply.status == 200
            assert f'"ws://localhost:{serving.port}/ws"' in await reply.text()


async def test_a_foreign_origin_or_host_is_refused_and_starts_nothing(
    serving: Serving, running: Running
) -> None:
    db, _ = running
    url = f"{base(serving)}/ws?token={serving.token}"
    other = free_port()
    async with aiohttp.ClientSession() as http:
        for origin in (
            "http://evil.example",
            f"http://evil.example:{serving.port}",
            f"http://127.0.0.1:{other}",  # another local server's page, same site to a browser
            f"https://127.0.0.1:{serving.port}",
            "null",
        ):
            assert await refused(http, url, origin=origin) == 403, origin
        for host in (f"evil.example:{serving.port}", f"127.0.0.1:{other}", "127.0.0.1"):
            # DNS rebinding: evil.example now resolves to 127.0.0.1, the browser sends its name.
            assert await refused(http, url, Host=host) == 403, host
            async with http.get(serving.url, headers={"Host": host}) as reply:
                assert reply.status == 403, host
    assert attach_processes(db) == []


async def test_twelve_connections_start_at_most_four_attach(
    serving: Serving, running: Running
) -> None:
    db, _ = running
    url = f"{base(serving)}/ws?token={serving.token}"
    async with aiohttp.ClientSession() as http:
        tries = await asyncio.gather(
            *(http.ws_connect(url, origin=base(serving)) for _ in range(12)),
            return_exceptions=True,
        )
        tabs = [one for one in tries if isinstance(one, aiohttp.ClientWebSocketResponse)]
        statuses = sorted(
            one.status for one in tries if isinstance(one, aiohttp.WSServerHandshakeError)
        )
        assert len(tabs) == 4 and statuses == [503] * 8, tries
        for tab in tabs:
            assert await first_screen_bytes(tab)
        assert len(attach_processes(db)) == 4
        await tabs[0].close()
        wait_until(lambda: len(attach_processes(db)) == 3, "a closed tab's attach to end", 5)
        again = await http.ws_connect(url, origin=base(serving))
        async with again:
            assert await first_screen_bytes(again)
            assert len(attach_processes(db)) == 4
        for tab in tabs[1:]:
            await tab.close()


async def test_a_tab_opened_as_another_closes_takes_its_place(
    serving: Serving, running: Running
) -> None:
    """The closed tab's place is free once its websocket is closed; the new tab's attach
    starts once the old one has left, so no more than four ever run."""
    db, _ = running
    url = f"{base(serving)}/ws?token={serving.token}"
    async with aiohttp.ClientSession() as http:
        tabs = await attached_tabs(http, serving, 4)
        most = Most(db)
        for turn in range(3):  # close one, open one at once: no 503, and the new one attaches
            await tabs[turn].close()
            tabs[turn] = await http.ws_connect(url, origin=base(serving))
            assert await first_screen_bytes(tabs[turn])
        assert await refused(http, url, origin=base(serving)) == 503  # still four at most
        most.stop()
        assert most.seen == 4, most.seen
        for tab in tabs:
            await tab.close()


class Most:
    """The most `podium attach` processes of `db` seen at once, looked at every 10 ms."""

    def __init__(self, db: Path) -> None:
        self.seen = 0
        self._done = threading.Event()

        def watch() -> None:
            while not self._done.wait(0.01):
                self.seen = max(self.seen, len(attach_processes(db)))

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


async def test_a_closed_tab_ends_its_attach_within_five_seconds(
    serving: Serving, running: Running
) -> None:
    db, _ = running
    url = f"{base(serving)}/ws?token={serving.token}"
    async with aiohttp.ClientSession() as http:
        first = await http.ws_connect(url, origin=base(serving))
        assert await first_screen_bytes(first)
        (quick,) = attach_processes(db)
        second = await http.ws_connect(url, origin=base(serving))
        assert await first_screen_bytes(second)
        (stuck,) = set(attach_processes(db)) - {quick}
        os.kill(stuck, signal.SIGSTOP)  # a child that no longer reads or answers
        await first.close()
        wait_until(lambda: quick not in attach_processes(db), "the closed tab's attach", 5)
        await second.close()
        wait_until(lambda: stuck not in attach_processes(db), "a stuck tab's attach", 5)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
async def test_stopping_serve_ends_every_attach(running: Running, number: int) -> None:
    db, env = running
    served = start_serve(db, env)
    url = f"{base(served)}/ws?token={served.token}"
    try:
        async with aiohttp.ClientSession() as http:
            tabs = [await http.ws_connect(url, origin=base(served)) for _ in range(2)]
            for tab in tabs:
                assert await first_screen_bytes(tab)
            children = attach_processes(db)
            assert len(children) == 2
            os.kill(children[0], signal.SIGSTOP)
            served.process.send_signal(number)
            assert served.process.wait(timeout=30) == 0
            wait_until(lambda: not attach_processes(db), "no attach left after serve", 5)
    finally:
        out = served.stop()
    assert "Traceback" not in out


def test_a_busy_port_is_said_in_one_sentence_before_anything_serves(running: Running) -> None:
    db, env = running
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = podium("serve", str(db), "--port", str(port), env=env, timeout=60)
    assert result.returncode == 1
    assert "serving" not in result.stdout
    assert result.stderr == (
        f"podium: port {port} on 127.0.0.1 is already in use; choose another with --port\n"
    )


def test_a_token_from_the_environment_or_a_file(running: Running, tmp_path: Path) -> None:
    db, env = running
    chosen = "a-scripted-token-0123456789"
    served = start_serve(db, dict(env, PODIUM_SERVE_TOKEN=chosen))
    try:
        assert served.token == chosen
    finally:
        served.stop()
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file-0123456789\n")
    served = start_serve(db, env, "--token-file", str(token_file))
    try:
        assert served.token == "from-a-file-0123456789"
    finally:
        served.stop()
    token_file.write_text("short\n")
    for args, message in [
        (["--token-file", str(token_file)], f"--token-file {token_file}: a token is 16 to 512"),
        (["--token-file", str(tmp_path / "none")], f"cannot read --token-file {tmp_path}/none"),
        (["--max-clients", "0"], "--max-clients 0 must be at least 1"),
    ]:
        result = podium("serve", str(db), "--port", str(free_port()), *args, env=env)
        assert result.returncode == 2, args
        assert result.stderr.startswith(f"podium: {message}"), result.stderr
        assert result.stderr.count("\n") == 1 and result.stdout == ""
    result = subprocess.run(
        [sys.executable, "-m", "podium", "serve", str(db), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env, PODIUM_SERVE_TOKEN="has spaces in it, and is long"),
    )
    assert result.returncode == 2 and result.stderr.startswith("podium: PODIUM_SERVE_TOKEN: ")


def test_host_and_origin_name_the_served_address_or_its_loopback_aliases_with_its_port() -> None:
    from podium.cli.serve import Guard

    local = Guard("t" * 20, "127.0.0.1", 8000, 4)
    for host in ("127.0.0.1:8000", "localhost:8000", "LOCALHOST:8000", "[::1]:8000"):
        assert local.host_ok(host) and local.origin_ok(f"http://{host}"), host
    for host in ("127.0.0.1", "127.0.0.1:8001", "evil.example:8000", "127.0.0.1:8000@evil", ""):
        assert not local.host_ok(host), host
    assert not local.host_ok(None)
    assert not local.origin_ok("http://127.0.0.1:8000.evil.example")
    # A host other than loopback: its own name only (the token is required all the same).
    lan = Guard("t" * 20, "192.0.2.7", 8000, 4)
    assert lan.host_ok("192.0.2.7:8000") and lan.origin_ok("http://192.0.2.7:8000")
    assert not lan.host_ok("localhost:8000") and not lan.origin_ok("http://127.0.0.1:8000")


async def test_a_tab_whose_attach_dies_is_closed_and_its_place_freed(
    serving: Serving, running: Running
) -> None:
    """An attach killed without saying goodbye (kill -9, a crash) closes its tab, which would
    otherwise stay open on a dead screen and hold one of the four places."""
    db, _ = running
    url = f"{base(serving)}/ws?token={serving.token}"
    async with aiohttp.ClientSession() as http:
        tabs = await attached_tabs(http, serving, 4)
        victim = attach_processes(db)[0]
        os.kill(victim, signal.SIGKILL)
        closed = 0
        deadline = time.monotonic() + 10
        while not closed and time.monotonic() < deadline:
            for tab in tabs:
                with contextlib.suppress(TimeoutError):
                    while not tab.closed:  # drain until the close (screen bytes may come first)
                        await asyncio.wait_for(tab.receive(), 0.1)
            closed = sum(tab.closed for tab in tabs)
        assert closed == 1, "the dead attach's tab was not closed"
        fresh = await http.ws_connect(url, origin=base(serving))  # its place is free
        assert await first_screen_bytes(fresh)
        for tab in [*tabs, fresh]:
            await tab.close()
