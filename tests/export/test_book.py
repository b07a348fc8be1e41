"""The illustrated story's book: one HTML page and an EPUB 3 that epubcheck passes."""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest

from podium.domain.artifacts import Prose
from podium.domain.tasks import TaskKind
from podium.export.book import book, book_epub, book_html
from podium.export.exporter import render
from podium.export.sources import ExportSource

from .conftest import Made, load_source

PNG = b"\x89PNG\r\n\x1a\n"


class Outline(HTMLParser):
    """The parts of the page the tests read: chapter headings, images, links, scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[tuple[str, str]] = []  # ("h2", id) and ("img", src), in page order
        self.links: list[str] = []
        self.scripts = 0
        self._heading: str | None = None
        self.titles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "h2" and found.get("id"):
            self.order.append(("h2", found["id"] or ""))
            self._heading = ""
        elif tag == "img":
            self.order.append(("img", found.get("src") or ""))
        elif tag == "a":
            self.links.append(found.get("href") or "")
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self.titles.append(self._heading)
            self._heading = None


def chapter_titles(source: ExportSource) -> list[str]:
    """The chapters' titles in chapter order, read from the log independently of book.py."""
    found = []
    for record in source.plan():
        artifact = source.current(record)
        if record.spec.kind is TaskKind.CHAPTER and artifact is not None:
            prose = artifact.parsed()
            assert isinstance(prose, Prose)
            found.append((int(record.spec.params["chapter"]), prose.title or record.spec.title))
    return [title for _, title in sorted(found)]


def test_the_html_book_holds_every_chapter_and_picture_in_order(sample_db: Made) -> None:
    source = load_source(sample_db("arctic_journey"))
    made = book(source)
    assert made is not None
    page = Outline()
    page.feed(book_html(made).decode("utf-8"))
    titles = chapter_titles(source)
    assert len(titles) == 5
    assert page.titles == titles
    chapters = [value for kind, value in page.order if kind == "h2"]
    assert chapters == [f"chapter-{n:02d}" for n in range(1, 6)]
    assert page.links == [f"#{anchor}" for anchor in chapters]  # the table of contents
    # The cover first, then each chapter's heading followed by its one illustration.
    kinds = [kind for kind, _ in page.order]
    assert kinds == ["img", *(["h2", "img"] * 5)]
    for _, src in (item for item in page.order if item[0] == "img"):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert page.scripts == 0


def test_an_export_is_the_same_bytes_twice(sample_db: Made) -> None:
    def files() -> dict[str, bytes]:
        out = render(load_source(sample_db("arctic_journey")))
        return {f.name: f.data or b"" for f in out if f.name.startswith("book.")}

    first = files()
    assert sorted(first) == ["book.epub", "book.html"]
    assert files() == first


def test_the_epub_is_a_well_formed_container(sample_db: Made) -> None:
    made = book(load_source(sample_db("arctic_journey")))
    assert made is not None
    data = book_epub(made)
    with zipfile.ZipFile(io.BytesIO(data)) as epub:
        first = epub.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert epub.read("mimetype") == b"application/epub+zip"
        names = epub.namelist()
        for name in names:
            if name.endswith((".xhtml", ".opf", ".xml")):
                ElementTree.fromstring(epub.read(name))  # well-formed XML, or this raises
        opf = epub.read("OEBPS/content.opf").decode("utf-8")
    assert sum(1 for n in names if n.startswith("OEBPS/chapter-")) == 5
    assert sum(1 for n in names if n.startswith("OEBPS/images/")) == 6  # the cover and five
    assert 'properties="cover-image"' in opf and 'properties="nav"' in opf
    assert made.modified in opf and made.identifier in opf


def test_untrusted_text_is_escaped_never_markup(sample_db: Made) -> None:
    source = load_source(sample_db("arctic_journey"))
    record = next(r for r in source.plan() if r.spec.kind is TaskKind.CHAPTER)
    artifact = source.current(record)
    assert artifact is not None
    hostile = {
        "title": "<script>alert(1)</script> & ]]>",
        "text": 'Nuka said "<img src=x onerror=alert(1)>"\x00\x07 and\ufffe left.',
    }
    source.view.artifacts[artifact.id] = artifact.model_copy(update={"content": hostile})
    made = book(source)
    assert made is not None
    page = Outline()
    html_text = book_html(made).decode("utf-8")
    page.feed(html_text)
    assert page.scripts == 0
    assert "<script>alert(1)</script> & ]]>" in page.titles  # as text: the parser unescaped it
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ]]&gt;" in html_text
    assert "<img src=x" not in html_text and "\x00" not in html_text
    with zipfile.ZipFile(io.BytesIO(book_epub(made))) as epub:
        texts = [
            "".join(ElementTree.fromstring(epub.read(name)).itertext())  # still well-formed
            for name in epub.namelist()
            if name.startswith("OEBPS/chapter-")
        ]
    assert any("<script>alert(1)</script>" in text for text in texts)


def _epubcheck() -> list[str] | None:
    """The epubcheck command: Debian's /usr/bin/epubcheck is a jar, run through java."""
    found = shutil.which("epubcheck")
    if found is None:
        return None
    with open(os.path.realpath(found), "rb") as file:
        is_jar = file.read(4) == b"PK\x03\x04"
    java = shutil.which("java")
    if is_jar:
        return [java, "-jar", found] if java else None
    return [found]


@pytest.mark.slow
def test_epubcheck_passes_the_sample_book(sample_export: Made, tmp_path: Path) -> None:
    command = _epubcheck()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail("epubcheck is not installed, and CI must run it (.ci/run installs it)")
        pytest.skip("epubcheck is not installed (Debian package epubcheck); CI runs this test")
    epub = sample_export("arctic_journey") / "book.epub"
    result = subprocess.run(
        [*command, str(epub)], capture_output=True, text=True, timeout=300, check=False
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "No errors or warnings detected" in report, report
