"""Every artifact's human format, both ways: what `podium show` prints and `podium edit` reads.

`render(content)` writes a content as a person reads and edits it, and `parse(type, text)` reads
that text back into podium's element model; `parse(t, render(x).text) == x` for every content
already in the shapes the format can express (`normalise` puts any content into them):

* a Screenplay is Fountain, written by the exporter's own writer (`fountain.to_fountain`), so
  `show` and the exported file agree byte for byte. The reader takes that output and what a
  screenwriter types by hand (Fountain 1.1: headings, cues with extensions and `^`,
  parentheticals, transitions, centered text, sections, synopses, notes, page breaks, boneyard,
  a title page). What the element model cannot hold is normalised, in both directions: the
  title page keeps only its Title (the export makes the rest from the production); scene
  numbers (`#12#`) and boneyard text are dropped; centered text becomes action; emphasis and
  lyrics (`~`) stay in the text as typed, and so do notes inside a line of action or dialogue;
  dialogue is one element per line, as the writer puts it. Nothing may stand before the first
  scene heading: every element belongs to a scene.
* Prose and the other documents are Markdown. Prose is `# Title`, its text, and a
  `## Beats` list; the others have one `## Section` per field. The text is written escaped
  (`export.markdown`) and read back unescaped; Markdown a person types stays in the text as
  typed. Text is kept as paragraphs of trimmed lines, list items and titles on one line.
* ShotList, CueSheet and EditPlan are CSV with the export's columns (without its `status`).
  Durations are written as the export writes them (six significant digits); a text cell is
  trimmed, and a leading `'` before `= + - @` is the spreadsheet's defuse mark, not text.
  An edit plan's notes, which have no column, are the `#` lines above the header.

Errors are `ParseError(line, message)`, a sentence a screenwriter understands; nothing
half-parsed is ever returned. Pure: no I/O.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from podium.domain.artifacts import (
    CONTENT_TYPES,
    Alternatives,
    Content,
    CueSheet,
    EditPlan,
    ElementType,
    Prose,
    Scene,
    ScreenElement,
    Screenplay,
    ShotList,
)
from podium.export import markdown as md
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
from podium.export.shotlist import CUE_COLUMNS, EDIT_COLUMNS, SHOT_COLUMNS, Cell, to_csv
from podium.export.sources import clean, one_line


@dataclass(frozen=True)
class HumanFormat:
    name: str  # "fountain", "markdown" or "csv"
    suffix: str  # for a file an editor opens: ".fountain", ".md", ".csv"


FOUNTAIN = HumanFormat("fountain", ".fountain")
MARKDOWN = HumanFormat("markdown", ".md")
CSV = HumanFormat("csv", ".csv")


@dataclass(frozen=True)
class HumanText:
    text: str
    format: HumanFormat

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def suffix(self) -> str:
        return self.format.suffix


class ParseError(ValueError):
    """Text that cannot be read back; `line` is 1-based, `message` says what to do."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def human_format(content_type: str) -> HumanFormat:
    """The format a content type is shown and edited in (ValueError for an unknown type)."""
    cls = CONTENT_TYPES.get(content_type)
    if cls is None:
        raise ValueError(f"no human format for content type {content_type!r}")
    if cls is Screenplay:
        return FOUNTAIN
    if cls in _TABLES:
        return CSV
    return MARKDOWN


def render(content: Content) -> HumanText:
    """The content in its human format, ending with a newline."""
    if isinstance(content, Screenplay):
        return HumanText(render_fountain(content), FOUNTAIN)
    if type(content) in _TABLES:
        return HumanText(_render_table(content), CSV)
    return HumanText(_render_markdown(content), MARKDOWN)


def parse(content_type: str, text: str) -> Content:
    """`text` in the human format of `content_type`, as a content; ParseError names the line."""
    fmt = human_format(content_type)
    cls = CONTENT_TYPES[content_type]
    if fmt is FOUNTAIN:
        return parse_fountain(text)
    if fmt is CSV:
        return _parse_table(cls, text)
    return _parse_markdown(cls, text)


def normalise(content: Content) -> Content:
    """The content as its human format holds it: what `parse(render(content))` returns."""
    return parse(type(content).__name__, render(content).text)


