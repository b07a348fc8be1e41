"""Fountain and Final Draft output, read back by independent parsers.

Every line a model could write that Fountain would misread must come back as the element it
was, with the same text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.domain.artifacts import ElementType, Scene, ScreenElement
from podium.domain.text import sanitize
from podium.export.fdx import to_fdx
from podium.export.fountain import (
    Kind,
    Script,
    ScriptElement,
    TitlePage,
    build_script,
    normalize,
    to_fountain,
)
from podium.export.pagination import paginate
from podium.export.screenplay import screenplays

from .conftest import Made, load_source
from .reparse import expected, expected_fdx, parse_fountain, reread, reread_fdx
from .samples import SAMPLE_NAMES

E = ScriptElement

HOSTILE_ACTION = [
    "THE DOOR SLAMS OPEN",
    "SUDDENLY\nthe lights die.",
    "!Bang. The shot echoes.",
    "!!!",
    "@home, at last",
    "~ la la la, she sings",
    "> not a transition",
    ">centered<",
    "> THE END <",
    ".45 calibre on the table",
    "...and then nothing",
    "# not a section",
    "## not a section either",
    "= not a synopsis",
    "===",
    "==",
    "[[not a note]]",
    "text [[with a note]] inside",
    "/* not the boneyard */",
    "/* opens a boneyard",
    "closes one */",
    "*not italic*",
    "**not bold**",
    "***not both***",
    "_not underlined_",
    "a snake_case_name and 2*3*4",
    "back\\slash and \\*escaped\\* already",
    "FADE OUT.",
    "CUT TO:",
    "FADE IN:",
    "INT. HOUSE - DAY",
    "EXT. SEA - NIGHT",
    "I/E. CAR - MOVING",
    "EST. CITY",
    "Title: not a title page",
    "(not a parenthetical)",
    "MARA\nThis is not dialogue.",
    "red \x1b[31malert\x1b[0m and a bell\x07",
    "tab\there",
    "an ending with two spaces  ",
]
HOSTILE_DIALOGUE = [
    "INT. HOUSE - DAY",
    "CUT TO:",
    "FADE OUT.",
    "!not forced",
    "@not a cue",
    "~not a lyric",
    ">centered<",
    "> arrow",
    ".dot",
    "# hash",
    "= equals",
    "===",
    "[[not a note]]",
    "/* not boneyard */",
    "*stars* and _underscores_",
    "SHOUTING IN CAPITALS",
    "(aside) continues",
]
HOSTILE_CHARACTER = ["MARA (V.O.)", "mara", "DR. O'NEIL", "MARA_2", "*STAR*", "@MARA"]
# Headings strict Fountain cannot force as written (a period must be followed by a letter or
# digit), and what the exporter makes of them: every character kept, nothing guessed.
HOSTILE_HEADINGS = {
    "'til dawn": "SCENE - 'TIL DAWN",
    "(FLASHBACK) INT. HOUSE - DAY": "INT. HOUSE - DAY (FLASHBACK)",
    "(FLASHBACK) EXT./INT. CAR": "EXT./INT. CAR (FLASHBACK)",
    "(FLASHBACK) THE HALL": "SCENE - (FLASHBACK) THE HALL",
    "(NIGHT)": "SCENE - (NIGHT)",
    "...AND THEN": "SCENE - ...AND THEN",
    "..TWO DOTS": "SCENE - ..TWO DOTS",
    ".INT. FORCED BY THE MODEL - NIGHT": "INT. FORCED BY THE MODEL - NIGHT",
    ". ...FORCED, THEN AN ELLIPSIS": "SCENE - ...FORCED, THEN AN ELLIPSIS",
    "- LATER": "SCENE - - LATER",
    "*STARRY* NIGHT": "SCENE - *STARRY* NIGHT",
    "_UNDER_ THE PIER": "SCENE - _UNDER_ THE PIER",
    "# ROOM 9 #": "SCENE - # ROOM 9 #",
    "[[NOT A NOTE]] HALL": "SCENE - [[NOT A NOTE]] HALL",
    "!BANG - DAY": "SCENE - !BANG - DAY",
    "@HOME - DAY": "SCENE - @HOME - DAY",
    "~LULLABY ROOM": "SCENE - ~LULLABY ROOM",
    ">ARROW ROOM": "SCENE - >ARROW ROOM",
    "=== ROOM": "SCENE - === ROOM",
    "/* ROOM */": "SCENE - /* ROOM */",
    "ÉCOLE - JOUR": "ÉCOLE - JOUR",
    "1977 - A KITCHEN": "1977 - A KITCHEN",
}
HOSTILE_OTHER = [
    (Kind.TRANSITION, "CUT TO:"),
    (Kind.TRANSITION, "FADE OUT."),
    (Kind.TRANSITION, "SMASH CUT TO *BLACK*:"),
    (Kind.PARENTHETICAL, "(beat)"),
    (Kind.PARENTHETICAL, "(*whispers* _low_)"),
    (Kind.SECTION, "Act *One*"),
    (Kind.SYNOPSIS, "She finds the *key* under the_mat."),
    (Kind.SYNOPSIS, "= starts with equals"),
    (Kind.SCENE_HEADING, "INT. MARA'S FLAT - NIGHT"),
    (Kind.SCENE_HEADING, "THE LAMP ROOM"),
    (Kind.SCENE_HEADING, "EXT. *STARRY* SKY_LINE"),
    *((Kind.SCENE_HEADING, given) for given in HOSTILE_HEADINGS),
]


def hostile_rows() -> list[tuple[Kind, str]]:
    rows = [(Kind.ACTION, text) for text in HOSTILE_ACTION]
    rows += [(Kind.DIALOGUE, text) for text in HOSTILE_DIALOGUE]
    rows += [(Kind.CHARACTER, text) for text in HOSTILE_CHARACTER]
    return rows + HOSTILE_OTHER


def _in_context(kind: Kind, text: str) -> list[ScriptElement]:
    """The element where it belongs: speech after a cue, a cue before speech."""
    if kind is Kind.DIALOGUE:
        return [E(Kind.CHARACTER, "MARA"), E(kind, text)]
    if kind is Kind.PARENTHETICAL:
        return [E(Kind.CHARACTER, "MARA"), E(kind, text), E(Kind.DIALOGUE, "Yes.")]
    if kind is Kind.CHARACTER:
        return [E(kind, text), E(Kind.DIALOGUE, "Here.")]
    return [E(kind, text)]


def _expected_text(kind: Kind, text: str) -> str:
    """What the model meant, as the exporter keeps it: cleaned, and in one line where Fountain
    needs one; headings and transitions in capitals as screenplays write them."""
    value = sanitize(text).replace("\t", " ")
    if kind is Kind.ACTION:
        return "\n".join(line.strip() for line in value.split("\n"))
    value = " ".join(value.split())
    if kind is Kind.SCENE_HEADING:
        return HOSTILE_HEADINGS.get(text, value.upper())
    return value.upper() if kind is Kind.TRANSITION else value


@pytest.fixture(scope="module")
def hostile_script() -> tuple[Script, list[ScriptElement], list[int]]:
    """One script holding every hostile row; where each row's element lands after normalize."""
    raw: list[ScriptElement] = [E(Kind.SCENE_HEADING, "INT. TEST - DAY")]
    for kind, text in hostile_rows():
        raw += _in_context(kind, text)
        raw.append(E(Kind.ACTION, "Between."))
    script = Script(TitlePage("Hostile"), tuple(raw))
    elements = normalize(raw)
    between = [i for i, e in enumerate(elements) if e.text == "Between."]
    return script, elements, between


