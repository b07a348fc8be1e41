"""Every artifact's human format, both ways: what `podium show` prints and `podium edit` reads.

`render(content)` writes a content as a person reads and edits it, and `parse(type, text)` reads
that text back into podium's element model; `parse(t, render(x).text) == x` for every content
already in the shapes the format can express (`normalise` puts any content into them):

* a Screenplay is Fountain (`fountain_reader`);
* Prose and the other documents are Markdown (`markdown_doc`);
* ShotList, CueSheet and EditPlan are CSV with the export's columns (`table`).

Each module's docstring says what its format keeps and what it normalises. Errors are
`ParseError(line, message)`, a sentence a screenwriter understands; nothing half-parsed is ever
returned. Pure: no I/O.
"""

from __future__ import annotations

from podium.domain.artifacts import CONTENT_TYPES, Content, Screenplay
from podium.export.human.base import CSV, FOUNTAIN, MARKDOWN, HumanFormat, HumanText, ParseError
from podium.export.human.fountain_reader import parse_fountain, render_fountain, script_of
from podium.export.human.markdown_doc import md_unescape, parse_markdown, render_markdown
from podium.export.human.notes import error_note, parse_edited, without_note
from podium.export.human.table import TABLES, parse_table, render_table, text_cell

__all__ = [
    "CSV",
    "FOUNTAIN",
    "MARKDOWN",
    "HumanFormat",
    "HumanText",
    "ParseError",
    "error_note",
    "human_format",
    "md_unescape",
    "normalise",
    "parse",
    "parse_edited",
    "parse_fountain",
    "render",
    "render_fountain",
    "script_of",
    "text_cell",
    "without_note",
]


def human_format(content_type: str) -> HumanFormat:
    """The format a content type is shown and edited in (ValueError for an unknown type)."""
    cls = CONTENT_TYPES.get(content_type)
    if cls is None:
        raise ValueError(f"no human format for content type {content_type!r}")
    if cls is Screenplay:
        return FOUNTAIN
    if cls in TABLES:
        return CSV
    return MARKDOWN


def render(content: Content) -> HumanText:
    """The content in its human format, ending with a newline."""
    if isinstance(content, Screenplay):
        return HumanText(render_fountain(content), FOUNTAIN)
    if type(content) in TABLES:
        return HumanText(render_table(content), CSV)
    return HumanText(render_markdown(content), MARKDOWN)


def parse(content_type: str, text: str) -> Content:
    """`text` in the human format of `content_type`, as a content; ParseError names the line."""
    fmt = human_format(content_type)
    cls = CONTENT_TYPES[content_type]
    if fmt is FOUNTAIN:
        return parse_fountain(text)
    if fmt is CSV:
        return parse_table(cls, text)
    return parse_markdown(cls, text)


def normalise(content: Content) -> Content:
    """The content as its human format holds it: what `parse(render(content))` returns."""
    return parse(type(content).__name__, render(content).text)
