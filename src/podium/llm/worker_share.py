"""The shared provider worker, the client's side (issue 20): litellm imported once, not at
every run.

The first podium process that needs the provider worker starts one that outlives it: it
listens on a Unix socket in a private (0700) runtime folder of the data folder and ends by
itself after `PODIUM_WORKER_IDLE_S` seconds (600 unless set) without a connection. Later
podium processes (several productions at once too) connect to it instead of starting their
own, so their first call does not wait for litellm's import. `PODIUM_SHARED_WORKER=0` turns
sharing off: each process starts a worker of its own that ends with it (tests do this).

- The socket's name carries a build tag (podium's version, the Python, its files' times), so
  a podium of another version never meets this worker; the handshake checks the tag again.
- The keys: a call carries the values of the variables its model's settings name
  (`api_key_env`), read in the connecting process, in memory only. The other variables a
  provider reads by itself (OPENAI_API_KEY, AWS_*, proxies, …) are the worker's, inherited
  from the process that started it: a process whose values of them differ is refused and
  starts a worker of its own (as when sharing is off).
- A stale socket (its worker killed) is found at connect, removed, and a new worker started;
  two processes starting at once start one worker (a lock file beside the socket).
- Anything going wrong here gives None: the caller starts a worker of its own.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from podium.llm.worker import read_frame, write_frame

SHARED_ENV = "PODIUM_SHARED_WORKER"
IDLE_ENV = "PODIUM_WORKER_IDLE_S"
DEFAULT_IDLE_S = 600.0
LOCK_WAIT_S = 30.0  # how long a process waits for another one starting the worker
HELLO_WAIT_S = 5.0  # for a running worker's answer
START_WAIT_S = 30.0  # for a worker just started (Python and podium's modules to import)
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes

# The variables a provider (litellm, httpx) may read by itself: a connecting process must have
# the worker's values of them (the ones its settings name go with each call instead).
_PROVIDER_VAR = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS|_API_BASE|_BASE_URL|_ENDPOINT|_PROXY|_CA_BUNDLE)$"
    r"|^(OPENAI|ANTHROPIC|AZURE|AWS|GOOGLE|VERTEX|GEMINI|LITELLM|COHERE|MISTRAL|GROQ|"
    r"TOGETHER|DEEPSEEK|XAI|OPENROUTER|OLLAMA|HF_|HUGGINGFACE|SSL_|REQUESTS_|CURL_)",
    re.IGNORECASE,
)

_started: list[subprocess.Popen[bytes]] = []  # kept so no ResourceWarning says "still running"


def shared_enabled() -> bool:
    value = os.environ.get(SHARED_ENV, "").strip().lower()
    return value not in ("0", "false", "no", "off")


def idle_s() -> float:
    try:
        value = float(os.environ.get(IDLE_ENV, ""))
    except ValueError:
        return DEFAULT_IDLE_S
    return value if value > 0 else DEFAULT_IDLE_S


def provider_env(environ: Mapping[str, str], named: Iterable[str] = ()) -> dict[str, str]:
    """The variables a provider may read by itself, but those a model's settings name."""
    skip = set(named)
    return {k: v for k, v in environ.items() if k not in skip and _PROVIDER_VAR.search(k)}


_TAG: list[str] = []


def build_tag() -> str:
    """This podium and Python: a worker serves only processes of the same tag. The times of
    the files the worker runs are in it too (a checkout's edited code is a new worker)."""
    if not _TAG:
        import podium

        digest = hashlib.sha256()
        # The environment (`sys.prefix`: a venv's own packages) and the interpreter it runs,
        # not the name it was started by: `.venv/bin/python` and the `podium` script's
        # `python3` are one Python and share one worker.
        python = os.path.realpath(sys.executable)
        digest.update(f"{podium.__version__}\0{sys.prefix}\0{python}\0{sys.version}".encode())
        root = Path(podium.__file__).resolve().parent
        files = [root / "__init__.py", root / "locations.py", root / "cli" / "provider_worker.py"]
        for part in ("domain", "llm"):
            for folder, _dirs, names in sorted(os.walk(root / part)):
                files += [Path(folder) / n for n in sorted(names) if n.endswith(".py")]
        for file in files:
            with contextlib.suppress(OSError):
                info = file.stat()
                digest.update(f"{file}:{info.st_mtime_ns}:{info.st_size}".encode())
        _TAG.append(digest.hexdigest()[:16])
    return _TAG[0]