@pytest.fixture(scope="module")
def hostile_reread(hostile_script: tuple[Script, list[ScriptElement], list[int]]) -> list[E]:
    return reread(to_fountain(hostile_script[0]))


@pytest.mark.parametrize(("row", "kind_text"), list(enumerate(hostile_rows())))
def test_hostile_text_survives_the_fountain_round_trip(
    row: int,
    kind_text: tuple[Kind, str],
    hostile_script: tuple[Script, list[ScriptElement], list[int]],
    hostile_reread: list[ScriptElement],
) -> None:
    kind, text = kind_text
    _, elements, between = hostile_script
    start = between[row - 1] + 1 if row else 1
    mine = elements[start : between[row]]
    # The row's own element keeps its kind and text…
    found = [e for e in mine if e.kind is kind]
    if kind is Kind.DIALOGUE and text.startswith("(aside)"):
        assert [(e.kind, e.text) for e in mine[1:]] == [
            (Kind.PARENTHETICAL, "(aside)"),
            (Kind.DIALOGUE, "continues"),
        ]
    else:
        assert [e.text for e in found] == [_expected_text(kind, text).strip()], mine
    # …and a Fountain parser reads back exactly those elements.
    assert hostile_reread[start : between[row]] == [e for e in mine if e.kind is not Kind.NOTE]


