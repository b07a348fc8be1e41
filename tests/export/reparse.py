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

from podium.export.fdx import PARAGRAPH_TYPE
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


def reread_fdx(text: str) -> list[FdxParagraph]:
    """The paragraphs of an FDX document in order, dual dialogue flattened."""
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "FinalDraft"
    content = root.find("Content")
    assert content is not None
    out: list[FdxParagraph] = []
    for paragraph in content.findall("Paragraph"):
        new_page = paragraph.get("StartsNewPage") == "Yes"
        dual = paragraph.find("DualDialogue")
        inner = dual.findall("Paragraph") if dual is not None else [paragraph]
        speakers = 0
        for i, p in enumerate(inner):
            kind = p.get("Type", "")
            speakers += kind == "Character"
            second = dual is not None and kind == "Character" and speakers == 2
            body = "".join(t.text or "" for t in p.findall("Text"))
            out.append((kind, body, new_page and i == 0, second))
    return out


def expected_fdx(script: Script) -> list[FdxParagraph]:
    out: list[FdxParagraph] = []
    new_page = False
    for element in normalize(script.elements):
        if element.kind is Kind.PAGE_BREAK:
            new_page = True
            continue
        out.append((PARAGRAPH_TYPE[element.kind], element.text, new_page, element.dual))
        new_page = False
    return out
