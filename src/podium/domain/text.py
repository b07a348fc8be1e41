"""Untrusted text: what models write is cleaned before it is stored or shown.

What goes, each sequence or run becoming one visible placeholder:

- terminal escape sequences (CSI, OSC, DCS, SOS/PM/APC, two-byte escapes) in their 7- and 8-bit
  forms, and every other C0/C1 control but newline and tab. A string sequence (OSC, DCS, …) runs
  to its terminator when that comes on the same line within `STRING_CAP` characters; otherwise
  only its introducer and the word after it go (`ESC ] 52;c;QUFB`) and the rest is kept: with
  its introducer gone it is plain text;
- characters that reorder or hide text: the bidi embeddings, overrides and isolates
  (U+202A–U+202E, U+2066–U+2069, the "Trojan Source" characters), zero-width and invisible
  format characters (U+200B, U+2060–U+2064, U+FEFF, U+180E, U+206A–U+206F, U+FFF9–U+FFFB) and
  tag characters (U+E0000–U+E007F, which can smuggle invisible ASCII);
- a zero-width joiner or non-joiner (U+200D, U+200C) next to ASCII, to another joiner or to an
  invisible character: there it only hides something.

What stays: newline and tab; the bidi marks LRM, RLM and ALM (U+200E, U+200F, U+061C), which
right-to-left prose needs and which cannot reorder a span; a joiner between two other
characters, as in emoji sequences (👩‍💻) and Indic or Persian words; the tag characters of a
subdivision flag (🏴 + tags + U+E007F). A carriage return becomes a newline.
"""

from __future__ import annotations

import re

PLACEHOLDER = "\N{REPLACEMENT CHARACTER}"
STRING_CAP = 512
"""The longest OSC/DCS/… string removed whole; past it, or unterminated, only its first word."""

_INVISIBLE = (
    "\u180e\u200b\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f"
)
_JOINERS = "\u200c\u200d"

# Every character a match can start with; also the test for "nothing to clean here".
_SUSPECT = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_INVISIBLE}{_JOINERS}\U0001f3f4]")

# What goes (or stays: `keep`) where a suspect character starts it; tried only there.
_ESCAPES = re.compile(
    rf"""
    (?P<keep>\U0001f3f4[\U000e0020-\U000e007e]{{1,32}}\U000e007f)  # a subdivision flag
    | (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                 # CSI … final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])           # OSC/DCS/SOS/PM/APC …
      (?:[^\x07\x1b\x9c\n]{{0,{STRING_CAP}}}+(?:\x07|\x1b\\|\x9c)  # … ST on the same line,
      | [^\s\x07\x1b\x9c]{{0,{STRING_CAP}}})                # or, unterminated, its first word
    | \x1b[ -/]*[0-~]?                                # other escapes (incl. lone ESC)
    | [\x00-\x08\x0b-\x1f\x7f-\x9f]                   # remaining controls
    | [{_INVISIBLE}]+                                 # bidi overrides, zero-width, tags
    | [{_JOINERS}](?:[{_JOINERS}]+                    # joiners: a run,
      | (?<=[\x00-\x7f{_INVISIBLE}].)                  # or next to ASCII or the invisible
      | (?=[\x00-\x7f{_INVISIBLE}]))
    """,
    re.VERBOSE,
)

# The ASCII bytes that need no cleaning: what is left after deleting them needs it.
_PLAIN_BYTES = bytes([0x09, 0x0A, *range(0x20, 0x7F)])


def _clean(text: str) -> str:
    """`_ESCAPES.sub`, trying a match only where a suspect character is: the search skips
    the rest of the text several times faster than the pattern's branches would."""
    parts: list[str] = []
    done = 0
    for found in _SUSPECT.finditer(text):
        start = found.start()
        if start < done:
            continue  # inside what the last match removed
        match = _ESCAPES.match(text, start)
        if match is None:
            continue  # a joiner inside a word, a flag without tags
        parts.append(text[done:start])
        parts.append(match.group("keep") or PLACEHOLDER)
        done = match.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def sanitize(text: str) -> str:
    """Strip terminal escape and control sequences and text-reordering or invisible characters,
    keeping newline and tab.

    Each removed sequence becomes one visible placeholder, so a reader can see that something
    was there. Carriage returns become newlines (a bare CR could overwrite a line on screen).
    """
    if not _needs_cleaning(text):
        return text
    return _clean(text.replace("\r\n", "\n").replace("\r", "\n"))


