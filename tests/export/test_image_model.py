"""Pictures from an image model (issue 18), against an OpenAI-compatible images endpoint on
127.0.0.1 that answers each prompt with a PNG of its own colour: the prompts carry the look
book's palette and style and each character's look, a character's sheet is asked for before
any picture with them in frame, the exported storyboard and book show the model's pictures,
and a picture whose call failed is the rehearsal stand-in, marked as one."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import sys
import threading
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fakes.openai_server import (  # noqa: E402
    FakeOpenAI,
    Image,
    RecordedRequest,
    Status,
    solid_png,
)
from podium.domain.events import ProductionState  # noqa: E402
from podium.domain.loading import parse_production  # noqa: E402
from podium.domain.state import ProductionView  # noqa: E402
from podium.engine.engine import AutoApprove, Engine  # noqa: E402
from podium.export.exporter import export_production_sync  # noqa: E402
from podium.store import EventStore  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Accessing the 'model_:DeprecationWarning")

KEY_ENV = "PODIUM_IMAGES_KEY"
MODEL = "openai/gpt-image-1"
PALETTE = ["sodium orange", "storm blue", "bone white"]
TAM = "Tam is 26, the Lighthouse Board engineer, in a yellow oilskin with a torch on a lanyard"

HEAD = """
[production]
title = "Lamp"
format = "{format}"
brief = "A keeper hands over the light."
[vision]
premise = "Elias, the last keeper, hands the light over to Tam."
[[vision.characters]]
name = "Elias"
description = "Elias is 70, the last keeper, white-bearded, in a navy wool jumper"
[[vision.characters]]
name = "Tam"
description = "{tam}"
[style]
palette = {palette}
lighting = "practical light only: the lamp, torches"
notes = "Hard shadows; never a clean sky."
[[crew]]
id = "dp"
role = "director_of_photography"
[[crew]]
id = "art"
role = "illustrator"
[constraints]
retry_backoff = 0.01
retries = 1
[planner]
mode = "explicit"
[[tasks]]
id = "look"
title = "Look book"
kind = "look"
assignee = "dp"
[[tasks]]
id = "{task}"
title = "{title}"
kind = "{task}"
assignee = "{who}"
depends_on = ["look"]
{params}
[models]
image = "{model}"
[models.rehearsal]
latency_ms = 1.0
jitter_ms = 0.0
tokens_per_s = 1000000.0
[models.settings."{model}"]
api_base = "{api_base}"
api_key_env = "{key_env}"
timeout_s = 10
"""


def first(prefix: str) -> Callable[[str], bool]:
    """Refuse the first prompt asked for that starts with `prefix` (and only that one)."""
    seen: list[str] = []

    def fail(prompt: str) -> bool:
        if prompt.startswith(prefix) and (not seen or seen[0] == prompt):
            seen.append(prompt)
            return True
        return False

    return fail


class Painter:
    """The fake's answer: each prompt a PNG of its own colour; `fail` decides which fail."""

    def __init__(self, fail: Callable[[str], bool]) -> None:
        self.fail = fail
        self.colours: dict[str, tuple[int, int, int]] = {}
        self.failed: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Image | Status:
        prompt = FakeOpenAI.prompt_of(request)
        with self._lock:
            if self.fail(prompt):
                self.failed.append(prompt)
                return Status(400, message="this prompt is refused")
            n = len(self.colours) + 1
            colour = self.colours.setdefault(prompt, ((n * 53) % 200 + 40, (n * 97) % 200, 120))
        return Image(data=solid_png(colour))


async def _run(text: str, db: Path) -> ProductionView:
    store = await EventStore.open(db)
    try:
        engine = await Engine.open(
            store, spec=parse_production(text, "lamp.toml"), auto_approve=AutoApprove("all")
        )
        assert await engine.run() is ProductionState.COMPLETED
        return engine.view
    finally:
        await store.close()


def _production(fake: FakeOpenAI, fmt: str, task: str, who: str, params: str = "") -> str:
    return HEAD.format(
        format=fmt,
        tam=TAM,
        palette=repr(PALETTE).replace("'", '"'),
        task=task,
        title=task.replace("_", " ").title(),
        who=who,
        params=params,
        model=MODEL,
        api_base=fake.api_base,
        key_env=KEY_ENV,
    )


class Figures(HTMLParser):
    """Every picture of a page (img src, or the symbol an svg uses) with the text after it."""

    def __init__(self) -> None:
        super().__init__()
        self.pictures: list[list[str]] = []  # [src, caption text]
        self.symbols: dict[str, str] = {}
        self._symbol = ""
        self._caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "symbol":
            self._symbol = found.get("id") or ""
        elif tag == "image" and self._symbol:
            self.symbols[self._symbol] = found.get("href") or ""
        elif tag == "img":
            self.pictures.append([found.get("src") or "", ""])
        elif tag == "use":
            self.pictures.append([self.symbols[(found.get("href") or "")[1:]], ""])
        elif tag == "figcaption":
            self._caption = True

    def handle_data(self, data: str) -> None:
        if self._caption and self.pictures:
            self.pictures[-1][1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "figcaption":
            self._caption = False


def _colour(data: bytes) -> tuple[int, int, int]:
    with PILImage.open(io.BytesIO(data)) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return (pixel[0], pixel[1], pixel[2])


def _near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 6 for x, y in zip(a, b, strict=True))  # JPEG on a flat colour


