"""The storyboard: one frame per shot of the shot list, by scene, with the shot's particulars."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import pytest

from podium.domain.artifacts import ShotList
from podium.domain.tasks import TaskKind
from podium.export.sources import ExportSource
from podium.export.storyboard import storyboard

from .conftest import Made, load_source

PNG = b"\x89PNG\r\n\x1a\n"


class Sheet(HTMLParser):
    """Each figure's image and caption text, and the scene headings, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[str, str]] = []
        self.scenes: list[str] = []
        self._in: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.frames.append((dict(attrs).get("src") or "", ""))
        elif tag in ("figcaption", "h3"):
            self._in, self._text = tag, ""

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in == "figcaption":
            self.frames[-1] = (self.frames[-1][0], " ".join(self._text.split()))
        elif tag == self._in == "h3":
            self.scenes.append(self._text)
        if tag == self._in:
            self._in = None


def shots(source: ExportSource) -> list[tuple[int | None, int, str, str, str, str]]:
    """Every shot of the current shot lists, read independently of storyboard.py."""
    found = []
    for record in source.plan():
        artifact = source.current(record)
        if record.spec.kind is TaskKind.SHOT_LIST and artifact is not None:
            content = artifact.parsed()
            assert isinstance(content, ShotList)
            episode = record.spec.params.get("episode")
            for s in content.shots:
                found.append((episode, s.scene, s.shot, s.size, s.movement, s.description))
    return sorted(found, key=lambda s: (s[0] or 0, s[1]))


@pytest.mark.parametrize("name", ["last_light", "arcadian_summers"])
def test_one_frame_per_shot_with_its_particulars(name: str, sample_db: Made) -> None:
    source = load_source(sample_db(name))
    page = storyboard(source)
    assert page is not None
    sheet = Sheet()
    sheet.feed(page)
    expected = shots(source)
    assert len(sheet.frames) == len(expected) > 0
    for (src, caption), (_, scene, shot, size, movement, description) in zip(
        sheet.frames, expected, strict=True
    ):
        assert base64.b64decode(src.removeprefix("data:image/png;base64,")).startswith(PNG)
        assert caption.startswith(f"{scene}{shot} {size} · {movement}"), caption
        assert caption.endswith(" ".join(description.split())), caption
    scenes_per_episode = {(e, s) for e, s, *_ in expected}
    assert len(sheet.scenes) == len(scenes_per_episode)  # a contact sheet per scene


def test_no_storyboard_for_an_illustrated_story(sample_db: Made) -> None:
    assert storyboard(load_source(sample_db("arctic_journey"))) is None


def test_the_same_production_draws_the_same_storyboard(sample_db: Made) -> None:
    source = load_source(sample_db("last_light"))
    assert storyboard(source) == storyboard(load_source(sample_db("last_light")))
