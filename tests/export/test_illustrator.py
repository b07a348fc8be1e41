"""The rehearsal illustrator: the same brief is the same bytes, and the picture shows its brief."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from podium.domain.artifacts import IllustrationBrief, Shot
from podium.domain.tasks import TaskKind
from podium.engine.engine import AutoApprove, Engine
from podium.export.exporter import export_production_sync, load
from podium.llm.rehearsal.illustrator import draw, image
from podium.llm.rehearsal.sketch import colour, from_brief, from_prompt, from_shot, in_frame
from podium.loader import read_production
from podium.store import EventStore

BRIEF = IllustrationBrief(
    title="Chapter 1: illustration",
    subject="The sea ice at dusk: Sigrid hauls the sledge, with Nuka just out of reach",
    composition="low horizon; the figure small in the lower third, sky doing the work",
    palette=["ice blue", "bone white", "slate grey", "lamp-oil amber", "seal-brown"],
    lighting="late sun raking low across the scene",
    mood="exact, quiet",
    caption="The wind came on again, and this time Nuka let it.",
)
CAST = ["Sigrid", "Nuka", "Tulugaq"]
SAMPLES = Path(__file__).resolve().parents[2] / "sample_productions"


def pixels(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    found: set[tuple[int, int, int]] = set()
    for _, value in image.getcolors(maxcolors=1 << 20) or []:
        assert isinstance(value, tuple)
        found.add((value[0], value[1], value[2]))
    return found


def test_the_same_brief_draws_the_same_bytes() -> None:
    first = draw(from_brief(BRIEF, CAST))
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert draw(from_brief(BRIEF.model_copy(), list(CAST))) == first


def test_the_image_is_the_png_s_pixels() -> None:
    # The animatic's stills take the image straight from the illustrator: the same pixels.
    for sketch in (
        from_brief(BRIEF, CAST),
        from_brief(BRIEF.model_copy(update={"caption": ""}), CAST),
    ):
        for size in ((960, 640), (1280, 720), (384, 216)):
            drawn = image(sketch, *size)
            with Image.open(io.BytesIO(draw(sketch, *size, compress_level=0))) as opened:
                assert drawn.mode == "RGB"
                assert drawn.tobytes() == opened.convert("RGB").tobytes()


def test_the_palette_is_in_the_pixels() -> None:
    seen = pixels(draw(from_brief(BRIEF, CAST)))
    for name in BRIEF.palette:
        assert colour(name) in seen, name
    other = BRIEF.model_copy(update={"palette": ["candy pink", "municipal green"]})
    seen = pixels(draw(from_brief(other, CAST)))
    assert {colour("candy pink"), colour("municipal green")} <= seen
    assert colour("ice blue") not in seen


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "An ice cave under a grounded berg: Tulugaq waits"},
        {"composition": "overhead view, as if remembered; long shadows pointing the way out"},
        {"caption": "Some part of Nuka had been waiting for this since dusk."},
        {"palette": ["oxblood", "storm grey"]},
    ],
)
def test_a_different_brief_draws_a_different_picture(change: dict[str, object]) -> None:
    assert draw(from_brief(BRIEF.model_copy(update=change), CAST)) != draw(from_brief(BRIEF, CAST))


def test_who_is_in_frame_is_read_from_the_brief() -> None:
    assert from_brief(BRIEF, CAST).figures == ("Sigrid", "Nuka")
    assert in_frame("ELIAS and TAM in one frame", ["Tam", "Elias Rowe", "Morag"]) == (
        "Elias Rowe",
        "Tam",
    )
    assert from_prompt("A lighthouse at night\nAt the lamp, Tam waits for Elias").figures == (
        "Tam",
        "Elias",
    )


def test_colour_names_read_word_by_word() -> None:
    ice, slate = colour("ice blue"), colour("slate grey")
    assert ice[2] > ice[0] and sum(ice) > sum(slate)  # a light blue, lighter than slate
    assert colour("oxblood")[0] > colour("oxblood")[2]
    assert colour("faded Kodachrome") != colour("Kodachrome")
    assert colour("a name with no colour") == colour("A name with no colour")


def test_shots_are_framed_by_their_size() -> None:
    wide = Shot(scene=1, shot="A", size="WS", movement="static", description="TAM in the doorway")
    close = wide.model_copy(update={"size": "CU"})
    assert from_shot(wide, ["Tam"], ["slate blue"]).figures == ("Tam",)
    assert draw(from_shot(wide, ["Tam"], [])) != draw(from_shot(close, ["Tam"], []))
    moved = wide.model_copy(update={"movement": "dolly left"})
    assert draw(from_shot(moved, ["Tam"], [])) != draw(from_shot(wide, ["Tam"], []))
    insert = from_shot(wide.model_copy(update={"size": "INSERT"}), ["Tam"], [])
    assert insert.figures == ()


async def _run_with_rehearsal_images(db: Path) -> str:
    spec = read_production(SAMPLES / "arctic_journey.toml")
    fast = spec.models.rehearsal.model_copy(
        update={"latency_ms": 0.0, "jitter_ms": 0.0, "tokens_per_s": 1e7, "latency_by_kind": {}}
    )
    models = spec.models.model_copy(update={"rehearsal": fast, "image": "rehearsal/painter"})
    store = await EventStore.open(db)
    try:
        engine = await Engine.open(
            store, spec=spec.model_copy(update={"models": models}), auto_approve=AutoApprove("all")
        )
        return (await engine.run()).value
    finally:
        await store.close()


def test_a_rehearsal_image_model_draws_files_the_export_copies(tmp_path: Path) -> None:
    """models.image = "rehearsal/…": every illustration is a PNG beside the database, and the
    export copies it into images/ (before, the rehearsal model refused to draw). How many is
    read from the production: one per illustration of the plan, and a character sheet for each
    principal character an illustration has in frame."""
    db = tmp_path / "story.db"
    assert asyncio.run(_run_with_rehearsal_images(db)) == "completed"
    view = asyncio.run(load(db)).view
    illustrations = [
        view.artifacts[r.artifact_id or ""]
        for r in view.tasks.values()
        if r.spec.kind is TaskKind.ILLUSTRATION
    ]
    assert illustrations and all(a.content["image_path"] for a in illustrations)
    sheets = list(view.character_sheets.values())
    assert sheets and all(s.image_path for s in sheets)
    drawn = sorted((tmp_path / "story-images").glob("*.png"))
    named = {Path(a.content["image_path"]) for a in illustrations}
    named |= {Path(s.image_path or "") for s in sheets}
    assert named <= set(drawn)
    out = tmp_path / "out"
    export_production_sync(db, out)
    copied = sorted((out / "images").glob("*.png"))
    assert len(copied) == len(illustrations)
    assert {p.read_bytes() for p in copied} == {
        Path(a.content["image_path"]).read_bytes() for a in illustrations
    }


def test_a_palette_is_read_once_for_every_sketch_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.llm.rehearsal import illustrator, sketch

    first = from_brief(BRIEF, CAST)
    other = from_brief(BRIEF.model_copy(update={"subject": "Nuka alone at the floe edge"}), CAST)
    expected = [image(s, 320, 200).tobytes() for s in (first, other)]
    read: list[str] = []
    real = sketch.colour

    def counted(name: str) -> tuple[int, int, int]:
        read.append(name)
        return real(name)

    monkeypatch.setattr(sketch, "colour", counted)
    monkeypatch.setattr(illustrator, "_ROLES", {})
    assert [image(s, 320, 200).tobytes() for s in (first, other)] == expected
    assert read == list(BRIEF.palette)  # read for the first sketch only
