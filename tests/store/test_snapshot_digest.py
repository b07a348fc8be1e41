"""The snapshot digest: one value for the writer's rows (str) and the rows read back (bytes)."""

from __future__ import annotations

import zlib

from podium.store import snapshots
from podium.store.events import STREAMED_KIND

PAYLOAD = '{"kind":"task_state","task_id":"t\u00e9"}'


def test_one_crc_of_the_joined_row_is_the_chained_crc() -> None:
    chained = zlib.crc32(PAYLOAD.encode(), zlib.crc32(b"7\x00task_state\x00"))
    assert snapshots.digest([(7, 0.0, "task_state", PAYLOAD)]) == chained


def test_written_and_read_rows_digest_alike() -> None:
    written = [(7, 0.0, "task_state", PAYLOAD), (8, 0.0, STREAMED_KIND, "x")]
    read = [(seq, 0, kind, payload.encode()) for seq, _, kind, payload in written]
    assert snapshots.digest(written, 5) == snapshots.digest(read, 5)
    assert snapshots.digest(written) == snapshots.digest(written[:1])