def _uri_bytes(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


def test_storyboard_frames_come_from_the_image_model_with_the_look_and_the_cast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-images-test")
    painter = Painter(first("Storyboard frame"))
    refused = painter.failed
    with FakeOpenAI(default=painter) as fake:
        text = _production(fake, "short_film", "shot_list", "dp")
        view = asyncio.run(_run(text, tmp_path / "lamp.db"))
        requests = fake.image_requests
        prompts = [fake.prompt_of(r) for r in requests]
    frames = [p for p in prompts if p.startswith("Storyboard frame")]
    sheets = [p for p in prompts if p.startswith("Character sheet")]
    assert len(frames) >= 2 and sheets
    for prompt in prompts:  # every picture in the production's look
        assert "Palette: sodium orange, storm blue, bone white" in prompt, prompt
        assert "Lighting: practical light only: the lamp, torches" in prompt
        assert "Style notes: Hard shadows; never a clean sky." in prompt
        assert "Look book: " in prompt  # the look book was made first
    with_tam = [p for p in frames if re.search(r"^In frame: .*\bTam\b", p, re.M)]
    assert with_tam, "the rehearsal shot list names Tam in a shot"
    tam_sheet = next(i for i, p in enumerate(prompts) if p.startswith("Character sheet: Tam"))
    assert TAM in prompts[tam_sheet]
    sheet_png = Path(view.character_sheets["Tam"].image_path or "").read_bytes()
    assert _colour(sheet_png) == painter.colours[prompts[tam_sheet]]
    for prompt in with_tam:  # the look quoted, the sheet asked for before and sent with it
        assert f"Character Tam (keep this look): Tam: {TAM}" in prompt
        assert prompts.index(prompt) > tam_sheet
        sent = requests[prompts.index(prompt)]
        assert sent.path == "/v1/images/edits"  # gpt-image-1 takes reference images
        assert sheet_png in [v for k, vs in sent.form().items() if "image" in k for v in vs]
    assert requests[tam_sheet].path == "/v1/images/generations"
    assert view.character_sheets["Tam"].made_from == {"look": 1}

    export_production_sync(tmp_path / "lamp.db", tmp_path / "out")
    page = Figures()
    page.feed((tmp_path / "out" / "storyboard.html").read_text(encoding="utf-8"))
    assert len(page.pictures) == len(frames)
    (drawn,) = view.frames.values()
    assert len(drawn.failed) == 1 and len(drawn.frames) == len(frames) - 1
    by_label = {
        re.sub(r"\s+", " ", caption).strip().split(" ")[0]: (src, caption)
        for src, caption in page.pictures
    }
    for label, path in drawn.frames.items():
        src, caption = by_label[label]
        prompt = next(p for p in frames if p.startswith(f"Storyboard frame, shot {label} "))
        assert src.startswith("data:image/jpeg;base64,")
        assert _near(_colour(_uri_bytes(src)), painter.colours[prompt]), label
        assert _colour(Path(path).read_bytes()) == painter.colours[prompt]
        assert "stand-in" not in caption
    src, caption = by_label[drawn.failed[0]]
    assert refused[0].startswith(f"Storyboard frame, shot {drawn.failed[0]} ")
    assert src.startswith("data:image/png;base64,")  # the rehearsal sketch
    assert "(stand-in sketch: the image call failed)" in caption


def test_the_book_shows_the_image_models_pictures_and_marks_a_stand_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-images-test")
    painter = Painter(first("Illustration"))
    params = 'params = { chapter = 1 }\n[[tasks]]\nid = "chapter"\ntitle = "Chapter"\n'
    params += 'kind = "chapter"\nassignee = "art"\nparams = { chapter = 1 }\n'
    params += '[[tasks]]\nid = "second"\ntitle = "The second picture"\nkind = "illustration"\n'
    params += 'assignee = "art"\ndepends_on = ["look"]\nparams = { chapter = 1 }'
    with FakeOpenAI(default=painter) as fake:
        text = _production(fake, "illustrated_story", "illustration", "art", params)
        asyncio.run(_run(text, tmp_path / "lamp.db"))
        prompts = [fake.prompt_of(r) for r in fake.image_requests]
    pictures = [p for p in prompts if p.startswith("Illustration")]
    assert len(set(painter.failed)) == 1
    drawn = [p for p in pictures if p not in painter.failed]
    assert drawn and all("Palette: sodium orange, storm blue, bone white" in p for p in drawn)

    export_production_sync(tmp_path / "lamp.db", tmp_path / "out")
    page = Figures()
    page.feed((tmp_path / "out" / "book.html").read_text(encoding="utf-8"))
    figures = [(src, caption) for src, caption in page.pictures if caption]  # not the cover
    assert len(figures) == 2
    colours = [_colour(_uri_bytes(src)) for src, _ in figures]
    model_pictures = [
        (colour, caption)
        for colour, (_, caption) in zip(colours, figures, strict=True)
        if any(_near(colour, painter.colours[p]) for p in drawn)
    ]
    assert len(model_pictures) == 1
    assert "sketch" not in model_pictures[0][1]
    stand_in = [c for _, c in figures if "(a stand-in sketch: the image model drew none)" in c]
    assert len(stand_in) == 1


def test_which_models_are_sent_the_sheets_as_references() -> None:
    from podium.llm.litellm_images import takes_references

    assert takes_references("openai/gpt-image-1") and takes_references("gpt-image-1")
    assert not takes_references("openai/dall-e-3")
    assert not takes_references("gemini/imagen-3.0-generate-002")
    assert not takes_references("rehearsal/painter")
