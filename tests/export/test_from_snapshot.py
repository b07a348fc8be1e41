"""The export starts from the production's state snapshot (issue 20): it folds none of the
events the snapshot covers, reads only the few payloads the view forgets, and writes exactly
the files a fold of the whole log gives."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from podium.domain.state import ProductionView
from podium.export.exporter import export_production_sync

from .conftest import Made, load_source


def _snapshot_seq(db: Path) -> int | None:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT max(seq) FROM snapshots").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_export_folds_none_of_the_events_its_snapshot_covers(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(sample_db("last_light"), db)
    assert _snapshot_seq(db) is not None  # a production that stopped cleanly has one
    folded: list[object] = []
    apply_payload = ProductionView.apply_payload

    def counted(self: ProductionView, payload: object, ts: float) -> None:
        folded.append(payload)
        apply_payload(self, payload, ts)  # type: ignore[arg-type]

    monkeypatch.setattr(ProductionView, "apply_payload", counted)
    source = load_source(db)
    assert folded == []
    assert source.view.spec is not None
    assert source.view.last_seq == _snapshot_seq(db)


@pytest.mark.parametrize("name", ["last_light", "arctic_journey", "arcadian_summers"])
def test_the_export_from_the_snapshot_is_the_export_of_the_whole_log(
    name: str, sample_db: Made, tmp_path: Path
) -> None:
    with_snapshot = tmp_path / "with.db"
    shutil.copy(sample_db(name), with_snapshot)
    without = tmp_path / "without.db"
    shutil.copy(with_snapshot, without)
    conn = sqlite3.connect(without)
    with conn:
        conn.execute("DELETE FROM snapshots")
    conn.close()
    assert _snapshot_seq(with_snapshot) is not None and _snapshot_seq(without) is None
    export_production_sync(with_snapshot, tmp_path / "a", animatic=False)
    export_production_sync(without, tmp_path / "b", animatic=False)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(first) == sorted(second)
    for name_ in first:
        assert first[name_] == second[name_], name_
