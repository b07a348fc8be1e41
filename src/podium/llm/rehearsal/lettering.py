"""The rehearsal illustrator's text (`podium.llm.rehearsal.illustrator`), each distinct line
rendered and measured once.

A big series' stills repeat their words: 1,267 stills of its animatics carry 75 distinct
captions, and the same cast names and shot labels come back in every episode. FreeType's
rendering of a line (Pillow's `getmask2`) and its measuring (`getlength`) were half of a
still's time. Here a line's mask is rendered once for its font (face and size), text and
sub-pixel start (the only things it depends on) and painted as `ImageDraw.text` paints it
(`draw_bitmap` with the fill's ink), so a picture's pixels are the same as drawing the text
each time. The tables are bounded and shared by the threads drawing stills (a dict's get and
set are atomic; two threads may render one line twice); a line's mask is a few kilobytes.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from PIL import ImageDraw

T = TypeVar("T")
_LIMIT = 4096  # lines kept in each table before it starts again
Face = tuple[str | None, str | None, int, float]  # family, style, layout engine, size
_MASKS: dict[tuple[Face, str, float, float], tuple[Any, tuple[int, int]]] = {}
_LENGTHS: dict[tuple[Face, str], float] = {}
_BOXES: dict[tuple[Face, str], tuple[float, float, float, float]] = {}
_WRAPPED: dict[tuple[Face, str, float, int], list[str]] = {}


def _face(font: Any) -> Face | None:
    """The FreeType font's face and size (the tables' key: Pillow's default font at a size is
    the only one the illustrator draws with), or None for another kind of font, which is
    drawn without the tables."""
    from PIL import ImageFont

    if not isinstance(font, ImageFont.FreeTypeFont):
        return None
    return (*font.getname(), font.layout_engine, font.size)


def _kept(table: dict[Any, T], key: object, make: Callable[[], T]) -> T:
    """`table[key]`, made by `make` the first time (the table started again at `_LIMIT`)."""
    found = table.get(key)
    if found is None:
        if len(table) >= _LIMIT:
            table.clear()
        found = table[key] = make()
    return found


def length(font: Any, text: str) -> float:
    """`font.getlength(text)`, measured once a font and text."""
    face = _face(font)
    if face is None:
        return float(font.getlength(text))
    return _kept(_LENGTHS, (face, text), lambda: font.getlength(text))


def bbox(font: Any, text: str) -> tuple[float, float, float, float]:
    """`font.getbbox(text)`, measured once a font and text."""
    face = _face(font)
    if face is None:
        return font.getbbox(text)  # type: ignore[no-any-return]
    return _kept(_BOXES, (face, text), lambda: font.getbbox(text))


def _wrapped(text: str, font: Any, width: float, most: int) -> list[str]:
    lines: list[str] = []
    for guess in range(80, 10, -4):
        lines = textwrap.wrap(text, guess)
        if all(length(font, line) <= width for line in lines):
            break
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1].rstrip(" ,.;:") + "…"
    return lines


def wrap(text: str, font: Any, width: float, most: int) -> list[str]:
    """`text` in lines no wider than `width`, at most `most` of them (the last ends in …);
    worked out once a font, text, width and count (a caption under many stills)."""
    face = _face(font)
    if face is None:
        return _wrapped(text, font, width, most)
    key = (face, text, width, most)
    lines = _kept(_WRAPPED, key, lambda: _wrapped(text, font, width, most))
    return list(lines)  # the caller's own: the table's is never handed out


@cache
def _painted_as_pillow() -> bool:
    """Whether `write`'s steps paint what this Pillow's `ImageDraw.text` paints (they are its
    own steps, through names it keeps to itself): tried once on a line at a fractional start;
    with another Pillow that does not, each line is drawn with `text`."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=13)
    images = [Image.new("RGB", (90, 24), "white") for _ in range(2)]
    ImageDraw.Draw(images[0]).text((2.5, 3.25), "Ag, fy!", fill=(40, 30, 20), font=font)
    try:
        _paint(ImageDraw.Draw(images[1]), (2.5, 3.25), "Ag, fy!", (40, 30, 20), font)
    except (AttributeError, TypeError, ValueError):
        return False
    return images[0].tobytes() == images[1].tobytes()


def write(
    pen: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: Any, font: Any
) -> None:
    """`pen.text(xy, text, fill=fill, font=font)` for one line: the same pixels, its mask
    rendered once (Pillow's own steps: the mask for the start's fractions, drawn at the
    whole pixel plus the mask's offset)."""
    face = _face(font)
    if face is None or "\n" in text or pen.fontmode != "L" or not _painted_as_pillow():
        pen.text(xy, text, fill=fill, font=font)
        return
    _paint(pen, xy, text, fill, font, face)


def _paint(
    pen: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill: Any, font: Any,
    face: Face | None = None,
) -> None:  # fmt: skip
    """Pillow's steps for one line: the mask for the start's fractions (kept in `_MASKS` when
    `face` names the font), drawn at the whole pixel plus the mask's offset."""
    x, y = xy
    start = (math.modf(x)[0], math.modf(y)[0])

    def make() -> tuple[Any, tuple[int, int]]:
        found = font.getmask2(text, "L", None, None, None, 0, "la", 0, start, stroke_filled=True)
        return found  # type: ignore[no-any-return]

    mask, offset = make() if face is None else _kept(_MASKS, (face, text, *start), make)
    ink = pen._getink(fill)[0]
    pen.draw.draw_bitmap((int(x) + offset[0], int(y) + offset[1]), mask, ink)
