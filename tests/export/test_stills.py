"""An animatic's stills: the PPM frames are Pillow's bytes; a shot's still worked out once."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from podium.domain.artifacts import EditItem, Shot
from podium.export import stills
from podium.export.timeline import Band, Beat, Reel


@pytest.mark.parametrize("size", [(640, 360), (1, 1), (3, 7)])
def test_a_frame_is_the_ppm_pillow_writes(size: tuple[int, int]) -> None:
    picture = Image.frombytes(
        "RGB", size, bytes(i * 37 % 256 for i in range(size[0] * size[1] * 3))
    )
    saved = io.BytesIO()
    picture.save(saved, format="PPM")
    assert stills.ppm(picture) == saved.getvalue()


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


def test_the_frames_are_written_once_a_still(tmp_path: Path) -> None:
    drawn: list[str] = []

    def maker(name: str) -> Callable[[], Image.Image]:
        def make() -> Image.Image:
            drawn.append(name)
            return Image.new("RGB", (8, 6), (len(name), 2, 3))

        return make

    makers: list[stills.Maker] = [
        ("a", (), maker("a")),
        ("a", ("M1",), maker("a")),
        ("b", (), maker("b")),
    ]
    stills.draw(makers, tmp_path)
    assert drawn == ["a", "b"]  # a picture drawn once whatever bands go over it
    for number in range(3):
        with Image.open(tmp_path / f"frame-{number:05d}.ppm") as opened:
            assert opened.size == (8, 6)