def test_the_whole_hostile_script_reads_back(
    hostile_script: tuple[Script, list[ScriptElement], list[int]],
    hostile_reread: list[ScriptElement],
) -> None:
    assert hostile_reread == expected(hostile_script[0])


def test_every_heading_is_forced_as_strict_fountain_requires(
    hostile_script: tuple[Script, list[ScriptElement], list[int]],
) -> None:
    """A forced heading is a period and then a letter or digit (Fountain 1.1; jouvence reads
    `.'TIL DAWN` or `...AND THEN` as action), so no heading depends on a lenient parser."""
    script, elements, _ = hostile_script
    firsts = [p.split("\n")[0] for p in to_fountain(script).split("\n\n")]
    forced = [line for line in firsts if line.startswith(".")]
    assert len(forced) == sum(e.kind is Kind.SCENE_HEADING for e in elements)
    assert all(line[1].isalnum() for line in forced), [f for f in forced if not f[1].isalnum()]


def test_all_caps_action_is_not_read_as_a_cue() -> None:
    script = Script(
        TitlePage("T"), (E(Kind.SCENE_HEADING, "INT. A - DAY"), E(Kind.ACTION, "BANG\nit fell."))
    )
    assert reread(to_fountain(script)) == expected(script)
    assert [e.kind for e in reread(to_fountain(script))] == [Kind.SCENE_HEADING, Kind.ACTION]


def test_notes_and_draft_markers_are_written_as_notes() -> None:
    scene = Scene(
        heading="INT. A - DAY",
        elements=[
            ScreenElement(type=ElementType.NOTE, text="check the ]] bracket"),
            ScreenElement(type=ElementType.ACTION, text="Rain."),
        ],
    )
    script = build_script(TitlePage("T"), [(scene, "DRAFT — awaiting approval")])
    text = to_fountain(script)
    assert "[[DRAFT — awaiting approval]]" in text
    assert "[[check the ]\u2060] bracket]]" in text
    assert reread(text) == [E(Kind.SCENE_HEADING, "INT. A - DAY"), E(Kind.ACTION, "Rain.")]


def test_title_page_reads_back() -> None:
    page = TitlePage(
        "Last *Light*\nEpisode 2",
        (("Credit", "Written by"), ("Author", "Callum_writer"), ("Draft", "Complete")),
    )
    script = Script(page, (E(Kind.SCENE_HEADING, "INT. A - DAY"),))
    title = parse_fountain(to_fountain(script))["title_page"]
    assert title["Title"] == ["Last *Light*", "Episode 2"]
    assert title["Credit"] == ["Written by"]
    assert title["Author"] == ["Callum_writer"]
    assert title["Draft"] == ["Complete"]


def test_dual_dialogue_only_follows_a_speaker() -> None:
    raw = [
        E(Kind.SCENE_HEADING, "INT. A - DAY"),
        E(Kind.CHARACTER, "A", dual=True),  # nobody spoke before: not dual
        E(Kind.DIALOGUE, "One."),
        E(Kind.CHARACTER, "B", dual=True),  # answers A: dual
        E(Kind.DIALOGUE, "Two."),
        E(Kind.CHARACTER, "C", dual=True),  # a third at once cannot be: not dual
        E(Kind.DIALOGUE, "Three."),
    ]
    duals = [e.dual for e in normalize(raw) if e.kind is Kind.CHARACTER]
    assert duals == [False, True, False]
    script = Script(TitlePage("T"), tuple(raw))
    assert reread(to_fountain(script)) == expected(script)
    assert reread_fdx(to_fdx(script)) == expected_fdx(script)
    assert "<DualDialogue>" in to_fdx(script)


def test_speech_without_a_speaker_and_a_cue_without_speech_stay_as_action() -> None:
    raw = [
        E(Kind.SCENE_HEADING, "INT. A - DAY"),
        E(Kind.DIALOGUE, "Who said this?"),
        E(Kind.PARENTHETICAL, "beat"),
        E(Kind.CHARACTER, "MARA"),
        E(Kind.ACTION, "She leaves."),
        E(Kind.CHARACTER, "TAM"),
    ]
    assert normalize(raw) == [
        E(Kind.SCENE_HEADING, "INT. A - DAY"),
        E(Kind.ACTION, "Who said this?"),
        E(Kind.ACTION, "(beat)"),
        E(Kind.ACTION, "MARA"),
        E(Kind.ACTION, "She leaves."),
        E(Kind.ACTION, "TAM"),
    ]


