"""A Screenplay as Fountain, both ways.

It is written by the exporter's own writer (`fountain.to_fountain`), so `show` and the exported
file agree byte for byte. The reader takes that output and what a screenwriter types by hand
(Fountain 1.1: headings, cues with extensions and `^`, parentheticals, transitions, centered
text, sections, synopses, notes, page breaks, boneyard, a title page). What the element model
cannot hold is normalised, in both directions: the title page keeps only its Title (the export
makes the rest from the production); scene numbers (`#12#`) and boneyard text are dropped;
centered text becomes action; emphasis and lyrics (`~`) stay in the text as typed, and so do
notes inside a line of action or dialogue; dialogue is one element per line, as the writer puts
it. Nothing may stand before the first scene heading: every element belongs to a scene.
"""

from __future__ import annotations

import re

from podium.domain.artifacts import ElementType, Scene, ScreenElement, Screenplay
from podium.export.fountain import (
    SPEECH,
    WORD_JOINER,
    Kind,
    Script,
    ScriptElement,
    TitlePage,
    build_script,
    normalize,
    to_fountain,
    unescape,
)
from podium.export.human.base import Line, ParseError


def render_fountain(play: Screenplay) -> str:
    """The screenplay as the exporter writes it, title page first when there is a title."""
    script = build_script(TitlePage(play.title), ((scene, None) for scene in play.scenes))
    return to_fountain(script).lstrip("\n")


def script_of(play: Screenplay) -> Script:
    """The element list `render_fountain` writes (for checks against other readers)."""
    return build_script(TitlePage(play.title), ((scene, None) for scene in play.scenes))


Located = tuple[int, ScriptElement]  # (line, element)

_TITLE_KEYS = {
    "title",
    "credit",
    "author",
    "authors",
    "source",
    "draft",
    "draft date",
    "date",
    "contact",
    "copyright",
    "notes",
    "revision",
}
_TITLE_LINE = re.compile(r"^([^\W\d_][\w ]*?)\s*:(.*)$")
_BONE_END = re.compile(r"(?<!\\)\*/")
_PAGE_BREAK = re.compile(r"^={3,}$")
_STANDARD_HEADING = re.compile(r"^(?:INT\.?/EXT|INT|EXT|EST|I/E)[. ]", re.IGNORECASE)
_FORCED_HEADING = re.compile(r"^\.(?=[^\W_])")
_SCENE_NUMBER = re.compile(r"\s*#[\w.\-]+#$")
_PARENTHETICAL = re.compile(r"^\(.*\)$")
_EXTENSION = re.compile(r"\([^()]*\)")
_CUE_EXTENSION = re.compile(r"\((?:V\.?O\.?|O\.?S\.?|O\.?C\.?|CONT'?D|CONTINUED)\)", re.IGNORECASE)


def parse_fountain(text: str) -> Screenplay:
    """A Fountain screenplay as podium's element model; ParseError names the first bad line."""
    lines = _without_boneyard(text)
    title, body = _title_page(lines)
    located: list[Located] = []
    for paragraph in _paragraphs(body):
        _read_paragraph(paragraph, located)
    _check_dual(located)
    if not located:
        last = max((n for n, line in lines if line.strip()), default=1)
        raise ParseError(last, "there is no scene; start one with a heading like INT. HOUSE - DAY")
    first_line, first = located[0]
    if first.kind is not Kind.SCENE_HEADING:
        raise ParseError(
            first_line,
            f"{_describe(first)} comes before the first scene heading; every line belongs to a "
            "scene, so start with a heading like INT. HOUSE - DAY above it",
        )
    return _screenplay(title, [element for _, element in located])


def _screenplay(title: str, elements: list[ScriptElement]) -> Screenplay:
    scenes: list[Scene] = []
    for element in normalize(elements):
        if element.kind is Kind.SCENE_HEADING:
            scenes.append(Scene(heading=element.text))
        else:
            scenes[-1].elements.append(_domain(element))
    return Screenplay(title=title, scenes=scenes)


def _domain(element: ScriptElement) -> ScreenElement:
    text = element.text
    if element.kind is Kind.SECTION and element.depth > 1:
        text = f"{'#' * element.depth} {text}"
    return ScreenElement(type=ElementType(element.kind.value), text=text, dual=element.dual)


