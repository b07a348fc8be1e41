"""The illustrated story as a book: one self-contained HTML file and an EPUB 3.

Both hold a cover, a table of contents and the chapters in order, each followed by its
illustrations with their captions. An illustration's picture is the image file an image model
drew (found as the manuscript finds it: a real image inside the production's folder), else the
rehearsal illustrator's stand-in drawn from its brief, so the book is complete without a key;
with an image model configured, such a stand-in (its call failed) is marked as one.

The EPUB is a zip written from templates rather than with ebooklib: every byte is then ours to
fix (entries dated 1980-01-01, the identifier and `dcterms:modified` taken from the production),
so two exports of the same production are the same bytes, and it needs no other dependency.
Every text is untrusted: cleaned, stripped of what XML cannot hold, and escaped, never markup.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from podium.domain.artifacts import Artifact, Content, IllustrationBrief, Prose
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.export.manuscript import find_image, parsed
from podium.export.sources import ExportSource, clean, number, one_line

_MEDIA = {".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
# What XML 1.0 cannot hold (clean() keeps tab and newline, and removes the other controls).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Picture:
    name: str  # the file name in the EPUB's images/
    media_type: str
    data: bytes
    title: str
    caption: str
    drawn: bool  # the rehearsal illustrator's stand-in, not an image model's
    note: str = "a rehearsal sketch"  # what a stand-in is marked with


@dataclass(frozen=True)
class Chapter:
    anchor: str  # chapter-01 …; the EPUB file is anchor + .xhtml
    title: str
    status: str | None
    paragraphs: tuple[str, ...]
    pictures: tuple[Picture, ...]


@dataclass(frozen=True)
class Book:
    title: str
    logline: str
    identifier: str
    modified: str  # CCYY-MM-DDThh:mm:ssZ
    cover: bytes
    chapters: tuple[Chapter, ...]


def text(value: object) -> str:
    """Untrusted text as XHTML character data: cleaned, XML-safe, escaped."""
    return html.escape(_NOT_XML.sub("\ufffd", clean(value)), quote=True)


def _line(value: object) -> str:
    return text(one_line(value))


def _picture(source: ExportSource, artifact: Artifact, cast: list[str]) -> Picture | None:
    from podium.llm.rehearsal.illustrator import draw
    from podium.llm.rehearsal.sketch import from_brief

    brief = parsed(artifact)
    if not isinstance(brief, IllustrationBrief):
        return None
    record = source.view.tasks.get(artifact.task_id)
    title = one_line(brief.title) or (one_line(record.spec.title) if record else artifact.task_id)
    caption = one_line(brief.caption)
    image = find_image(source, brief, artifact.task_id)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", artifact.task_id).strip("-") or "illustration"
    if image is not None:
        try:
            data = image.source.read_bytes()
        except OSError:
            data = b""
        suffix = PurePath(image.name).suffix  # the kind its bytes showed
        if data and suffix in _MEDIA:
            return Picture(f"{stem}{suffix}", _MEDIA[suffix], data, title, caption, False)
    data = draw(from_brief(brief, cast, captioned=False), 960, 640)
    spec = source.view.spec
    note = "a rehearsal sketch"
    if spec is not None and spec.models.image:  # the image model's call failed: a stand-in
        note = "a stand-in sketch: the image model drew none"
    return Picture(f"{stem}.png", "image/png", data, title, caption, True, note)


def _paragraphs(prose: Content | None) -> tuple[str, ...]:
    if not isinstance(prose, Prose):
        return ()
    blocks = re.split(r"\n\s*\n", clean(prose.text))
    return tuple(" ".join(b.split()) for b in blocks if b.strip())


def book(source: ExportSource) -> Book | None:
    """The book of an illustrated story; None for other formats or before any chapter exists."""
    spec = source.view.spec
    if spec is None or spec.production.format is not Format.ILLUSTRATED_STORY:
        return None
    cast = [c.name for c in (source.view.vision or spec.vision).characters]
    found: list[tuple[int, int, Artifact]] = []
    pictures: dict[int | None, list[Artifact]] = {}
    for index, record in enumerate(source.plan()):
        artifact = source.current(record)
        if artifact is None:
            continue
        chapter = number(record.spec.params.get("chapter"))
        if record.spec.kind is TaskKind.CHAPTER:
            found.append((chapter if chapter is not None else 10_000 + index, index, artifact))
        elif record.spec.kind is TaskKind.ILLUSTRATION:
            pictures.setdefault(chapter, []).append(artifact)
    if not found:
        return None
    chapters: list[Chapter] = []
    placed: set[int | None] = set()
    for chapter, _, artifact in sorted(found, key=lambda c: (c[0], c[1])):
        prose = parsed(artifact)
        task = source.view.tasks.get(artifact.task_id)
        title = prose.title if isinstance(prose, Prose) and prose.title else ""
        title = one_line(title) or (one_line(task.spec.title) if task else artifact.task_id)
        drawn: list[Picture] = []
        if chapter in pictures and chapter not in placed:
            placed.add(chapter)
            drawn = [p for a in pictures[chapter] if (p := _picture(source, a, cast))]
        anchor = f"chapter-{len(chapters) + 1:02d}"
        label = source.status_label(artifact)
        chapters.append(Chapter(anchor, title, label, _paragraphs(prose), tuple(drawn)))
    rest = [a for ch, items in pictures.items() if ch not in placed for a in items]
    if rest:
        drawn = [p for a in rest if (p := _picture(source, a, cast))]
        chapters.append(Chapter("illustrations", "Illustrations", None, (), tuple(drawn)))
    stamps = [a.created_at for _, _, a in found] + [a.created_at for a in rest]
    stamps += [a.created_at for items in pictures.values() for a in items]
    when = max(stamps, default=0.0) or source.view.created_at or 0.0
    modified = datetime.datetime.fromtimestamp(when, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    logline = one_line(spec.production.logline)
    identifier = uuid.uuid5(uuid.NAMESPACE_URL, f"podium:{source.title}:{source.view.created_at}")
    return Book(
        title=source.title,
        logline=logline,
        identifier=f"urn:uuid:{identifier}",
        modified=modified,
        cover=_cover(source, cast),
        chapters=tuple(chapters),
    )


def _cover(source: ExportSource, cast: list[str]) -> bytes:
    from podium.llm.rehearsal.illustrator import draw_cover
    from podium.llm.rehearsal.sketch import Sketch

    spec = source.view.spec
    palette = tuple(spec.style.palette) if spec else ()
    logline = one_line(spec.production.logline) if spec else ""
    sketch = Sketch(
        key=f"cover\n{source.title}\n{logline}",
        palette=palette[:6],
        size="EWS",
        composition="low horizon",
        figures=tuple(cast[:2]),
    )
    return draw_cover(source.title, logline, sketch)


# -- the chapters as XHTML, shared by both books -----------------------------------------------


def _figure(picture: Picture, src: str) -> str:
    caption = _line(picture.caption or picture.title)
    size = ' width="960" height="640"' if picture.drawn else ""
    note = f' <span class="note">({text(picture.note)})</span>' if picture.drawn else ""
    return (
        f'<figure class="illustration">\n<img src="{html.escape(src, quote=True)}" '
        f'alt="{caption}"{size}/>\n<figcaption>{caption}{note}</figcaption>\n</figure>'
    )


def _chapter_body(chapter: Chapter, sources: list[str], level: int = 2) -> str:
    parts = [f'<h{level} id="{chapter.anchor}">{_line(chapter.title)}</h{level}>']
    if chapter.status:
        parts.append(f'<p class="status">{_line(chapter.status)}</p>')
    parts += [f"<p>{text(p)}</p>" for p in chapter.paragraphs]
    parts += [_figure(p, s) for p, s in zip(chapter.pictures, sources, strict=True)]
    return "\n".join(parts)


CSS = """
body { font-family: Georgia, 'Iowan Old Style', 'Palatino Linotype', serif; line-height: 1.6;
  color: #222; background: #fdfcf8; margin: 0; }
main, nav.toc, header.cover { max-width: 38em; margin: 0 auto; padding: 0 1.5em; }
header.cover { text-align: center; padding-top: 2em; }
header.cover img { max-width: 100%; height: auto; max-height: 90vh; box-shadow: 0 2px 12px #0003; }
h1 { font-size: 2.4em; font-weight: normal; letter-spacing: 0.02em; margin: 0.6em 0 0.2em; }
h2 { font-size: 1.5em; font-weight: normal; margin: 2.5em 0 1em; text-align: center; }
p { margin: 0; text-indent: 1.5em; text-align: justify; hyphens: auto; }
h2 + p, p.status + p, p.logline { text-indent: 0; }
p.logline { font-style: italic; text-align: center; margin: 0.5em 0 2em; }
p.status { text-indent: 0; font-size: 0.85em; color: #8a4b00; text-align: center; }
figure.illustration { margin: 2em 0; text-align: center; page-break-inside: avoid; }
figure.illustration img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; font-style: italic; color: #555; margin-top: 0.5em; }
figcaption .note { font-style: normal; color: #999; font-size: 0.85em; }
nav.toc ol { list-style: none; padding: 0; }
nav.toc li { margin: 0.3em 0; }
nav.toc a { color: #333; text-decoration: none; border-bottom: 1px solid #ccc; }
section.chapter { page-break-before: always; }
"""


def book_html(made: Book) -> bytes:
    """The book as one HTML file, its pictures inlined as data: URIs."""
    cover = "data:image/png;base64," + base64.b64encode(made.cover).decode("ascii")
    toc = "\n".join(f'<li><a href="#{c.anchor}">{_line(c.title)}</a></li>' for c in made.chapters)
    sections = []
    for chapter in made.chapters:
        srcs = [
            f"data:{p.media_type};base64," + base64.b64encode(p.data).decode("ascii")
            for p in chapter.pictures
        ]
        sections.append(f'<section class="chapter">\n{_chapter_body(chapter, srcs)}\n</section>')
    logline = f'<p class="logline">{text(made.logline)}</p>' if made.logline else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="generator" content="podium"/>
<title>{_line(made.title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="cover">
<img src="{cover}" alt="The cover of {_line(made.title)}"/>
<h1>{_line(made.title)}</h1>
{logline}
</header>
<nav class="toc" aria-label="Contents">
<h2>Contents</h2>
<ol>
{toc}
</ol>
</nav>
<main>
{chr(10).join(sections)}
</main>
</body>
</html>
"""
    return page.encode("utf-8")


# -- EPUB 3 -----------------------------------------------------------------------------------


def _xhtml(title: str, body: str, extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" \
lang="en" xml:lang="en">
<head>
<meta charset="utf-8"/>
<title>{title}</title>
<link rel="stylesheet" type="text/css" href="style.css"/>{extra}
</head>
<body>
{body}
</body>
</html>
"""


_CONTAINER = """<?xml version="1.0" encoding="utf-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles>
<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
</rootfiles>
</container>
"""


def book_epub(made: Book) -> bytes:
    """The book as an EPUB 3: a cover, a nav document, a spine of chapters, their images."""
    title = _line(made.title)
    files: list[tuple[str, bytes]] = [("style.css", CSS.encode("utf-8"))]
    manifest = [
        '<item id="css" href="style.css" media-type="text/css"/>',
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
        '<item id="cover-image" href="images/cover.png" media-type="image/png" '
        'properties="cover-image"/>',
        '<item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>',
    ]
    spine = ['<itemref idref="cover"/>', '<itemref idref="nav"/>']
    files.append(("images/cover.png", made.cover))
    cover_body = (
        f'<section epub:type="cover" class="cover">\n<img src="images/cover.png" '
        f'alt="The cover of {title}"/>\n<h1>{title}</h1>\n'
        + (f'<p class="logline">{text(made.logline)}</p>\n' if made.logline else "")
        + "</section>"
    )
    files.append(("cover.xhtml", _xhtml(title, cover_body).encode("utf-8")))
    used: set[str] = {"cover.png"}
    for chapter in made.chapters:
        srcs = []
        for picture in chapter.pictures:
            name = picture.name
            while name in used:
                name = f"x-{name}"
            used.add(name)
            item = f"img-{len(used):03d}"
            manifest.append(
                f'<item id="{item}" href="images/{name}" media-type="{picture.media_type}"/>'
            )
            files.append((f"images/{name}", picture.data))
            srcs.append(f"images/{name}")
        body = f'<section epub:type="chapter">\n{_chapter_body(chapter, srcs, 1)}\n</section>'
        href = f"{chapter.anchor}.xhtml"
        files.append((href, _xhtml(_line(chapter.title), body).encode("utf-8")))
        manifest.append(
            f'<item id="{chapter.anchor}" href="{href}" media-type="application/xhtml+xml"/>'
        )
        spine.append(f'<itemref idref="{chapter.anchor}"/>')
    toc = "\n".join(
        f'<li><a href="{c.anchor}.xhtml">{_line(c.title)}</a></li>' for c in made.chapters
    )
    nav = (
        f'<nav epub:type="toc" id="toc" class="toc">\n<h1>Contents</h1>\n<ol>\n{toc}\n</ol>\n'
        '</nav>\n<nav epub:type="landmarks" hidden="hidden">\n<ol>\n'
        '<li><a epub:type="cover" href="cover.xhtml">Cover</a></li>\n'
        f'<li><a epub:type="bodymatter" href="{made.chapters[0].anchor}.xhtml">Start</a></li>\n'
        "</ol>\n</nav>"
    )
    files.append(("nav.xhtml", _xhtml("Contents", nav).encode("utf-8")))
    description = f"\n<dc:description>{text(made.logline)}</dc:description>" if made.logline else ""
    opf = f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" \
xml:lang="en">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="book-id">{made.identifier}</dc:identifier>
<dc:title>{title}</dc:title>
<dc:language>en</dc:language>
<dc:creator>podium</dc:creator>{description}
<meta property="dcterms:modified">{made.modified}</meta>
<meta name="cover" content="cover-image"/>
</metadata>
<manifest>
{chr(10).join(manifest)}
</manifest>
<spine>
{chr(10).join(spine)}
</spine>
</package>
"""
    return _zip(
        [("OEBPS/content.opf", opf.encode("utf-8"))] + [(f"OEBPS/{n}", d) for n, d in files]
    )


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    """The EPUB container: `mimetype` first and stored, then the rest, all dated 1980-01-01."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        first = zipfile.ZipInfo("mimetype", _ZIP_DATE)
        first.compress_type = zipfile.ZIP_STORED
        archive.writestr(first, b"application/epub+zip")
        container = [("META-INF/container.xml", _CONTAINER.encode("utf-8"))]
        for name, data in container + entries:
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()
