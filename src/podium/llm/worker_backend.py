"""`ProcessBackend`: the litellm backend, its streams parsed in a worker process (issue 20).

Same interface as `LiteLLMBackend`. Each call is sent to the provider worker
(`podium.llm.worker`): the shared one, kept across podium processes (`worker_share`; its
litellm imported once, not at every run), else one of this process's own (sharing off with
PODIUM_SHARED_WORKER=0, refused, or failing to start); connected on the first call and again
after it dies, and its stream comes back coalesced; the final result, a typed `LLMError`,
and every provider request's rate-limit report arrive as they would in process. The reports
are handed to `rate_limits.report` here, in the caller's context, so the limiter's slot
holding the call paces by them as before.

A call the caller stops (a cancellation, or the stream closed early) is cancelled in the worker
too, which answers with the books of what it used: `spent()` gives them, as in process. A
worker that dies fails the calls in flight with one CONNECTION error (the engine's retry runs
them again in a new worker). Images stay in process, and so does a request the worker cannot
take (one whose reply schema it cannot import).

Two threads per worker move the bytes: one writes the parent's messages to the worker's stdin
(a long prompt never blocks the event loop on a full pipe), one reads the worker's frames and
hands them to the loop that made each call, at most one wake-up a frame.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import queue
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from typing import IO, Any

from podium.domain.production import ModelSettings
from podium.llm import rate_limits, worker_share
from podium.llm.types import (
    CompletionRequest,
    CompletionResult,
    CompletionStream,
    FailureKind,
    ImageRequest,
    ImageResult,
    LLMError,
)
from podium.llm.worker import FINAL, Event, dumps, error_of, read_frame, write_frame
from podium.llm.worker_share import Link

__all__ = ["ProcessBackend"]

CUT_WAIT_S = 10.0  # how long a cancelled call waits for the worker's books of it
INLINE_HINT = "PODIUM_STREAM_WORKER=inline runs the calls in podium's own process"


# The worker's entry (`podium.cli.provider_worker`, which sets the collector's policy):
# litellm imported in a thread from its start (seconds of CPU, off the first call's clock,
# while the worker already serves), then the worker's loop.
_WORKER_MAIN = "from podium.cli.provider_worker import main; main()"


def serve_warm(
    imported: Callable[[], None] | None = None,
    shared: tuple[socket.socket, str, float, dict[str, str]] | None = None,
) -> None:
    """The provider worker's main, importing litellm at once; `imported` is called when the
    import has ended (well or not). `shared`: the shared worker's listening socket, its path,
    idle time and environment as started (`podium.llm.worker_server`), else the worker of one
    parent, on its stdin
    (`podium.llm.worker.main`)."""
    threading.Thread(
        target=_import_litellm, args=(imported,), name="podium-worker-warm", daemon=True
    ).start()
    if shared is None:
        from podium.llm.worker import main

        main()
    else:
        from podium.llm import worker_server

        worker_server.main(*shared)


def _import_litellm(imported: Callable[[], None] | None) -> None:
    from podium.llm.litellm_loader import load_litellm

    try:
        load_litellm()
    finally:
        if imported is not None:
            imported()


class _Call:
    __slots__ = ("events", "ident", "loop")

    def __init__(self, ident: int, loop: asyncio.AbstractEventLoop) -> None:
        self.ident = ident
        self.loop = loop
        self.events: asyncio.Queue[Event] = asyncio.Queue()


class _Worker:
    """One worker and the calls in flight in it: the shared worker through a socket
    (`worker_share`), else a worker process of this process's own through its pipes. The
    connection is made in the writer thread: a call made meanwhile waits in the outbox."""

    def __init__(self, named: frozenset[str]) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.link: Link | None = None
        self.pid: int | None = None
        self.dead = False
        self.connected = threading.Event()  # set once connected (or failed to)
        self._named = named
        self._lock = threading.Lock()
        self._calls: dict[int, _Call] = {}
        self._ids = itertools.count(1)
        self._outbox: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        threading.Thread(target=self._write, name="podium-worker-out", daemon=True).start()

    def _connect(self) -> tuple[int, IO[bytes]]:
        """The shared worker, else one of its own: the fd to write to, the stream to read."""
        env = dict(os.environ)  # the worker's environment (its provider variables)
        # The worker imports what this process imports (podium, a test's reply schemas).
        path = [p for p in sys.path if p and os.path.isdir(p)]
        env["PYTHONPATH"] = os.pathsep.join(path)
        link = worker_share.connect(self._named, _WORKER_MAIN, env)
        if link is not None:
            self.link, self.pid = link, link.pid
            return link.write_fd, link.reader
        proc = self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER_MAIN],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a traceback of the worker's never reaches the screen
            env=env,
            close_fds=True,
        )
        self.pid = proc.pid
        assert proc.stdin is not None and proc.stdout is not None
        return proc.stdin.fileno(), proc.stdout

    # -- from the loop -------------------------------------------------------------------

    def start(self, payload: bytes, keys: dict[str, str | None]) -> _Call:
        call = _Call(next(self._ids), asyncio.get_running_loop())
        with self._lock:
            if self.dead:
                status = self.proc.poll() if self.proc is not None else None
                call.events.put_nowait(("died", call.ident, status))
                return call
            self._calls[call.ident] = call
        self._outbox.put(("call", call.ident, payload, keys))
        return call

    def cancel(self, ident: int) -> None:
        self._outbox.put(("cancel", ident))

    def forget(self, ident: int) -> None:
        with self._lock:
            self._calls.pop(ident, None)

    def close(self) -> None:
        """Close its stdin: the worker ends (its calls with it)."""
        self._outbox.put(None)

    # -- the threads ---------------------------------------------------------------------

    def _write(self) -> None:
        try:
            fd, stream = self._connect()
        except OSError:
            self._end(None)  # not even a worker of its own: the calls say so
            return
        finally:
            self.connected.set()
        threading.Thread(
            target=self._read, args=(stream,), name="podium-worker-in", daemon=True
        ).start()
        try:
            while (message := self._outbox.get()) is not None:
                write_frame(fd, message)
        except OSError:
            pass  # the worker is gone: the reader tells the calls
        finally:
            if self.link is not None:
                self.link.close_writing()
            elif self.proc is not None and self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass

    def _read(self, stream: IO[bytes]) -> None:
        try:
            while True:
                events: list[Event] = read_frame(stream)
                self._deliver(events)
        except Exception:
            pass  # EOF (it died or was closed) or a frame it could not finish
        status: int | None = None
        if self.link is not None:
            self.link.close()
        elif self.proc is not None:
            try:
                status = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                status = self.proc.wait()
        self._outbox.put(None)  # the writer ends too
        self._end(status)

    def _end(self, status: int | None) -> None:
        with self._lock:
            self.dead = True
            calls, self._calls = list(self._calls.values()), {}
        self._deliver([("died", call.ident, status) for call in calls], calls)

    def _deliver(self, events: list[Event], calls: list[_Call] | None = None) -> None:
        """Hand each event to its call's queue, one wake-up per loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Call, Event]]] = {}
        with self._lock:
            known = {c.ident: c for c in calls} if calls is not None else self._calls
            for event in events:
                call = known.get(event[1])
                if call is not None:  # else the caller has gone
                    by_loop.setdefault(call.loop, []).append((call, event))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_put, items)
            except RuntimeError:
                pass  # that loop has closed: nobody waits for these calls


