"""The shooting script: the paginator's rules, and the PDF read back with `pdftotext -layout`."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podium.export.fountain import Kind, Script, ScriptElement, TitlePage
from podium.export.pagination import (
    _TYPEWRITER,
    CONTD,
    LINES_PER_PAGE,
    MORE,
    Paginated,
    eighths,
    pages_text,
    paginate,
    printable,
    sentences,
)
from podium.export.pdf import to_pdf
from podium.export.screenplay import screenplays

from .conftest import Made, load_source

E = ScriptElement
LONG = " ".join(f"Sentence {i} of the keeper's long speech, about the lamp." for i in range(60))


def crafted(repeat: int = 6) -> Script:
    """Headings, action, short speeches and one speech far longer than a page."""
    elements = [E(Kind.SCENE_HEADING, "INT. LAMP ROOM - NIGHT")]
    for i in range(repeat):
        elements += [
            E(Kind.ACTION, f"Elias winds the clockwork ({i}). The beam sweeps. Morag watches."),
            E(Kind.CHARACTER, "MORAG"),
            E(Kind.PARENTHETICAL, "(quietly)"),
            E(Kind.DIALOGUE, "You could let Tam do it. Just once. He came all this way."),
            E(Kind.SCENE_HEADING, f"INT. KEEPER'S KITCHEN - NIGHT {i}"),
        ]
    elements += [
        E(Kind.ACTION, "The range ticks."),
        E(Kind.CHARACTER, "ELIAS"),
        E(Kind.DIALOGUE, LONG),
        E(Kind.TRANSITION, "CUT TO:"),
        E(Kind.SCENE_HEADING, "EXT. LANDING STAGE - NIGHT"),
        E(Kind.ACTION, "Rain, sideways."),
    ]
    title = TitlePage("Last Light", (("Credit", "Written by"), ("Author", "Callum")))
    return Script(title, tuple(elements))


def check_rules(laid: Paginated) -> None:
    """Every page within its lines; nothing that must be followed ends a page."""
    for page in laid.pages:
        assert 0 < len(page.lines) <= laid.lines_per_page, page.number
        printed = [line for line in page.lines if line.segments]
        assert printed[0].kind is not None or printed[0].text == "", "a page opens with (MORE)"
        last = printed[-1]
        assert last.kind not in (Kind.SCENE_HEADING, Kind.CHARACTER), (page.number, last.text)
        assert last.kind is not Kind.PARENTHETICAL, (page.number, last.text)
    for before, after in zip(laid.pages, laid.pages[1:], strict=False):
        if before.lines[-1].text == MORE:
            assert after.lines[0].kind is Kind.CHARACTER
            assert after.lines[0].text.endswith(CONTD)
            assert before.lines[-2].text.rstrip().endswith((".", "!", "?")), "not a sentence end"


@pytest.mark.parametrize("lines_per_page", [LINES_PER_PAGE, 54, 40, 23, 12])
def test_no_page_overflows_and_no_cue_or_heading_is_orphaned(lines_per_page: int) -> None:
    for repeat in range(0, 12):
        laid = paginate(crafted(repeat), lines_per_page)
        check_rules(laid)
        more = [p for p in laid.pages if p.lines[-1].text == MORE]
        assert more, f"the long speech splits across pages ({lines_per_page}, {repeat})"


def test_a_long_speech_splits_at_sentences_with_more_and_contd() -> None:
    laid = paginate(crafted(6))
    texts = [[line.text for line in page.lines] for page in laid.pages]
    first = next(i for i, page in enumerate(texts) if page[-1] == MORE)
    assert texts[first + 1][0] == "ELIAS (CONT'D)"
    spoken = " ".join(
        line.text for page in laid.pages for line in page.lines if line.kind is Kind.DIALOGUE
    )
    assert " ".join(LONG.split()) in " ".join(spoken.split()), "printed whole, in order"


def test_scene_numbers_page_numbers_and_eighths() -> None:
    laid = paginate(crafted(3))
    numbered = [line for page in laid.pages for line in page.lines if line.number]
    assert [line.number for line in numbered] == [str(n) for n in range(1, 6)]
    first = numbered[0].segments
    assert [s.text for s in first] == ["1", "INT. LAMP ROOM - NIGHT", "1"]
    assert first[0].x < 1.5 < first[1].x + 0.01 and first[2].x > 7.5  # both margins
    assert [p.page_number for p in laid.pages][:2] == [None, "2."]
    assert laid.page_count >= 3
    assert laid.eighths == sum(s.eighths for s in laid.scenes)
    assert laid.minutes * 8 == laid.eighths
    assert [eighths(n) for n in (1, 7, 55)] == [1, 1, 8]
    assert [pages_text(n) for n in (3, 8, 68)] == ["3/8", "1", "8 4/8"]


@given(
    st.text(st.sampled_from([*"aZ é\n\t\x00\x7f\x85\xa0\xad—“…Łł東🎬\u2060\u0301"]), max_size=40)
)
def test_printable_keeps_a_character_only_when_courier_draws_it(text: str) -> None:
    """A text Courier draws whole is returned as it is (at once); any other is read character
    by character: the same text either way."""
    typed = printable(text)
    assert all(c == "\n" or (ord(c) < 0x100 and c.isprintable()) for c in typed)
    assert printable(typed) == typed
    if all(c == "\n" or (ord(c) < 0x100 and c.isprintable()) for c in text):
        assert typed == text.translate(_TYPEWRITER)


def test_text_outside_latin_1_is_printed_visibly_never_a_crash() -> None:
    assert printable("Naïve — “quoted”… Łódź 東京 🎬") == 'Naïve -- "quoted"... Lódz ?? ?'
    assert sentences('"Stop." She goes. Why? Now!') == ['"Stop."', "She goes.", "Why?", "Now!"]
    script = Script(
        TitlePage("東京 Story"),
        (E(Kind.SCENE_HEADING, "INT. 東京 - NIGHT"), E(Kind.ACTION, "🎬 \u2060Rolling.")),
    )
    assert to_pdf(script).startswith(b"%PDF-")
    assert to_pdf(script) == to_pdf(script), "the same script is the same bytes"


def pdftotext(path: Path) -> list[str]:
    """The PDF's pages as `pdftotext -layout` reads them."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (.ci/run installs it)")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split("\f")[:-1]


