"""Every content kind in its human format and back: what `show` prints, `edit` reads."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.domain.artifacts import (
    CONTENT_TYPES,
    Alternative,
    Alternatives,
    Content,
    Critique,
    Cue,
    CueSheet,
    EditItem,
    EditPlan,
    ElementType,
    IllustrationBrief,
    Position,
    Prose,
    Ruling,
    Scene,
    ScreenElement,
    Screenplay,
    Shot,
    ShotList,
    StatusReport,
)
from podium.export.fountain import Kind, ScriptElement
from podium.export.human import (
    ParseError,
    human_format,
    normalise,
    parse,
    parse_fountain,
    render,
    script_of,
)
from podium.export.screenplay import screenplays
from podium.llm.rehearsal.backend import compose
from podium.llm.rehearsal.backend import render as model_typed
from podium.llm.types import CompletionRequest

from .conftest import Made, load_source
from .reparse import expected, reread

E = ElementType
HINTS = {"characters": ["Mara", "Tam"], "places": ["the lighthouse", "the harbour"]}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rehearsal(cls: type[Content], seed: int) -> Content:
    request = CompletionRequest(
        model="rehearsal/test", messages=(), agent_id="a", response_schema=cls, hints=HINTS
    )
    content = compose(request, random.Random(seed))
    assert isinstance(content, cls)
    return content


def el(kind: ElementType, text: str = "", dual: bool = False) -> ScreenElement:
    return ScreenElement(type=kind, text=text, dual=dual)


def flat(play: Screenplay) -> list[ScriptElement]:
    """The screenplay as the element list a Fountain reader sees (notes left out)."""
    out: list[ScriptElement] = []
    for scene in play.scenes:
        out.append(ScriptElement(Kind.SCENE_HEADING, scene.heading))
        for e in scene.elements:
            if e.type is E.NOTE:
                continue
            text, depth = e.text, 1
            if e.type is E.SECTION and text.startswith("#"):
                depth = len(text) - len(text.lstrip("#"))
                text = text.lstrip("# ")
            out.append(ScriptElement(Kind(e.type.value), text, dual=e.dual, depth=depth))
    return out


def lines_of(play: Screenplay) -> int:
    """How many lines the screenplay's body takes in Fountain: one per element, action apart."""
    return sum(1 + sum(e.text.count("\n") + 1 for e in scene.elements) for scene in play.scenes)


# -- the rehearsal model's contents ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_the_rehearsal_models_contents_round_trip(name: str) -> None:
    cls = CONTENT_TYPES[name]
    for seed in range(8):
        content = rehearsal(cls, seed)
        shown = render(content)
        assert shown.format == human_format(name)
        assert shown.text.endswith("\n")
        assert parse(name, shown.text) == content, (seed, shown.text)


def test_formats_by_kind() -> None:
    names = {name: human_format(name).name for name in CONTENT_TYPES}
    assert names.pop("Screenplay") == "fountain"
    assert {names.pop(n) for n in ("ShotList", "CueSheet", "EditPlan")} == {"csv"}
    assert set(names.values()) == {"markdown"}
    assert render(rehearsal(ShotList, 1)).suffix == ".csv"
    with pytest.raises(ValueError, match="PlanDraft"):
        human_format("PlanDraft")


def test_every_artifact_of_the_sample_productions_round_trips(sample_db: Made) -> None:
    kinds: set[str] = set()
    for name in ("last_light", "arcadian_summers"):
        for artifact in load_source(sample_db(name)).view.artifacts.values():
            content = artifact.parsed()
            assert parse(artifact.content_type, render(content).text) == content, artifact.id
            kinds.add(artifact.content_type)
    assert {"Screenplay", "Prose", "ShotList", "EditPlan"} <= kinds


def test_show_agrees_with_the_exported_fountain(sample_db: Made, sample_export: Made) -> None:
    """The export's screenplay, title page, notes and all, reads back as the scenes it holds."""
    source = load_source(sample_db("last_light"))
    for play in screenplays(source):
        text = (sample_export("last_light") / f"{play.stem}.fountain").read_text("utf-8")
        read = parse_fountain(text)
        assert read.title == source.title
        assert flat(read) == expected(play.script)
        # Each scene as `show` prints it stands in the exported file verbatim, but for the
        # scene number the export ends each heading with.
        numbered = re.compile(r" #(\d+)#$", re.MULTILINE)
        assert [int(n) for n in numbered.findall(text)] == list(range(1, len(play.slots) + 1))
        unnumbered = numbered.sub("", text)
        unlabelled = [slot for slot in play.slots if slot.label is None]
        assert unlabelled
        for slot in unlabelled:
            assert render(Screenplay(scenes=[slot.scene])).text in unnumbered


