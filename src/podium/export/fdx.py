"""Final Draft XML (.fdx) from the same element list as the Fountain file.

Built with xml.etree, so every character of model text is escaped by the XML writer itself.
Final Draft has no section, synopsis or note paragraph a script can rely on; those become
"General" paragraphs. A page break starts the next paragraph on a new page.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from podium.export.fountain import SPEECH, Kind, Script, ScriptElement, normalize
from podium.export.sources import one_line

PARAGRAPH_TYPE: dict[Kind, str] = {
    Kind.SCENE_HEADING: "Scene Heading",
    Kind.ACTION: "Action",
    Kind.CHARACTER: "Character",
    Kind.PARENTHETICAL: "Parenthetical",
    Kind.DIALOGUE: "Dialogue",
    Kind.TRANSITION: "Transition",
    Kind.SECTION: "General",
    Kind.SYNOPSIS: "General",
    Kind.NOTE: "General",
}

_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n'

Entry = ScriptElement | list[ScriptElement]  # a single element, or one speaker's dialogue block


def _entries(elements: Sequence[ScriptElement]) -> list[Entry]:
    entries: list[Entry] = []
    for element in elements:
        last = entries[-1] if entries else None
        if element.kind in SPEECH and isinstance(last, list):
            last.append(element)
        elif element.kind is Kind.CHARACTER:
            entries.append([element])
        else:
            entries.append(element)
    return entries


def _paragraph(parent: ET.Element, element: ScriptElement, new_page: bool) -> None:
    attrs = {"Type": PARAGRAPH_TYPE[element.kind]}
    if new_page:
        attrs["StartsNewPage"] = "Yes"
    paragraph = ET.SubElement(parent, "Paragraph", attrs)
    ET.SubElement(paragraph, "Text").text = element.text


def to_fdx(script: Script) -> str:
    """The screenplay as a Final Draft document, ending with a newline."""
    root = ET.Element("FinalDraft", DocumentType="Script", Template="No", Version="5")
    content = ET.SubElement(root, "Content")
    entries = _entries(normalize(script.elements))
    new_page = False
    for i, entry in enumerate(entries):
        if isinstance(entry, ScriptElement):
            if entry.kind is Kind.PAGE_BREAK:
                new_page = True
                continue
            _paragraph(content, entry, new_page)
        elif entry[0].dual:
            continue  # written with the speaker before it
        else:
            following = entries[i + 1] if i + 1 < len(entries) else None
            if isinstance(following, list) and following[0].dual:
                wrapper = ET.SubElement(
                    content, "Paragraph", {"StartsNewPage": "Yes"} if new_page else {}
                )
                dual = ET.SubElement(wrapper, "DualDialogue")
                for element in (*entry, *following):
                    _paragraph(dual, element, False)
            else:
                for j, element in enumerate(entry):
                    _paragraph(content, element, new_page and j == 0)
        new_page = False
    title = ET.SubElement(ET.SubElement(root, "TitlePage"), "Content")
    page = script.title_page
    for value in (page.title, *(v for _, v in page.fields)):
        for line in value.split("\n"):
            if text := one_line(line):
                paragraph = ET.SubElement(title, "Paragraph", Alignment="Center")
                ET.SubElement(paragraph, "Text").text = text
    ET.indent(root, space="  ")
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
