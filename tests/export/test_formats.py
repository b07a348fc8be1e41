"""Markdown, CSV, the decision log, the bible and the manuscript, from hostile or tricky input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from podium.domain.artifacts import (
    ArtifactStatus,
    Cue,
    CueSheet,
    IllustrationBrief,
    Prose,
    Shot,
    ShotList,
)
from podium.domain.escalation import Action, EscalationKind
from podium.domain.events import ArtifactStatusChanged, TaskDirected, VisionAmended
from podium.domain.tasks import TaskKind, TaskState
from podium.domain.text import PLACEHOLDER
from podium.export import markdown as md
from podium.export.bible import bible
from podium.export.decisions import decision_log
from podium.export.exporter import MANIFEST, render, write
from podium.export.manuscript import manuscript
from podium.export.shotlist import cue_sheet, shot_list

from .builder import Log

HOSTILE_MARKDOWN = [
    "# a heading",
    "## another",
    "> a quote",
    "- a list",
    "+ a list",
    "* a list",
    "1. a list",
    "2) a list",
    "---",
    "***",
    "___",
    "===",
    "```python",
    "~~~",
    "    indented code",
    "<script>alert(1)</script>",
    "<!-- comment -->",
    "&amp; &lt;b&gt;",
    "[a link](javascript:alert(1))",
    "![an image](http://example.invalid/x.png)",
    "[ref]: http://example.invalid",
    "<http://example.invalid>",
    "*emphasis* and _more_ and **strong**",
    "~~struck~~",
    "| a | table |",
    "`code`",
    "back\\slash \\* star",
    "trailing spaces  ",
    "line\\",
    "red \x1b[31malert\x1b[0m",
]

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _plain(markdown: str) -> list[str]:
    """The text a reader sees, line by line; fails if any structure or markup was produced."""
    lines: list[str] = []
    for token in _MD.parse(markdown):
        assert token.type in ("paragraph_open", "paragraph_close", "inline"), token.type
        for child in token.children or []:
            assert child.type in ("text", "softbreak", "text_special"), (markdown, child.type)
        if token.type == "inline":
            text = "".join(
                c.content if c.type != "softbreak" else "\n" for c in token.children or []
            )
            lines.extend(text.split("\n"))
    return lines


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
def test_markdown_block_keeps_hostile_text_as_words(text: str) -> None:
    expected = text.replace("\x1b[31m", PLACEHOLDER).replace("\x1b[0m", PLACEHOLDER).strip()
    assert _plain(md.block(text)) == [expected]
    assert _plain(md.block(f"first line\n{text}")) == ["first line", expected]
    assert _plain(md.inline(text)) == [expected]


def test_markdown_headings_mark_unfinished_work() -> None:
    assert md.heading(2, "Chapter 1", "draft") == "## Chapter 1 (draft)"
    assert md.heading(2, md.inline("# Not ## nested #")) == "## \\# Not \\#\\# nested \\#"


def test_csv_cells_cannot_become_formulas() -> None:
    log = Log()
    log.task("shots", TaskKind.SHOT_LIST)
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tTAB", 'a,b\n"c"']
    log.deliver(
        "shots",
        ShotList(
            shots=[Shot(scene=1, shot=f"S{i}", description=text) for i, text in enumerate(hostile)]
        ),
        ArtifactStatus.DRAFT,
    )
    text = shot_list(log.source)
    assert text is not None
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        *"scene shot size angle movement lens duration description".split(),
        "status",
    ]
    described = [row[7] for row in rows[1:]]
    assert described == [
        '\'=HYPERLINK("http://x")',
        "'+1+1",
        "'-2",
        "'@SUM(A1)",
        "'\tTAB",
        'a,b\n"c"',
    ]
    assert {row[8] for row in rows[1:]} == {"draft"}


def test_cue_sheet_for_a_composer_and_episode_column_for_a_series() -> None:
    log = Log("series")
    log.task("cues-2", TaskKind.MUSIC_CUES, episode=2)
    log.deliver("cues-2", CueSheet(cues=[Cue(cue_id="2M1", title="-Opening", duration_s=12.5)]))
    text = cue_sheet(log.source)
    assert text is not None
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "episode" and rows[0][-1] == "status"
    assert rows[1][:3] == ["2", "2M1", "'-Opening"]
    assert rows[1][5] == "12.5" and rows[1][-1] == "accepted"


def _film_with_decisions() -> Log:
    log = Log()
    log.task("treatment", TaskKind.TREATMENT, title="Treatment")
    log.deliver("treatment", Prose(text="A draft."), ArtifactStatus.DRAFT)
    second = log.deliver("treatment", Prose(text="Better."), ArtifactStatus.DRAFT)
    log.escalate("e1", EscalationKind.MILESTONE, "treatment", second.id)
    log.approve(second, "cmd-approve", escalation_id="e1")
    log.state("treatment", TaskState.DONE)
    log.task("look", TaskKind.LOOK, title="Look book")
    looked = log.deliver("look", Prose(text="Sodium light."), debate_id="d1", debate_round=2)
    log.command("cmd-override", Action.OVERRIDE, task_id="look", text="# Use *blue* light")
    log.add(
        ArtifactStatusChanged(
            artifact_id=looked.id, status="overridden", decision_id="cmd-override"
        )
    )
    log.deliver(
        "look",
        Prose(text="Blue light."),
        ArtifactStatus.APPROVED,
        agent="orchestrator",
        model="human",
        decision_id="cmd-override",
    )
    log.command("cmd-bad", Action.SKIP, task_id="treatment", rejected="treatment is already done")
    log.amend(2, "themes", ["trust", "the sea"], "the sea matters more", "cmd-vision")
    return log


def test_decision_log_has_provenance_and_the_human_decision() -> None:
    log = _film_with_decisions()
    lines = [json.loads(line) for line in decision_log(log.source).splitlines()]
    artifacts = {line["artifact_id"]: line for line in lines if line["type"] == "artifact"}
    commands = [line for line in lines if line["type"] == "command"]
    assert list(artifacts) == ["treatment-v1", "treatment-v2", "look-v1", "look-v2"]
    assert artifacts["treatment-v1"]["status"] == "superseded"
    assert artifacts["treatment-v1"]["decision"] is None
    approved = artifacts["treatment-v2"]
    assert approved["status"] == "approved"
    assert approved["decision"]["command_id"] == "cmd-approve"
    assert approved["decision"]["escalation_id"] == "e1"
    assert approved["decision"]["escalation_kind"] == "milestone"
    for key in ("agent", "model", "prompt_hash", "attempt", "input_tokens", "cost_usd"):
        assert key in approved
    overridden = artifacts["look-v1"]
    assert overridden["status"] == "overridden"
    assert overridden["decision"]["action"] == "override"
    assert overridden["debate_id"] == "d1" and overridden["debate_round"] == 2
    replacement = artifacts["look-v2"]
    assert replacement["agent"] == "orchestrator"
    assert replacement["decision"]["command_id"] == "cmd-override"
    assert [c["id"] for c in commands] == ["cmd-approve", "cmd-override", "cmd-bad", "cmd-vision"]
    assert commands[2]["status"] == "rejected" and commands[2]["target"] == "treatment"
    assert commands[3]["target"] == "vision:themes"
    assert commands[1]["text"] == "# Use *blue* light"


def test_bible_shows_each_vision_version_and_the_decisions() -> None:
    text = bible(_film_with_decisions().source)
    assert "## Vision (version 2)" in text
    assert "### Version 2: themes changed" in text
    assert "the sea matters more" in text
    before, after = text.split("**Before:**")[1].split("**After:**")
    assert "- distance" in before and "- the sea" in after.split("##")[0]
    assert "### Mara" in text and "- the car deck" in text
    assert "### Treatment · treatment" in text
    assert "\\# Use \\*blue\\* light" in text  # the direction is quoted as words, never markup
    assert "*(rejected)*" in text
    assert _MD.parse(text)  # parses
    assert "<" not in text.replace("&lt;", "")


def test_a_vision_change_without_a_reason_says_so() -> None:
    """`podium vision DB SECTION TEXT` with no reason: the bible's "Why" never shows the new
    text as if it were the reason; a reason on the amendment (or the command) is shown."""
    log = Log()
    log.amend(2, "tone", "Colder, and slower.", "", "cmd-plain")
    log.command(
        "cmd-cli",
        Action.CLARIFY_VISION,
        text="Warmer.",
        args={"section": "tone", "value": "Warmer.", "reason": "the *test* audience laughed"},
    )
    log.add(VisionAmended(version=3, section="tone", value="Warmer.", command_id="cmd-cli"))
    log.amend(4, "tone", "Warm, then cold.", "both, in turn", "cmd-reasoned")
    text = bible(log.source)
    two, three, four = (text.split(f"### Version {n}: tone changed")[1] for n in (2, 3, 4))
    assert "Why: no reason given" in two.split("**Before:**")[0].replace("*", "")
    assert "Colder, and slower." not in two.split("**Before:**")[0]
    assert "the \\*test\\* audience laughed" in three.split("**Before:**")[0]
    assert "both, in turn" in four.split("**Before:**")[0]


def test_manuscript_orders_chapters_and_marks_drafts(tmp_path: Path) -> None:
    log = Log("illustrated_story")
    log.task("chapter-b", TaskKind.CHAPTER, chapter=2, title="Two")
    log.task("chapter-a", TaskKind.CHAPTER, chapter=1, title="One")
    log.task("picture-a", TaskKind.ILLUSTRATION, chapter=1)
    log.task("picture-x", TaskKind.ILLUSTRATION)
    log.deliver("chapter-b", Prose(title="The Ice", text="# Cold.\n\n> Colder."))
    log.deliver("chapter-a", Prose(text="It began."), ArtifactStatus.DRAFT)
    log.state("chapter-a", TaskState.AWAITING_APPROVAL)
    png = tmp_path / "images" / "a.png"
    png.parent.mkdir()
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    log.deliver("picture-a", IllustrationBrief(subject="A <b>dog</b>", image_path="images/a.png"))
    log.deliver("picture-x", IllustrationBrief(subject="Elsewhere", image_path="/etc/passwd"))
    log.source.files_root = tmp_path
    made = manuscript(log.source)
    assert made is not None
    text, images = made
    one, two = text.index("## One (draft)"), text.index("## The Ice")
    assert one < text.index("### Illustration: picture-a") < two
    assert "*DRAFT — awaiting approval*" in text
    assert "\\# Cold." in text and "&gt; Colder." in text and "&lt;b&gt;dog" in text
    assert text.index("## Illustrations") > two
    assert [image.name for image in images] == ["picture-a.png"]
    assert "(images/picture-a.png)" in text and "passwd" not in text
    out = tmp_path / "out"
    written = write(render(log.source), out)
    assert (out / "images" / "picture-a.png").read_bytes() == png.read_bytes()
    assert out / "manuscript.md" in written


def test_an_image_outside_the_production_or_not_an_image_is_never_copied(tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 8)
    root = tmp_path / "production"
    root.mkdir()
    (root / "fake.png").write_text("not an image")
    (root / "link.png").symlink_to(outside)
    log = Log("illustrated_story")
    for i, path in enumerate([str(outside), "../secret.png", "fake.png", "link.png", "missing"]):
        log.task(f"p{i}", TaskKind.ILLUSTRATION, chapter=1)
        log.deliver(f"p{i}", IllustrationBrief(subject="x", image_path=path))
    log.source.files_root = root
    made = manuscript(log.source)
    assert made is not None and made[1] == []


def test_written_files_leave_no_temporary_files(tmp_path: Path) -> None:
    log = _film_with_decisions()
    out = tmp_path / "deep" / "out"
    written = write(render(log.source), out)
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, *(p.name for p in written)])
    assert (out / "README.md") in written and (out / "decisions.jsonl") in written
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "[documents.md](documents.md)" in readme
    # Writing again replaces the files in place.
    assert write(render(log.source), out) == written


def test_work_redone_under_a_direction_names_the_command_behind_it() -> None:
    log = Log()
    log.task("outline", TaskKind.OUTLINE)
    log.deliver("outline", Prose(text="Long."))
    log.command("cmd-direct", Action.OVERRIDE, task_id="outline", text="Shorter, please.")
    log.add(TaskDirected(task_id="outline", direction="Shorter, please.", command_id="cmd-direct"))
    log.deliver("outline", Prose(text="Short."), direction="Shorter, please.")
    lines = [json.loads(line) for line in decision_log(log.source).splitlines()]
    first, second = (line for line in lines if line["type"] == "artifact")
    assert first["direction_command_id"] is None
    assert second["direction"] == "Shorter, please."
    assert second["direction_command_id"] == "cmd-direct"