def _put(items: list[tuple[_Call, Event]]) -> None:
    for call, event in items:
        call.events.put_nowait(event)


def _stop(worker: _Worker) -> None:
    worker.close()


class ProcessBackend:
    """Streams completions through litellm in the provider worker; images in process."""

    def __init__(self, settings: Mapping[str, ModelSettings]) -> None:
        self._settings = dict(settings)
        self._worker: _Worker | None = None
        self._inline: Any = None  # a LiteLLMBackend, made when first needed

    def settings_for(self, model: str) -> ModelSettings:
        return self._settings.get(model) or ModelSettings()

    def complete(self, request: CompletionRequest) -> CompletionStream:
        spent: list[Callable[[], CompletionResult | None]] = []
        return CompletionStream(
            self._complete(request, spent), lambda: spent[0]() if spent else None
        )

    async def generate_image(self, request: ImageRequest) -> ImageResult:
        result: ImageResult = await self._in_process().generate_image(request)
        return result

    @property
    def worker_pid(self) -> int | None:
        """The worker process's id while one runs (for tests and the bench): once connected
        (waited for, a worker being started)."""
        worker = self._worker
        if worker is not None:
            worker.connected.wait(worker_share.START_WAIT_S + worker_share.LOCK_WAIT_S)
        return None if worker is None or worker.dead else worker.pid

    def warm(self) -> None:
        """Start the worker now (a production with a real model opening), so the first call
        does not wait for its start and litellm's import."""
        self._live_worker()

    def close(self) -> None:
        """Let the worker end (the next call starts another)."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def _in_process(self) -> Any:
        if self._inline is None:
            from podium.llm.litellm_backend import LiteLLMBackend

            self._inline = LiteLLMBackend(self._settings)
        return self._inline

    def _live_worker(self) -> _Worker:
        worker = self._worker
        if worker is None or worker.dead:
            try:
                named = frozenset(s.api_key_env for s in self._settings.values() if s.api_key_env)
                worker = self._worker = _Worker(named)
            except OSError as exc:
                raise LLMError(
                    FailureKind.CONNECTION,
                    f"could not start the provider worker process ({exc.strerror or exc}); "
                    f"{INLINE_HINT}",
                ) from None
            weakref.finalize(self, _stop, worker)  # a forgotten backend lets its worker go
        return worker

    async def _complete(
        self, request: CompletionRequest, spent: list[Callable[[], CompletionResult | None]]
    ) -> AsyncIterator[str | CompletionResult]:
        settings = self.settings_for(request.model)
        try:
            # Real providers ignore the hints (the rehearsal model's): not worth the pipe.
            payload = dumps((dataclasses.replace(request, hints={}), settings))
        except Exception:
            payload = b""
        if payload:
            worker = self._live_worker()
            name = settings.api_key_env
            call = worker.start(payload, {name: os.environ.get(name)} if name else {})
            booked: list[CompletionResult | None] = []
            spent.append(lambda: booked[0] if booked else None)
            finished = False
            try:
                while True:
                    event = await call.events.get()
                    kind = event[0]
                    if kind == "text":
                        yield event[2]
                        continue
                    if kind == "rate":
                        rate_limits.report(event[2], event[3], limited=event[4])
                        continue
                    finished = True
                    if kind == "done":
                        yield event[2]
                        return
                    if kind == "error":
                        error = error_of(event[2])
                        booked.append(error.spent)
                        raise error
                    if kind == "died":
                        raise _died(request.model, event[2])
                    break  # "inline": the worker cannot take it
            finally:
                if not finished:  # stopped by the caller: stop it in the worker, book it
                    worker.cancel(call.ident)
                    booked.append(await _books_of(call))
                worker.forget(call.ident)
            spent.clear()
        stream = self._in_process().complete(request)
        spent.append(stream.spent)
        async for piece in stream:
            yield piece
        yield stream.result


async def _books_of(call: _Call) -> CompletionResult | None:
    """What a cancelled call had used, as the worker counted it (None: the engine estimates).
    A second cancellation while waiting goes through."""

    async def books() -> CompletionResult | None:
        while True:
            event = await call.events.get()
            kind = event[0]
            if kind == "rate":
                rate_limits.report(event[2], event[3], limited=event[4])
            elif kind in ("cut", "done"):
                result: CompletionResult | None = event[2]
                return result
            elif kind == "error":
                return error_of(event[2]).spent
            elif kind in FINAL or kind == "died":
                return None

    try:
        return await asyncio.wait_for(books(), CUT_WAIT_S)
    except TimeoutError:
        return None


def _died(model: str, status: int | None) -> LLMError:
    how = f"exit status {status}" if status is not None else "it stopped answering"
    return LLMError(
        FailureKind.CONNECTION,
        f"the provider worker process stopped during the call ({how}; {model}); it is started "
        f"again for the next call ({INLINE_HINT})",
        model=model,
    )
