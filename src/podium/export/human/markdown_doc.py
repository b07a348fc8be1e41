"""Prose and the other documents as Markdown, both ways.

Prose is `# Title`, its text, and a `## Beats` list; the others have one `## Section` per field.
The text is written escaped (`export.markdown`) and read back unescaped; Markdown a person types
stays in the text as typed. Text is kept as paragraphs of trimmed lines, list items and titles
on one line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from podium.domain.artifacts import Alternatives, Content, Prose
from podium.export import markdown as md
from podium.export.human.base import Line, ParseError, friendly
from podium.export.sources import one_line


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


def render_markdown(content: Content) -> str:
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
        raise ParseError(where(field), friendly(problem, name(field))) from None


def parse_markdown(cls: type[Content], text: str) -> Content:
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
