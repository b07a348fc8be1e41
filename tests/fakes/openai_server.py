"""An OpenAI-compatible HTTP server on 127.0.0.1, scripted by a queue of behaviours.

Real HTTP, so the whole client stack (litellm, the openai client, httpx) runs as it would
against a provider, but nothing leaves the machine:

    with FakeOpenAI() as server:
        server.script([Status(429, retry_after=2), Reply(text="Hello.")])
        ...  # point the client at server.api_base ("http://127.0.0.1:PORT/v1")
        assert len(server.requests) == 1
        assert server.requests[0].headers["authorization"] == "Bearer sk-canary"

Each request consumes the next scripted behaviour; once the queue is empty, `default` answers.
`default` is a behaviour or a callable building one from the request, so a test can answer
according to what was asked. Every request is recorded (path, headers, JSON body) before it is
answered, so a request that times out still counts.

Served: `POST /v1/chat/completions` (SSE when `"stream": true`, with a usage chunk when
`stream_options.include_usage` is set; plain JSON otherwise), `POST /v1/images/generations`
(b64_json, or a URL served by `GET /v1/fake-images/N.png`) and `POST /v1/images/edits` (the
same answers; its multipart body read with `RecordedRequest.form()`), and `POST /v1/messages` in
Anthropic's shape (its SSE events, its usage with cache reads and writes, its error bodies),
for a model `anthropic/…` whose api_base is `server.url`. Any other path answers 404.

Tests import it once `tests/` is on sys.path:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from fakes.openai_server import FakeOpenAI, Reply, Status, openai_server
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import pytest

CHAT_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"
IMAGES_PATH = "/v1/images/generations"
IMAGES_EDIT_PATH = "/v1/images/edits"  # multipart: the prompt and its reference images
_IMAGE_FILES = "/v1/fake-images/"

# The smallest valid PNG (1x1, transparent): enough for anything that sniffs the bytes.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def solid_png(rgb: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> bytes:
    """A real PNG of one colour (Pillow), for answers a test must tell apart after an export
    has scaled or re-encoded them: read its colour back."""
    import io

    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.new("RGB", size, rgb).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A fresh server per test; import it into a test module (or a conftest) to use it."""
    with FakeOpenAI() as server:
        yield server