def test_a_models_own_hand_typed_fountain_reads_as_the_screenplay() -> None:
    """The rehearsal model, asked for plain text, writes Fountain the way a person types it
    (nothing forced, `> CUT TO:`, bare cues): it reads back as the screenplay it wrote."""
    for seed in range(10):
        play = rehearsal(Screenplay, seed)
        assert isinstance(play, Screenplay)
        assert parse("Screenplay", model_typed(play)) == play


# -- Fountain typed by hand -------------------------------------------------------------------

HAND_TYPED = """\
Title: **LAST LIGHT**
Credit: Written by
Author: Morag Innes
Draft date: 1 March

EXT. LIGHTHOUSE - NIGHT #1#

The lamp turns. Rain, sideways.
MARA (40s) climbs the iron stair.

MARA
(breathless)
Tam? Are you up there?

TAM (V.O.)
Where else would I be.

MARA (CONT'D)
Don't.

@McCLANE
Yippee.

BRICK
Screw retirement.

STEEL ^
Screw retirement.

/* A cut exchange.
MARA
We could leave.
*/
CUT TO:

# ACT TWO

= Mara finds the letter.

int. lamp room - continuous

[[Check the period detail.]]

.SNIPER SCOPE POV

She looks through the *scope*, at the _harbour_.

> THE END <

===

> FADE OUT.
"""


def test_hand_typed_fountain() -> None:
    play = parse_fountain(HAND_TYPED)
    assert play == Screenplay(
        title="**LAST LIGHT**",
        scenes=[
            Scene(
                heading="EXT. LIGHTHOUSE - NIGHT",
                elements=[
                    el(
                        E.ACTION,
                        "The lamp turns. Rain, sideways.\nMARA (40s) climbs the iron stair.",
                    ),
                    el(E.CHARACTER, "MARA"),
                    el(E.PARENTHETICAL, "(breathless)"),
                    el(E.DIALOGUE, "Tam? Are you up there?"),
                    el(E.CHARACTER, "TAM (V.O.)"),
                    el(E.DIALOGUE, "Where else would I be."),
                    el(E.CHARACTER, "MARA (CONT'D)"),
                    el(E.DIALOGUE, "Don't."),
                    el(E.CHARACTER, "McCLANE"),
                    el(E.DIALOGUE, "Yippee."),
                    el(E.CHARACTER, "BRICK"),
                    el(E.DIALOGUE, "Screw retirement."),
                    el(E.CHARACTER, "STEEL", dual=True),
                    el(E.DIALOGUE, "Screw retirement."),
                    el(E.TRANSITION, "CUT TO:"),
                    el(E.SECTION, "ACT TWO"),
                    el(E.SYNOPSIS, "Mara finds the letter."),
                ],
            ),
            Scene(
                heading="INT. LAMP ROOM - CONTINUOUS",
                elements=[el(E.NOTE, "Check the period detail.")],
            ),
            Scene(
                heading="SNIPER SCOPE POV",
                elements=[
                    el(E.ACTION, "She looks through the *scope*, at the _harbour_."),
                    el(E.ACTION, "THE END"),
                    el(E.PAGE_BREAK),
                    el(E.TRANSITION, "FADE OUT."),
                ],
            ),
        ],
    )
    # What was read is what `show` then prints, and it reads back the same.
    assert parse_fountain(render(play).text) == play


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda t: "\ufeff" + t, id="bom"),
        pytest.param(lambda t: t.replace("\n\n", "\n\n\n"), id="extra-blank-lines"),
        pytest.param(
            lambda t: t.replace("\n", "   \n").replace("   \n   \n", "\n\n"), id="trailing-spaces"
        ),
        pytest.param(
            lambda t: "\n".join("\t" + ln if ln else ln for ln in t.split("\n")[5:]),
            id="tab-indented-no-title",
        ),
        pytest.param(
            lambda t: t.replace("\n\n\n", "\n\n").replace("MARA\n(breath", "MARA\n  (breath"),
            id="indented-parenthetical",
        ),
    ],
)
def test_hand_typed_variations_read_the_same(variant: Any) -> None:
    play = parse_fountain(HAND_TYPED)
    read = parse_fountain(variant(HAND_TYPED))
    if read.title == "":
        play = play.model_copy(update={"title": ""})
    assert read == play


