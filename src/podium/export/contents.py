"""The contents an export reads, kept as the JSON text stored for them (issue 20's memory).

A big series' current versions are 1,922 contents: about 55 MB of stored JSON, and 370 MB of
Python objects once decoded. An export reads most of them, a few writers each, so it reads
them from the store in one go (`ContentReader.read_ahead`: one connection, seq order) and
keeps that text; each content is decoded when a writer asks for it, and the shelf in front
(`ContentShelf`, `KEEP` of them) keeps only the last few decoded. A content decoded again
costs a few milliseconds; holding every one decoded cost the export most of its memory.

The text is kept compressed (zlib's fastest level): the big series' 57 MB of JSON are 8.5 MB
so, for 0.2 s of CPU to compress them and 0.1 s for each pass that reads them all again.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import Any

from podium.store.snapshots import ContentReader

KEEP = 64  # decoded contents the export's shelf keeps (the most recently read)
_BATCH = 256  # contents asked of SQLite at a time


class StoredContents(ContentReader):
    """A `ContentReader` whose read-ahead keeps each row's stored text, decoded at each ask
    (the same checks, the same errors as the reader it extends, only later: when asked)."""

    def __init__(self, path: Any, uri: str, busy_timeout_s: float = 5.0) -> None:
        super().__init__(path, uri, busy_timeout_s)
        # seq -> (artifact id, the row's kind, its payload: text compressed, else as read)
        self._stored: dict[int, tuple[str, Any, Any]] = {}

    def read_ahead(self, wanted: Iterable[tuple[int, str]]) -> None:
        """The rows of `wanted` (seq, artifact id) read in one go and kept as stored; a seq
        with no row raises CorruptDatabase here, as the reader it extends does."""
        ids = dict(wanted)
        seqs = sorted(ids)
        for start in range(0, len(seqs), _BATCH):
            chunk = seqs[start : start + _BATCH]
            rows = self._rows(chunk, ids[chunk[0]])
            for seq in chunk:
                row = rows.get(seq)
                if row is None:
                    self._content(seq, ids[seq], None)  # raises: the log lost it
                    continue
                kind, payload = row
                if isinstance(payload, str):
                    payload = _Packed(zlib.compress(payload.encode("utf-8", "surrogatepass"), 1))
                self._stored[seq] = (ids[seq], kind, payload)

    def __call__(self, seq: int, artifact_id: str) -> dict[str, Any]:
        found = self._stored.get(seq)
        if found is not None and found[0] == artifact_id:
            _, kind, payload = found
            if isinstance(payload, _Packed):
                payload = zlib.decompress(payload.data).decode("utf-8", "surrogatepass")
            return self._content(seq, artifact_id, (kind, payload))
        return super().__call__(seq, artifact_id)


class _Packed:
    """A payload read as text, kept compressed (told apart from a payload read as bytes)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data
