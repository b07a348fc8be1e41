"""The shared provider worker, the worker's side (issue 20; the client's is `worker_share`).

The worker started with `--socket PATH` serves every podium process that connects: each
connection is a parent of its own (`worker._Worker`: its calls, its cancellations, its rate-limit
reports, its frames), after a handshake (`hello`: the same build tag, the same provider
variables, else refused). A connection that closes has its calls cancelled; the worker goes on.
With no connection for `idle_s` seconds, or asked to stop (`worker_share.stop`; then once its
connections have ended), it closes the socket, removes it (if it is still its own) and ends;
so it does too, its runs ended, when its socket is removed or replaced (a newer worker's).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import struct
import sys
import threading
from typing import Any

from podium.llm.worker import _Worker, read_frame, write_frame

SEND_TIMEOUT_S = 30  # a connection that takes no frames for this long is dropped
WATCH_S = 5.0  # how often the worker checks its socket is still its own


class _Server:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listener: socket.socket,
        path: str,
        idle_s: float,
        environ: dict[str, str],
    ) -> None:
        self._loop = loop
        self._environ = environ
        self._listener = listener
        self._path = path
        self._inode = os.stat(path).st_ino
        self._idle_s = idle_s
        self._open = 0
        self._stopping = False
        self._idle: asyncio.TimerHandle | None = None
        self._arm()

    # -- the loop's side -----------------------------------------------------------------

    def opened(self) -> None:
        self._open += 1
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def closed(self, worker: _Worker | None = None, conn: socket.socket | None = None) -> None:
        if worker is not None:
            worker.end()  # nothing more written to it before it closes (its number is reused)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        self._open -= 1
        self._arm()

    def stop(self) -> None:
        """Asked to stop: no new connection; the worker ends when those it has have ended."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._listener.close()
        if self._ours():
            with contextlib.suppress(OSError):
                os.unlink(self._path)

    def _arm(self) -> None:
        if self._stopping and self._open <= 0:
            self.end()
        if self._open <= 0 and self._idle is None:
            self._idle = self._loop.call_later(self._idle_s, self._end_if_idle)

    def _end_if_idle(self) -> None:
        self._idle = None
        if self._open <= 0:
            self.end()

    def end(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()
        if self._ours():
            with contextlib.suppress(OSError):
                os.unlink(self._path)
        os._exit(0)

    def _ours(self) -> bool:
        try:
            return os.stat(self._path).st_ino == self._inode
        except OSError:
            return False

    async def watch(self) -> None:
        """Stop when the socket is no longer this worker's (removed, or another's now): no
        new connection, and the end once those it has have ended."""
        while not self._stopping:
            await asyncio.sleep(WATCH_S)
            if not self._ours():
                self.stop()
                self._arm()
        await asyncio.Event().wait()

    # -- the threads ---------------------------------------------------------------------

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._loop.call_soon_threadsafe(self.opened)
            threading.Thread(
                target=self._serve, args=(conn,), name="podium-worker-conn", daemon=True
            ).start()

    def _serve(self, conn: socket.socket) -> None:
        """One connection: the handshake, then its messages handed to the loop."""
        from podium.llm.worker_share import build_tag, provider_env

        worker: _Worker | None = None
        try:
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", SEND_TIMEOUT_S, 0)
            )
            reader = conn.makefile("rb")
            hello: Any = read_frame(reader)
            if hello[0] == "stop":
                write_frame(conn.fileno(), ("ok", os.getpid()))
                self._loop.call_soon_threadsafe(self.stop)
                return
            if hello[0] != "hello" or hello[1] != build_tag():
                write_frame(conn.fileno(), ("refused", "another podium"))
                return
            if provider_env(self._environ, hello[3]) != hello[2]:
                write_frame(conn.fileno(), ("refused", "other provider variables"))
                return
            worker = _Worker(self._loop, conn.fileno(), gone=lambda: None)
            write_frame(conn.fileno(), ("ok", os.getpid()))
            while True:
                message = read_frame(reader)
                self._loop.call_soon_threadsafe(worker.receive, message)
        except Exception:  # noqa: BLE001 - EOF, or a connection that broke
            pass
        finally:
            if worker is None:
                with contextlib.suppress(OSError):
                    conn.close()
                self._loop.call_soon_threadsafe(self.closed)
            else:
                self._loop.call_soon_threadsafe(self.closed, worker, conn)


async def _serve(
    listener: socket.socket, path: str, idle_s: float, environ: dict[str, str]
) -> None:
    server = _Server(asyncio.get_running_loop(), listener, path, idle_s, environ)
    threading.Thread(target=server.accept, name="podium-worker-accept", daemon=True).start()
    await server.watch()


def main(listener: socket.socket, path: str, idle_s: float, environ: dict[str, str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.dup2(2, 1)  # a stray print goes where stderr goes (nowhere)
    sys.stdout = sys.stderr
    asyncio.run(_serve(listener, path, idle_s, environ))
