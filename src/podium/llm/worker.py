"""The provider worker: litellm's streams parsed in a process of their own (issue 20).

litellm and the openai client spend about 0.4 ms of CPU on each streamed chunk (two pydantic
objects a chunk); thirty agents at 2,000 chunks a second would take most of a core from the
loop that draws the screen and runs the engine. `ProcessBackend` (`podium.llm.worker_backend`)
starts a Python process running this module's `main` (through `worker_backend.serve_warm`,
which imports litellm in a thread at once) and sends it each call; here the calls run
through `LiteLLMBackend` exactly as they would in process, and what they give is sent back:

- the text, coalesced: every call's pieces gathered for `COALESCE_S` and sent in one frame;
- each provider request's rate-limit observation (the `rate_limits.report` the backend makes),
  for the parent to hand to the limiter's slot that holds the call;
- the result, or the `LLMError` (its kind, message, retry-after, spent books, rate limits);
- on a cancellation, the books of what the call had used (`CompletionStream.spent`).

The pipe carries the parent's requests, the model's settings and the value of the key's
variable the settings name, as the parent read it (memory only, never logged). A frame is a
4-byte big-endian length and a pickle; the two ends are one program, so nothing else ever
writes to it. The worker ends when its stdin closes: when the parent closes it or dies, so it
never outlives the parent. The shared worker (`worker_server`, `worker_share`) serves each
connection on a Unix socket as a parent of its own and outlives them, until idle.
"""

from __future__ import annotations

import asyncio
import io
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from pydantic import BaseModel

from podium.domain.asking import base_of, reply_schema
from podium.llm import rate_limits
from podium.llm.types import CompletionRequest, LLMError

COALESCE_S = 0.025  # text is sent at most this often (40 frames a second for every call)

_HEADER = struct.Struct(">I")

# Events, worker to parent (a frame is a list of them, oldest first):
#   ("text", id, str)                           streamed text
#   ("rate", id, RateLimit | None, int, bool)   one provider request's rate-limit report
#   ("done", id, CompletionResult)              the call's result
#   ("error", id, ErrorFields)                  the call's LLMError
#   ("cut", id, CompletionResult | None)        a cancelled call's books
#   ("inline", id, str)                         this worker cannot run it: run it in process
# Messages, parent to worker: ("call", id, pickle of (request, settings), keys), ("cancel", id);
# keys: the values of the variables the settings name (`api_key_env`), read by the parent.
Event = tuple[Any, ...]
FINAL = frozenset({"done", "error", "cut", "inline"})


