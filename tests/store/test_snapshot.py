"""State snapshots (issue 20): a reload starts from the newest snapshot and folds only the
events after it, and gets exactly the view folding the whole log gives (the log stays the only
memory); a snapshot another fold made, or a damaged one, is ignored with a log line. Big
artifact contents stay in the store and are read back when asked."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from podium.cli.fork import _fork
from podium.domain import snapshot as snapshot_module
from podium.domain.events import ArtifactCreated, Feedback, RunStarted, RunStopped
from podium.domain.production import ProductionSpec
from podium.domain.records import ContentShelf
from podium.domain.state import ProductionView, fold
from podium.engine.engine import AutoApprove, Engine
from podium.loader import read_production
from podium.store import CorruptDatabase, EventStore, snapshots
from podium.store.replay import replay

SAMPLES = Path(__file__).resolve().parents[2] / "sample_productions"


def quick(name: str) -> ProductionSpec:
    """A sample with the rehearsal model at full speed."""
    spec = read_production(SAMPLES / f"{name}.toml")
    settings = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e5, "latency_by_kind": {}}
    )
    return spec.model_copy(
        update={"models": spec.models.model_copy(update={"rehearsal": settings})}
    )


async def made(path: Path, name: str = "last_light", *, close: bool = True) -> Engine:
    store = await EventStore.open(path)
    engine = await Engine.open(store, spec=quick(name), auto_approve=AutoApprove.ALL)
    await engine.run()
    if close:
        await store.close()
    return engine


def stored_snapshots(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return [(int(s), str(f)) for s, f in conn.execute("SELECT seq, fold FROM snapshots")]
    finally:
        conn.close()


async def views(path: Path) -> tuple[ProductionView, ProductionView, ProductionView]:
    """From the snapshot, from the whole log (replay), and the plain fold of every event."""
    store = await EventStore.open(path, read_only=True)
    try:
        snapshotted = ProductionView()
        await replay(store, snapshotted)
        whole = ProductionView()
        await replay(store, whole, snapshot=False)
        folded = fold(await store.read())
    finally:
        await store.close()
    return snapshotted, whole, folded


async def append(path: Path, *payloads: object) -> int:
    """Events written by a store no view is snapshotted from (an older podium, say)."""
    store = await EventStore.open(path)
    try:
        for payload in payloads:
            store.emit(payload)  # type: ignore[arg-type]
        await store.flush()
        return store.last_seq
    finally:
        await store.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["last_light", "arctic_journey", "arcadian_summers"])
async def test_a_sample_reloads_from_its_snapshot_as_from_its_log(
    name: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{name}.db"
    engine = await made(path, name)
    assert stored_snapshots(path) == [(engine.view.last_seq, snapshot_module.fold_version())]
    snapshotted, whole, folded = await views(path)
    assert snapshotted == whole == folded == engine.view
    # a tail after the snapshot: folded on top of it
    agent = next(iter(folded.agents))
    last = await append(path, RunStarted(), Feedback(agent_id=agent, text="tighter"), RunStopped())
    snapshotted, whole, folded = await views(path)
    assert snapshotted.last_seq == last
    assert snapshotted == whole == folded
    assert snapshotted.agents[agent].feedback[-1] == "tighter"


async def test_a_running_production_snapshots_every_so_many_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots, "EVERY", 300)
    path = tmp_path / "p.db"
    engine = await made(path, close=False)  # a crash: no snapshot at close
    await engine.store.flush()
    try:
        (seq, _), *more = stored_snapshots(path)
        assert not more and 300 <= seq < engine.view.last_seq
        snapshotted, whole, folded = await views(path)  # the snapshot, then the tail
        assert snapshotted == whole == folded == engine.view
    finally:
        await engine.store.close()
    assert stored_snapshots(path)[0][0] == engine.view.last_seq  # and one at the clean close


async def test_a_resumed_engine_starts_from_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.db"
    first = await made(path)
    read: list[int] = []
    original = EventStore.read_rows

    async def counted(self: EventStore, since: int = 0, *, limit: int) -> list[tuple]:  # type: ignore[type-arg]
        rows = await original(self, since, limit=limit)
        read.extend(r[0] for r in rows)
        return rows

    monkeypatch.setattr(EventStore, "read_rows", counted)
    store = await EventStore.open(path)
    try:
        engine = await Engine.open(store)
        assert engine.view == first.view
        assert read == []  # not one event folded again
    finally:
        await store.close()


async def test_a_snapshot_of_another_fold_is_ignored_with_a_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.db"
    await made(path)
    monkeypatch.setattr(snapshot_module, "fold_version", lambda: "0.0+older")
    with caplog.at_level(logging.INFO, logger="podium.store"):
        snapshotted, _, folded = await views(path)
    assert snapshotted == folded
    assert "another fold" in caplog.text


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE snapshots SET body = x'00112233'",  # not zlib
        "UPDATE snapshots SET ts = ts + 1",  # not the log's event at its seq
        "UPDATE snapshots SET body = zeroblob(8)",
    ],
)
async def test_a_damaged_snapshot_is_ignored_with_a_log_line(
    damage: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.db"
    await made(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(damage)
    conn.close()
    with caplog.at_level(logging.INFO, logger="podium.store"):
        snapshotted, _, folded = await views(path)
    assert snapshotted == folded
    assert "ignored" in caplog.text


async def test_an_undecodable_snapshot_document_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import zlib

    path = tmp_path / "p.db"
    await made(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE snapshots SET body = ?",
            (zlib.compress(b'{"format":1,"view":{"tasks":3},"artifacts":[],"summaries":[]}'),),
        )
    conn.close()
    with caplog.at_level(logging.INFO, logger="podium.store"):
        snapshotted, _, folded = await views(path)
    assert snapshotted == folded
    assert "not usable" in caplog.text


async def test_a_database_from_before_snapshots_gets_the_table_and_one(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    await made(path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP TABLE snapshots")
    conn.close()
    snapshotted, _, folded = await views(path)  # read-only: no table, the log is folded
    assert snapshotted == folded
    store = await EventStore.open(path)
    try:
        await Engine.open(store)
    finally:
        await store.close()
    assert stored_snapshots(path) == [(folded.last_seq, snapshot_module.fold_version())]


async def test_a_fork_uses_no_snapshot_past_its_seq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.db"
    engine = await made(path)
    at = engine.view.last_seq // 2
    new = tmp_path / "fork.db"
    await _fork(path, at, new)
    assert stored_snapshots(new) == []
    store = await EventStore.open(path, read_only=True)
    try:
        upto = fold([e for e in await store.read() if e.seq <= at])
    finally:
        await store.close()
    forked, whole, folded = await views(new)
    assert forked == whole == folded  # the fork's own log (it may record the open run stopped)
    assert forked.tasks == upto.tasks and forked.artifacts == upto.artifacts
    assert forked.last_seq < engine.view.last_seq


async def test_big_contents_stay_in_the_store_and_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    await made(path)
    store = await EventStore.open(path, read_only=True)
    try:
        events = await store.read()
        view = ProductionView()
        await replay(store, view, snapshot=False)
    finally:
        await store.close()
    created = {e.payload.artifact.id: e for e in events if isinstance(e.payload, ArtifactCreated)}
    shelved = [a for a in view.artifacts.values() if not a.content_held]
    assert shelved, "the sample's scripts are big enough to be left in the store"
    for artifact in shelved:
        recorded = created[artifact.id].payload.artifact
        assert artifact.content == recorded.content
        assert view.artifact_seqs[artifact.id] == created[artifact.id].seq
        # dumped (and so stored again, in a new event) with its content, in the same order
        assert (
            artifact.model_dump_json()
            == recorded.model_copy(update={"status": artifact.status}).model_dump_json()
        )
    assert view.contents is not None


def test_a_shelf_keeps_only_the_last_contents_read() -> None:
    reads: list[int] = []

    def read(seq: int, artifact_id: str) -> dict[str, object]:
        reads.append(seq)
        return {"text": f"{artifact_id} at {seq}"}

    shelf = ContentShelf(read, keep=2)
    for seq in (1, 2, 1, 3, 2, 1):
        assert shelf.content(seq, "a") == {"text": f"a at {seq}"}
    assert reads == [1, 2, 3, 2, 1]  # 1 kept while read again, 2 and 1 gone once two newer were


async def test_a_live_view_leaves_big_contents_once_its_snapshot_is_stored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.db"
    store = await EventStore.open(path)
    try:
        engine = await Engine.open(store, spec=quick("last_light"), auto_approve=AutoApprove.ALL)
        await engine.run()
        held = [a.id for a in engine.view.artifacts.values() if a.content_held]
        await asyncio.sleep(0)
    finally:
        await store.close()  # the snapshot at close
    after = [a.id for a in engine.view.artifacts.values() if a.content_held]
    assert len(after) < len(held)
    _, _, folded = await views(path)
    assert engine.view == folded


def rewrite(path: Path, kind: str, change: str) -> int:
    """Rewrite the payload of the last `kind` event (the log is append-only: its trigger goes
    first, as a damaged disk or another tool would not ask); its seq."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("DROP TRIGGER IF EXISTS events_append_only_update")
            seq = int(
                conn.execute("SELECT max(seq) FROM events WHERE kind = ?", (kind,)).fetchone()[0]
            )
            conn.execute(f"UPDATE events SET payload = {change} WHERE seq = ?", (seq,))
        return seq
    finally:
        conn.close()


