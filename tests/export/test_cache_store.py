"""The export cache's store (`podium.export.cache`): one database file, not a file per entry;
kept across processes, never read wrongly when damaged, old or busy, bounded on disk."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from podium.export import cache as cache_module
from podium.export.cache import STORE, Cache

from .conftest import Made, load_source


def _payload(n: int, size: int = 2000) -> bytes:
    return hashlib.sha256(str(n).encode()).digest() * (size // 32)


def test_the_entries_are_one_file_and_read_back_after_a_reopen(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = Cache(folder)
    kinds = ("speech", "mp3", "sketch", "stills")
    for n in range(200):
        cache.put(kinds[n % 4], f"{n:04x}", _payload(n))
    cache.close()
    again = Cache(folder)
    assert all(again.get(kinds[n % 4], f"{n:04x}") == _payload(n) for n in range(200))
    assert again.hits == 200 and again.misses == 0
    assert {p.name for p in folder.iterdir()} <= {STORE, f"{STORE}-wal", f"{STORE}-shm"}


def test_a_store_that_is_not_a_database_is_started_again(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / STORE).write_bytes(b"not a database " * 400)
    cache = Cache(folder)
    assert cache.get("speech", "ab12") is None and cache.misses == 1
    cache.put("speech", "ab12", b"sound")
    assert cache.get("speech", "ab12") == b"sound"
    assert Cache(folder).get("speech", "ab12") == b"sound"


def _store_of_layout(folder: Path, layout: int) -> None:
    """A store holding one entry, "speech/ab12", whose table says it is of `layout`."""
    cache = Cache(folder)
    cache.put("speech", "ab12", b"sound")
    cache.close()
    with contextlib.closing(sqlite3.connect(folder / STORE)) as db:
        db.execute(f"PRAGMA user_version = {layout}")
        db.commit()


def test_a_store_of_an_older_layout_is_started_again(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _store_of_layout(folder, cache_module.VERSION - 1)
    cache = Cache(folder)
    assert cache.get("speech", "ab12") is None  # never read as this layout's
    cache.put("speech", "cd34", b"again")
    cache.close()
    again = Cache(folder)
    assert again.get("speech", "cd34") == b"again" and again.get("speech", "ab12") is None
    with contextlib.closing(sqlite3.connect(folder / STORE)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == cache_module.VERSION


def test_a_store_of_a_newer_podium_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _store_of_layout(folder, cache_module.VERSION + 1)
    cache = Cache(folder)
    assert cache.get("speech", "ab12") is None
    cache.put("speech", "cd34", b"not kept")
    assert cache.get("speech", "cd34") is None
    cache.prune()
    with contextlib.closing(sqlite3.connect(folder / STORE)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == cache_module.VERSION + 1
        assert db.execute("SELECT key FROM entries").fetchall() == [("speech/ab12",)]


def test_a_store_cut_short_never_reads_wrongly(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = Cache(folder)
    for n in range(40):
        cache.put("speech", f"{n:02d}", _payload(n, 20_000))
    cache.prune()  # closed: everything in the one file
    store = folder / STORE
    store.write_bytes(store.read_bytes()[: store.stat().st_size // 2])
    for suffix in ("-wal", "-shm"):
        (folder / f"{STORE}{suffix}").unlink(missing_ok=True)
    cut = Cache(folder)
    for n in range(40):
        assert cut.get("speech", f"{n:02d}") in (None, _payload(n, 20_000))
    cut.put("speech", "new", b"made again")
    assert cut.get("speech", "new") == b"made again"
    cut.prune()


def test_the_layout_before_is_not_read_and_goes_at_prune(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    old = folder / "speech" / "ab" / "ab12"
    old.parent.mkdir(parents=True)
    old.write_bytes(hashlib.sha256(b"sound").digest() + b"sound")
    cache = Cache(folder)
    assert cache.get("speech", "ab12") is None
    cache.put("mp3", "cd34", b"frames")
    cache.prune()
    assert not (folder / "speech").exists()
    assert Cache(folder).get("mp3", "cd34") == b"frames"


def test_a_folder_that_cannot_hold_a_store_only_makes_things_again(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file where the folder would be")
    cache = Cache(tmp_path / "cache")
    cache.put("speech", "ab12", b"sound")
    assert cache.get("speech", "ab12") is None and cache.misses == 1
    cache.prune()


def test_a_store_busy_too_long_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process writing for longer than the wait: the put is skipped, reads go on."""
    monkeypatch.setattr(cache_module, "_BUSY_S", 0.2)
    cache = Cache(tmp_path / "cache")
    cache.put("speech", "ab12", b"sound")
    assert cache.store is not None
    with contextlib.closing(sqlite3.connect(cache.store, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        cache.put("speech", "cd34", b"other sound")
        assert cache.get("speech", "ab12") == b"sound"
        other.execute("ROLLBACK")
    cache.put("speech", "cd34", b"other sound")
    assert cache.get("speech", "cd34") == b"other sound"


def test_pruned_entries_give_their_room_back_to_the_disk(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", limit_bytes=500_000)
    for n in range(20):
        cache.put("stills", f"{n:02d}", _payload(n, 100_000))
    cache.prune()
    assert cache.store is not None
    assert cache.store.stat().st_size < 1_000_000
    kept = [n for n in range(20) if cache.get("stills", f"{n:02d}") is not None]
    assert kept == list(range(16, 20))  # the last written: 400,000 bytes, 80 % of the limit


def test_the_times_used_are_kept_across_a_reopen(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = Cache(folder)
    for name in ("a", "b", "c"):
        cache.put("stills", name, bytes(3000))
    assert cache.get("stills", "a") is not None
    cache.close()  # writes the times read
    small = Cache(folder, limit_bytes=7000)
    small.prune()
    assert [n for n in "abc" if small.get("stills", n) is not None] == ["a"]


def test_threads_share_one_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    wrong: list[int] = []

    def work(first: int) -> None:
        for n in range(first, 400, 4):
            cache.put("mp3", f"{n:03d}", _payload(n))
            if cache.get("mp3", f"{n:03d}") != _payload(n):
                wrong.append(n)

    threads = [threading.Thread(target=work, args=(first,)) for first in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and cache.hits == 400


_WRITER = """
import sys
from pathlib import Path
from podium.export.cache import Cache
folder, me = Path(sys.argv[1]), int(sys.argv[2])
cache = Cache(folder)
for n in range(150):
    shared = n % 2 == 0  # half the names both write, the same payload
    name = f"{n:03d}" if shared else f"{me}-{n:03d}"
    cache.put("speech", name, (name * 700).encode())
cache.prune()
for n in range(150):
    name = f"{n:03d}" if n % 2 == 0 else f"{me}-{n:03d}"
    assert cache.get("speech", name) == (name * 700).encode(), name
"""


def test_two_processes_putting_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(folder), str(me)], stderr=subprocess.PIPE, text=True
        )  # fmt: skip
        for me in range(2)
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert writer.returncode == 0, errors
    cache = Cache(folder)
    names = [f"{n:03d}" for n in range(0, 150, 2)]
    names += [f"{me}-{n:03d}" for me in range(2) for n in range(1, 150, 2)]
    assert all(cache.get("speech", name) == (name * 700).encode() for name in names)


def test_the_storyboard_is_made_with_a_damaged_store(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.export.storyboard import storyboard

    db = sample_db("last_light")
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "fresh"))
    page = storyboard(load_source(db))
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "data" / "cache" / "export"
    folder.mkdir(parents=True)
    (folder / STORE).write_bytes(b"\0garbage" * 1000)
    assert storyboard(load_source(db)) == page
    assert storyboard(load_source(db)) == page  # and now from a store made again
    assert Cache(folder).get("nothing", "x") is None


def test_entries_written_behind_are_found_at_once_and_kept_at_the_prune(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Cache.write_behind`: a put returns before its entry is written (the writer held
    here); a get of the same cache finds it meanwhile, another cache (the next export) does
    not; a put past `BEHIND_BYTES` waits for the writer; after the prune every entry is in
    the store, the last put of an entry winning."""
    kept = Cache(tmp_path)
    kept.write_behind()
    gate = threading.Event()
    write = kept._write

    def held(entries: dict[str, tuple[int, bytes]], aside: sqlite3.Connection | None) -> None:
        assert gate.wait(10)
        write(entries, aside)

    monkeypatch.setattr(kept, "_write", held)
    monkeypatch.setattr(cache_module, "BEHIND_BYTES", 1000)
    kept.put("speech", "line-1", b"a" * 600)
    kept.put("speech", "line-2", b"b" * 600)  # now past the bound
    assert kept.get("speech", "line-1") == b"a" * 600
    assert Cache(tmp_path).get("speech", "line-1") is None
    third = threading.Thread(target=kept.put, args=("speech", "line-3", b"c"))
    third.start()
    third.join(0.2)
    assert third.is_alive()  # waits for the writer
    gate.set()
    third.join(10)
    kept.put("speech", "line-1", b"said again")
    kept.prune()
    again = Cache(tmp_path)
    assert again.get("speech", "line-1") == b"said again"
    assert again.get("speech", "line-2") == b"b" * 600
    assert again.get("speech", "line-3") == b"c"
    assert kept._writer is None and not kept._waiting


def test_a_writer_that_fails_leaves_no_one_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kept = Cache(tmp_path)
    kept.write_behind()

    def fails(*_: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(kept, "_write", fails)
    with caplog.at_level(logging.WARNING, logger="podium.export"):
        for n in range(12):
            kept.put("speech", f"line-{n}", bytes(1 << 20))
        kept.close()  # returns: nothing waits to be written
    assert kept._writer is None and not kept._waiting
    # said as a sentence, not as the writer thread's traceback
    assert caplog.text.count("the export cache was not written (the disk went away)") == 1
    kept.put("speech", "line-after", b"x")  # nothing more is kept once the writer failed
    assert kept.get("speech", "line-after") is None and not kept._waiting
