"""`podium serve`: the attached conductor's screen in a browser tab, behind a per-run token.

textual-serve's aiohttp app does the serving; a middleware in front of it refuses, before any
handler runs (so before any `podium attach` is started), a request for a foreign `Host` (DNS
rebinding), a foreign `Origin` (another page in the same browser), one without this run's token,
and a websocket beyond `--max-clients`. The token is Jupyter's scheme: printed in the first URL,
traded on first load for an HttpOnly, SameSite=Strict cookie and a redirect that drops it from
the address bar.

Two of textual-serve's pieces are replaced by small subclasses, because it has no hook for them:
its page names the websocket by the bound address (a tab opened at `localhost` would dial
`127.0.0.1`, where its cookie does not go), and its `AppService` starts each child through a
shell in serve's own process group and waits, without end, for it to obey "quit". Here each
child is `podium attach` in a process group of its own, asked to quit, then sent SIGTERM, then
SIGKILL, and every one is ended when serve stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import errno
import hmac
import ipaddress
import os
import re
import secrets
import signal
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import WSCloseCode, hdrs, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int
from yarl import URL

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_WAITING, say, warn
from podium.locks import holder

TOKEN_ENV = "PODIUM_SERVE_TOKEN"
TOKEN_SHAPE = re.compile(r"[\x21-\x7e]{16,512}")
"""A token given by the user: printable ASCII, no spaces, long enough not to be guessed."""
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"0.0.0.0", "::", ""})
QUIT_GRACE_S = 1.5
"""How long a child has to leave after "quit" before it is sent SIGTERM…"""
TERM_GRACE_S = 1.5
"""…and after SIGTERM before SIGKILL: a closed tab's child is gone within about 3 s."""
ROOM_WAIT_S = 1.5
"""How long a new tab waits for a closed tab's child to be gone before that child is killed…"""
KILL_WAIT_S = 0.5
"""…and then for the killed child to be reaped, before the new tab is answered 503."""
SHUTDOWN_TIMEOUT_S = 5.0
WEBSOCKET = "/ws"


class ServeError(Exception):
    """A reason `serve` cannot start, one sentence for the user."""


def serve(args: argparse.Namespace) -> int:
    """Serve the attached TUI of DB in a browser; loopback unless told otherwise."""
    from podium.cli import production as cli_production
    from podium.cli.remote import _idle
    from podium.domain.events import ProductionState

    db = Path(args.db_path)
    if holder(db) is None:

        async def idle() -> int:
            view = await cli_production.load_view(db)  # a clear error for a file not ours
            if view.state is ProductionState.COMPLETED:
                advice = f"see `podium status {db}`, or `podium export {db} --out DIR`"
            else:
                advice = f"start it with `podium resume {db} --detach`, then serve it"
            warn(f"podium: no engine is running {db} ({_idle(view)}); {advice}")
            return EXIT_WAITING

        return cli_production._guarded(idle)
    if not 0 < args.port < 65536:
        warn(f"podium: --port {args.port} is not a port number (1 to 65535)")
        return EXIT_BAD_INPUT
    if args.max_clients < 1:
        warn(f"podium: --max-clients {args.max_clients} must be at least 1")
        return EXIT_BAD_INPUT
    try:
        token = _token(args.token_file)
    except ServeError as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    try:
        sock = _bind(args.host, args.port)
    except ServeError as exc:
        warn(f"podium: {exc}")
        return EXIT_FAILED
    guard = Guard(token, args.host, args.port, args.max_clients)
    server = PodiumServer([sys.executable, "-m", "podium", "attach", str(db)], guard.slots)
    try:
        asyncio.run(_serve(server, guard, sock, db))
    finally:
        sock.close()
        server.kill_all()  # whatever a cancelled shutdown left behind
    return EXIT_OK


