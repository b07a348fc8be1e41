"""Screenplays as Fountain 1.1: podium's element model, and a writer that cannot be misread.

The element list is the one description of a screenplay: the Fountain and Final Draft writers
render the same list, and the tests parse both back and compare them with it.

Every element is written in its forced form, so text decides nothing about its type: scene
headings start with `.`, each action line with `!`, character cues with `@`, transitions with
`>`. Fountain forces a heading only with a single period followed by a letter or digit (so
that `...` can open action), so every heading is given such a first character (`_heading`).
The exported script ends each heading with its scene number (`#1#`), counted as the PDF counts.
Inside text, the emphasis markers `*` and `_` are backslash-escaped (which also defuses the
boneyard markers `/*` and `*/`), and two brackets in a row get an invisible WORD JOINER between
them so no note can open or close (as does a heading ending in `#`, whose own `#…#` would
otherwise be read as the scene number). `normalize` first puts what a model wrote into the
shapes Fountain can express: one line per cue, parenthetical or transition; action split into
paragraphs; a parenthetical always in parentheses; speech without a speaker kept as action.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from podium.domain.artifacts import Scene
from podium.export.sources import clean, one_line

WORD_JOINER = "\u2060"


class Kind(StrEnum):
    """The element types; all but the scene heading match the domain's `ElementType`."""

    SCENE_HEADING = "scene_heading"
    ACTION = "action"
    CHARACTER = "character"
    PARENTHETICAL = "parenthetical"
    DIALOGUE = "dialogue"
    TRANSITION = "transition"
    SECTION = "section"
    SYNOPSIS = "synopsis"
    NOTE = "note"
    PAGE_BREAK = "page_break"


SPEECH = frozenset({Kind.PARENTHETICAL, Kind.DIALOGUE})


@dataclass(frozen=True)
class ScriptElement:
    kind: Kind
    text: str = ""
    dual: bool = False  # a character cue: the second speaker of dual dialogue
    depth: int = 1  # a section: its level, 1 to 6


@dataclass(frozen=True)
class TitlePage:
    title: str
    fields: tuple[tuple[str, str], ...] = ()  # (key, value) after the title, in order


@dataclass(frozen=True)
class Script:
    title_page: TitlePage
    elements: tuple[ScriptElement, ...]
    # The elements are `normalize`d already (`build_script`): the writers do not again.
    normalized: bool = field(default=False, compare=False, repr=False)

    def normal(self) -> list[ScriptElement]:
        """The elements `normalize`d: as they are when they were already."""
        return list(self.elements) if self.normalized else normalize(self.elements)


# -- building from the domain --------------------------------------------------------------


def scene_elements(scene: Scene, label: str | None = None) -> list[ScriptElement]:
    """One scene as raw elements; `label` (e.g. "DRAFT — awaiting approval") becomes a note."""
    out = [ScriptElement(Kind.SCENE_HEADING, scene.heading)]
    if label:
        out.append(ScriptElement(Kind.NOTE, label))
    out.extend(ScriptElement(Kind(e.type.value), e.text, dual=e.dual) for e in scene.elements)
    return out


def build_script(title_page: TitlePage, scenes: Iterable[tuple[Scene, str | None]]) -> Script:
    """A screenplay from scenes in order, each with the label that marks unfinished work."""
    raw = [element for scene, label in scenes for element in scene_elements(scene, label)]
    return Script(title_page=title_page, elements=tuple(normalize(raw)), normalized=True)


# -- normalizing -----------------------------------------------------------------------------

_LEADING_PAREN = re.compile(r"^(\([^()]*\))\s*(.*)$")
_SECTION = re.compile(r"^(#{1,6})\s*(.*)$")