def test_a_hand_typed_screenplay_keeps_every_line() -> None:
    """Count both ways: every line typed outside the title page and the boneyard is in one
    element, and the screenplay `show` prints has exactly one line per element line."""
    play = parse_fountain(HAND_TYPED)
    body = HAND_TYPED.split("\n\n", 1)[1]
    start, end = body.index("/*"), body.index("*/") + 2
    typed = [ln for ln in (body[:start] + body[end:]).split("\n") if ln.strip()]
    assert lines_of(play) == len(typed) == 26
    assert len(play.scenes) == sum(
        1 for ln in typed if ln.upper().startswith(("EXT.", "INT.", ".S"))
    )
    shown = render(play).text.split("\n\n", 1)[1]
    assert len([ln for ln in shown.split("\n") if ln.strip()]) == lines_of(play)


CHECKED = """\
INT. KITCHEN - NIGHT

Rain on the window.

MARA
(quietly)
You kept the letter.

TAM
I did.

MARA ^
All this time.

CUT TO:

EXT. HARBOUR - DAWN

= The morning after.

# ACT TWO

Gulls. A bell.
Nothing else.

> FADE OUT.

===

@McCLANE
Come out.
"""


def test_screenplain_reads_hand_typed_fountain_as_we_do() -> None:
    assert flat(parse_fountain(CHECKED)) == reread(CHECKED)


def test_screenplain_reads_what_show_prints() -> None:
    for seed in range(6):
        play = rehearsal(Screenplay, seed)
        assert isinstance(play, Screenplay)
        text = render(play).text
        assert reread(text) == expected(script_of(play))
        assert flat(parse_fountain(text)) == reread(text)


# -- errors name their line -------------------------------------------------------------------

FOUNTAIN_ERRORS = [
    ("FADE IN:\n\nINT. HOUSE - DAY\n", 1, "before the first scene heading"),
    ("Title: X\n\n# ACT ONE\n\nINT. HOUSE - DAY\n", 3, "before the first scene heading"),
    ("Title: Only a title\n", 1, "there is no scene"),
    ("", 1, "there is no scene"),
    ("INT. A - DAY\n\nHe /* cuts\nthis\n", 3, "'/*' opens a boneyard"),
    ("INT. A - DAY\n\n[[a note\nthat runs on\n", 3, "never closes"),
    ("INT. A - DAY\n\nMARA\nHi.\n\n(whispering)\nHello.\n", 6, "no character cue above"),
    ("INT. A - DAY\n\nRain.\n\nMARA (V.O.)\n\nHello.\n", 5, "has no dialogue under it"),
    ("INT. A - DAY\n\n@McCLANE\n\nCome out.\n", 3, "has no dialogue under it"),
    ("INT. A - DAY\n\nRain.\n\nMARA ^\nHi.\n", 5, "no other speech comes just before"),
    ("INT. A - DAY\n\nA\nHi.\n\nB ^\nHo.\n\nC ^\nHa.\n", 9, "dual dialogue"),
]


