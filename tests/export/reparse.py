"""Independent checks of what the exporter wrote: Fountain through screenplain, FDX as XML.

screenplain (PyPI, 0.12.0) reads the Fountain text in a child process under a timeout, so a
parser that hangs on an edge case fails the test instead of stalling the run; many small texts
(the property test) are read in a worker thread under the same timeout. Its departures from
the spec, and how they are bridged, are listed in `screenplain_reader`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from podium.export.fdx import DUAL_UNITS, NOTE_TYPE, PARAGRAPH_TYPE, note_name, units
from podium.export.fountain import WORD_JOINER, Kind, Script, ScriptElement, normalize

TIMEOUT_S = 30
READER = Path(__file__).with_name("screenplain_reader.py")
_THREADS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screenplain")


def parse_fountain(text: str, *, in_thread: bool = False) -> dict[str, Any]:
    """screenplain's reading of `text`: {"title_page": …, "elements": […]}."""
    if in_thread:
        from .screenplain_reader import read

        return _THREADS.submit(read, text).result(timeout=TIMEOUT_S)
    done = subprocess.run(
        [sys.executable, str(READER)],
        input=text,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


_JOINED = re.compile(rf"([\[\]]){WORD_JOINER}(?=\1)")


def _unjoin(text: str) -> str:
    """Drop the invisible joiners the writer puts between two brackets and after a heading."""
    return _JOINED.sub(r"\1", text).removesuffix(WORD_JOINER)


def reread(text: str, *, in_thread: bool = False) -> list[ScriptElement]:
    """The elements screenplain finds in Fountain text, in podium's model (notes excluded)."""
    out: list[ScriptElement] = []
    for item in parse_fountain(text, in_thread=in_thread)["elements"]:
        assert not item["styled"], f"emphasis was read into {item}"
        kind = str(item["kind"])
        value = _unjoin(str(item["text"]))
        assert kind in Kind.__members__.values(), f"unexpected element {item}"
        depth = item.get("depth", 1)
        out.append(
            ScriptElement(
                Kind(kind),
                value,
                dual=bool(item.get("dual", False)),
                depth=depth if isinstance(depth, int) else 1,
            )
        )
    return out


def expected(script: Script) -> list[ScriptElement]:
    """What a Fountain reader should find: the normalized elements without the notes."""
    return [e for e in normalize(script.elements) if e.kind is not Kind.NOTE]


FdxParagraph = tuple[str, str, bool, bool]  # Type, text, starts a new page, second speaker
# A scene summary reads back as ("Summary", text, …) after its heading; a script note as
# ("ScriptNote <Type>[ <Name>]", text, …) before the paragraph its Range points at.


def reread_fdx(text: str) -> list[FdxParagraph]:
    """The paragraphs of an FDX document in order, dual dialogue flattened, summaries after
    their heading and script notes placed by their Range (counted as Final Draft counts it)."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "FinalDraft"
    content = root.find("Content")
    assert content is not None
    blocks: list[tuple[int, list[FdxParagraph]]] = []  # (where it starts, what it reads as)
    position = 0
    for paragraph in content.findall("Paragraph"):
        new_page = paragraph.get("StartsNewPage") == "Yes"
        dual = paragraph.find("DualDialogue")
        inner = dual.findall("Paragraph") if dual is not None else [paragraph]
        read: list[FdxParagraph] = []
        speakers = 0
        for i, p in enumerate(inner):
            kind = p.get("Type", "")
            speakers += kind == "Character"
            second = dual is not None and kind == "Character" and speakers == 2
            body = "".join(t.text or "" for t in p.findall("Text"))
            read.append((kind, body, new_page and i == 0, second))
        summaries = [
            "".join(t.text or "" for t in s.findall("Text"))
            for s in paragraph.findall("SceneProperties/Summary/Paragraph")
        ]
        assert not summaries or read[0][0] == "Scene Heading", "a summary outside a scene"
        read += [("Summary", s, False, False) for s in summaries]
        blocks.append((position, read))
        if dual is not None:
            size = DUAL_UNITS
        else:
            size = units(read[0][1]) + sum(units(s) + 1 for s in summaries)
        position += size + 1
    end = max(position - 1, 0)
    notes: dict[int, list[FdxParagraph]] = {}
    starts = [start for start, _ in blocks]
    for note in root.findall("ScriptNotes/ScriptNote"):
        first, last = (int(n) for n in note.get("Range", "").split(","))
        assert first == last and (first in starts or first == end), note.get("Range")
        at = starts.index(first) if first in starts else len(blocks)
        label = " ".join(x for x in ("ScriptNote", note.get("Type"), note.get("Name")) if x)
        body = "\n".join("".join(t.text or "" for t in p.findall("Text")) for p in note)
        notes.setdefault(at, []).append((label, body, False, False))
    out: list[FdxParagraph] = []
    for index, (_, read) in enumerate(blocks):
        out += notes.get(index, []) + read
    return out + notes.get(len(blocks), [])


def expected_fdx(script: Script) -> list[FdxParagraph]:
    """What the FDX should hold for the normalized elements, in the reading above."""
    out: list[FdxParagraph] = []
    pending: list[FdxParagraph] = []  # script notes, until the paragraph they stand before
    heading: int | None = None  # where the current scene's heading is in `out`
    summaries = 0
    new_page = False
    for element in normalize(script.elements):
        kind = element.kind
        if kind is Kind.PAGE_BREAK:
            new_page = True
        elif kind is Kind.SYNOPSIS and heading is not None:
            summaries += 1
            out.insert(heading + summaries, ("Summary", element.text, False, False))
        elif kind in NOTE_TYPE:
            label = " ".join(x for x in ("ScriptNote", NOTE_TYPE[kind], note_name(element)) if x)
            pending.append((label, element.text, False, False))
            if kind is Kind.SECTION:
                heading = None
        else:
            out += pending
            pending = []
            if kind is Kind.SCENE_HEADING:
                heading, summaries = len(out), 0
            out.append((PARAGRAPH_TYPE[kind], element.text, new_page, element.dual))
            new_page = False
    return out + pending
