"""screenplain's reading of a Fountain text, as plain data (run as a script: stdin → JSON).

Kept apart from the tests so it can run in a child process under a timeout. The few places
where screenplain departs from Fountain 1.1 are bridged here, each the way the spec says:

* it implements the backslash escape for `*` only: `\\_` is handed over as a private
  character and restored afterwards;
* it keeps a synopsis as raw text, so the escapes are undone for it here;
* it only knows synopses right after a scene heading or section; the others are marked for it
  first (as forced action with a private prefix) and come back as synopses;
* it flags a dialogue line as a parenthetical as soon as it starts with `(`; the spec's rule
  (the whole line in parentheses) decides instead.

It drops notes altogether, so the tests compare notes from the raw text.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from screenplain.parsers import fountain  # type: ignore[import-untyped]
from screenplain.types import (  # type: ignore[import-untyped]
    Action,
    Dialog,
    DualDialog,
    PageBreak,
    Section,
    Slug,
    Transition,
)

UNDERSCORE = "\ue7ff"
LOOSE_SYNOPSIS = "\ue7fe"


def _prepare(source: str) -> str:
    source = source.replace("\\_", UNDERSCORE)
    paragraphs = source.split("\n\n")
    previous = ""
    for i, para in enumerate(paragraphs):
        line = para.rstrip("\n")
        if line.startswith("[[") and line.endswith("]]"):
            continue  # screenplain removes notes; what precedes them still counts
        loose = line.startswith("=") and "\n" not in line and line.strip("=") != ""
        if loose and not previous.startswith((".", "#")):
            paragraphs[i] = "!" + LOOSE_SYNOPSIS + para[1:].lstrip(" ")
        previous = line
    return "\n\n".join(paragraphs)


def _text(rich: Any) -> tuple[str, bool]:
    if isinstance(rich, str):
        return rich.replace("\\*", "*").replace(UNDERSCORE, "_"), False
    styled = any(segment.styles for segment in rich.segments)
    return str(rich).replace(UNDERSCORE, "_"), styled


def read(source: str) -> dict[str, Any]:
    """{"title_page": {key: [lines]}, "elements": [{"kind", "text", "styled", …}]}.

    Title page values are read the way screenplain renders them (emphasis parsed).
    """
    out: list[dict[str, Any]] = []

    def add(kind: str, rich: Any, **extra: Any) -> None:
        value, styled = _text(rich)
        out.append({"kind": kind, "text": value, "styled": styled, **extra})

    def dialog(d: Any, dual: bool) -> None:
        add("character", d.character, dual=dual)
        for _, line in d.blocks:
            value, styled = _text(line)
            kind = "parenthetical" if value.startswith("(") and value.endswith(")") else "dialogue"
            out.append({"kind": kind, "text": value, "styled": styled})

    play = fountain.parse(io.StringIO(_prepare(source)))
    for p in play:
        if isinstance(p, Slug):
            number = str(p.scene_number) if p.scene_number is not None else None
            add("scene_heading", p.line, number=number)
            if p.synopsis:
                add("synopsis", p.synopsis)
        elif isinstance(p, Section):
            add("section", p.text, depth=p.level)
            if p.synopsis:
                add("synopsis", p.synopsis)
        elif isinstance(p, Dialog):
            dialog(p, False)
        elif isinstance(p, DualDialog):
            dialog(p.left, False)
            dialog(p.right, True)
        elif isinstance(p, Transition):
            add("transition", p.line)
        elif isinstance(p, PageBreak):
            out.append({"kind": "page_break", "text": "", "styled": False})
        elif isinstance(p, Action):
            values = [_text(line) for line in p.lines]
            joined = "\n".join(v for v, _ in values)
            kind = "centered" if p.centered else "action"
            if joined.startswith(LOOSE_SYNOPSIS):
                kind, joined = "synopsis", joined[1:]
            out.append({"kind": kind, "text": joined, "styled": any(s for _, s in values)})
        else:
            out.append({"kind": type(p).__name__, "text": "", "styled": False})
    title: dict[str, list[str]] = {}
    for key in play.title_page:
        lines = [_text(rich) for rich in play.get_rich_attribute(key)]
        title[str(key)] = [value for value, _ in lines]
        assert not any(styled for _, styled in lines), f"emphasis read into {key}"
    return {"title_page": title, "elements": out}


if __name__ == "__main__":
    json.dump(read(sys.stdin.read()), sys.stdout)