def runtime_dir() -> Path:
    """The private folder for the socket and its lock: `run` in the data folder, or (its path
    too long for a socket) one in the temporary folder named after the data folder."""
    from podium.locations import data_dir

    data = data_dir().resolve()
    folder = data / "run"
    if len(str(folder / "worker-0123456789abcdef.sock")) > MAX_SOCKET_PATH:
        named = hashlib.sha256(str(data).encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"podium-{os.getuid()}-{named}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise OSError(errno.EPERM, f"{folder} is not this user's folder")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


class Link:
    """A connection to the shared worker: frames both ways on one socket."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock = sock
        self.pid = pid
        self.reader = sock.makefile("rb")
        self.write_fd = sock.fileno()

    def close_writing(self) -> None:
        """No more messages: the worker cancels this connection's calls and closes it."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.reader.close()
        with contextlib.suppress(OSError):
            self.sock.close()


class _Refused(Exception):
    """A running worker that will not serve this process (its environment differs)."""


def connect(named: Iterable[str], worker_main: str, env: Mapping[str, str]) -> Link | None:
    """A connection to the shared worker, started if none runs; None: start one of your own."""
    if not shared_enabled() or sys.platform == "win32":
        return None
    names = sorted(set(named))
    try:
        folder = runtime_dir()
        tag = build_tag()
        path = folder / f"worker-{tag}.sock"
        try:
            return _hello(path, tag, names, HELLO_WAIT_S)
        except _Refused:
            return None
        except OSError:
            pass  # none runs (or a stale socket): start one, one process at a time
        with _locked(folder / f"worker-{tag}.lock"):
            try:
                return _hello(path, tag, names, HELLO_WAIT_S)  # another started it meanwhile
            except _Refused:
                return None
            except OSError:
                pass
            with contextlib.suppress(FileNotFoundError):
                path.unlink()  # stale: its worker was killed
            _start(path, worker_main, env)
            return _hello(path, tag, names, START_WAIT_S, waiting=True)
    except Exception:  # noqa: BLE001 - a worker of its own instead
        return None


def stop() -> list[int]:
    """Ask every shared worker of this data folder (this podium's, and one an older or other
    podium left) to end once the runs it serves have ended; their process ids."""
    if sys.platform == "win32":
        return []
    try:
        sockets = sorted(runtime_dir().glob("worker-*.sock"))
    except OSError:
        return []
    pids = []
    for path in sockets:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(HELLO_WAIT_S)
                sock.connect(str(path))
                write_frame(sock.fileno(), ("stop", build_tag()))
                with sock.makefile("rb") as reader:
                    answer: Any = read_frame(reader)
            pids.append(int(answer[1]))
        except (OSError, EOFError, IndexError, TypeError, ValueError):
            continue  # a stale socket: nobody listens
    return pids


def _hello(path: Path, tag: str, names: list[str], wait_s: float, waiting: bool = False) -> Link:
    deadline = time.monotonic() + wait_s
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            sock.connect(str(path))
            break
        except OSError:
            sock.close()
            if not waiting or time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # the worker just started: not listening yet
    try:
        sock.setblocking(True)
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        write_frame(sock.fileno(), ("hello", tag, provider_env(os.environ, names), names))
        link = Link(sock, 0)
        answer: Any = read_frame(link.reader)
        sock.settimeout(None)
    except EOFError:
        sock.close()
        raise OSError(errno.ECONNRESET, "the worker closed the connection") from None
    except BaseException:
        sock.close()
        raise
    if answer[0] != "ok":
        link.close()
        raise _Refused(str(answer[1:]))
    link.pid = int(answer[1])
    return link


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl  # Unix only, as the shared worker is

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # the lock goes with it


def _start(path: Path, worker_main: str, env: Mapping[str, str]) -> None:
    """The worker, in a session of its own (^C in the terminal is not for it), its output
    nowhere (a caller reading this process's output is not held until it ends)."""
    command = [sys.executable, "-c", worker_main, "--socket", str(path), "--idle", str(idle_s())]
    _started[:] = [p for p in _started if p.poll() is None]
    _started.append(
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            close_fds=True,
            start_new_session=True,
        )
    )
