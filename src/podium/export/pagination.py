"""A screenplay laid out on pages as the industry prints it: pure, no PDF library involved.

The page is US Letter in Courier 12 pt, so every character is 0.1" wide (10 per inch) and every
line 1/6" high (6 per inch), and layout is a matter of counting characters and lines. Margins:
1.5" left, 1" right, 1" top; the body holds `LINES_PER_PAGE` lines (55, leaving about 0.8" at
the foot). Elements start where the usual templates put them (scene heading and action at 1.5",
60 characters wide; character cue at 3.7"; parenthetical at 3.1", 24 wide; dialogue at 2.5",
35 wide; transitions flush right at 7.5"); one blank line stands before each element except
the lines of a speech. Scene numbers are printed in both margins of the heading's first line,
page numbers (`2.`) top right from page 2 on; the title page is not numbered or counted.

Breaking a page follows what screenwriting tools do (Final Draft, afterwriting): a scene
heading is never the last thing on a page (it moves, with the blank before it, to the next);
a speech that does not fit splits only at the end of a sentence, with at least two lines of
speech on each side, never right after a parenthetical, `(MORE)` under the first part and the
cue again, `NAME (CONT'D)`, over the rest; an action paragraph splits at the end of a sentence
with two lines on each side, or moves whole. Only what cannot fit on an empty page under those
rules is cut harder (between words, then between lines), so every page holds at most
`LINES_PER_PAGE` lines whatever the text.

Text is made printable first (`printable`): Courier's core font is Latin-1, so typographic
punctuation becomes its typewriter form (— becomes --), accented letters outside Latin-1 lose
the accent, and anything else becomes a visible `?`. Lengths are counted on that text, so what
is measured is what is drawn.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import zip_longest

from podium.export.fountain import SPEECH, WORD_JOINER, Kind, Script, ScriptElement

CHAR_WIDTH = 0.1  # inches: Courier 12 pt is 10 characters per inch
LINE_HEIGHT = 1 / 6  # inches: 6 lines per inch
PAGE_WIDTH = 8.5
PAGE_HEIGHT = 11.0
TOP = 1.0  # the first body line's top, inches from the top edge
LINES_PER_PAGE = 55
PAGE_NUMBER_TOP = 0.5  # the page number's line, inches from the top edge

LEFT = 1.5
RIGHT = 7.5  # the right margin: 1" from the edge
ACTION_WIDTH = 60
CUE_X = 3.7
CUE_WIDTH = 38
PAREN_X = 3.1
PAREN_WIDTH = 24
DIALOGUE_X = 2.5
DIALOGUE_WIDTH = 35
NUMBER_LEFT_END = 1.2  # a left scene number ends here (right-aligned in the left margin)
NUMBER_RIGHT_X = 7.7  # a right scene number starts here (in the right margin)
# Dual dialogue: two narrower columns side by side.
DUAL = (
    {"cue": 2.6, "paren": 1.8, "dialogue": 1.5},
    {"cue": 5.8, "paren": 5.0, "dialogue": 4.7},
)
DUAL_DIALOGUE_WIDTH = 28
DUAL_PAREN_WIDTH = 22

MORE = "(MORE)"
CONTD = "(CONT'D)"
MIN_SIDE = 2  # lines of speech or action a split leaves on each side


# -- printable text ----------------------------------------------------------------------------

_TYPEWRITER = str.maketrans(
    {
        "\u2014": "--",
        "\u2015": "--",
        "\u2013": "-",
        "\u2012": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u2026": "...",
        "\u2022": "*",
        "\u00a0": " ",
        "\u2009": " ",
        "\u200a": " ",
        "\u202f": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\t": " ",
        WORD_JOINER: "",
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\ufeff": "",
        "\u00ad": "",
        "\u0141": "L",
        "\u0142": "l",
        "\u0110": "D",
        "\u0111": "d",
        "\u0131": "i",
        "\u0152": "OE",
        "\u0153": "oe",
    }
)
UNPRINTABLE = "?"


def printable(text: str) -> str:
    """`text` in the characters Courier's Latin-1 core font can draw, nothing dropped silently:
    typographic punctuation becomes its typewriter form, a letter outside Latin-1 its base
    letter (ł → l by decomposition where Unicode has one), anything else `?`."""
    text = text.translate(_TYPEWRITER)
    if (text.isascii() or max(text) < "\u0100") and text.replace("\n", "").isprintable():
        return text  # every character kept as it is (nearly every text: at C speed)
    out: list[str] = []
    for char in text:
        if char == "\n" or (ord(char) < 0x100 and char.isprintable()):
            out.append(char)
            continue
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char)
            if ord(c) < 0x100 and c.isprintable() and not unicodedata.combining(c)
        )
        out.append(base or UNPRINTABLE)
    return "".join(out)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters, broken between words (a longer word is cut)."""
    lines = textwrap.wrap(text, width, break_on_hyphens=False) if text.strip() else []
    return lines or [""]


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|(?<=--)\s+")


