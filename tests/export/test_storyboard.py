"""The storyboard: one frame per shot of the shot list, by scene, with the shot's particulars."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from podium.domain.artifacts import Shot, ShotList
from podium.domain.events import FramesDrawn
from podium.domain.tasks import TaskKind
from podium.export.sources import ExportSource
from podium.export.storyboard import FRAME, png_of, shot_fields, storyboard
from podium.llm.rehearsal import illustrator

from .builder import Log
from .conftest import Made, load_source

PNG = b"\x89PNG\r\n\x1a\n"


class Sheet(HTMLParser):
    """Each figure's image and caption text, and the scene headings, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[tuple[str, str]] = []
        self.scenes: list[str] = []
        self.symbols: dict[str, str] = {}  # a symbol's id -> its image's data: URI
        self.alts: list[str] = []
        self._in: str | None = None
        self._text = ""
        self._symbol = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.frames.append((found.get("src") or "", ""))
            self.alts.append(found.get("alt") or "")
        elif tag == "symbol":
            self._symbol = found.get("id") or ""
        elif tag == "image" and self._symbol:
            self.symbols[self._symbol] = found.get("href") or ""
        elif tag == "svg" and found.get("role") == "img":
            self.alts.append(found.get("aria-label") or "")
        elif tag == "use":  # a frame shown again: its picture is the symbol's, written once
            self.frames.append((self.symbols[(found.get("href") or "").lstrip("#")], ""))
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


def _shot_lists(log: Log, copies: int, shots: list[Shot]) -> None:
    for n in range(copies):
        log.task(f"shots-{n}", TaskKind.SHOT_LIST)
        log.deliver(f"shots-{n}", ShotList(shots=shots))


SHOTS = [
    Shot(scene=1, shot="A", size="WS", movement="static", description="Mara on the car deck"),
    Shot(scene=1, shot="B", size="CU", movement="push in", description="Mara's hands"),
    Shot(scene=2, shot="A", size="MS", movement="pan left", description="The cabin, empty"),
]


def counted_drawing(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The sketches `illustrator.image` is asked to draw from now on, in order."""
    drawn: list[object] = []
    real = illustrator.image

    def counting(sketch: object, *size: int) -> object:
        drawn.append(sketch)
        return real(sketch, *size)  # type: ignore[arg-type]

    monkeypatch.setattr(illustrator, "image", counting)
    return drawn


def test_a_frame_shown_again_is_drawn_once_and_written_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The big series repeats its shot lists: each distinct frame is drawn and encoded once,
    and written once in the page (an SVG symbol the other figures use)."""
    log = Log()
    _shot_lists(log, 4, SHOTS)
    drawn = counted_drawing(monkeypatch)
    page = storyboard(log.source)
    assert page is not None
    assert len(drawn) == len(SHOTS)
    sheet = Sheet()
    sheet.feed(page)
    assert len(sheet.frames) == 4 * len(SHOTS)
    assert len(sheet.symbols) == len(SHOTS)
    assert page.count("data:image/png;base64,") == len(SHOTS)
    for src, _ in sheet.frames:
        assert base64.b64decode(src.removeprefix("data:image/png;base64,")).startswith(PNG)
    one = Log()
    _shot_lists(one, 1, SHOTS)
    alone = Sheet()
    alone.feed(storyboard(one.source) or "")
    shown = [src for src, _ in sheet.frames]
    assert {src: shown.count(src) for src in shown} == {src: 4 for src, _ in alone.frames}


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (1024, 576)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _colour_of(uri: str) -> tuple[int, int, int]:
    data = base64.b64decode(uri.split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return (pixel[0], pixel[1], pixel[2])


def test_frames_an_image_model_drew_are_used_and_stand_ins_are_marked(tmp_path: Path) -> None:
    log = Log(extra='[models]\nimage = "openai/gpt-image-1"\n')
    log.source.files_root = tmp_path
    _shot_lists(log, 1, SHOTS)
    (tmp_path / "night-images").mkdir()
    (tmp_path / "night-images" / "1A.png").write_bytes(_png((200, 30, 30)))
    outside = tmp_path.parent / "elsewhere.png"
    outside.write_bytes(_png((30, 200, 30)))
    log.add(
        FramesDrawn(
            task_id="shots-0",
            artifact_id="shots-0-v1",
            model="openai/gpt-image-1",
            frames={"1A": "night-images/1A.png", "2A": str(outside)},
            failed=["1B"],
        )
    )
    page = storyboard(log.source)
    assert page is not None
    sheet = Sheet()
    sheet.feed(page)
    (a, a_caption), (b, b_caption), (c, c_caption) = sheet.frames
    assert a.startswith("data:image/jpeg;base64,")  # scaled down for the sheet
    red = _colour_of(a)
    assert red[0] > 180 and red[1] < 60, red
    assert "stand-in" not in a_caption
    assert b.startswith("data:image/png;base64,")  # the call failed: the rehearsal sketch
    assert "(stand-in sketch: the image call failed)" in b_caption
    assert c.startswith("data:image/png;base64,")  # a file outside the production's folder
    assert "(stand-in sketch: not drawn by the image model)" in c_caption
    assert sheet.alts == ["Shot 1A", "Shot 1B (stand-in sketch)", "Shot 2A (stand-in sketch)"]
    assert "1 frames drawn by the image model openai/gpt-image-1; 2 are rehearsal" in page


def test_each_distinct_picture_is_drawn_once_whatever_the_plans_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The storyboard draws each distinct shot's picture once, its repeated frames written
    from their first (the shot lists below are in the plan in another order than the
    page's)."""
    log = Log()
    log.task("shots-late", TaskKind.SHOT_LIST)
    log.deliver("shots-late", ShotList(shots=[SHOTS[2], SHOTS[2]]))
    _shot_lists(log, 2, SHOTS)
    drawn = counted_drawing(monkeypatch)
    monkeypatch.setenv("PODIUM_EXPORT_CACHE", "0")
    plain = storyboard(log.source)
    assert plain is not None and len(drawn) == len(SHOTS)


def test_a_frame_is_a_png_of_the_sketch_pixels_as_drawn() -> None:
    """`png_of` writes its own PNG (rows unfiltered): it reads back, in Pillow, as the very
    pixels the illustrator drew, of any size and from any mode Pillow converts to RGB."""
    log = Log()
    _shot_lists(log, 1, SHOTS)
    page = storyboard(log.source)
    assert page is not None
    sheet = Sheet()
    sheet.feed(page)
    for src, _ in sheet.frames:
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as opened:
            opened.load()
            assert opened.mode == "RGB" and opened.size == FRAME
    for size, mode in (((384, 216), "RGB"), ((7, 3), "RGB"), ((1, 1), "L"), ((5, 9), "RGBA")):
        picture = Image.effect_noise(size, 64).convert(mode)
        with Image.open(io.BytesIO(png_of(picture))) as opened:
            opened.load()
            assert opened.mode == "RGB" and opened.size == size
            assert opened.tobytes() == picture.convert("RGB").tobytes()


def test_shots_alike_are_told_by_every_field() -> None:
    """The storyboard holds one of shots alike (`shot_fields`): every field of a shot counts,
    a float by its repr."""
    shot = SHOTS[0]
    assert len(shot_fields(shot)) == len(Shot.model_fields)
    for name, value in (("lens", "50mm"), ("duration_s", -0.0), ("angle", "low")):
        assert shot_fields(shot.model_copy(update={name: value})) != shot_fields(shot)
    assert shot_fields(shot.model_copy()) == shot_fields(shot)