_HEADING = re.compile(r"^\s*(\d+)\s+((?:INT|EXT)\..*?)\s+(\d+)\s*$", re.MULTILINE)


@pytest.mark.slow
def test_the_pdf_reads_back_with_its_numbers_and_continuations(tmp_path: Path) -> None:
    script = crafted(6)
    laid = paginate(script)
    path = tmp_path / "script.pdf"
    path.write_bytes(to_pdf(script, laid))
    pages = pdftotext(path)
    assert len(pages) == laid.page_count + 1  # the title page is not counted
    assert "LAST LIGHT" in pages[0] and "Written by" in pages[0]
    for number, text in enumerate(pages[1:], start=1):
        top = next(line for line in text.splitlines() if line.strip())
        if number > 1:
            assert top.strip() == f"{number}.", f"page {number} is numbered top right"
        else:
            assert not re.fullmatch(r"\s*\d+\.\s*", top), "page 1 carries no number"
    headings = [m for page in pages for m in _HEADING.finditer(page)]
    assert [(m.group(1), m.group(3)) for m in headings] == [(str(n), str(n)) for n in range(1, 9)]
    body = "\n".join(pages)
    assert re.search(r"\(MORE\)\s*\n(?:\s*\n)*\s*\d+\.\s*\n(?:\s*\n)*\s*ELIAS \(CONT'D\)", body)


@pytest.mark.slow
def test_the_samples_pdfs_read_back(sample_db: Made, sample_export: Made) -> None:
    for name in ("last_light", "arcadian_summers"):
        out = sample_export(name)
        for play in screenplays(load_source(sample_db(name))):
            laid = paginate(play.script)
            check_rules(laid)
            pages = pdftotext(out / f"{play.stem}.pdf")
            assert len(pages) == laid.page_count + 1
            numbers = [(m.group(1), m.group(3)) for p in pages for m in _HEADING.finditer(p)]
            assert numbers == [(str(n), str(n)) for n in range(1, len(play.slots) + 1)]
