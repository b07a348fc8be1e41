"""An animatic's stills: one file of their PPMs for ffmpeg; a shot's still worked out once."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from podium.domain.artifacts import EditItem, Shot
from podium.export import mp4, stills
from podium.export.timeline import SIZE, Band, Beat, Reel, with_band


def test_each_shot_s_still_is_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shots = [Shot(scene=1, shot=s, description=f"shot {s}") for s in "ABC"]
    items = [EditItem(scene=1, shot=s.shot, duration_s=1.0) for s in shots * 4]
    items.append(EditItem(scene=1, shot="Z", duration_s=1.0))  # not in the shot list: a card
    reel = Reel(None, items, {(1, s.shot): s for s in shots}, [], {})
    beats = [Beat(item, reel.shot(item), 12 * i, 12 * (i + 1)) for i, item in enumerate(items)]
    marks = [Band("M1 Theme", 6, 30)]  # cuts beats in two: more segments than beats
    asked: list[Shot | None] = []

    def still(source: object, reel: Reel, beat: Beat, pictures: object) -> tuple[object, Any]:
        asked.append(beat.shot)
        key = beat.shot.shot if beat.shot is not None else ("card", beat.item.shot)
        return key, lambda: Image.new("RGB", (4, 4))

    monkeypatch.setattr(stills, "still", still)
    held, makers = stills.plan(None, reel, beats, marks, None)  # type: ignore[arg-type]
    assert sorted(s.shot for s in asked if s is not None) == ["A", "B", "C"]
    assert asked.count(None) == 1
    # the cut as before: every frame held, the stills by (picture, cue) in order of first use
    assert sum(frames for _, frames in held) == 12 * len(items)
    assert [(key, labels) for key, labels, _ in makers] == [
        ("A", ()),
        ("A", ("M1 Theme",)),
        ("B", ("M1 Theme",)),
        ("C", ("M1 Theme",)),
        ("C", ()),
        ("B", ()),
        (("card", "Z"), ()),
    ]


def test_the_stills_are_one_file_of_their_ppms_in_order(tmp_path: Path) -> None:
    drawn: list[str] = []

    def maker(name: str, colour: tuple[int, int, int]) -> Callable[[], Image.Image]:
        def make() -> Image.Image:
            drawn.append(name)
            return Image.new("RGB", SIZE, colour)

        return make

    makers: list[stills.Maker] = [
        ("a", (), maker("a", (1, 2, 3))),
        ("a", ("M1 Theme",), maker("a", (1, 2, 3))),
        ("b", (), maker("b", (4, 5, 6))),
    ]
    stills.draw(makers, tmp_path)
    assert drawn == ["a", "b"]  # a picture drawn once whatever bands go over it
    expected = b""
    for picture in (
        Image.new("RGB", SIZE, (1, 2, 3)),
        with_band(Image.new("RGB", SIZE, (1, 2, 3)), ["M1 Theme"]),
        Image.new("RGB", SIZE, (4, 5, 6)),
    ):
        saved = io.BytesIO()
        picture.save(saved, format="PPM")
        expected += saved.getvalue()
    assert (tmp_path / stills.FRAMES).read_bytes() == expected


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_ffmpeg_reads_one_frame_a_still(tmp_path: Path) -> None:
    makers: list[stills.Maker] = [
        (n, (), lambda n=n: Image.new("RGB", SIZE, (40 * n, 90, 200 - 40 * n)))  # type: ignore[misc]
        for n in range(4)
    ]
    stills.draw(makers, tmp_path)
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None
    subprocess.run(stills.stills_args(ffmpeg), cwd=tmp_path, check=True, capture_output=True)
    assert len(mp4.read_track(tmp_path / "stills.mp4", b"vide").frames) == 4