def _describe(element: ScriptElement) -> str:
    words = element.kind.value.replace("_", " ")
    text = element.text.split("\n")[0]
    text = text if len(text) <= 40 else text[:39] + "…"
    return f"the {words} {text!r}" if text else f"a {words}"


def _without_boneyard(text: str) -> list[Line]:
    """The lines with `/* … */` taken out; a line that held only boneyard goes altogether."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    spans: list[tuple[int, int]] = []
    pos = 0
    while (start := text.find("/*", pos)) >= 0:
        end = _BONE_END.search(text, start + 2)
        if end is None:
            raise ParseError(
                text.count("\n", 0, start) + 1,
                "'/*' opens a boneyard that is never closed; add '*/' where the cut text ends",
            )
        spans.append((start, end.end()))
        pos = end.end()
    out: list[Line] = []
    offset = 0
    for number, line in enumerate(text.split("\n"), 1):
        low, high = offset, offset + len(line)
        offset = high + 1
        cuts = [(max(s, low), min(e, high)) for s, e in spans if s < high + 1 and e > low]
        if not cuts:
            out.append((number, line))
            continue
        kept, at = [], low
        for s, e in cuts:
            kept.append(text[at:s] if s > at else "")
            at = max(at, e)
        kept.append(text[at:high])
        rest = "".join(kept)
        if rest.strip():
            out.append((number, rest))
    return out


def _title_page(lines: list[Line]) -> tuple[str, list[Line]]:
    """The title from a leading title page (its other keys are the export's to make)."""
    start = 0
    while start < len(lines) and not lines[start][1].strip():
        start += 1
    if start == len(lines):
        return "", lines
    match = _TITLE_LINE.match(lines[start][1])
    if match is None or match.group(1).lower() not in _TITLE_KEYS:
        return "", lines
    title: list[str] = []
    key = ""
    end = start
    while end < len(lines) and lines[end][1].strip():
        line = lines[end][1]
        match = _TITLE_LINE.match(line)
        if match and not line[:1].isspace():
            key = match.group(1).lower()
            value = match.group(2).strip()
        elif line[:1].isspace():
            value = line.strip()  # a value's next line, indented
        else:
            break  # the body follows without a blank line
        if key == "title" and value:
            title.append(unescape(value))
        end += 1
    return "\n".join(title), lines[end:]


def _paragraphs(lines: list[Line]) -> list[list[Line]]:
    """Runs of lines between blank lines; a line of two spaces keeps a run going (Fountain)."""
    out: list[list[Line]] = []
    current: list[Line] = []
    for number, line in lines:
        if line.strip() or (current and line == "  "):
            current.append((number, line))
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _read_paragraph(paragraph: list[Line], out: list[Located]) -> None:
    """Elements from one paragraph; a one-line element leaves the rest to be read again."""
    lines = list(paragraph)
    while lines:
        number, raw = lines[0]
        line = raw.strip()
        rest = lines[1:]
        if not line:
            lines = rest
            continue
        one = _single_line(line)
        if one is None and line.startswith(">") and not line.endswith("<"):
            one = ScriptElement(Kind.TRANSITION, unescape(line[1:].strip()))
        if one is not None:
            out.append((number, one))
            lines = rest
            continue
        if line.startswith("[["):
            lines = _note(lines, out)
            continue
        if line.startswith("!"):
            text = "\n".join(_unforce(s.strip()) for _, s in lines)
            out.append((number, ScriptElement(Kind.ACTION, unescape(text))))
            return
        if line.startswith(">") and line.endswith("<"):
            centered = [_uncenter(s.strip()) for _, s in lines]
            out.append((number, ScriptElement(Kind.ACTION, unescape("\n".join(centered)))))
            return
        cue = _cue(line)
        if cue is not None and rest:
            out.append((number, cue))
            _speech(rest, out)
            return
        if not rest and line == line.upper() and line.endswith("TO:"):
            out.append((number, ScriptElement(Kind.TRANSITION, unescape(line))))
            return
        _check_orphans(number, line, rest)
        out.append((number, ScriptElement(Kind.ACTION, unescape("\n".join(s for _, s in lines)))))
        return


def _single_line(line: str) -> ScriptElement | None:
    """A heading, section, synopsis or page break: elements that are one line long."""
    if _PAGE_BREAK.match(line):
        return ScriptElement(Kind.PAGE_BREAK)
    if _FORCED_HEADING.match(line):
        return ScriptElement(Kind.SCENE_HEADING, _heading_text(line[1:]))
    if _STANDARD_HEADING.match(line):
        return ScriptElement(Kind.SCENE_HEADING, _heading_text(line))
    if line.startswith("#"):
        marks = len(line) - len(line.lstrip("#"))
        title = unescape(line.lstrip("# \t"))
        return ScriptElement(Kind.SECTION, title, depth=min(marks, 6))
    if line.startswith("="):
        return ScriptElement(Kind.SYNOPSIS, unescape(line[1:].strip()))
    return None


def _heading_text(text: str) -> str:
    if text.endswith(WORD_JOINER):
        return unescape(text.removesuffix(WORD_JOINER))
    return unescape(_SCENE_NUMBER.sub("", text))


def _note(lines: list[Line], out: list[Located]) -> list[Line]:
    """A note standing on its own lines, `[[` to `]]`; what follows it is read again."""
    number = lines[0][0]
    parts: list[str] = []
    for index, (_, raw) in enumerate(lines):
        line = raw.strip()
        body = line[2:] if index == 0 else line
        close = body.find("]]")  # the writer's `]`-joiner-`]` is not one
        if close < 0:
            parts.append(body)
            continue
        parts.append(body[:close])
        after = body[close + 2 :].strip()
        if after:  # `[[note]] and more words`: a line of action that holds a note
            text = "\n".join(s.strip() for _, s in lines)
            out.append((number, ScriptElement(Kind.ACTION, unescape(text))))
            return []
        note = " ".join(p.strip() for p in parts if p.strip())
        out.append((number, ScriptElement(Kind.NOTE, unescape(note))))
        return lines[index + 1 :]
    raise ParseError(number, "this note opens with '[[' but never closes; end it with ']]'")


def _unforce(line: str) -> str:
    return line[1:] if line.startswith("!") else line


def _uncenter(line: str) -> str:
    if line.startswith(">") and line.endswith("<"):
        return line[1:-1].strip()
    return line


def _cue(line: str) -> ScriptElement | None:
    """A character cue: `@Name`, or a line in capitals (an extension may be in any case)."""
    dual = line.endswith("^")
    name = line.rstrip("^").strip() if dual else line
    if name.startswith("@"):
        return ScriptElement(Kind.CHARACTER, unescape(name[1:].strip()), dual=dual)
    if name.startswith("!"):
        return None
    base = _EXTENSION.sub("", name)
    if not any(c.isalpha() for c in base) or base != base.upper():
        return None
    return ScriptElement(Kind.CHARACTER, unescape(name), dual=dual)


def _speech(lines: list[Line], out: list[Located]) -> None:
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue  # the two-space line that keeps a speech going
        kind = Kind.PARENTHETICAL if _PARENTHETICAL.match(line) else Kind.DIALOGUE
        out.append((number, ScriptElement(kind, unescape(line))))


def _check_orphans(number: int, line: str, rest: list[Line]) -> None:
    """Refuse what is surely a speech cut from its speaker, rather than keep it as action."""
    if _PARENTHETICAL.match(line) and rest:
        raise ParseError(
            number,
            "a parenthetical and dialogue with no character cue above them; put the speaker's "
            "name in capitals on the line before, with no blank line between",
        )
    cue = _cue(line)
    if cue is not None and not rest and (cue.dual or _CUE_EXTENSION.search(line)):
        raise ParseError(
            number,
            f"the character cue {line!r} has no dialogue under it; put the dialogue on the "
            "next line, with no blank line between",
        )
    if line.startswith("@") and not rest:
        raise ParseError(
            number,
            f"the character cue {line!r} has no dialogue under it; put the dialogue on the "
            "next line, with no blank line between",
        )


def _check_dual(located: list[Located]) -> None:
    """A `^` cue must answer the speech just before it, which is not itself the second half."""
    previous: ScriptElement | None = None
    block_dual = False
    for number, element in located:
        if element.kind is Kind.CHARACTER:
            if element.dual and (previous is None or previous.kind not in SPEECH or block_dual):
                raise ParseError(
                    number,
                    f"{element.text} ^ marks the second speaker of dual dialogue, but no other "
                    "speech comes just before it; remove the ^, or put this speech right after "
                    "the first speaker's",
                )
            block_dual = element.dual
        previous = element