def normalize(elements: Iterable[ScriptElement]) -> list[ScriptElement]:
    """Clean text and fix the shapes Fountain cannot express; running it twice changes nothing."""
    tidy = [piece for element in elements for piece in _tidy(element)]
    out: list[ScriptElement] = []
    in_block = False  # the last element written belongs to a dialogue block
    block_dual = False  # …whose speaker is the second of a dual pair
    for i, element in enumerate(tidy):
        if element.kind is Kind.CHARACTER:
            following = tidy[i + 1] if i + 1 < len(tidy) else None
            if following is None or following.kind not in SPEECH:
                # A cue with nothing said cannot exist in Fountain: keep the words as action.
                out.append(ScriptElement(Kind.ACTION, element.text))
                in_block = False
                continue
            dual = element.dual and in_block and not block_dual
            out.append(replace(element, dual=dual))
            in_block, block_dual = True, dual
        elif element.kind in SPEECH:
            out.append(element if in_block else ScriptElement(Kind.ACTION, element.text))
        else:
            out.append(element)
            in_block = False
    return out


def _tidy(element: ScriptElement) -> list[ScriptElement]:
    """One element's text cleaned; it may split (action paragraphs) or change kind."""
    kind = element.kind
    if kind is Kind.PAGE_BREAK:
        return [ScriptElement(Kind.PAGE_BREAK)]
    # The writer's own escape character is invisible: dropping it from the text keeps it unique.
    raw = element.text.replace(WORD_JOINER, "")
    if kind is Kind.ACTION:
        text = clean(raw).replace("\t", " ")
        out = []
        for paragraph in re.split(r"\n\s*\n", text):
            lines = [line.strip() for line in paragraph.split("\n")]
            joined = "\n".join(line for line in lines if line)
            if joined:
                out.append(ScriptElement(Kind.ACTION, joined))
        return out
    text = one_line(raw)
    if kind is Kind.SCENE_HEADING:
        return [ScriptElement(kind, _heading(text))]
    if not text:
        return []
    if kind is Kind.CHARACTER:
        name = text.rstrip("^ ")
        return [ScriptElement(kind, name, dual=element.dual)] if name else []
    if kind is Kind.PARENTHETICAL:
        inner = text[1:] if text.startswith("(") else text
        inner = inner[:-1] if inner.endswith(")") else inner
        return [ScriptElement(kind, f"({inner.strip()})")]
    if kind is Kind.DIALOGUE:
        # A line in parentheses is a parenthetical in Fountain; an opening one is split off.
        out = []
        while match := _LEADING_PAREN.match(text):
            out.append(ScriptElement(Kind.PARENTHETICAL, match.group(1)))
            text = match.group(2)
        if text:
            out.append(ScriptElement(Kind.DIALOGUE, text))
        return out
    if kind is Kind.TRANSITION:
        words = text.upper().lstrip("> ").rstrip("< ")
        return [ScriptElement(kind, words)] if words else []
    if kind is Kind.SECTION:
        match = _SECTION.match(text)
        depth = len(match.group(1)) if match else element.depth
        title = (match.group(2) if match else text).lstrip("# ").strip()
        return [ScriptElement(kind, title, depth=max(1, min(depth, 6)))] if title else []
    return [ScriptElement(kind, text)]  # synopsis, note


_STANDARD_HEADING = re.compile(r"^(?:INT\.?/EXT|INT|EXT|EST|I/E)[. ]")
_LEADING_QUALIFIER = re.compile(r"^(\([^()]*\))\s*(.+)$")


def _heading(text: str) -> str:
    """A heading's text, in capitals, such that `.` + text is a forced heading to any reader.

    Fountain 1.1 forces a scene heading with "a single leading period followed by an
    alphanumeric character" (`..` and `...` open action instead), and jouvence, for one, holds
    to it. Text that starts with a letter or digit is kept exactly. A period the model put in
    front to force the heading itself is dropped; an ellipsis is the model's words and stays.
    Text that starts with anything else cannot open a heading in strict Fountain, so it is
    given the smallest change that keeps every character: a qualifier in front of a standard
    heading moves behind it, where screenplays write it (`(FLASHBACK) INT. HALL - DAY` →
    `INT. HALL - DAY (FLASHBACK)`); anything else is prefixed `SCENE - ` (`'TIL DAWN` →
    `SCENE - 'TIL DAWN`), as an empty heading is `SCENE`. The change is made here, in the
    element list, so Fountain, Final Draft and the tests all carry the same text.
    """
    text = text.upper()
    while text.startswith(".") and not text.startswith(".."):
        text = text[1:].lstrip()
    if not text:
        return "SCENE"
    if text[0].isalnum():
        return text
    match = _LEADING_QUALIFIER.match(text)
    if match and _STANDARD_HEADING.match(match.group(2)):
        return f"{match.group(2)} {match.group(1)}"
    return f"SCENE - {text}"


