"""An ASCII screen for a terminal whose locale is not UTF-8 (`LANG=C`, a Latin-1 locale).

Such a terminal shows every glyph as `_` or `?`: the task marks, the sparklines, the borders.
`AsciiFilter` is a Textual line filter: it rewrites each drawn line just before it is written,
glyph for glyph, keeping every cell's width (so nothing moves), and `ascii_terminal` says from
the environment when it is wanted. Every glyph podium draws has a readable stand-in here;
anything else becomes its unaccented letter, else `?`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

# One cell each, as the glyphs they stand for.
GLYPHS: dict[str, str] = {
    # task, agent and inbox marks
    "✓": "+", "✗": "x", "⏸": "=", "▶": ">", "▷": ">", "▼": "v", "▲": "^", "◀": "<",
    "◆": "*", "◇": "*", "●": "*", "○": "o", "·": ".", "↺": "@", "↷": ">", "…": "~",
    "‖": "|", "↳": ">", "✎": "/", "⏎": "<", "⇧": "^", "→": ">", "←": "<", "↑": "^", "↓": "v",
    "•": "*", "—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "×": "x",
    # progress bar and sparklines: low to high
    "▰": "#", "▱": "-", "▁": "_", "▂": ".", "▃": "-", "▄": "-", "▅": "=", "▆": "=",
    "▇": "#", "█": "#", "▀": "-", "▔": "-", "░": ":", "▒": ":", "▓": "#",
    # borders (Textual's round, solid, heavy, double, dashed, tall and outer edges)
    "─": "-", "━": "-", "═": "=", "╌": "-", "╍": "-", "┄": "-", "┅": "-", "┈": "-",
    "│": "|", "┃": "|", "║": "|", "╎": "|", "╏": "|", "┆": "|", "┇": "|", "┊": "|",
    "▊": "|", "▎": "|", "▍": "|", "▌": "|", "▐": "|", "▏": "|", "▕": "|", "▋": "|", "▉": "|",
    "╭": "+", "╮": "+", "╰": "+", "╯": "+", "┌": "+", "┐": "+", "└": "+", "┘": "+",
    "┏": "+", "┓": "+", "┗": "+", "┛": "+", "╔": "+", "╗": "+", "╚": "+", "╝": "+",
    "├": "+", "┤": "+", "┬": "+", "┴": "+", "┼": "+", "┣": "+", "┫": "+", "┳": "+",
    "┻": "+", "╋": "+", "╠": "+", "╣": "+", "╦": "+", "╩": "+", "╬": "+",
}  # fmt: skip


@lru_cache(maxsize=4096)
def to_ascii(text: str) -> str:
    """The same text in ASCII, cell for cell."""
    if text.isascii():
        return text
    out: list[str] = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        width = cell_len(char)
        stand_in = GLYPHS.get(char)
        if stand_in is None:
            plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            stand_in = plain or "?"
        out.append((stand_in * width)[:width] if width else "")
    return "".join(out)


class AsciiFilter(LineFilter):
    """Draws every line in ASCII (see the module's docstring)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment if segment.control else Segment(to_ascii(segment.text), segment.style)
            for segment in segments
        ]


def _utf8(value: str) -> bool:
    return value.replace("-", "").lower().endswith("utf8") or ".utf8@" in value.lower()


def ascii_terminal(environ: Mapping[str, str]) -> bool:
    """True when the locale the terminal was started in is not UTF-8 (`LANG=C`, `POSIX`, a
    Latin-1 locale). Python itself turns a C locale into C.UTF-8 for its own use (PEP 538,
    which sets LC_CTYPE): that coerced value is not the terminal's, so it is looked through.
    PODIUM_ASCII=1 asks for ASCII anyway, PODIUM_ASCII=0 never."""
    forced = environ.get("PODIUM_ASCII")
    if forced in ("0", "1"):
        return forced == "1"
    lc_all, lc_ctype, lang = (environ.get(n, "") for n in ("LC_ALL", "LC_CTYPE", "LANG"))
    coerced = lc_ctype in ("C.UTF-8", "C.utf8") and not lc_all and lang in ("", "C", "POSIX")
    value = lc_all or (lang if coerced else lc_ctype) or lang
    return not _utf8(value)