def _token(token_file: str | None) -> str:
    """This run's token: from --token-file, else the environment, else a new secret."""
    if token_file is not None:
        where = f"--token-file {token_file}"
        try:
            text = Path(token_file).read_text(encoding="ascii").strip()
        except UnicodeDecodeError:
            raise ServeError(f"{where} holds characters other than ASCII") from None
        except OSError as exc:
            raise ServeError(f"cannot read {where}: {exc.strerror or exc}") from None
    elif (text := os.environ.get(TOKEN_ENV, "")) != "":
        where = TOKEN_ENV
    else:
        return secrets.token_urlsafe(32)
    if not TOKEN_SHAPE.fullmatch(text):
        raise ServeError(
            f"{where}: a token is 16 to 512 printable ASCII characters without spaces "
            "(`python -c 'import secrets; print(secrets.token_urlsafe())'` makes one)"
        )
    return text


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything says "serving at"."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except socket.gaierror as exc:
        raise ServeError(
            f"--host {host} is not an address of this machine ({exc.strerror})"
        ) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None
        raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def _url_host(host: str) -> str:
    if host in WILDCARD:
        return socket.gethostname()
    return f"[{host}]" if ":" in host else host


async def _serve(server: PodiumServer, guard: Guard, sock: socket.socket, db: Path) -> None:
    app = await server._make_app()  # textual-serve's routes, page template and static files
    app.middlewares.append(guard.middleware)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(number, stopping.set)
    try:
        await web.SockSite(runner, sock).start()
        url = f"http://{_url_host(guard.host)}:{guard.port}/?token={quote(guard.token, safe='')}"
        say(f"podium: serving {db} at {url}")
        say("  open that address: it carries this run's token, without which nothing is served")
        if _loopback(guard.host):
            say(
                "  only this machine can reach it; from your laptop: "
                f"ssh -L {guard.port}:127.0.0.1:{guard.port} THIS_HOST, then open it there"
            )
        else:
            warn(
                f"podium: warning: anyone who can reach {guard.host}:{guard.port} and holds the "
                "token can conduct, and the token crosses the network unencrypted; prefer the "
                "default 127.0.0.1 and `ssh -L`"
            )
        say(f"  up to {guard.max_clients} browser tabs at once; Ctrl+C stops serving")
        sys.stdout.flush()
        await stopping.wait()
    finally:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(number)
        await runner.cleanup()  # on_shutdown ends every child


class Guard:
    """Token, Host, Origin and client-count checks, before any handler runs."""

    def __init__(self, token: str, host: str, port: int, max_clients: int) -> None:
        self.token = token
        self.host = host.strip("[]").lower()
        self.port = port
        self.max_clients = max_clients
        self.slots = Slots(max_clients)  # the server's too
        self.names = _names(self.host)
        self.cookie = f"podium-serve-{port}"  # cookies ignore ports: one name per server
        self.session = secrets.token_urlsafe(32)  # the cookie's value, never the token itself
        self._noted: set[str] = set()

    def _matches(self, given: str, secret: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode())

    def _authority_ok(self, url: URL) -> bool:
        return (url.host or "").lower() in self.names and url.port == self.port

    def host_ok(self, header: str | None) -> bool:
        if not header:
            return False
        try:
            return self._authority_ok(URL(f"http://{header}"))
        except ValueError:
            return False

    def origin_ok(self, header: str) -> bool:
        try:
            url = URL(header)
        except ValueError:
            return False
        return url.scheme == "http" and self._authority_ok(url)

    def _note(self, what: str, value: str) -> None:
        """Say once per kind and value what was refused (at most a hundred lines)."""
        line = f"podium: refused {what} {value[:80]!r}"
        if line not in self._noted and len(self._noted) < 100:
            self._noted.add(line)
            warn(line)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self.host_ok(request.headers.get(hdrs.HOST)):
            self._note("a request for host", request.headers.get(hdrs.HOST, ""))
            raise web.HTTPForbidden(text="podium serve: this host name is not served here\n")
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and not self.origin_ok(origin):
            self._note("a connection from origin", origin)
            raise web.HTTPForbidden(text="podium serve: pages from elsewhere may not connect\n")
        given = request.query.get("token")
        header = request.headers.get(hdrs.AUTHORIZATION, "")
        if given is not None:
            allowed = self._matches(given, self.token)
        elif header.startswith("token "):
            allowed = self._matches(header[len("token ") :], self.token)
        else:
            allowed = self._matches(request.cookies.get(self.cookie, ""), self.session)
        if not allowed:
            raise web.HTTPUnauthorized(
                text="podium serve: open the address `podium serve` printed first, with its "
                "token (http://…/?token=…)\n"
            )
        if given is not None and request.path != WEBSOCKET:
            reply = web.HTTPSeeOther(request.rel_url.without_query_params("token"))
            reply.set_cookie(self.cookie, self.session, httponly=True, samesite="Strict", path="/")
            reply.headers[hdrs.CACHE_CONTROL] = "no-store"
            raise reply
        if request.path != WEBSOCKET:
            response: web.StreamResponse = await handler(request)
            return response
        if self.slots.open_tabs() >= self.max_clients:
            raise web.HTTPServiceUnavailable(
                text=f"podium serve: {self.max_clients} tabs are open already (--max-clients); "
                "close one first\n"
            )
        tab = Tab()
        TAB.set(tab)
        self.slots.tabs.add(tab)
        try:
            response = await handler(request)
        finally:
            self.slots.tabs.discard(tab)
        return response