# --- behaviours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A successful answer: streamed in `chunks` (default: word by word) or as one JSON body.

    Token counts default to a word count of the prompt and the number of chunks.
    `chunk_delay_s` pauses between chunks (a slow but healthy stream).
    `include_usage=False` leaves usage out even when the client asked for it.
    `cached_tokens` (of the prompt tokens, read from the provider's cache) goes into
    `prompt_tokens_details.cached_tokens` (OpenAI) or `cache_read_input_tokens` (Anthropic);
    `cache_write_tokens` into Anthropic's `cache_creation_input_tokens`.
    `finish_reason="length"` is a reply cut off at the token limit (Anthropic: max_tokens).
    `headers` go out with the answer (rate-limit headers, say).
    """

    text: str = "Hello from the fake server."
    chunks: Sequence[str] | None = None
    finish_reason: str | None = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    include_usage: bool = True
    chunk_delay_s: float = 0.0
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return re.findall(r"\s*\S+", self.text) or ([self.text] if self.text else [])

    @property
    def full_text(self) -> str:
        return "".join(self.chunks) if self.chunks is not None else self.text


@dataclass(frozen=True)
class Status:
    """An error answer in OpenAI's shape: `{"error": {"message", "type", "code"}}`.

    `retry_after` becomes the Retry-After header (seconds, or an HTTP date as text).
    """

    status: int
    retry_after: float | str | None = None
    message: str | None = None
    error_type: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Malformed:
    """A 200 whose body is not JSON (for a stream: an SSE event whose data is not JSON)."""

    body: str = "{this is not json"


@dataclass(frozen=True)
class Slow:
    """Waits `seconds` before answering as `then` (a client timeout shorter than that fires)."""

    seconds: float
    then: Behaviour | None = None


@dataclass(frozen=True)
class Truncated:
    """Starts a reply, then drops the connection in the middle of the body."""

    text: str = "The beginning of a reply that never"


@dataclass(frozen=True)
class EmptyChoices:
    """A well-formed answer that holds no choice at all (a stream of `"choices": []` chunks)."""

    include_usage: bool = True


@dataclass(frozen=True)
class Image:
    """An image answer (for the images endpoint); `as_url` answers with a URL to fetch."""

    data: bytes = PNG_1X1
    revised_prompt: str | None = None
    as_url: bool = False


@dataclass(frozen=True)
class Raw:
    """Exactly these bytes, for anything the other behaviours do not cover."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


Behaviour = Reply | Status | Malformed | Slow | Truncated | EmptyChoices | Image | Raw
Responder = Behaviour | Callable[["RecordedRequest"], Behaviour]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    raw: bytes
    body: Any  # parsed JSON, or None when the body was not JSON
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def json(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    @property
    def stream(self) -> bool:
        return bool(self.json.get("stream"))

    def form(self) -> dict[str, list[bytes]]:
        """A multipart/form-data body (an image edit) as its fields: name -> values, in order."""
        from email.parser import BytesParser
        from email.policy import HTTP

        head = f"Content-Type: {self.headers.get('content-type', '')}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.raw)
        fields: dict[str, list[bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields.setdefault(name, []).append(payload)
        return fields

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.json.get("messages")
        return messages if isinstance(messages, list) else []


# --- server -------------------------------------------------------------------------------


class FakeOpenAI:
    """The server. Use as a context manager, or call `start()` and `stop()`."""

    def __init__(self, default: Responder | None = None) -> None:
        self.default: Responder = default if default is not None else Reply()
        self._queue: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._images: list[bytes] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = 0

    # lifecycle

    def start(self) -> FakeOpenAI:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is None:
            return
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:  # wake handlers blocked on an idle keep-alive connection
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # addresses

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_base(self) -> str:
        return self.url + "/v1"

    # scripting and inspection

    def script(self, behaviours: Iterable[Behaviour]) -> FakeOpenAI:
        """Queue behaviours; each is consumed by one request, in order."""
        with self._lock:
            self._queue.extend(behaviours)
        return self

    @property
    def pending(self) -> int:
        """Scripted behaviours not yet consumed."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == CHAT_PATH]

    @property
    def image_requests(self) -> list[RecordedRequest]:
        """The images asked for, generations and edits, in the order they arrived."""
        return [r for r in self.requests if r.path in (IMAGES_PATH, IMAGES_EDIT_PATH)]

    @staticmethod
    def prompt_of(request: RecordedRequest) -> str:
        """An image request's prompt: its JSON's, or an edit's form field."""
        if request.path == IMAGES_EDIT_PATH:
            return b"".join(request.form().get("prompt", [])).decode("utf-8", "replace")
        return str(request.json.get("prompt", ""))

    def reset(self) -> None:
        """Forget the queue and the recorded requests (the default stays)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    # used by the handler

    def _record_and_pick(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self._requests.append(request)
            scripted = self._queue.popleft() if self._queue else None
        if scripted is not None:
            return scripted
        default = self.default
        return default(request) if callable(default) else default

    def _next_id(self) -> str:
        with self._lock:
            self._ids += 1
            return f"chatcmpl-fake-{self._ids}"

    def _store_image(self, data: bytes) -> int:
        with self._lock:
            self._images.append(data)
            return len(self._images) - 1

    def _image(self, index: int) -> bytes | None:
        with self._lock:
            return self._images[index] if 0 <= index < len(self._images) else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-answer are expected here; stay quiet about them."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeOpenAI

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output is not the place for an access log."""

    # routing

    def do_GET(self) -> None:
        if self.path.startswith(_IMAGE_FILES):
            stem = self.path[len(_IMAGE_FILES) :].removesuffix(".png")
            data = self.fake._image(int(stem)) if stem.isdigit() else None
            if data is not None:
                self._send(200, data, {"Content-Type": "image/png"})
                return
        self._send_error_json(404, f"no such path: {self.path}", "invalid_request_error", None)

    def _body(self) -> bytes:
        """The request's body: Content-Length bytes, or chunks (aiohttp sends a multipart
        body, an image edit's, chunked)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        raw = self._body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(
            method="POST",
            path=self.path.split("?", 1)[0],
            headers={k.lower(): v for k, v in self.headers.items()},
            raw=raw,
            body=body,
        )
        behaviour = self.fake._record_and_pick(request)
        try:
            self._answer(request, behaviour)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    # answering

    def _answer(self, request: RecordedRequest, behaviour: Behaviour) -> None:
        if request.path == ANTHROPIC_PATH and not isinstance(behaviour, Slow | Raw | Truncated):
            self._anthropic(request, behaviour)
        elif request.path not in (CHAT_PATH, IMAGES_PATH, IMAGES_EDIT_PATH):
            self._send_error_json(
                404, f"no such path: {request.path}", "invalid_request_error", None
            )
        elif isinstance(behaviour, Slow):
            if self.fake._stopping.wait(behaviour.seconds):
                self.close_connection = True
                return
            self._answer(request, behaviour.then if behaviour.then is not None else Reply())
        elif isinstance(behaviour, Status):
            self._status(behaviour)
        elif isinstance(behaviour, Raw):
            self._send(behaviour.status, behaviour.body, behaviour.headers)
        elif isinstance(behaviour, Malformed):
            if request.stream:
                self._sse([f"data: {behaviour.body}\n\n", "data: [DONE]\n\n"])
            else:
                self._send(200, behaviour.body.encode(), {"Content-Type": "application/json"})
        elif request.path in (IMAGES_PATH, IMAGES_EDIT_PATH):
            self._images(request, behaviour)
        elif isinstance(behaviour, Image):
            self._send_error_json(500, "the fake was scripted with an image", "server_error", None)
        elif isinstance(behaviour, Truncated):
            self._truncated(request, behaviour)
        elif isinstance(behaviour, EmptyChoices):
            self._empty(request, behaviour)
        else:
            self._reply(request, behaviour)

    def _status(self, behaviour: Status) -> None:
        headers = dict(behaviour.headers)
        if behaviour.retry_after is not None:
            value = behaviour.retry_after
            headers["Retry-After"] = (
                str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            )
        defaults = {
            400: "invalid_request_error",
            401: "invalid_request_error",
            404: "invalid_request_error",
            429: "rate_limit_exceeded",
        }
        self._send_error_json(
            behaviour.status,
            behaviour.message or f"scripted status {behaviour.status}",
            behaviour.error_type or defaults.get(behaviour.status, "server_error"),
            behaviour.code,
            headers,
        )

    def _anthropic(self, request: RecordedRequest, behaviour: Behaviour) -> None:
        """Anthropic's Messages API: errors as `{"type": "error", "error": {…}}`, replies as
        its event stream (message_start with the input usage, text deltas, message_delta
        with the stop reason and output tokens)."""
        if isinstance(behaviour, Status):
            headers = dict(behaviour.headers)
            if behaviour.retry_after is not None:
                headers["Retry-After"] = str(behaviour.retry_after)
            body = {
                "type": "error",
                "error": {
                    "type": behaviour.error_type or "api_error",
                    "message": behaviour.message or f"scripted status {behaviour.status}",
                },
            }
            self._send(
                behaviour.status,
                json.dumps(body).encode(),
                {"Content-Type": "application/json", **headers},
            )
            return
        if isinstance(behaviour, Malformed):
            self._sse([f"event: message_start\ndata: {behaviour.body}\n\n"])
            return
        reply = behaviour if isinstance(behaviour, Reply) else Reply()
        model = str(request.json.get("model", "claude-fake"))
        pieces = reply.pieces()
        words = sum(len(json.dumps(m.get("content", "")).split()) for m in request.messages)
        usage: dict[str, Any] = {
            "input_tokens": reply.prompt_tokens if reply.prompt_tokens is not None else words,
            "output_tokens": 1,
            "cache_read_input_tokens": reply.cached_tokens or 0,
            "cache_creation_input_tokens": reply.cache_write_tokens or 0,
        }
        stop = {"length": "max_tokens", "stop": "end_turn"}.get(
            reply.finish_reason or "stop", reply.finish_reason
        )
        ident = self.fake._next_id()

        def named(name: str, payload: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps({'type': name, **payload})}\n\n"

        def events() -> Iterator[str]:
            message = {
                "id": ident,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": usage,
            }
            yield named("message_start", {"message": message})
            block = {"type": "text", "text": ""}
            yield named("content_block_start", {"index": 0, "content_block": block})
            for i, piece in enumerate(pieces):
                if i and reply.chunk_delay_s and self.fake._stopping.wait(reply.chunk_delay_s):
                    return
                delta = {"type": "text_delta", "text": piece}
                yield named("content_block_delta", {"index": 0, "delta": delta})
            yield named("content_block_stop", {"index": 0})
            out = reply.completion_tokens or len(pieces)
            delta = {"stop_reason": stop, "stop_sequence": None}
            yield named("message_delta", {"delta": delta, "usage": {"output_tokens": out}})
            yield named("message_stop", {})

        self._sse(events(), reply.headers)

    def _reply(self, request: RecordedRequest, reply: Reply) -> None:
        model = str(request.json.get("model", "fake-model"))
        pieces = reply.pieces()
        usage = _usage(request, reply.prompt_tokens, reply.completion_tokens or len(pieces))
        if reply.cached_tokens is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": reply.cached_tokens}
        ident = self.fake._next_id()
        if not request.stream:
            body = {
                "id": ident,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.full_text},
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": usage,
            }
            json_type = {"Content-Type": "application/json"}
            self._send(200, json.dumps(body).encode(), {**json_type, **reply.headers})
            return

        def events() -> Iterator[str]:
            yield _event(_chunk(ident, model, {"role": "assistant", "content": ""}, None))
            for i, piece in enumerate(pieces):
                if i and reply.chunk_delay_s:
                    if self.fake._stopping.wait(reply.chunk_delay_s):
                        return
                yield _event(_chunk(ident, model, {"content": piece}, None))
            yield _event(_chunk(ident, model, {}, reply.finish_reason))
            if reply.include_usage and _wants_usage(request):
                yield _event(_usage_chunk(ident, model, usage))
            yield "data: [DONE]\n\n"

        self._sse(events(), reply.headers)

    def _truncated(self, request: RecordedRequest, behaviour: Truncated) -> None:
        model = str(request.json.get("model", "fake-model"))
        if not request.stream:
            partial = json.dumps({"id": "x", "choices": [{"message": {"content": behaviour.text}}]})
            head = partial[: len(partial) // 2].encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(partial)))
            self.end_headers()
            self.wfile.write(head)
        else:
            ident = self.fake._next_id()
            self._start_sse()
            self._write_chunk(
                _event(_chunk(ident, model, {"role": "assistant", "content": ""}, None))
            )
            for piece in re.findall(r"\s*\S+", behaviour.text):
                self._write_chunk(_event(_chunk(ident, model, {"content": piece}, None)))
            # half an HTTP chunk, then silence: the body is cut mid-event
            self.wfile.write(b'40\r\ndata: {"id": "')
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _empty(self, request: RecordedRequest, behaviour: EmptyChoices) -> None:
        model = str(request.json.get("model", "fake-model"))
        ident = self.fake._next_id()
        usage = _usage(request, None, 0)
        if not request.stream:
            body: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion",
                "model": model,
                "choices": [],
            }
            if behaviour.include_usage:
                body["usage"] = usage
            self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
            return
        events = [_event({**_chunk(ident, model, {}, None), "choices": []})]
        if behaviour.include_usage and _wants_usage(request):
            events.append(_event(_usage_chunk(ident, model, usage)))
        events.append("data: [DONE]\n\n")
        self._sse(events)

    def _images(self, request: RecordedRequest, behaviour: Behaviour) -> None:
        image = behaviour if isinstance(behaviour, Image) else Image()
        count = max(1, int(request.json.get("n") or 1))
        items: list[dict[str, Any]] = []
        for _ in range(count):
            item: dict[str, Any]
            if image.as_url or request.json.get("response_format") == "url":
                index = self.fake._store_image(image.data)
                item = {"url": f"{self.fake.url}{_IMAGE_FILES}{index}.png"}
            else:
                item = {"b64_json": base64.b64encode(image.data).decode()}
            if image.revised_prompt is not None:
                item["revised_prompt"] = image.revised_prompt
            items.append(item)
        body = {"created": int(time.time()), "data": items}
        self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

    # low level

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_error_json(
        self,
        status: int,
        message: str,
        error_type: str,
        code: str | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        self._send(
            status,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def _start_sse(self, headers: dict[str, str] | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _sse(self, events: Iterable[str], headers: dict[str, str] | None = None) -> None:
        self._start_sse(headers)
        for event in events:
            self._write_chunk(event)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def _chunk(ident: str, model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage_chunk(ident: str, model: str, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [],
        "usage": usage,
    }


def _wants_usage(request: RecordedRequest) -> bool:
    options = request.json.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def _usage(request: RecordedRequest, prompt: int | None, completion: int) -> dict[str, Any]:
    if prompt is None:
        words = sum(len(str(m.get("content", "")).split()) for m in request.messages)
        prompt = max(1, words)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
