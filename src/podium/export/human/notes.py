"""An editor's round trip on a human format: the error podium writes on top of a file it
reopens (a comment the format allows), taken off again before the file is read back.

Shared by `podium edit` (and `podium decide … edit` for the plan) and the screen's `E`: pure,
but for `scratch`, which writes the file the editor opens.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from podium.domain.artifacts import Content
from podium.export.human.base import ParseError

MARK = "podium: "  # how the error podium puts on top of the file begins, inside its comment
REOPENS = 20  # an editor reopened on a parse error at most this many times


def scratch(label: str, suffix: str, text: str) -> Path:
    """A new private file holding `text` for an editor, named after `label` (made safe)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:60]
    fd, name = tempfile.mkstemp(prefix=f"podium-{safe}-", suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(name)


_OPENS = {".fountain": "[[", ".md": "<!-- ", ".csv": "# ", ".toml": "# "}


def error_note(suffix: str, message: str) -> str:
    """A parse error as a comment the format allows on the first line: a Fountain note, a
    Markdown comment, a CSV or TOML `#` line; `without_note` removes it again."""
    text = " ".join(f"{MARK}{message}. Fix it and save; podium removes this line.".split())
    if suffix == ".fountain":
        return f"[[{text.replace(']]', '] ]')}]]\n"
    if suffix == ".md":
        return f"<!-- {text.replace('-->', '- ->')} -->\n"
    return f"# {text}\n"


def without_note(suffix: str, text: str) -> tuple[str, int]:
    """The text without podium's error line on top (and how many lines went)."""
    first, _, rest = text.partition("\n")
    if first.startswith(_OPENS.get(suffix, "# ") + MARK):
        return rest, 1
    return text, 0


def parse_edited(content_type: str, text: str) -> Content:
    """An edited file read back as `content_type`, podium's error line on top left out; the
    ParseError's line counts it, so it names the line the editor shows."""
    from podium.export import human

    body, skipped = without_note(human.human_format(content_type).suffix, text)
    try:
        return human.parse(content_type, body)
    except ParseError as exc:
        raise ParseError(exc.line + skipped, exc.message) from None