class Tab:
    """One websocket the guard let in: it holds a tab's place until its websocket is closed."""

    websocket: web.WebSocketResponse | None = None

    def open(self) -> bool:
        return self.websocket is None or not self.websocket.closed


TAB: contextvars.ContextVar[Tab] = contextvars.ContextVar("TAB")
"""The websocket request's `Tab`, from the guard to the handler (the same task)."""


class Slots:
    """--max-clients, counted twice. A tab holds a place from the guard's yes until its
    websocket is closed (when the browser closes it, not when serve has ended its child), so a
    tab opened just after another was closed is let in. A `podium attach` holds one of as many
    places from just before it starts until it is reaped, so no more than --max-clients run at
    once: the new tab's child waits for the closed tab's to be gone (`PodiumServer.room`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tabs: set[Tab] = set()
        self.children = 0
        self._changed: asyncio.Event | None = None

    def open_tabs(self) -> int:
        return sum(tab.open() for tab in self.tabs)

    def take(self) -> Place:
        self.children += 1
        return Place(self)

    def freed(self) -> None:
        self.children -= 1
        if self._changed is not None:
            self._changed.set()

    async def changed(self, seconds: float) -> None:
        """Return when a child is reaped, or after `seconds`."""
        if self._changed is None or self._changed.is_set():
            self._changed = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)


class Place:
    """A child's place in `Slots`, given back once: when it is reaped, or when it never ran."""

    def __init__(self, slots: Slots) -> None:
        self._slots: Slots | None = slots

    def give_back(self, *_: object) -> None:
        slots, self._slots = self._slots, None
        if slots is not None:
            slots.freed()


def _names(host: str) -> frozenset[str]:
    """The names a browser may use for `host` in Host and Origin."""
    if host in WILDCARD:
        names = set(LOOPBACK) | {socket.gethostname().lower(), socket.getfqdn().lower()}
        with contextlib.suppress(OSError):
            names |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None)}
        return frozenset(names)
    return LOOPBACK | {host} if _loopback(host) else frozenset({host})


