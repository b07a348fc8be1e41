"""The illustrator's text rendered once per line: the same pixels as Pillow drawing it each time."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, ImageFont

from podium.domain.artifacts import Shot
from podium.llm.rehearsal import lettering
from podium.llm.rehearsal.illustrator import image
from podium.llm.rehearsal.sketch import from_shot

from .test_illustrator import CAST

LINES = ["Sigrid", "The wind came on again, and this time", "Nuka let it. — ♪ …", "", "3A"]


@pytest.mark.parametrize("size", [10, 14, 22])
@pytest.mark.parametrize("xy", [(25.6, 311.47), (4.0, 4.0), (-3.25, 7.9), (100.5, 0.125)])
def test_a_line_written_is_the_pixels_pillow_draws(size: int, xy: tuple[float, float]) -> None:
    font = ImageFont.load_default(size=size)
    for text in LINES:
        expected = Image.new("RGB", (160, 330), (20, 30, 40))
        ImageDraw.Draw(expected).text(xy, text, fill=(250, 240, 200), font=font)
        for _ in range(2):  # rendered, then from the table
            got = Image.new("RGB", (160, 330), (20, 30, 40))
            lettering.write(ImageDraw.Draw(got), xy, text, (250, 240, 200), font)
            assert got.tobytes() == expected.tobytes(), (text, xy)


def test_a_line_is_rendered_once_for_every_picture_it_is_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered: list[str] = []
    real = ImageFont.FreeTypeFont.getmask2

    def counted(self: ImageFont.FreeTypeFont, text: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        rendered.append(text)
        return real(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ImageFont.FreeTypeFont, "getmask2", counted)
    monkeypatch.setattr(lettering, "_MASKS", {})
    shot = Shot(scene=4, shot="B", size="MS", movement="static", description="Sigrid at the sledge")
    sketch = from_shot(shot, CAST, ["ice blue", "bone white"], "4B")
    first = image(sketch, 640, 360)
    once = len(rendered)
    assert once > 0
    assert image(sketch, 640, 360).tobytes() == first.tobytes()
    assert len(rendered) == once  # the second picture rendered no text again


def test_the_measures_are_pillow_s() -> None:
    font = ImageFont.load_default(size=17)
    for text in LINES:
        assert lettering.length(font, text) == font.getlength(text)
        assert lettering.length(font, text) == font.getlength(text)  # from the table
        assert lettering.bbox(font, text) == font.getbbox(text)
    wrapped = lettering.wrap("a few words " * 20, font, 200.0, 3)
    assert len(wrapped) == 3 and wrapped[-1].endswith("…")
    assert all(font.getlength(line) <= 200.0 for line in wrapped[:-1])
    again = lettering.wrap("a few words " * 20, font, 200.0, 3)
    assert again == wrapped
    again.append("changed")  # a caller's list is its own
    assert lettering.wrap("a few words " * 20, font, 200.0, 3) == wrapped