async def test_an_event_damaged_under_the_snapshot_is_named_as_without_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "p.db"
    await made(path)
    seq = rewrite(path, "artifact_created", "substr(payload, 1, 40)")
    store = await EventStore.open(path, read_only=True)
    try:
        with (
            caplog.at_level(logging.INFO, logger="podium.store"),
            pytest.raises(CorruptDatabase, match=f"event {seq}"),
        ):
            await replay(store, ProductionView())
    finally:
        await store.close()
    assert "changed since it was made" in caplog.text


async def test_an_event_rewritten_under_the_snapshot_is_read_as_the_log_says(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.db"
    await made(path)
    rewrite(path, "task_state", "replace(payload, 'task_state', 'task_state')")  # unchanged
    store = await EventStore.open(path, read_only=True)
    try:
        assert await store.read_snapshot() is not None  # the same bytes: it still holds
    finally:
        await store.close()
    rewrite(path, "task_state", 'replace(payload, \'"reason":"\', \'"reason":"rewritten \')')
    snapshotted, whole, folded = await views(path)
    assert snapshotted == whole == folded
    assert any(r.reason.startswith("rewritten ") for r in snapshotted.tasks.values())


async def test_an_artifact_holding_its_content_is_dumped_once_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each artifact's head is one dump: without its content when it holds it (the content
    travels beside it), whole when it is kept elsewhere; decoded, the same view."""
    engine = await made(tmp_path / "p.db")
    view = engine.view
    held = [a for a in view.artifacts.values() if a.content_held]
    assert held
    dumps: list[object] = []
    real = snapshot_module.Artifact.__pydantic_serializer__

    class Counting:
        def to_json(self, artifact: object, **options: object) -> bytes:
            dumps.append(options.get("exclude"))
            return real.to_json(artifact, **options)  # type: ignore[arg-type]

    for artifact in held:
        monkeypatch.setattr(artifact, "__pydantic_serializer__", Counting(), raising=False)
    document, _ = snapshot_module.encode(view)
    assert dumps == [{"content"}] * len(held)  # before: twice each, whole then without
    for artifact in held:
        head = real.to_json(artifact, exclude={"content"}, context={"content": "refer"})
        assert head in document