def test_fdx_escapes_text_and_keeps_every_element() -> None:
    raw = [
        E(Kind.SCENE_HEADING, "INT. <SCRIPT> & CO - DAY"),
        E(Kind.ACTION, '</Text></Paragraph><Paragraph Type="Action"> & ]]> \x1b[2J'),
        E(Kind.CHARACTER, "MARA & TAM"),
        E(Kind.PARENTHETICAL, "(<b>)"),
        E(Kind.DIALOGUE, "\"quoted\" 'single' \ud800 \ufffe"),
        E(Kind.PAGE_BREAK),
        E(Kind.TRANSITION, "CUT TO:"),
        E(Kind.SECTION, "Act One"),
        E(Kind.SYNOPSIS, "Things happen."),
        E(Kind.NOTE, "A note."),
    ]
    script = Script(TitlePage("A <Title> & more", (("Credit", "Written by"),)), tuple(raw))
    xml = to_fdx(script)
    assert reread_fdx(xml) == expected_fdx(script)
    assert "\x1b" not in xml and "\ud800" not in xml
    kinds = [p[0] for p in reread_fdx(xml)]
    assert kinds == [
        "Scene Heading",
        "Action",
        "Character",
        "Parenthetical",
        "Dialogue",
        "Transition",
        "ScriptNote Section Level 1",
        "ScriptNote Synopsis",  # after a section: about the section, not the scene
        "ScriptNote Note",
    ]
    assert reread_fdx(xml)[5][2] is True  # the transition starts a new page
    assert 'Type="General"' not in xml  # nothing Fountain leaves off the page is printed


def test_fdx_keeps_fountains_unprinted_elements_off_the_page() -> None:
    raw = [
        E(Kind.NOTE, "Before anything."),
        E(Kind.SYNOPSIS, "A synopsis before any scene."),
        E(Kind.SCENE_HEADING, "INT. LAMP ROOM - NIGHT"),
        E(Kind.NOTE, "DRAFT — awaiting approval"),
        E(Kind.SYNOPSIS, "Elias lights the lamp."),
        E(Kind.ACTION, "The lamp turns \U0001f56f."),
        E(Kind.SYNOPSIS, "He will not turn round."),  # still this scene's
        E(Kind.CHARACTER, "ELIAS"),
        E(Kind.DIALOGUE, "Aye."),
        E(Kind.CHARACTER, "MORAG", dual=True),
        E(Kind.DIALOGUE, "No."),
        E(Kind.NOTE, "After the dual block."),
        E(Kind.PAGE_BREAK),
        E(Kind.SECTION, "## Act Two"),
        E(Kind.SCENE_HEADING, "EXT. STAIR - DAWN"),
        E(Kind.ACTION, "Gulls."),
        E(Kind.NOTE, "The very end."),
    ]
    script = Script(TitlePage("T"), tuple(raw))
    xml = to_fdx(script)
    read = reread_fdx(xml)
    assert read == expected_fdx(script)
    assert [(kind, text) for kind, text, _, _ in read] == [
        ("ScriptNote Note", "Before anything."),
        ("ScriptNote Synopsis", "A synopsis before any scene."),
        ("Scene Heading", "INT. LAMP ROOM - NIGHT"),
        ("Summary", "Elias lights the lamp."),
        ("Summary", "He will not turn round."),
        ("ScriptNote Note", "DRAFT — awaiting approval"),
        ("Action", "The lamp turns \U0001f56f."),
        ("Character", "ELIAS"),
        ("Dialogue", "Aye."),
        ("Character", "MORAG"),
        ("Dialogue", "No."),
        ("ScriptNote Note", "After the dual block."),
        ("ScriptNote Section Level 2", "Act Two"),
        ("Scene Heading", "EXT. STAIR - DAWN"),
        ("Action", "Gulls."),
        ("ScriptNote Note", "The very end."),
    ]
    # The page break starts the next printed paragraph, past the notes in between.
    assert [text for _, text, new_page, _ in read if new_page] == ["EXT. STAIR - DAWN"]
    root = ET.fromstring(xml)
    ranges = [n.get("Range") for n in root.iterfind("ScriptNotes/ScriptNote")]
    # Counted in UTF-16 units (the candle is two): the heading with its two summaries, the
    # action, the dual block (two units, whatever it holds), one unit for each break.
    heading = len("INT. LAMP ROOM - NIGHT") + len("Elias lights the lamp.") + 1
    heading += len("He will not turn round.") + 1
    action = heading + 1
    after_dual = action + len("The lamp turns ?.") + 1 + 1 + 2 + 1
    end = after_dual + len("EXT. STAIR - DAWN") + 1 + len("Gulls.")
    anchors = [0, 0, action, after_dual, after_dual, end]
    assert ranges == [f"{at},{at}" for at in anchors]
    assert root.find("Content/Paragraph/SceneProperties/Summary") is not None
    assert "General" not in xml