# -- writing Fountain ------------------------------------------------------------------------


_DOUBLE_BRACKET = re.compile(r"([\[\]])(?=\1)")
_JOINED_BRACKET = re.compile(rf"([\[\]]){WORD_JOINER}(?=\1)")


def escape(text: str) -> str:
    """Text Fountain shows as written: no emphasis, boneyard or note can start inside it."""
    text = text.replace("*", "\\*").replace("_", "\\_")
    return _DOUBLE_BRACKET.sub(rf"\1{WORD_JOINER}", text)


def unescape(text: str) -> str:
    """What a reader sees of `escape(text)`: the inverse, for checks and tests."""
    text = _JOINED_BRACKET.sub(r"\1", text).removesuffix(WORD_JOINER)
    return text.replace("\\*", "*").replace("\\_", "_")


def title_page_lines(page: TitlePage) -> list[str]:
    lines: list[str] = []
    for key, value in (("Title", page.title), *page.fields):
        parts = [escape(one_line(p)) for p in clean(value).split("\n")]
        parts = [p for p in parts if p]
        if not parts:
            continue
        if len(parts) == 1:
            lines.append(f"{key}: {parts[0]}")
        else:
            lines.append(f"{key}:")
            lines.extend(f"    {p}" for p in parts)
    return lines


def paragraphs(elements: Sequence[ScriptElement], *, numbered: bool = False) -> list[str]:
    """The body as Fountain paragraphs (a dialogue block is one paragraph); `numbered` ends
    each scene heading with its scene number."""
    out: list[str] = []
    block: list[str] = []
    scene = 0  # headings are numbered in order, as the PDF and the FDX number them
    for element in elements:
        kind = element.kind
        if kind in SPEECH and block:
            block.append(escape(element.text))
            continue
        if block:
            out.append("\n".join(block))
            block = []
        text = escape(element.text)
        if kind is Kind.CHARACTER:
            block = [f"@{text}{' ^' if element.dual else ''}"]
        elif kind is Kind.SCENE_HEADING:
            # A closing `#…#` in the text would be read as the scene number; a joiner stops it.
            scene += 1
            number = f" #{scene}#" if numbered else ""
            out.append(f".{text}{WORD_JOINER if text.endswith('#') else ''}{number}")
        elif kind is Kind.ACTION:
            out.append("\n".join(f"!{line}" for line in text.split("\n")))
        elif kind is Kind.TRANSITION:
            out.append(f">{text}")
        elif kind is Kind.SECTION:
            out.append(f"{'#' * element.depth} {text}")
        elif kind is Kind.SYNOPSIS:
            out.append(f"= {text}")
        elif kind is Kind.NOTE:
            # A closing bracket at the end would close the note one bracket early.
            out.append(f"[[{text}{WORD_JOINER if text.endswith(']') else ''}]]")
        elif kind is Kind.PAGE_BREAK:
            out.append("===")
        else:  # speech without a block cannot survive normalize(); keep the words regardless
            out.append(f"!{text}")
    if block:
        out.append("\n".join(block))
    return out


def to_fountain(script: Script, *, numbered: bool = False) -> str:
    """The whole screenplay as Fountain 1.1 text, ending with a newline; `numbered` (the
    export's shooting script) ends each heading with its scene number."""
    body = paragraphs(script.normal(), numbered=numbered)
    head = title_page_lines(script.title_page)
    return "\n\n".join(["\n".join(head), *body]) + "\n"
