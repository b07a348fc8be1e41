"""The contents an export reads, kept as the JSON text stored for them (issue 20's memory).

A big series' current versions are 1,922 contents: about 55 MB of stored JSON, and 370 MB of
Python objects once decoded. An export reads most of them, a few writers each, so it reads
them from the store in one go (`ContentReader.read_ahead`: one connection, seq order) and
keeps that text; each content is decoded when a writer asks for it, and the shelf in front
(`ContentShelf`, `KEEP` of them) keeps only the last few decoded. A content decoded again
costs a few milliseconds; holding every one decoded cost the export most of its memory.
"""

from __future__ import annotations

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
        self._stored: dict[int, tuple[str, tuple[Any, Any]]] = {}

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
                self._stored[seq] = (ids[seq], row)

    def __call__(self, seq: int, artifact_id: str) -> dict[str, Any]:
        found = self._stored.get(seq)
        if found is not None and found[0] == artifact_id:
            return self._content(seq, artifact_id, found[1])
        return super().__call__(seq, artifact_id)