class _Pickler(pickle.Pickler):
    """A pickler that also sends the engine's reply schemas: each is made at run time from
    its content class (`reply_schema`, cached), so it is sent as that recipe and made again
    (the same class, from the cache) on the other side; so are the replies parsed with it."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            base = base_of(obj)
            if base is not obj and reply_schema(base) is obj:
                return reply_schema, (base,)
        return NotImplemented


def dumps(payload: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(payload)
    return buffer.getvalue()


def write_frame(fd: int, payload: Any) -> None:
    data = dumps(payload)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame, or raise EOFError when the other end closed."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def error_fields(error: LLMError) -> tuple[Any, ...]:
    return (
        error.kind,
        error.message,
        error.retry_after,
        error.model,
        error.spent,
        error.rate_limit,
    )


def error_of(fields: tuple[Any, ...]) -> LLMError:
    kind, message, retry_after, model, spent, rate_limit = fields
    return LLMError(
        kind, message, retry_after=retry_after, model=model, spent=spent, rate_limit=rate_limit
    )


class _Worker:
    """The worker's loop: runs each call as a task, and sends what they give in frames."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        out: int,
        gone: Callable[[], None] | None = None,
    ) -> None:
        self._loop = loop
        self._out = out
        self._gone = gone  # the parent cannot be written to (None: end the process)
        self.ended = False  # set once nothing more is written to `out`
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._texts: dict[int, list[str]] = {}  # each call's text since the last frame
        self._events: list[Event] = []  # everything else, in order
        self._flush: asyncio.Handle | None = None

    # -- from the parent -----------------------------------------------------------------

    def receive(self, message: tuple[Any, ...]) -> None:
        if message[0] == "call":
            ident, payload = message[1], message[2]
            keys = message[3] if len(message) > 3 else None
            try:
                request, settings = pickle.loads(payload)
            except Exception as exc:  # a class this process cannot import, say
                self._final(("inline", ident, f"{type(exc).__name__}: {exc}"[:200]))
                return
            self._tasks[ident] = self._loop.create_task(self._run(ident, request, settings, keys))
        elif message[0] == "cancel":
            task = self._tasks.get(message[1])
            if task is not None:
                task.cancel()

    # -- one call ------------------------------------------------------------------------

    def end(self) -> None:
        """The parent has gone: its calls are cancelled, nothing more is sent."""
        self.ended = True
        for task in list(self._tasks.values()):
            task.cancel()
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None

    async def _run(
        self, ident: int, request: CompletionRequest, settings: Any, keys: Any = None
    ) -> None:
        from podium.llm.litellm_backend import LiteLLMBackend
        from podium.llm.litellm_errors import classify, secrets_of
        from podium.llm.litellm_requests import CALL_KEYS, api_key_for

        if keys is not None:
            CALL_KEYS.set(keys)  # this task's own context: the parent's keys, not ours

        def observe(rate_limit: rate_limits.RateLimit | None, tokens: int, limited: bool) -> None:
            self._event(("rate", ident, rate_limit, tokens, limited), ident)

        rate_limits.watch(observe)  # this task's own context: reset when the task ends
        stream = LiteLLMBackend({request.model: settings}).complete(request)
        final: Event
        try:
            async for piece in stream:
                self._text(ident, piece)
            final = ("done", ident, stream.result)
        except asyncio.CancelledError:
            final = ("cut", ident, stream.spent())
        except LLMError as error:
            final = ("error", ident, error_fields(error))
        except Exception as exc:  # a bug of ours or litellm's: still one typed error
            key = api_key_for(settings, request.model)
            typed = classify(exc, request.model, settings, secrets_of(key))
            typed.spent = stream.spent()
            final = ("error", ident, error_fields(typed))
        finally:
            self._tasks.pop(ident, None)
            try:
                await stream.aclose()
            except BaseException:
                pass  # the call has ended either way; its outcome is what counts
        self._final(final)

    # -- to the parent -------------------------------------------------------------------

    def _text(self, ident: int, piece: str) -> None:
        texts = self._texts.get(ident)
        if texts is None:
            self._texts[ident] = [piece]
        else:
            texts.append(piece)
        if self._flush is None:
            self._flush = self._loop.call_later(COALESCE_S, self.flush)

    def _event(self, event: Event, ident: int) -> None:
        texts = self._texts.pop(ident, None)
        if texts:  # the text before it goes first
            self._events.append(("text", ident, "".join(texts)))
        self._events.append(event)
        if self._flush is None:
            self._flush = self._loop.call_later(COALESCE_S, self.flush)

    def _final(self, event: Event) -> None:
        self._event(event, event[1])
        self.flush()  # a result is not held back

    def flush(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self.ended:
            self._events, self._texts = [], {}
            return
        events = self._events
        events.extend(("text", i, "".join(t)) for i, t in self._texts.items() if t)
        if not events:
            return
        self._events, self._texts = [], {}
        try:
            write_frame(self._out, events)
        except OSError:
            if self._gone is None:
                os._exit(0)  # the parent is gone: nobody is waiting for these calls
            self.end()
            self._gone()


def _read(stdin: IO[bytes], loop: asyncio.AbstractEventLoop, worker: _Worker) -> None:
    """The parent's messages, read in a thread; the parent gone (EOF), the worker ends."""
    while True:
        try:
            message = read_frame(stdin)
        except Exception:
            os._exit(0)
        loop.call_soon_threadsafe(worker.receive, message)


async def _serve(out: int) -> None:
    loop = asyncio.get_running_loop()
    worker = _Worker(loop, out)
    reader = threading.Thread(
        target=_read, args=(sys.stdin.buffer, loop, worker), name="podium-worker-in", daemon=True
    )
    reader.start()
    await asyncio.Event().wait()  # until the reader ends the process


def main() -> None:
    # The parent handles ^C (and the screen has no signals); the worker ends with its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.dup(1)  # the frames' own descriptor; a stray print goes to stderr instead
    os.dup2(2, 1)
    asyncio.run(_serve(out))


if __name__ == "__main__":
    main()
