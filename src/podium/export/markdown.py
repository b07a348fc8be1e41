"""Markdown from untrusted text: whatever a model wrote stays words, never structure.

Inline, every character CommonMark gives a meaning to is backslash-escaped and `<` and `&`
become entities (no raw HTML, no autolinks). At the start of every line, which is where a
heading, quote, list, fence, table or thematic break begins even inside a paragraph, the
marker is escaped too, and indentation (a code block) is dropped.
"""

from __future__ import annotations

import re

from podium.export.sources import clean, one_line

_INLINE = re.compile(r"([\\`*_\[\]{}|!~#])")
_BLOCK_START = re.compile(r"^([=+\-:])")
_ORDERED = re.compile(r"^(\d+)([.)])")


def inline(text: object) -> str:
    """One line of untrusted text, safe inside a paragraph, heading, list item or link label,
    and at the start of a line too."""
    return _line(one_line(text))


def _line(line: str) -> str:
    stripped = line.strip()
    if not stripped:
        return ""
    value = _INLINE.sub(r"\\\1", stripped)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # `>` is already an entity and `#`, `*`, `_`, `~`, `|` are escaped everywhere; what is left
    # of the block markers gets a backslash here (for an ordered list, the one after the number).
    value = _BLOCK_START.sub(r"\\\1", value)
    return _ORDERED.sub(r"\1\\\2", value)


def block(text: object) -> str:
    """Untrusted multi-line text as Markdown paragraphs; blank lines separate paragraphs."""
    paragraphs: list[str] = []
    for chunk in re.split(r"\n\s*\n", clean(text)):
        lines = [_line(line) for line in chunk.split("\n")]
        lines = [line for line in lines if line]
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def heading(level: int, text: str, status: str | None = None) -> str:
    """A heading from (already escaped) text, with "(draft)" or the like when unfinished."""
    suffix = f" ({status})" if status else ""
    return f"{'#' * level} {text}{suffix}"


def field(name: str, value: object) -> str | None:
    """A `- **Name:** value` list item, or None when there is nothing to say."""
    text = inline(value)
    return f"- **{name}:** {text}" if text else None


def document(parts: list[str | None]) -> str:
    """Join blocks with one blank line between them and end with a newline."""
    return "\n\n".join(p for p in parts if p) + "\n"
