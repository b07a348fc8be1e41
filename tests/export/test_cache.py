"""The export's cache (`podium.export.cache`): what an export made is kept by content, never
trusted blindly, bounded; a second export makes only what changed and gives the same bytes."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from podium.export import animatic, timeline
from podium.export.cache import Cache
from podium.export.mp3 import PADDING_CYCLE, mp3_runs
from podium.export.voices import Line, Remembered

from .conftest import Made, load_source
from .test_animatic import Sines, need, reel


def _store(cache: Cache) -> sqlite3.Connection:
    assert cache.store is not None
    return sqlite3.connect(cache.store, isolation_level=None)


def _entries(cache: Cache, kind: str) -> list[str]:
    """The names of the `kind` entries the store holds."""
    with contextlib.closing(_store(cache)) as db:
        rows = db.execute("SELECT key FROM entries WHERE key LIKE ?", (f"{kind}/%",))
        return sorted(entry.split("/", 1)[1] for (entry,) in rows)


def _change(cache: Cache, kind: str, how: Callable[[bytes], bytes | None]) -> None:
    """Each `kind` entry's payload as `how` makes it (its digest kept: damaged), or gone."""
    with contextlib.closing(_store(cache)) as db:
        rows = db.execute("SELECT key, data FROM entries WHERE key LIKE ?", (f"{kind}/%",))
        for entry, data in rows.fetchall():
            made = how(data)
            if made is None:
                db.execute("DELETE FROM entries WHERE key = ?", (entry,))
            else:
                db.execute("UPDATE entries SET data = ? WHERE key = ?", (made, entry))