# == Fountain =================================================================================


def render_fountain(play: Screenplay) -> str:
    """The screenplay as the exporter writes it, title page first when there is a title."""
    script = build_script(TitlePage(play.title), ((scene, None) for scene in play.scenes))
    return to_fountain(script).lstrip("\n")


def script_of(play: Screenplay) -> Script:
    """The element list `render_fountain` writes (for checks against other readers)."""
    return build_script(TitlePage(play.title), ((scene, None) for scene in play.scenes))


Located = tuple[int, ScriptElement]  # (line, element)
Line = tuple[int, str]

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


# == Markdown =================================================================================


@dataclass(frozen=True)
class _Field:
    name: str  # the attribute
    label: str  # the section heading
    shape: str  # text, list, flag, number, word


_DOCUMENTS: dict[str, tuple[str, tuple[_Field, ...]]] = {
    "IllustrationBrief": (
        "Illustration brief",
        (
            _Field("title", "Title", "text"),
            _Field("subject", "Subject", "text"),
            _Field("composition", "Composition", "text"),
            _Field("palette", "Palette", "list"),
            _Field("lighting", "Lighting", "text"),
            _Field("mood", "Mood", "text"),
            _Field("caption", "Caption", "text"),
            _Field("image_path", "Image", "text"),
        ),
    ),
    "Critique": (
        "Review",
        (
            _Field("verdict", "Verdict", "word"),
            _Field("summary", "Summary", "text"),
            _Field("issues", "Issues", "list"),
        ),
    ),
    "Position": (
        "Position",
        (
            _Field("stance", "Stance", "text"),
            _Field("reasoning", "Reasoning", "text"),
            _Field("concedes", "Concedes", "flag"),
        ),
    ),
    "Ruling": (
        "Ruling",
        (
            _Field("decided", "Decided", "flag"),
            _Field("winner", "Winner", "text"),
            _Field("decision", "Decision", "text"),
            _Field("reasoning", "Reasoning", "text"),
        ),
    ),
    "StatusReport": (
        "Status report",
        (
            _Field("progress_pct", "Progress", "number"),
            _Field("summary", "Summary", "text"),
            _Field("blockers", "Blockers", "list"),
        ),
    ),
}
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$|^(#{1,6})[ \t]*$")
_ITEM = re.compile(r"^(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$")
_UNESCAPE = re.compile(
    r"\\([!-/:-@\[-`{-~])|&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


def md_unescape(text: str) -> str:
    """Text as a Markdown reader shows it: backslash escapes and entities undone, in one pass."""

    def one(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        return html.unescape(match.group(0))

    return _UNESCAPE.sub(one, text)


def _render_markdown(content: Content) -> str:
    if isinstance(content, Prose):
        parts: list[str | None] = [
            md.heading(1, md.inline(content.title)) if one_line(content.title) else None,
            md.block(content.text),
        ]
        beats = [md.inline(b) for b in content.beats if one_line(b)]
        if beats:
            parts.append("## Beats")
            parts.append("\n".join(f"{n}. {b}" for n, b in enumerate(beats, 1)))
        return md.document(parts)
    if isinstance(content, Alternatives):
        parts = ["# Alternatives"]
        for option in content.options:
            parts.append(md.heading(2, md.inline(option.title)))
            parts.append(md.block(option.summary))
            if md.block(option.reasoning):
                parts += ["### Reasoning", md.block(option.reasoning)]
        return md.document(parts)
    label, fields = _DOCUMENTS[type(content).__name__]
    parts = [f"# {label}"]
    for f in fields:
        value = getattr(content, f.name)
        if f.shape == "text":
            body = md.block(value or "")
        elif f.shape == "list":
            body = "\n".join(f"- {md.inline(v)}" for v in value if one_line(v))
        elif f.shape == "flag":
            body = "yes" if value else "no"
        elif f.shape == "number":
            body = f"{value:g}"
        else:
            body = md.inline(value)
        if body:
            parts += [f"## {f.label}", body]
    return md.document(parts)


@dataclass
class _Section:
    line: int  # of its heading
    raw: str  # the heading as written
    label: str
    body: list[Line]


def _sections(text: str, level: int) -> tuple[list[Line], list[_Section]]:
    """What comes before the first heading of `level`, and each such section."""
    lines = list(enumerate(text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n"), 1))
    head: list[Line] = []
    sections: list[_Section] = []
    for number, line in lines:
        match = _HEADING.match(line.strip()) if line[:4].strip() else None
        if match and len(match.group(1) or match.group(3)) == level:
            label = md_unescape(match.group(2) or "").strip()
            sections.append(_Section(number, line, label, []))
        elif sections:
            sections[-1].body.append((number, line))
        else:
            head.append((number, line))
    return head, sections


def _block_text(lines: Sequence[Line]) -> str:
    """Paragraphs of trimmed, unescaped lines, as `md.block` writes them."""
    paragraphs: list[list[str]] = [[]]
    for _, line in lines:
        value = md_unescape(line.strip()).strip()
        if value:
            paragraphs[-1].append(value)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join("\n".join(p) for p in paragraphs if p)


def _items(lines: Sequence[Line], label: str) -> list[str]:
    items: list[str] = []
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        match = _ITEM.match(line)
        if match:
            items.append(md_unescape(match.group(1) or "").strip())
        elif items:
            items[-1] = f"{items[-1]} {md_unescape(line)}".strip()
        else:
            raise ParseError(
                number, f"{label} is a list: start each item with '- ' on a line of its own"
            )
    return [one_line(i) for i in items if one_line(i)]


def _first_text(lines: Sequence[Line]) -> Line | None:
    return next(((n, s) for n, s in lines if s.strip()), None)


def _title_heading(head: list[Line]) -> tuple[str | None, int, list[Line]]:
    """A leading `# heading`: its text, its line, and the lines after it."""
    first = _first_text(head)
    if first is not None:
        match = _HEADING.match(first[1].strip()) if first[1][:4].strip() else None
        if match and len(match.group(1) or match.group(3)) == 1:
            rest = [(n, s) for n, s in head if n > first[0]]
            return md_unescape(match.group(2) or "").strip(), first[0], rest
    return None, 0, head


def _validated(
    cls: type[Content],
    data: dict[str, Any],
    where: Callable[[str], int],
    name: Callable[[str], str],
) -> Content:
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        raise ParseError(where(field), _friendly(problem, name(field))) from None


def _friendly(problem: Any, name: str) -> str:
    """A pydantic complaint as a sentence about the section or column a person wrote."""
    kind, ctx, value = problem["type"], problem.get("ctx", {}), problem.get("input")
    if kind in {"missing", "string_too_short", "too_short"}:
        return f"{name} is empty; fill it in"
    if kind == "greater_than_equal":
        return f"{name} must be {ctx['ge']:g} or more, not {value:g}"
    if kind == "less_than_equal":
        return f"{name} must be at most {ctx['le']:g}, not {value:g}"
    if kind == "literal_error":
        return f"{name} must be {ctx['expected']}, not {value!r}"
    return f"{name}: {problem['msg']}"


def _parse_markdown(cls: type[Content], text: str) -> Content:
    if cls is Prose:
        return _parse_prose(text)
    if cls is Alternatives:
        return _parse_alternatives(text)
    label, fields = _DOCUMENTS[cls.__name__]
    head, sections = _sections(text, 2)
    title, title_line, head = _title_heading(head)
    if title is not None and title.lower() != label.lower():
        raise ParseError(title_line, f"this is {label.lower()}'s text, so its title is '# {label}'")
    if stray := _first_text(head):
        raise ParseError(stray[0], f"text outside a section; put it under one of {_labels(fields)}")
    by_label = {f.label.lower(): f for f in fields}
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for section in sections:
        found = by_label.get(section.label.lower())
        if found is None:
            raise ParseError(
                section.line,
                f"{label.lower()} has no section {section.label!r}; its sections are "
                f"{_labels(fields)}",
            )
        if found.name in data:
            raise ParseError(section.line, f"a second {found.label} section; keep only one")
        lines[found.name] = section.line
        data[found.name] = _value(found, section)
    last = len(text.rstrip().split("\n"))
    labels = {f.name: f.label for f in fields}
    return _validated(
        cls, data, lambda name: lines.get(name, last), lambda name: f"the {labels[name]} section"
    )


def _labels(fields: Sequence[_Field]) -> str:
    return ", ".join(f"'## {f.label}'" for f in fields)


def _value(f: _Field, section: _Section) -> Any:
    if f.shape == "list":
        return _items(section.body, f.label)
    value = _block_text(section.body)
    if f.shape == "text":
        return value
    number = _first_text(section.body)
    at = number[0] if number else section.line
    if f.shape == "flag":
        if value.lower() in {"yes", "true"}:
            return True
        if value.lower() in {"no", "false"}:
            return False
        raise ParseError(at, f"{f.label} is 'yes' or 'no', not {value!r}")
    if f.shape == "number":
        try:
            return float(value.removesuffix("%").strip())
        except ValueError:
            raise ParseError(at, f"{f.label} is a number, not {value!r}") from None
    return value.lower()


def _parse_prose(text: str) -> Prose:
    head, sections = _sections(text, 2)
    title, _, body = _title_heading(head)
    data: dict[str, Any] = {"title": title or "", "text": _block_text(body), "beats": []}
    # Only `## Beats` is structure; other `##` headings a writer typed stay in the text.
    for index, section in enumerate(sections):
        if section.label.lower() == "beats" and index == len(sections) - 1:
            data["beats"] = _items(section.body, "Beats")
        else:
            body += [(section.line, section.raw), *section.body]
            data["text"] = _block_text(body)
    if not data["text"]:
        at = (_first_text(body) or (1, ""))[0]
        raise ParseError(at, "there is no text; write the prose under the title")
    prose = _validated(Prose, data, lambda _: 1, lambda name: f"the {name}")
    assert isinstance(prose, Prose)
    return prose


def _parse_alternatives(text: str) -> Alternatives:
    head, sections = _sections(text, 2)
    title, title_line, head = _title_heading(head)
    if title is not None and title.lower() != "alternatives":
        raise ParseError(title_line, "these are alternatives, so the title is '# Alternatives'")
    if stray := _first_text(head):
        raise ParseError(stray[0], "text outside an option; start each with '## Its title'")
    options = []
    for section in sections:
        summary: list[Line] = []
        reasoning: list[Line] | None = None
        for number, line in section.body:
            match = _HEADING.match(line.strip()) if line[:4].strip() else None
            if match and len(match.group(1) or match.group(3)) == 3:
                if (match.group(2) or "").strip().lower() != "reasoning" or reasoning is not None:
                    raise ParseError(number, "an option has one '### Reasoning' section, no other")
                reasoning = []
            elif reasoning is not None:
                reasoning.append((number, line))
            else:
                summary.append((number, line))
        options.append(
            {
                "title": one_line(section.label),
                "summary": _block_text(summary),
                "reasoning": _block_text(reasoning or []),
            }
        )
    if not options:
        raise ParseError(1, "there is no option; start each with '## Its title'")
    lines = [s.line for s in sections]
    result = _validated(
        Alternatives, {"options": options}, lambda _: lines[0], lambda _: "an option's title"
    )
    assert isinstance(result, Alternatives)
    return result


# == CSV ======================================================================================


@dataclass(frozen=True)
class _Table:
    what: str  # "a shot list"
    rows: str  # the list attribute
    columns: tuple[str, ...]
    fields: tuple[str, ...]  # the attribute of each column
    required: tuple[str, ...]


_TABLES: dict[type[Content], _Table] = {
    ShotList: _Table(
        "a shot list",
        "shots",
        SHOT_COLUMNS,
        ("scene", "shot", "size", "angle", "movement", "lens", "duration_s", "description"),
        ("scene", "shot"),
    ),
    CueSheet: _Table(
        "a cue sheet",
        "cues",
        CUE_COLUMNS,
        (
            "cue_id",
            "title",
            "scene",
            "start",
            "duration_s",
            "mood",
            "instrumentation",
            "usage",
        ),
        ("cue",),
    ),
    EditPlan: _Table(
        "an edit plan",
        "sequence",
        EDIT_COLUMNS,
        ("scene", "shot", "duration_s", "transition", "note"),
        ("scene",),
    ),
}
_NUMBERS = frozenset({"scene", "duration_s"})
_DEFUSED = re.compile(r"^'(?=[=+\-@\t\r])")


def _render_table(content: Content) -> str:
    table = _TABLES[type(content)]
    rows: list[list[Cell]] = [
        [getattr(item, name) for name in table.fields] for item in getattr(content, table.rows)
    ]
    notes = ""
    if isinstance(content, EditPlan) and clean(content.notes).strip():
        lines = clean(content.notes).strip().split("\n")
        notes = "".join(f"# {line.strip()}".rstrip() + "\n" for line in lines)
    return notes + to_csv(table.columns, rows)


def text_cell(value: str) -> str:
    """A CSV cell as text: trimmed, without the defuse mark `cell` puts before a formula."""
    return _DEFUSED.sub("", value.strip()).strip()


def _parse_table(cls: type[Content], text: str) -> Content:
    table = _TABLES[cls]
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    notes: list[str] = []
    while len(notes) < len(lines) and lines[len(notes)].startswith("#"):
        notes.append(lines[len(notes)][1:].strip())
    if notes and cls is not EditPlan:
        raise ParseError(1, f"{table.what} has no notes; delete the lines that start with '#'")
    skipped = len(notes)
    reader = csv.reader(io.StringIO("\n".join(lines[skipped:])), strict=True, skipinitialspace=True)
    header: list[str] | None = None
    index: dict[str, int] = {}
    items: list[dict[str, Any]] = []
    where: list[int] = []
    done = 0
    try:
        for row in reader:
            start, done = done + 1 + skipped, reader.line_num
            if not any(c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                index = _header(table, header, start)
                continue
            if len(row) != len(header):
                raise ParseError(
                    start,
                    f"{len(row)} cells where the header has {len(header)} columns; a cell "
                    "holding a comma needs double quotes around it",
                )
            items.append(_row(table, index, row, start))
            where.append(start)
    except csv.Error as error:
        raise ParseError(
            done + 1 + skipped, f"this row is not valid CSV ({error}); check its double quotes"
        ) from None
    if header is None:
        raise ParseError(
            skipped + 1, f"no header; the first line names the columns: {', '.join(table.columns)}"
        )
    if not items:
        raise ParseError(done + skipped, f"{table.what} needs at least one row under the header")
    data: dict[str, Any] = {table.rows: items}
    if cls is EditPlan:
        data["notes"] = "\n".join(notes).strip()

    try:
        return cls.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        loc = problem["loc"]
        row_at = where[loc[1]] if len(loc) > 2 and isinstance(loc[1], int) else where[0]
        column = table.columns[table.fields.index(str(loc[2]))] if len(loc) > 2 else "a cell"
        raise ParseError(row_at, _friendly(problem, f"the {column} cell")) from None


def _header(table: _Table, header: list[str], line: int) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        if name not in table.columns:
            raise ParseError(
                line,
                f"unknown column {name!r}; the columns of {table.what} are "
                f"{', '.join(table.columns)}",
            )
        if name in index:
            raise ParseError(line, f"the column {name!r} appears twice; keep one")
        index[name] = position
    for name in table.required:
        if name not in index:
            raise ParseError(line, f"the column {name!r} is missing; {table.what} needs it")
    return index


def _row(table: _Table, index: dict[str, int], row: list[str], line: int) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for column, name in zip(table.columns, table.fields, strict=True):
        if column not in index:
            continue
        value = row[index[column]]
        if name not in _NUMBERS:
            text = text_cell(value)
            if text or name != "usage":  # an empty usage is the default
                item[name] = text
            continue
        value = value.strip()
        if not value:
            if name == "scene" and table.rows != "cues":
                raise ParseError(line, f"the {column} cell is empty; give the scene number")
            continue
        try:
            item[name] = int(value) if name == "scene" else float(value)
        except ValueError:
            kind = "whole number" if name == "scene" else "number of seconds"
            raise ParseError(line, f"{column} {value!r} is not a {kind}") from None
    return item
