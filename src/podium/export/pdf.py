"""The shooting script as PDF: the paginated pages drawn with fpdf2 in Courier 12 pt.

`podium.export.pagination` decides every line's place; this module only draws it, so what the
tests measure on the layout is what is printed. fpdf2 is imported here, inside the call, so
that commands other than `podium export` never load it. The file carries no date and a file
identifier made from its contents, so the same production exports the same bytes; its pages
are not compressed, so the words can be found in the file itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from podium.export.fountain import Script
from podium.export.pagination import (
    CHAR_WIDTH,
    LINE_HEIGHT,
    PAGE_NUMBER_TOP,
    RIGHT,
    TOP,
    Line,
    Paginated,
    paginate,
    printable,
)

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_SIZE = 12
# fpdf2 always writes a creation date; this one is its own marker for "no real date" (it also
# keeps the XMP dates fixed), so an export is the same bytes whenever it is made.
NO_DATE = datetime(1969, 12, 31, 19, 0, 0, tzinfo=UTC)
BASELINE = 0.125  # inches from a line's top to its baseline: Courier 12 pt on a 1/6" line
LEFT = 1.5  # inches: the page's left margin, where a page's header mark starts
MARK_CHARS = 48  # a header mark's characters at most: it ends before the page number


def _draw(pdf: FPDF, lines: tuple[Line, ...]) -> None:
    for row, line in enumerate(lines):
        for segment in line.segments:
            if segment.text:
                text = printable(segment.text)
                # Latin-1 is all the core font has; printable() keeps to it, this is a backstop.
                text = text.encode("latin-1", "replace").decode("latin-1")
                pdf.text(segment.x, TOP + row * LINE_HEIGHT + BASELINE, text)


def to_pdf(script: Script, paginated: Paginated | None = None, mark: str | None = None) -> bytes:
    """The screenplay as a PDF document: a title page, then the numbered pages; `mark` (a
    production exported unfinished) heads every page, left of the page number."""
    from fpdf import FPDF

    laid = paginated if paginated is not None else paginate(script)

    class _Document(FPDF):
        def file_id(self) -> str:
            return self._default_file_id(bytearray(repr(laid).encode("utf-8", "replace")))

    pdf = _Document(orientation="portrait", unit="in", format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_compression(False)  # the text stays searchable in the file itself (grep finds it)
    pdf.set_margins(1.5, 1.0, 1.0)
    pdf.set_creation_date(NO_DATE)
    pdf.set_title(printable(script.title_page.title.replace("\n", " - ")))
    pdf.set_creator("podium")
    pdf.set_producer("podium")
    pdf.set_font("Courier", size=FONT_SIZE)
    pdf.add_page()
    _draw(pdf, laid.title)
    header = printable(mark or "")[:MARK_CHARS].encode("latin-1", "replace").decode("latin-1")
    if header:
        pdf.text(LEFT, PAGE_NUMBER_TOP + BASELINE, header)
    for page in laid.pages:
        pdf.add_page()
        if header:
            pdf.text(LEFT, PAGE_NUMBER_TOP + BASELINE, header)
        if page.page_number:
            label = page.page_number
            pdf.text(RIGHT - CHAR_WIDTH * len(label), PAGE_NUMBER_TOP + BASELINE, label)
        _draw(pdf, page.lines)
    return bytes(pdf.output())
