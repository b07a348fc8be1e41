"""Final Draft XML (.fdx) from the same element list as the Fountain file.

Built with xml.etree, so every character of model text is escaped by the XML writer itself.
Fountain's non-printing elements keep to what Final Draft itself writes for them, so nothing
that Fountain leaves off the page is printed in Final Draft either:

* a synopsis is the summary of the scene it belongs to (`SceneProperties/Summary` of the last
  scene heading before it), which Final Draft shows in its Navigator and index cards;
* a note, a section, and a synopsis that belongs to no scene (before the first heading, or
  after a section, which it then describes) are script notes: one
  `ScriptNote` each (Type "Note", "Section" or "Synopsis"; a section's level in its Name) in
  the document's `ScriptNotes`, anchored by a zero-length Range where the element stood.
  Final Draft has no section element (its acts are printed text), so a note is the faithful
  place for one;
* a page break starts the next printed paragraph on a new page.

A Range counts UTF-16 units over the top-level paragraphs as Final Draft does: each paragraph's
text (a scene summary's paragraphs included, one unit after each), one unit per paragraph
break, and two for a dual-dialogue block whatever it holds. An anchor a unit off would only
move the note's marker, never its words.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from podium.export.fountain import SPEECH, Kind, Script, ScriptElement
from podium.export.sources import one_line

PARAGRAPH_TYPE: dict[Kind, str] = {
    Kind.SCENE_HEADING: "Scene Heading",
    Kind.ACTION: "Action",
    Kind.CHARACTER: "Character",
    Kind.PARENTHETICAL: "Parenthetical",
    Kind.DIALOGUE: "Dialogue",
    Kind.TRANSITION: "Transition",
}
NOTE_TYPE: dict[Kind, str] = {
    Kind.NOTE: "Note",
    Kind.SECTION: "Section",
    Kind.SYNOPSIS: "Synopsis",
}
DUAL_UNITS = 2  # what a dual-dialogue block counts in a Range, whatever it holds

_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n'

Entry = ScriptElement | list[ScriptElement]  # a single element, or one speaker's dialogue block


def units(text: str) -> int:
    """The length of text as Final Draft measures it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def note_name(element: ScriptElement) -> str:
    return f"Level {element.depth}" if element.kind is Kind.SECTION else ""


@dataclass
class _Block:
    """One top-level paragraph: a printed element, or two speakers side by side."""

    paragraphs: list[ScriptElement]
    new_page: bool
    dual: bool = False
    summary: list[str] = field(default_factory=list)  # a scene heading's synopses

    def units(self) -> int:
        if self.dual:
            return DUAL_UNITS
        return units(self.paragraphs[0].text) + sum(units(s) + 1 for s in self.summary)


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


def _layout(
    elements: Sequence[ScriptElement],
) -> tuple[list[_Block], list[tuple[ScriptElement, int]]]:
    """The printed blocks in order, and each script note with the block it stands before."""
    blocks: list[_Block] = []
    notes: list[tuple[ScriptElement, int]] = []
    heading: _Block | None = None
    new_page = False
    entries = _entries(elements)
    for i, entry in enumerate(entries):
        if isinstance(entry, ScriptElement):
            if entry.kind is Kind.PAGE_BREAK:
                new_page = True
            elif entry.kind is Kind.SYNOPSIS and heading is not None:
                heading.summary.append(entry.text)
            elif entry.kind in NOTE_TYPE:
                notes.append((entry, len(blocks)))
                if entry.kind is Kind.SECTION:
                    heading = None  # a synopsis after a section is about the section
            else:
                blocks.append(_Block([entry], new_page))
                new_page = False
                if entry.kind is Kind.SCENE_HEADING:
                    heading = blocks[-1]
            continue
        if entry[0].dual:
            continue  # written with the speaker before it
        following = entries[i + 1] if i + 1 < len(entries) else None
        if isinstance(following, list) and following[0].dual:
            blocks.append(_Block([*entry, *following], new_page, dual=True))
        else:
            blocks.extend(_Block([e], new_page and j == 0) for j, e in enumerate(entry))
        new_page = False
    return blocks, notes


def _paragraph(
    parent: ET.Element, element: ScriptElement, new_page: bool, number: int | None = None
) -> ET.Element:
    attrs = {"Type": PARAGRAPH_TYPE[element.kind]}
    if number is not None:
        attrs["Number"] = str(number)  # the scene number, as Final Draft writes it
    if new_page:
        attrs["StartsNewPage"] = "Yes"
    paragraph = ET.SubElement(parent, "Paragraph", attrs)
    ET.SubElement(paragraph, "Text").text = element.text
    return paragraph


def _write_block(content: ET.Element, block: _Block, number: int | None = None) -> None:
    if block.dual:
        wrapper = ET.SubElement(
            content, "Paragraph", {"StartsNewPage": "Yes"} if block.new_page else {}
        )
        dual = ET.SubElement(wrapper, "DualDialogue")
        for element in block.paragraphs:
            _paragraph(dual, element, False)
        return
    paragraph = _paragraph(content, block.paragraphs[0], block.new_page, number)
    if block.summary:
        properties = ET.Element("SceneProperties")
        summary = ET.SubElement(properties, "Summary")
        for text in block.summary:
            ET.SubElement(ET.SubElement(summary, "Paragraph"), "Text").text = text
        paragraph.insert(0, properties)  # before the heading's own text, as Final Draft has it


def _script_notes(
    root: ET.Element, blocks: list[_Block], notes: list[tuple[ScriptElement, int]]
) -> None:
    starts: list[int] = []
    position = 0
    for block in blocks:
        starts.append(position)
        position += block.units() + 1
    end = max(position - 1, 0)
    container = ET.SubElement(root, "ScriptNotes")
    for number, (element, before) in enumerate(notes, start=1):
        at = starts[before] if before < len(starts) else end
        attrs = {"Id": str(number), "Range": f"{at},{at}", "Type": NOTE_TYPE[element.kind]}
        if name := note_name(element):
            attrs["Name"] = name
        note = ET.SubElement(container, "ScriptNote", attrs)
        ET.SubElement(ET.SubElement(note, "Paragraph"), "Text").text = element.text


def to_fdx(script: Script) -> str:
    """The screenplay as a Final Draft document, ending with a newline."""
    root = ET.Element("FinalDraft", DocumentType="Script", Template="No", Version="5")
    content = ET.SubElement(root, "Content")
    blocks, notes = _layout(script.normal())
    scene = 0  # headings are numbered in order, as the Fountain and the PDF number them
    for block in blocks:
        heading = not block.dual and block.paragraphs[0].kind is Kind.SCENE_HEADING
        scene += heading
        _write_block(content, block, scene if heading else None)
    title = ET.SubElement(ET.SubElement(root, "TitlePage"), "Content")
    page = script.title_page
    for value in (page.title, *(v for _, v in page.fields)):
        for line in value.split("\n"):
            if text := one_line(line):
                paragraph = ET.SubElement(title, "Paragraph", Alignment="Center")
                ET.SubElement(paragraph, "Text").text = text
    if notes:
        _script_notes(root, blocks, notes)
    ET.indent(root, space="  ")
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