@pytest.mark.parametrize(("text", "line", "words"), FOUNTAIN_ERRORS)
def test_fountain_errors_name_their_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse("Screenplay", text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")
    assert words in caught.value.message


MARKDOWN_ERRORS = [
    (
        "IllustrationBrief",
        "# Illustration brief\n\n## Subject\n\nA gull.\n\n## Smell\n\nSalt.\n",
        7,
        "no section 'Smell'",
    ),
    (
        "IllustrationBrief",
        "# Illustration brief\n\nA gull.\n\n## Subject\n\nx\n",
        3,
        "outside a section",
    ),
    (
        "IllustrationBrief",
        "# Illustration brief\n\n## Mood\n\ngrey\n",
        5,
        "Subject section is empty",
    ),
    ("IllustrationBrief", "## Subject\n\nA\n\n## Subject\n\nB\n", 5, "a second Subject section"),
    ("IllustrationBrief", "## Subject\n\nA\n\n## Palette\n\nred\n", 7, "start each item with '- '"),
    ("IllustrationBrief", "# Review\n\n## Subject\n\nA\n", 1, "'# Illustration brief'"),
    ("Critique", "# Review\n\n## Verdict\n\nmaybe\n", 3, "must be 'approve' or 'revise'"),
    ("Position", "## Stance\n\nGo.\n\n## Concedes\n\nperhaps\n", 7, "'yes' or 'no'"),
    ("StatusReport", "## Progress\n\nhalf\n", 3, "Progress is a number"),
    ("StatusReport", "## Progress\n\n140%\n", 1, "at most 100"),
    ("Prose", "# Chapter One\n\n## Beats\n\n1. She runs.\n", 1, "there is no text"),
    ("Alternatives", "# Alternatives\n\nStray words.\n", 3, "outside an option"),
]


@pytest.mark.parametrize(("kind", "text", "line", "words"), MARKDOWN_ERRORS)
def test_markdown_errors_name_their_line(kind: str, text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(kind, text)
    assert (caught.value.line, words in caught.value.message) == (line, True), caught.value


CSV_ERRORS = [
    ("ShotList", "scene,shot,lense\n1,A,35mm\n", 1, "unknown column 'lense'"),
    ("ShotList", "scene,size\n1,WIDE\n", 1, "the column 'shot' is missing"),
    ("ShotList", "scene,shot,shot\n1,A,B\n", 1, "'shot' appears twice"),
    ("ShotList", "scene,shot,size\n1,A,WIDE\n2,B\n", 3, "2 cells where the header has 3"),
    ("ShotList", "scene,shot\n1,A\none,B\n", 3, "scene 'one' is not a whole number"),
    ("ShotList", "scene,shot\n1,A\n0,B\n", 3, "the scene cell must be 1 or more"),
    ("ShotList", "scene,shot\n1,\n", 2, "the shot cell is empty"),
    ("ShotList", "scene,shot,duration\n1,A,-2\n", 2, "duration cell must be 0 or more"),
    ("ShotList", "scene,shot,duration\n1,A,long\n", 2, "'long' is not a number of seconds"),
    ("ShotList", "scene,shot\n", 1, "at least one row"),
    ("ShotList", "", 1, "no header"),
    ("ShotList", "# notes\nscene,shot\n1,A\n", 1, "has no notes"),
    ("ShotList", 'scene,shot,description\n1,A,"unclosed\n', 2, "not valid CSV"),
    ("CueSheet", "cue,usage\n1M1,background\n", 2, "must be 'underscore', 'source'"),
    ("CueSheet", "title\nMain theme\n", 1, "the column 'cue' is missing"),
    ("EditPlan", "# Notes\nscene,shot,note\n1,A,x\n\n2,B,\n,C,\n", 6, "the scene cell is empty"),
]


@pytest.mark.parametrize(("kind", "text", "line", "words"), CSV_ERRORS)
def test_csv_errors_name_their_line_and_column(kind: str, text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(kind, text)
    assert (caught.value.line, words in caught.value.message) == (line, True), caught.value


def test_csv_a_person_edits() -> None:
    """Columns in any order, spaces after commas, absent optional columns, a defused formula."""
    shots = parse(
        "ShotList",
        'Shot, Scene, Description, Duration\nA, 1, "Wide, the sea", 4.5\nB,2,\'=SUM(A1),\n',
    )
    assert shots == ShotList(
        shots=[
            Shot(scene=1, shot="A", description="Wide, the sea", duration_s=4.5),
            Shot(scene=2, shot="B", description="=SUM(A1)"),
        ]
    )
    cues = parse("CueSheet", "cue,scene,usage\n1M1,,\n1M2,3,theme\n")
    assert cues == CueSheet(cues=[Cue(cue_id="1M1"), Cue(cue_id="1M2", scene=3, usage="theme")])
    edit = parse("EditPlan", "# Runs long.\n#\n# Trim scene 2.\nscene,shot\n1,A\n")
    assert edit == EditPlan(
        sequence=[EditItem(scene=1, shot="A")], notes="Runs long.\n\nTrim scene 2."
    )


def test_markdown_a_person_edits() -> None:
    prose = parse(
        "Prose",
        "# The *Crossing*\n\nShe waits.\n  He does not come.\n\n\n## Interlude\n\nRain.\n\n"
        "## Beats\n\n- She waits\n- He does\n  not come\n",
    )
    assert prose == Prose(
        title="The *Crossing*",
        text="She waits.\nHe does not come.\n\n## Interlude\n\nRain.",
        beats=["She waits", "He does not come"],
    )
    report = parse("StatusReport", "## Progress\n\n45%\n\n## Blockers\n\n* none &amp; nothing\n")
    assert report == StatusReport(progress_pct=45, blockers=["none & nothing"])


# -- any content the formats can express ------------------------------------------------------

_CHARS = "abcXYZ09é.,;:!?'\"()[]{}<>*_/\\#=@~^&%+-|`$"
_WORD = st.text(alphabet=_CHARS, min_size=1, max_size=6)
LINE = st.lists(_WORD, min_size=1, max_size=5).map(" ".join)
PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map("\n".join)
TEXT = st.lists(PARAGRAPH, min_size=1, max_size=3).map("\n\n".join)
UPPER = st.lists(
    st.text(alphabet="ABCÉ09.,'-/#[]()*_", min_size=1, max_size=6), min_size=1, max_size=4
).map(" ".join)


def _unit(draw: Any, spoke: list[bool]) -> list[ScreenElement]:
    """One element or one speech; `spoke` holds whether the last unit was a (non-dual) speech."""
    kind = draw(
        st.sampled_from(
            ["action", "speech", "speech", "transition", "section", "synopsis", "note", "break"]
        )
    )
    if kind == "speech":
        dual = spoke[0] and draw(st.booleans())
        name = draw(LINE.filter(lambda s: not s.endswith("^")))
        lines = draw(st.lists(st.tuples(st.booleans(), LINE), min_size=1, max_size=3))
        speech = [
            el(E.PARENTHETICAL, f"({text})") if paren else el(E.DIALOGUE, text)
            for paren, text in lines
            if paren or not text.startswith("(")
        ] or [el(E.DIALOGUE, "Yes.")]
        spoke[0] = not dual
        return [el(E.CHARACTER, name, dual=dual), *speech]
    spoke[0] = False
    if kind == "action":
        return [el(E.ACTION, draw(PARAGRAPH))]
    if kind == "transition":
        return [el(E.TRANSITION, draw(UPPER.filter(lambda s: s[0] not in ">" and s[-1] != "<")))]
    if kind == "section":
        depth = draw(st.integers(1, 6))
        title = draw(LINE.filter(lambda s: s[0] != "#"))
        return [el(E.SECTION, title if depth == 1 else f"{'#' * depth} {title}")]
    if kind == "synopsis":
        return [el(E.SYNOPSIS, draw(LINE))]
    if kind == "note":
        return [el(E.NOTE, draw(LINE))]
    return [el(E.PAGE_BREAK)]


@st.composite
def screenplays_(draw: Any) -> Screenplay:
    scenes = []
    for _ in range(draw(st.integers(1, 3))):
        heading = draw(UPPER.filter(lambda s: s[0].isalnum()))
        spoke = [False]
        elements = [e for _ in range(draw(st.integers(0, 6))) for e in _unit(draw, spoke)]
        scenes.append(Scene(heading=heading, elements=elements))
    title = draw(st.one_of(st.just(""), st.lists(LINE, min_size=1, max_size=2).map("\n".join)))
    return Screenplay(title=title, scenes=scenes)


CELL = (
    st.lists(st.text(alphabet=_CHARS + "\n ", min_size=1, max_size=8), max_size=4)
    .map("".join)
    .map(str.strip)
    .filter(lambda s: not s.startswith("'"))
)
SECONDS = st.integers(0, 100_000).map(lambda n: n / 10)
MAYBE = st.one_of(st.just(""), TEXT)
ITEMS = st.lists(LINE, max_size=3)

CONTENTS: dict[str, st.SearchStrategy[Any]] = {
    "Screenplay": screenplays_(),
    "Prose": st.builds(Prose, title=st.one_of(st.just(""), LINE), text=TEXT, beats=ITEMS),
    "IllustrationBrief": st.builds(
        IllustrationBrief,
        title=MAYBE,
        subject=TEXT,
        composition=MAYBE,
        palette=ITEMS,
        lighting=MAYBE,
        mood=MAYBE,
        caption=MAYBE,
        image_path=st.one_of(st.none(), LINE),
    ),
    "Critique": st.builds(
        Critique, verdict=st.sampled_from(["approve", "revise"]), summary=MAYBE, issues=ITEMS
    ),
    "Position": st.builds(Position, stance=TEXT, reasoning=MAYBE, concedes=st.booleans()),
    "Ruling": st.builds(
        Ruling, decided=st.booleans(), winner=MAYBE, decision=MAYBE, reasoning=MAYBE
    ),
    "StatusReport": st.builds(
        StatusReport,
        progress_pct=st.integers(0, 1000).map(lambda n: n / 10),
        summary=MAYBE,
        blockers=ITEMS,
    ),
    "Alternatives": st.builds(
        Alternatives,
        options=st.lists(
            st.builds(Alternative, title=LINE, summary=MAYBE, reasoning=MAYBE),
            min_size=1,
            max_size=3,
        ),
    ),
    "ShotList": st.builds(
        ShotList,
        shots=st.lists(
            st.builds(
                Shot,
                scene=st.integers(1, 99),
                shot=CELL.filter(bool),
                size=CELL,
                angle=CELL,
                movement=CELL,
                lens=CELL,
                duration_s=SECONDS,
                description=CELL,
            ),
            min_size=1,
            max_size=4,
        ),
    ),
    "CueSheet": st.builds(
        CueSheet,
        cues=st.lists(
            st.builds(
                Cue,
                cue_id=CELL.filter(bool),
                title=CELL,
                scene=st.one_of(st.none(), st.integers(-3, 99)),
                start=CELL,
                duration_s=SECONDS,
                mood=CELL,
                instrumentation=CELL,
                usage=st.sampled_from(["underscore", "source", "theme", "sting"]),
            ),
            min_size=1,
            max_size=4,
        ),
    ),
    "EditPlan": st.builds(
        EditPlan,
        sequence=st.lists(
            st.builds(
                EditItem,
                scene=st.integers(1, 99),
                shot=CELL,
                duration_s=SECONDS,
                transition=CELL,
                note=CELL,
            ),
            min_size=1,
            max_size=4,
        ),
        notes=st.one_of(
            st.just(""),
            st.lists(st.one_of(st.just(""), LINE), max_size=3).map("\n".join).map(str.strip),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CONTENTS))
def test_any_content_round_trips(name: str) -> None:
    @SETTINGS
    @given(CONTENTS[name])
    def check(content: Content) -> None:
        assert parse(name, render(content).text) == content

    check()


@SETTINGS
@given(screenplays_())
def test_any_screenplay_keeps_its_scenes_and_lines_and_reads_the_same_in_screenplain(
    play: Screenplay,
) -> None:
    text = render(play).text
    read = parse_fountain(text)
    assert len(read.scenes) == len(play.scenes)
    assert [len(s.elements) for s in read.scenes] == [len(s.elements) for s in play.scenes]
    body = text.split("\n\n", 1)[1] if play.title else text
    assert len([ln for ln in body.split("\n") if ln.strip()]) == lines_of(play)
    assert reread(text, in_thread=True) == flat(play)


_WILD = st.text(alphabet=_CHARS + " \n\t\x1b\u2060", max_size=20)


@SETTINGS
@given(
    st.lists(
        st.lists(
            st.builds(ScreenElement, type=st.sampled_from(list(E)), text=_WILD, dual=st.booleans()),
            max_size=8,
        ),
        min_size=1,
        max_size=3,
    ),
    _WILD,
)
def test_any_screenplay_settles_after_one_normalisation(
    elements: list[list[ScreenElement]], title: str
) -> None:
    """Whatever a model wrote, `show` prints something `edit` reads, and that is a fixed point."""
    play = Screenplay(
        title=title, scenes=[Scene(heading="INT. A - DAY", elements=e) for e in elements]
    )
    once = normalise(play)
    assert isinstance(once, Screenplay)
    assert len(once.scenes) == len(play.scenes)
    assert normalise(once) == once
    assert render(once).text == render(play).text
