"""What an export made before, kept by content: spoken lines, encoded speech, stills, sketches.

An export of a big series draws and encodes the same things every time: each line of the table
read (espeak-ng or a speech model), its MP3 frames, an episode's stills, the storyboard's
sketches. They are kept in the data folder (`data_dir()/cache/export`), each under the hash of
everything that made it — the inputs, podium's version, a digest of the drawing code's source
and the outside program's version — so a second export after a small change makes only what
changed, and a change to podium or to the programs makes everything again.

Never trusted blindly: an entry is its payload after the payload's SHA-256, written to a
temporary name and renamed (a crash leaves no half entry under a real name); an entry whose
digest does not match (damaged, cut short) is removed and made again. The cache is bounded
(`LIMIT_BYTES`, the entries least recently used go first) and best effort: a folder that cannot
be read or written only means things are made again. `PODIUM_EXPORT_CACHE=0` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from functools import cache
from pathlib import Path

import podium
from podium.locations import data_dir

LIMIT_BYTES = 1 << 30  # the whole cache; past it, the least recently used entries go
_KEEP = 0.8  # a prune leaves this fraction of the limit
ENV = "PODIUM_EXPORT_CACHE"
_DIGEST = 32
_STALE_S = 3600.0  # a temporary file this old was left by a crash


def key(*parts: object) -> str:
    """The hash naming an entry: podium's version and `parts` (their `repr`, which is stable
    for the strings, numbers, tuples and frozen dataclasses passed here)."""
    text = repr((podium.__version__, *parts))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@cache
def code_digest(*modules: str) -> str:
    """A digest of the source of `modules` (dotted names): a change to how a thing is drawn or
    encoded names new entries, even within one version."""
    import importlib.util

    digest = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        try:
            digest.update(Path(origin).read_bytes() if origin else name.encode())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()


class Cache:
    """Entries in `folder/<kind>/<key[:2]>/<key>`; `None` as the folder: nothing is kept."""

    def __init__(self, folder: Path | None, limit_bytes: int = LIMIT_BYTES) -> None:
        self.folder = folder
        self.limit_bytes = limit_bytes
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    @staticmethod
    def default() -> Cache:
        if os.environ.get(ENV, "") == "0":
            return Cache(None)
        return Cache(data_dir() / "cache" / "export")

    def _path(self, kind: str, name: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / kind / name[:2] / name

    def get(self, kind: str, name: str) -> bytes | None:
        path = self._path(kind, name)
        if path is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            self._count(hit=False)
            return None
        body = data[_DIGEST:]
        if len(data) < _DIGEST or hashlib.sha256(body).digest() != data[:_DIGEST]:
            with contextlib.suppress(OSError):
                path.unlink()  # damaged or cut short: made again
            self._count(hit=False)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept longest
        self._count(hit=True)
        return body

    def put(self, kind: str, name: str, data: bytes) -> None:
        path = self._path(kind, name)
        if path is None:
            return
        temporary = path.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as out:
                out.write(hashlib.sha256(data).digest())
                out.write(data)
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def prune(self) -> None:
        """Keep the cache under its limit: the least recently used entries go first (and any
        temporary file a crash left behind)."""
        if self.folder is None or not self.folder.is_dir():
            return
        entries: list[tuple[float, int, Path]] = []
        try:
            for path in self.folder.glob("*/*/*"):
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    if path.name.startswith("."):
                        if time.time() - stat.st_mtime > _STALE_S:  # a crash's, not a writer's
                            path.unlink()
                        continue
                    entries.append((stat.st_mtime, stat.st_size, path))
        except OSError:
            return
        total = sum(size for _, size, _ in entries)
        if total <= self.limit_bytes:
            return
        for _, size, path in sorted(entries):
            if total <= self.limit_bytes * _KEEP:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