def test_an_entry_reads_back_and_a_damaged_one_is_made_again(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    cache.put("speech", "ab12", b"sound")
    assert cache.get("speech", "ab12") == b"sound"
    _change(cache, "speech", lambda data: data[:-1] + bytes([data[-1] ^ 1]))  # a bit flipped
    assert cache.get("speech", "ab12") is None and _entries(cache, "speech") == []
    cache.put("speech", "ab12", b"sound")
    _change(cache, "speech", lambda data: data[:2])  # cut short
    assert cache.get("speech", "ab12") is None
    assert cache.get("speech", "cd34") is None  # never kept
    assert Cache(None).get("speech", "ab12") is None


def test_the_cache_is_bounded_and_keeps_what_was_used_last(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", limit_bytes=10_000)
    for n in range(6):
        cache.put("stills", f"{n:02d}", bytes(3000))
    assert cache.get("stills", "00") is not None  # used: now the most recent
    cache.prune()
    left = _entries(cache, "stills")
    assert len(left) * 3000 <= 10_000
    assert "00" in left and "05" in left and "01" not in left


def test_the_environment_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_EXPORT_CACHE", "0")
    assert Cache.default().folder is None


class Counted(Sines):
    """Sines that count the lines they voice, and name them for the cache."""

    def __init__(self) -> None:
        self.said: list[Line] = []

    def speak(self, lines: Sequence[Line], folder: Path) -> list[bytes]:
        self.said += lines
        return super().speak(lines, folder)

    def cache_name(self, line: Line) -> str:
        return f"{abs(hash((line.character, line.text))):x}0"


def test_a_line_said_in_an_earlier_export_is_not_voiced_again(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    lines = [Line("MARA", "One two."), Line("JON", "Three."), Line("MARA", "One two.")]
    first = Counted()
    sounds = Remembered(first, cache=cache).speak(lines, tmp_path)
    assert len(first.said) == 2
    again = Counted()
    assert Remembered(again, cache=cache).speak(lines, tmp_path) == sounds
    assert again.said == []
    _change(cache, "speech", lambda data: data[:-2])  # damaged: voiced again, the same sound
    third = Counted()
    assert Remembered(third, cache=cache).speak(lines, tmp_path) == sounds
    assert len(third.said) == 2


def _silent(ffmpeg: str) -> bytes:
    silent = animatic.silent_frame(ffmpeg)
    if silent is None:
        pytest.skip("this ffmpeg has no libmp3lame")
    return silent


def test_a_stretch_said_twice_is_encoded_once_and_kept(tmp_path: Path) -> None:
    """Two scenes read the same: their stretches are the same PCM, encoded once, the same MP3
    frames at both places; a second track takes them from the cache without ffmpeg."""
    ffmpeg = need("ffmpeg")
    _silent(ffmpeg)
    r = reel([(2, "A", 4.0), (1, "A", 20.0), (2, "A", 4.0)])
    r.scenes[3] = r.scenes[2]
    r.items[2] = r.items[2].model_copy(update={"scene": 3})
    beats, frames = timeline.timeline(r)
    sounds, _ = timeline.table_read(r, beats, frames, Sines(), tmp_path)
    runs = mp3_runs(beats, sounds)
    assert runs[0][1] == runs[-1][1]
    cache = Cache(tmp_path / "cache")
    (tmp_path / "one").mkdir()
    pieces = animatic.mp3_track(beats, sounds, frames, ffmpeg, tmp_path / "one", "A", cache)
    spoken = [p for p in pieces if not isinstance(p, int)]
    assert spoken[0] == spoken[-1]
    encoded = animatic.mp3_frames((tmp_path / "one" / "speech.mp3").read_bytes())
    distinct = sum(len(pcm) for pcm in {pcm for _, pcm in runs}) // (2 * animatic.GRANULE)
    # each distinct stretch once, from the start of a padding cycle
    assert len(encoded) <= distinct + PADDING_CYCLE * len({pcm for _, pcm in runs}) + 4
    (tmp_path / "two").mkdir()
    again = animatic.mp3_track(beats, sounds, frames, ffmpeg, tmp_path / "two", "A", cache)
    assert again == pieces and not (tmp_path / "two" / "speech.wav").exists()


def test_an_animatic_made_again_from_the_cache_is_the_same_file(tmp_path: Path) -> None:
    """The stills and the read come from the cache the second time (nothing drawn, ffmpeg
    run only for the MP3 header), and the file is byte for byte the first; a damaged kept
    stills file is made again."""
    from .builder import Log

    ffmpeg = need("ffmpeg")
    silent = _silent(ffmpeg)
    r = reel([(1, "A", 3.0), (2, "A", 5.0), (1, "B", 2.0), (2, "A", 5.0)])
    source = Log("short_film").source
    cache = Cache(tmp_path / "cache")

    def made(name: str) -> bytes:
        target = tmp_path / name
        animatic.make_reel_file(source, r, ffmpeg, Remembered(Counted(), cache=cache), [],
                                target, silent=silent, kept=cache)  # fmt: skip
        return target.read_bytes()

    first = made("a.mp4")
    assert _entries(cache, "stills") and _entries(cache, "mp3") and _entries(cache, "speech")
    hits = cache.hits
    assert made("b.mp4") == first
    assert cache.hits > hits
    _change(cache, "stills", lambda data: data[:100])
    assert made("c.mp4") == first
    done = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(tmp_path / "c.mp4"), "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stderr == ""


def test_a_read_laid_out_before_reads_no_sound_again(tmp_path: Path) -> None:
    """The second time the read comes from its `read` entry (named by the lines' own cache
    names): no line voiced or read back from the cache, the same file and description; with
    a stretch it names gone, or a line changed, the read is made again."""
    from .builder import Log

    ffmpeg = need("ffmpeg")
    silent = _silent(ffmpeg)
    r = reel([(1, "A", 3.0), (2, "A", 5.0), (1, "B", 2.0), (2, "A", 5.0)])
    source = Log("short_film").source
    cache = Cache(tmp_path / "cache")

    def made(name: str, voice: Counted) -> tuple[bytes, str]:
        target = tmp_path / name
        said = animatic.make_reel_file(source, r, ffmpeg, Remembered(voice, cache=cache), [],
                                       target, silent=silent, kept=cache)  # fmt: skip
        return target.read_bytes(), said

    first = made("a.mp4", Counted())
    assert _entries(cache, "read")
    _change(cache, "speech", lambda _: None)  # not needed: the read names its stretches' frames
    again = Counted()
    assert made("b.mp4", again) == first and again.said == []
    _change(cache, "mp3", lambda _: None)
    third = Counted()
    assert made("c.mp4", third) == first and third.said  # made again, the same
    scene = r.scenes[1]
    changed = [e.model_copy(update={"text": "Other words."}) if e.type.value == "dialogue"
               else e for e in scene.elements]  # fmt: skip
    r.scenes[1] = scene.model_copy(update={"elements": changed})
    fourth = Counted()
    assert made("d.mp4", fourth)[0] != first[0] and fourth.said


def test_the_storyboard_from_kept_sketches_is_the_same_page(
    sample_db: Made, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.export.storyboard import storyboard

    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    db = sample_db("last_light")
    first = storyboard(load_source(db))
    kept = Cache(tmp_path / "data" / "cache" / "export")
    assert first and _entries(kept, "sketch")
    assert storyboard(load_source(db)) == first
    with contextlib.closing(_store(kept)) as store:
        store.execute("UPDATE entries SET data = ?, digest = ? WHERE key LIKE 'sketch/%'",
                      (b"not a png", hashlib.sha256(b"not a png").digest()))  # fmt: skip
    assert storyboard(load_source(db)) == first  # not one: drawn again
