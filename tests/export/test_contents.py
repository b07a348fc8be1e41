"""The export keeps the contents it reads ahead as their stored text and decodes each when a
writer asks (issue 20's memory): the same contents as a plain read, only the last few kept
decoded, and a content the log lost still refused at load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from podium.domain.versions import current_of
from podium.export import exporter
from podium.export.contents import StoredContents, _Packed
from podium.store.errors import CorruptDatabase
from podium.store.files import read_only_uri
from podium.store.snapshots import ContentReader

from .conftest import Made, load_source


def test_contents_are_decoded_when_read_and_only_the_last_few_kept(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exporter, "KEEP", 8)
    db = tmp_path / "copy.db"
    shutil.copy(sample_db("arcadian_summers"), db)
    source = load_source(db)
    view = source.view
    shelf = view.contents
    assert shelf is not None
    plain = ContentReader(db, read_only_uri(db))
    current = [a for r in view.tasks.values() if (a := current_of(view, r)) is not None]
    shelved = [a for a in current if not a.content_held]
    assert len(shelved) > 8  # the sample has more than the shelf keeps
    for artifact in shelved:
        assert artifact.content == plain(view.artifact_seqs[artifact.id], artifact.id)
    assert len(shelf._recent) <= 8  # noqa: SLF001 - what the shelf holds decoded


def test_a_content_the_log_lost_or_holds_as_another_is_refused(
    sample_db: Made, tmp_path: Path
) -> None:
    db = sample_db("arcadian_summers")
    source = load_source(db)
    view = source.view
    seq, artifact_id = next(iter(view.artifact_seqs.items()))[::-1]
    reader = StoredContents(db, read_only_uri(db))
    with pytest.raises(CorruptDatabase):
        reader.read_ahead([(view.last_seq + 1000, artifact_id)])  # no such event
    reader.read_ahead([(seq, "another-v1")])
    with pytest.raises(CorruptDatabase):
        reader(seq, "another-v1")  # the event records another artifact


def test_the_stored_text_is_kept_compressed(sample_db: Made) -> None:
    """The text read ahead is held compressed (the big series: 57 MB of JSON, 8.5 MB so) and
    decoded to the same contents as a plain read."""
    db = sample_db("arcadian_summers")
    view = load_source(db).view
    wanted = [(seq, artifact_id) for artifact_id, seq in view.artifact_seqs.items()]
    reader = StoredContents(db, read_only_uri(db))
    reader.read_ahead(wanted)
    plain = ContentReader(db, read_only_uri(db))
    held = [payload for _, _, payload in reader._stored.values()]  # noqa: SLF001
    assert held and all(isinstance(p, _Packed) for p in held)
    for seq, artifact_id in wanted:
        assert reader(seq, artifact_id) == plain(seq, artifact_id)