_SHORT = 256


def _needs_cleaning(text: str) -> bool:
    """Whether `text` holds any character `sanitize` may change: one pass, on every chunk.

    A superset test (a joiner inside an emoji counts), so that a text that passes it is left
    exactly as it is, and so is every piece of it. Every character `_SUSPECT` names but 🏴 is
    unprintable, so a printable text needs nothing.
    """
    if len(text) < _SHORT:  # a streamed chunk: isprintable() is cheapest and settles most
        return not text.isprintable() and _SUSPECT.search(text) is not None
    if text.isascii():  # O(1) in CPython; then a C loop, ~10x faster than a regex search
        return bool(text.encode("ascii").translate(None, _PLAIN_BYTES))
    # isprintable() stops at the first newline or tab, so those go first; it is ~2x faster
    # than the search, which only a text with some other unprintable character needs.
    if text.replace("\n", "").replace("\t", "").isprintable():
        return False
    return _SUSPECT.search(text) is not None


def sanitize_joined(pieces: list[str]) -> str:
    """`"".join(sanitize(p) for p in pieces)`, with one scan of the whole when nothing in it
    needs cleaning (then no piece does), as a model's streamed chunks nearly always are. When
    something does, the pieces are cleaned one by one: a CR LF or an escape sequence split
    across two pieces comes out exactly as it did when each chunk was cleaned on arrival."""
    text = pieces[0] if len(pieces) == 1 else "".join(pieces)
    if not _needs_cleaning(text):
        return text
    return "".join([sanitize(piece) for piece in pieces])


def tree_is_clean(value: object, max_depth: int) -> bool | None:
    """Whether `sanitize_tree(value)` would leave `value` as it is (every string, dict keys
    included, needs no cleaning); None when lists and dicts nest deeper than `max_depth`.
    One walk without recursion, so a hostile nesting cannot overflow the stack."""
    clean = True
    stack: list[tuple[object, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > max_depth:
            return None
        if isinstance(item, str):
            if clean and _needs_cleaning(item):
                clean = False
        elif isinstance(item, dict):
            for key, inner in item.items():
                if clean and isinstance(key, str) and _needs_cleaning(key):
                    clean = False
                push((inner, depth + 1))
        elif isinstance(item, list):
            for inner in item:
                push((inner, depth + 1))
    return clean


def sanitize_tree(value: object) -> object:
    """`sanitize` every string inside lists and dicts (a model's structured reply), dict keys
    included: a model names the keys of `params` too. Two keys that clean to the same string
    keep the later value."""
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, list):
        return [sanitize_tree(v) for v in value]
    if isinstance(value, dict):
        return {sanitize_tree(k): sanitize_tree(v) for k, v in value.items()}
    return value


def flatten(text: str) -> str:
    """Untrusted text on one line: sanitized, whitespace (newlines included) collapsed."""
    return " ".join(sanitize(text).split())


def clip(text: str, width: int) -> str:
    """`flatten`, then cut to `width` characters with an ellipsis."""
    flat = flatten(text)
    if width <= 1 or len(flat) <= width:
        return flat
    return flat[: width - 1] + "…"


# -- text a human gives: refused, not cleaned ------------------------------------------------

_REFUSED = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\u202a-\u202e\u2066-\u2069]|\\r(?!\\n)"
)

_NAMES = {
    "\x00": "NUL",
    "\x07": "BEL",
    "\x08": "backspace",
    "\x0d": "a carriage return without a newline",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x9b": "CSI",
    "\x9d": "OSC",
}


def control_problem(text: str) -> str | None:
    """Why a text a human gave (a production file's string, a command-line argument) cannot
    be taken, or None: it holds a terminal control character or a character that reorders
    text on screen. Refused at the door rather than cleaned, so what is stored is what was
    meant; newline, tab and CR LF are text."""
    if text.isprintable():  # the usual case, settled in C
        return None
    found = _REFUSED.search(text)
    if found is None:
        return None
    char = found.group(0)[0]
    code = f"U+{ord(char):04X}"
    name = f"{_NAMES[char]} ({code})" if char in _NAMES else code
    kind = (
        "a bidirectional control, which reorders text on screen"
        if "\u202a" <= char <= "\u2069"
        else "a terminal control character"
    )
    return f"holds {name} at character {found.start() + 1}, {kind}; remove it"