def sentences(text: str) -> list[str]:
    """`text` cut after each sentence: after . ! ? (closing quotes and brackets included)."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group().rstrip())
        if end > start:
            pieces.append(text[start:end].strip())
        start = match.end()
    if text[start:].strip():
        pieces.append(text[start:].strip())
    return pieces


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    x: float  # inches from the page's left edge
    text: str


@dataclass(frozen=True)
class Line:
    """One printed line: what is on it, which element it belongs to, and to which scene."""

    segments: tuple[Segment, ...] = ()
    kind: Kind | None = None  # None for a blank line and for (MORE)
    scene: int | None = None  # the scene number the line belongs to; None before the first
    number: str | None = None  # the scene number printed in both margins (a heading's line)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)


@dataclass(frozen=True)
class Page:
    number: int  # 1 for the first page of the script
    lines: tuple[Line, ...]

    @property
    def page_number(self) -> str | None:
        """What is printed top right: nothing on page 1."""
        return f"{self.number}." if self.number > 1 else None


@dataclass(frozen=True)
class SceneLength:
    """A scene's printed extent: its lines on each page it touches, and its eighths."""

    number: int
    heading: str
    lines: tuple[tuple[int, int], ...]  # (page number, lines of the scene on it)

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(page for page, _ in self.lines)

    @property
    def eighths(self) -> int:
        """As a script supervisor counts: each page's share rounded to the nearest eighth,
        at least one eighth."""
        return sum(eighths(count) for _, count in self.lines)


@dataclass(frozen=True)
class Paginated:
    title: tuple[Line, ...]  # the title page, on the same grid as a body page
    pages: tuple[Page, ...]
    scenes: tuple[SceneLength, ...]
    lines_per_page: int = LINES_PER_PAGE

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def eighths(self) -> int:
        """The script's length in eighths of a page: its scenes', plus anything before them."""
        before = sum(
            1 for page in self.pages for line in page.lines if line.scene is None and line.kind
        )
        return sum(s.eighths for s in self.scenes) + (eighths(before) if before else 0)

    @property
    def minutes(self) -> Fraction:
        """Screen time by the rule of thumb: a page a minute."""
        return Fraction(self.eighths, 8)