def _loopback(host: str) -> bool:
    try:
        return host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Child(AppService):
    """One tab's `podium attach`, in a process group of its own, ended for certain."""

    def __init__(self, argv: list[str], place: Place, **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = argv
        self.place = place
        self.stopping = False

    async def _open_app_process(
        self, width: int = 80, height: int = 24
    ) -> asyncio.subprocess.Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,  # Ctrl+C at serve's terminal is for serve, which ends it
        )
        reaped = asyncio.ensure_future(process.wait())
        reaped.add_done_callback(self.place.give_back)
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        """Relay the child's screen to the tab; a child that ends without saying so (killed,
        crashed) closes its tab, which would otherwise hold a place on a dead screen."""
        try:
            await super().run()
        finally:
            if not self.stopping:
                await self.remote_close()

    async def stop(self) -> None:
        """Ask the child to quit; SIGTERM, then SIGKILL, its group if it does not."""
        self.stopping = True
        task, self._task = self._task, None
        if task is None:
            return
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + QUIT_GRACE_S
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):  # a child that reads nothing blocks drain()
                await self.send_meta({"type": "quit"})
        await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
        await self.end()
        await asyncio.wait({task}, timeout=1.0)  # its pipes closed with it
        task.cancel()

    async def end(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        self.signal(signal.SIGTERM)
        self.signal(signal.SIGCONT)  # a stopped child takes its SIGTERM now
        try:
            await asyncio.wait_for(process.wait(), TERM_GRACE_S)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            await process.wait()

    def signal(self, number: int) -> None:
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, number)


class PodiumServer(Server):
    """textual-serve's Server, with its page and websocket handler adjusted (see the top)."""

    def __init__(self, argv: list[str], slots: Slots) -> None:
        super().__init__(" ".join(argv), title="podium")
        self.argv = argv
        self.slots = slots
        self.tabs: dict[web.WebSocketResponse, Child] = {}

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: `serve` has said what there is to say (textual-serve prints a banner)."""

    async def on_shutdown(self, app: web.Application) -> None:
        tabs = list(self.tabs.items())
        await asyncio.gather(*(child.stop() for _, child in tabs))
        await asyncio.gather(*(socket.close(code=WSCloseCode.GOING_AWAY) for socket, _ in tabs))

    def kill_all(self) -> None:
        for child in self.tabs.values():
            child.signal(signal.SIGKILL)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        # The address the tab used (the guard checked it), so its cookie goes with the socket.
        base = f"http://{request.host}"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"ws://{request.host}{WEBSOCKET}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }

    async def room(self) -> Place:
        """A place for one more child: now, or once a closed tab's child is reaped (killed if it
        takes longer than ROOM_WAIT_S); 503 if even that does not free one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ROOM_WAIT_S
        killed = False
        while self.slots.children >= self.slots.limit:
            if loop.time() >= deadline:
                if killed:
                    raise web.HTTPServiceUnavailable(
                        text="podium serve: a closed tab's `podium attach` does not end; "
                        "try again in a moment\n"
                    )
                killed = True
                deadline = loop.time() + KILL_WAIT_S
                for child in self.tabs.values():
                    if child.stopping:
                        child.signal(signal.SIGKILL)
            await self.slots.changed(max(0.0, deadline - loop.time()))
        return self.slots.take()

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        tab = TAB.get()
        tab.websocket = websocket  # the tab's place is free once this is closed
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        place = await self.room()
        try:
            await websocket.prepare(request)
        except BaseException:
            place.give_back()
            raise
        child = Child(
            self.argv,
            place,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.tabs[websocket] = child
        try:
            await child.start(width, height)
            await self._process_messages(websocket, child)
        except (ValueError, TypeError, KeyError, AssertionError) as exc:  # a malformed message
            warn(f"podium: closed a tab that sent what a page does not send ({exc!r:.80})")
        except OSError as exc:
            warn(f"podium: could not start `podium attach` for a tab: {exc.strerror or exc}")
        finally:
            if child._process is None:
                place.give_back()  # it never started
            # Closed before the child is ended (a closed tab's socket is already): the tab's
            # place is free while its child leaves, and a new tab's child waits for it (`room`).
            await asyncio.gather(websocket.close(), child.stop())
            del self.tabs[websocket]
        return websocket
