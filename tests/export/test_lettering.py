"""The illustrator's text rendered once per line: the same pixels as Pillow drawing it each time."""

from __future__ import annotations

from pathlib import Path

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


def test_two_faces_of_one_size_are_told_apart() -> None:
    default = ImageFont.load_default(size=16)
    assert isinstance(default, ImageFont.FreeTypeFont)
    others = sorted(Path("/usr/share/fonts").rglob("*.ttf"))[:1]
    if not others:
        pytest.skip("no second FreeType face on this machine")
    other = ImageFont.truetype(str(others[0]), 16)
    assert other.getname() != default.getname()
    for font in (default, other):
        expected = Image.new("RGB", (200, 40))
        ImageDraw.Draw(expected).text((3.5, 4.25), "Sigrid", fill=(255, 255, 255), font=font)
        got = Image.new("RGB", (200, 40))
        lettering.write(ImageDraw.Draw(got), (3.5, 4.25), "Sigrid", (255, 255, 255), font)
        assert got.tobytes() == expected.tobytes()
        assert lettering.length(font, "Sigrid") == font.getlength("Sigrid")


def test_a_pillow_whose_text_is_not_these_steps_draws_each_line_with_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pillow's steps are its own (private names): a Pillow where they fail or paint other
    pixels is told once, and every line is then drawn by `ImageDraw.text` itself."""

    def not_pillows(*_: object, **__: object) -> None:
        raise TypeError("getmask2() got an unexpected keyword argument 'stroke_filled'")

    monkeypatch.setattr(lettering, "_paint", not_pillows)
    lettering._painted_as_pillow.cache_clear()
    try:
        image = Image.new("RGB", (120, 30), "white")
        lettering.write(
            ImageDraw.Draw(image),
            (3.5, 4.25),
            "Shot 12",
            (0, 0, 0),
            ImageFont.load_default(size=14),
        )
        expected = Image.new("RGB", (120, 30), "white")
        ImageDraw.Draw(expected).text(
            (3.5, 4.25), "Shot 12", fill=(0, 0, 0), font=ImageFont.load_default(size=14)
        )
        assert image.tobytes() == expected.tobytes()
    finally:
        lettering._painted_as_pillow.cache_clear()
