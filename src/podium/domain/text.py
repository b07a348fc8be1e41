"""Untrusted text: what models write is cleaned before it is stored or shown."""

from __future__ import annotations

import re

PLACEHOLDER = "\N{REPLACEMENT CHARACTER}"

# ESC-introduced sequences (CSI, OSC, DCS, SOS/PM/APC with their terminators, two-byte escapes),
# their 8-bit C1 forms, then any other C0/C1 control except newline and tab.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                 # CSI … final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)  # OSC/DCS/SOS/PM/APC … ST
    | \x1b[ -/]*[0-~]?                                # other escapes (incl. lone ESC)
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]                   # remaining controls
    """,
    re.VERBOSE | re.DOTALL,
)


def sanitize(text: str) -> str:
    """Strip terminal escape and control sequences, keeping newline and tab.

    Each removed sequence becomes one visible placeholder, so a reader can see that something
    was there. Carriage returns become newlines (a bare CR could overwrite a line on screen).
    """
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable() or not _needs_cleaning(text):
        return text
    return _ESCAPES.sub(PLACEHOLDER, text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _needs_cleaning(text: str) -> bool:
    # A regex scan: streamed JSON has newlines, so this runs on most chunks.
    return _CONTROL.search(text) is not None


def sanitize_joined(pieces: list[str]) -> str:
    """`"".join(sanitize(p) for p in pieces)`, with one scan of the whole when nothing in it
    needs cleaning (then no piece does), as a model's streamed chunks nearly always are. When
    something does, the pieces are cleaned one by one: a CR LF or an escape sequence split
    across two pieces comes out exactly as it did when each chunk was cleaned on arrival."""
    text = pieces[0] if len(pieces) == 1 else "".join(pieces)
    if "\r" not in text and (text.isprintable() or not _needs_cleaning(text)):
        return text
    return "".join([sanitize(piece) for piece in pieces])


def sanitize_tree(value: object) -> object:
    """`sanitize` every string inside lists and dicts (a model's structured reply)."""
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, list):
        return [sanitize_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: sanitize_tree(v) for k, v in value.items()}
    return value