_PIECES = [*"aZ .:!@~>#=*_/[]()<^\\-\n\t", "INT. ", "EXT. ", "CUT TO:", "[[", "]]", "/*", "*/"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=16).map("".join)
_ELEMENT = st.builds(
    ScriptElement,
    kind=st.sampled_from([k for k in Kind]),
    text=_TEXT,
    dual=st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ELEMENT, min_size=1, max_size=12))
def test_any_element_list_round_trips(elements: list[ScriptElement]) -> None:
    once = normalize(elements)
    assert normalize(once) == once
    script = Script(TitlePage("Any"), (E(Kind.SCENE_HEADING, "INT. A - DAY"), *elements))
    assert reread(to_fountain(script), in_thread=True) == expected(script)
    assert reread_fdx(to_fdx(script)) == expected_fdx(script)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ELEMENT, min_size=1, max_size=12))
def test_a_script_built_normalized_is_written_as_if_it_were_not(
    elements: list[ScriptElement],
) -> None:
    """`build_script` marks its script `normalized` and the writers skip normalizing it
    again: the Fountain, the Final Draft file and the pages are the same as unmarked."""
    heading = E(Kind.SCENE_HEADING, "INT. A - DAY")
    built = Script(TitlePage("Any"), tuple(normalize([heading, *elements])), normalized=True)
    unmarked = replace(built, normalized=False)
    assert to_fountain(built, numbered=True) == to_fountain(unmarked, numbered=True)
    assert to_fdx(built) == to_fdx(unmarked)
    assert paginate(built) == paginate(unmarked)
    assert build_script(TitlePage("Any"), []).normalized


@pytest.mark.slow  # runs and exports whole samples: about 20 s
@pytest.mark.parametrize("name", ["last_light", "arcadian_summers"])
def test_sample_screenplays_read_back(name: str, sample_db: Made, sample_export: Made) -> None:
    source = load_source(sample_db(name))
    out = sample_export(name)
    plays = screenplays(source)
    assert plays, "the sample delivers a screenplay"
    for play in plays:
        fountain = (out / f"{play.stem}.fountain").read_text(encoding="utf-8")
        assert fountain == to_fountain(play.script, numbered=True)
        assert reread(fountain) == expected(play.script)
        fdx = (out / f"{play.stem}.fdx").read_text(encoding="utf-8")
        assert reread_fdx(fdx) == expected_fdx(play.script)
        # Both files number the scenes 1, 2, 3… in order, as the PDF prints them.
        numbers = [str(n) for n in range(1, len(play.slots) + 1)]
        read = parse_fountain(fountain)["elements"]
        assert [e["number"] for e in read if e["kind"] == "scene_heading"] == numbers
        headings = ET.fromstring(fdx).iter("Paragraph")
        assert [p.get("Number") for p in headings if p.get("Type") == "Scene Heading"] == numbers


def test_a_film_is_one_screenplay_and_a_series_one_per_episode(
    sample_db: Made, sample_export: Made
) -> None:
    assert [p.stem for p in screenplays(load_source(sample_db("last_light")))] == ["screenplay"]
    series = screenplays(load_source(sample_db("arcadian_summers")))
    assert [p.episode for p in series] == list(range(1, 13))
    assert not any(Path(sample_export("arctic_journey")).glob("*.fountain"))
    assert set(SAMPLE_NAMES) >= {"last_light", "arcadian_summers", "arctic_journey"}