def eighths(lines: int, lines_per_page: int = LINES_PER_PAGE) -> int:
    """Lines of one page in eighths of a page, rounded half up, at least one."""
    return max(1, (lines * 16 + lines_per_page) // (2 * lines_per_page))


def pages_text(eighths_count: int) -> str:
    """Eighths as a script supervisor writes them: `8 4/8`, `6/8`, `3`."""
    whole, rest = divmod(eighths_count, 8)
    if not rest:
        return str(whole)
    return f"{whole} {rest}/8" if whole else f"{rest}/8"


# -- blocks: what may move or split --------------------------------------------------------------


def _line(x: float, text: str, kind: Kind | None, scene: int | None) -> Line:
    return Line((Segment(x, text),), kind, scene)


@dataclass
class _Block:
    """Lines that stay together unless the block knows where it may split."""

    scene: int | None
    body: list[Line] = field(default_factory=list)

    def lines(self) -> list[Line]:
        return self.body

    def split(self, room: int, force: bool) -> tuple[list[Line], _Block | None] | None:
        """The lines to print in `room` and what is left, or None if nothing fits under the
        rules. `force` (an empty page) relaxes the rules and always returns a part."""
        lines = self.lines()
        if len(lines) <= room:
            return lines, None
        if not force:
            return None
        return lines[:room], _Block(self.scene, lines[room:])


@dataclass
class _PageBreak(_Block):
    pass


Unit = tuple[int, Kind, str]  # (the part it belongs to, its kind, its words)


def _join(units: Sequence[Unit]) -> list[tuple[Kind, str]]:
    """Units back into parts: consecutive units of one part joined by a space."""
    parts: list[tuple[int, Kind, list[str]]] = []
    for index, kind, text in units:
        if parts and parts[-1][0] == index:
            parts[-1][2].append(text)
        else:
            parts.append((index, kind, [text]))
    return [(kind, " ".join(words)) for _, kind, words in parts]


def _units(parts: Sequence[tuple[Kind, str]], words: bool) -> list[Unit]:
    out: list[Unit] = []
    for index, (kind, text) in enumerate(parts):
        if kind is Kind.PARENTHETICAL:
            out.append((index, kind, text))
        else:
            out += [(index, kind, piece) for piece in (text.split() if words else sentences(text))]
    return out


@dataclass
class _Action(_Block):
    text: str = ""

    def _parts(self) -> list[tuple[Kind, str]]:
        return [(Kind.ACTION, line) for line in self.text.split("\n")]

    def lines(self) -> list[Line]:
        return self._render(self._parts())

    def _render(self, parts: Sequence[tuple[Kind, str]]) -> list[Line]:
        return [
            _line(LEFT, row, Kind.ACTION, self.scene)
            for _, text in parts
            for row in wrap(text, ACTION_WIDTH)
        ]

    def split(self, room: int, force: bool) -> tuple[list[Line], _Block | None] | None:
        lines = self.lines()
        if len(lines) <= room:
            return lines, None
        for words in (False, True) if force else (False,):
            least = 1 if force else MIN_SIDE
            units = _units(self._parts(), words)
            for k in range(len(units) - 1, 0, -1):
                head = self._render(_join(units[:k]))
                if len(head) > room or len(head) < least:
                    continue
                rest = _join(units[k:])
                if len(self._render(rest)) >= least:
                    return head, _Action(self.scene, text="\n".join(t for _, t in rest))
        return super().split(room, force)


def _continued(cue: str) -> str:
    return cue if cue.endswith(CONTD) else f"{cue} {CONTD}"


@dataclass
class _Speech(_Block):
    cue: str = ""
    parts: list[tuple[Kind, str]] = field(default_factory=list)

    def lines(self) -> list[Line]:
        return self._render(self.cue, self.parts)

    def _render(self, cue: str, parts: Sequence[tuple[Kind, str]]) -> list[Line]:
        out = [_line(CUE_X, row, Kind.CHARACTER, self.scene) for row in wrap(cue, CUE_WIDTH)]
        for kind, text in parts:
            x, width = (
                (PAREN_X, PAREN_WIDTH)
                if kind is Kind.PARENTHETICAL
                else (DIALOGUE_X, DIALOGUE_WIDTH)
            )
            out += [_line(x, row, kind, self.scene) for row in wrap(text, width)]
        return out

    def split(self, room: int, force: bool) -> tuple[list[Line], _Block | None] | None:
        lines = self.lines()
        if len(lines) <= room:
            return lines, None
        cue_lines = len(wrap(self.cue, CUE_WIDTH))
        least = 1 if force else MIN_SIDE
        for words in (False, True) if force else (False,):
            units = _units(self.parts, words)
            for k in range(len(units) - 1, 0, -1):
                if units[k - 1][1] is Kind.PARENTHETICAL and not force:
                    continue  # a parenthetical never ends a page
                head = self._render(self.cue, _join(units[:k]))
                if len(head) + 1 > room or len(head) - cue_lines < least:
                    continue
                rest = _join(units[k:])
                tail = _Speech(self.scene, cue=_continued(self.cue), parts=rest)
                if len(tail.lines()) - len(wrap(tail.cue, CUE_WIDTH)) >= least:
                    more = _line(CUE_X, MORE, None, self.scene)
                    return [*head, more], tail
        return super().split(room, force)


@dataclass
class _Dual(_Block):
    speakers: list[_Speech] = field(default_factory=list)

    def lines(self) -> list[Line]:
        columns: list[list[Line]] = []
        for side, speech in enumerate(self.speakers[:2]):
            place = DUAL[side]
            column = [
                _line(place["cue"], row, Kind.CHARACTER, self.scene)
                for row in wrap(speech.cue, CUE_WIDTH // 2)
            ]
            for kind, text in speech.parts:
                paren = kind is Kind.PARENTHETICAL
                x = place["paren"] if paren else place["dialogue"]
                width = DUAL_PAREN_WIDTH if paren else DUAL_DIALOGUE_WIDTH
                column += [_line(x, row, kind, self.scene) for row in wrap(text, width)]
            columns.append(column)
        out = []
        for left, right in zip_longest(*columns):
            pair = [line for line in (left, right) if line is not None]
            segments = tuple(s for line in pair for s in line.segments)
            out.append(Line(segments, pair[0].kind, self.scene))
        return out


@dataclass
class _Heading(_Block):
    """A scene heading, chained to what follows it so that it never ends a page."""

    text: str = ""
    following: _Block | None = None

    def own(self) -> list[Line]:
        rows = wrap(self.text, ACTION_WIDTH)
        number = str(self.scene)
        first = Line(
            (
                Segment(NUMBER_LEFT_END - CHAR_WIDTH * len(number), number),
                Segment(LEFT, rows[0]),
                Segment(NUMBER_RIGHT_X, number),
            ),
            Kind.SCENE_HEADING,
            self.scene,
            number,
        )
        return [first, *(_line(LEFT, row, Kind.SCENE_HEADING, self.scene) for row in rows[1:])]

    def lines(self) -> list[Line]:
        own = self.own()
        if self.following is None:
            return own
        return [*own, Line(scene=self.following.scene), *self.following.lines()]

    def split(self, room: int, force: bool) -> tuple[list[Line], _Block | None] | None:
        own = self.own()
        if self.following is None or isinstance(self.following, _PageBreak):
            return super().split(room, force)
        found = self.following.split(room - len(own) - 1, force) if room > len(own) + 1 else None
        if found is None:
            return (own[:room], self.following) if force else None
        head, tail = found
        return [*own, Line(scene=self.following.scene), *head], tail


def _blocks(elements: Sequence[ScriptElement]) -> list[_Block]:
    blocks: list[_Block] = []
    scene: int | None = None
    i = 0
    while i < len(elements):
        element = elements[i]
        kind = element.kind
        i += 1
        if kind is Kind.SCENE_HEADING:
            scene = (scene or 0) + 1
            blocks.append(_Heading(scene, text=printable(element.text)))
        elif kind is Kind.ACTION:
            blocks.append(_Action(scene, text=printable(element.text)))
        elif kind is Kind.TRANSITION:
            rows = wrap(printable(element.text), ACTION_WIDTH)
            body = [_line(RIGHT - CHAR_WIDTH * len(r), r, kind, scene) for r in rows]
            blocks.append(_Block(scene, body))
        elif kind is Kind.PAGE_BREAK:
            blocks.append(_PageBreak(scene))
        elif kind is Kind.CHARACTER:
            speech = _Speech(scene, cue=printable(element.text))
            while i < len(elements) and elements[i].kind in SPEECH:
                speech.parts.append((elements[i].kind, printable(elements[i].text)))
                i += 1
            previous = blocks[-1] if blocks else None
            if element.dual and isinstance(previous, _Speech):
                blocks[-1] = _Dual(scene, speakers=[previous, speech])
            else:
                blocks.append(speech)
        # notes, synopses and sections are not printed; speech without a cue cannot survive
        # normalize()
    chained: list[_Block] = []
    for block in blocks:
        previous = chained[-1] if chained else None
        if (
            isinstance(previous, _Heading)
            and previous.following is None
            and not isinstance(block, _Heading | _PageBreak)
        ):
            previous.following = block
        else:
            chained.append(block)
    return chained


# -- paginating ----------------------------------------------------------------------------------


def paginate(script: Script, lines_per_page: int = LINES_PER_PAGE) -> Paginated:
    """The script's pages: no page holds more than `lines_per_page` lines."""
    if lines_per_page < 8:
        raise ValueError(f"lines_per_page must be at least 8, not {lines_per_page}")
    queue = deque(_blocks(script.normal()))
    pages: list[list[Line]] = []
    current: list[Line] = []
    while queue:
        block = queue.popleft()
        if isinstance(block, _PageBreak):
            if current:
                pages.append(current)
                current = []
            continue
        gap = 1 if current else 0
        room = lines_per_page - len(current) - gap
        found = block.split(room, force=False) if room > 0 else None
        if found is None and current:
            pages.append(current)
            current = []
            queue.appendleft(block)
            continue
        if found is None:
            found = block.split(lines_per_page, force=True)
            assert found is not None  # a forced split always places something
            gap = 0
        head, tail = found
        if gap:
            current.append(Line(scene=block.scene))
        current.extend(head)
        if tail is not None:
            pages.append(current)
            current = []
            queue.appendleft(tail)
    if current:
        pages.append(current)
    laid = tuple(Page(n, tuple(lines)) for n, lines in enumerate(pages, start=1))
    return Paginated(_title(script), laid, _scenes(laid, lines_per_page), lines_per_page)


def _scenes(pages: Sequence[Page], lines_per_page: int) -> tuple[SceneLength, ...]:
    counts: dict[int, dict[int, int]] = {}
    headings: dict[int, str] = {}
    for page in pages:
        for line in page.lines:
            if line.scene is None:
                continue
            per_page = counts.setdefault(line.scene, {})
            per_page[page.number] = per_page.get(page.number, 0) + 1
            if line.number is not None:
                headings[line.scene] = line.segments[1].text
    return tuple(
        SceneLength(scene, headings.get(scene, ""), tuple(sorted(counts[scene].items())))
        for scene in sorted(counts)
    )


# -- the title page --------------------------------------------------------------------------

_CENTERED = ("credit", "author", "authors", "source")
_TITLE_LINE = 18  # the title's first line on the body grid (about 4" from the top edge)


def _centered(text: str) -> Segment:
    return Segment(LEFT + (ACTION_WIDTH - len(text)) * CHAR_WIDTH / 2, text)


def _title(script: Script, lines_per_page: int = LINES_PER_PAGE) -> tuple[Line, ...]:
    page = script.title_page
    grid: list[Line] = [Line() for _ in range(lines_per_page)]
    row = _TITLE_LINE
    for part in printable(page.title).upper().split("\n"):
        for text in wrap(part.strip(), ACTION_WIDTH):
            if row < lines_per_page:
                grid[row] = Line((_centered(text),))
            row += 1
    corner: list[str] = []
    for key, value in page.fields:
        text = printable(value)
        if key.lower() in _CENTERED:
            row += 1
            for part in text.split("\n"):
                for line in wrap(part.strip(), ACTION_WIDTH):
                    if row < lines_per_page:
                        grid[row] = Line((_centered(line),))
                    row += 1
        else:
            corner += [f"{key}:" if len(text) > ACTION_WIDTH - len(key) - 2 else f"{key}: {text}"]
            if len(text) > ACTION_WIDTH - len(key) - 2:
                corner += [r for part in text.split("\n") for r in wrap(part, ACTION_WIDTH)]
    room = max(0, lines_per_page - row - 2)
    if len(corner) > room:
        corner = corner[: max(0, room - 1)] + ["..."] if room else []
    start = lines_per_page - len(corner)
    for offset, text in enumerate(corner):
        grid[start + offset] = Line((Segment(LEFT, text),))
    return tuple(grid)
