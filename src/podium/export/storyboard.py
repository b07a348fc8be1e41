"""The storyboard of a film or a series: one frame per shot of the shot list, as a contact sheet.

`storyboard.html` is one self-contained page: for each episode and scene (with its heading
from the screenplay), the scene's shots in order, each a frame with its number, size, movement
and description. A frame is the image model's picture of the shot when one drew it (the
`frames_drawn` the engine recorded for that shot list version; a real image file inside the
production's folder, scaled down to the sheet's size); otherwise the rehearsal illustrator's
stand-in, drawn from the shot (its size frames the figures, its description names who is in
frame, its move is drawn as arrows) in the style guide's palette, and marked as a stand-in when
the production has an image model. Text is escaped, never markup.

Fast on a big production: each distinct frame is drawn and encoded once (stand-ins keyed by
their sketch, the model's pictures by the hash of their bytes), and a frame that appears more
than once is written once in the page, as an SVG symbol every figure showing it `<use>`s.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from podium.domain.artifacts import Shot, ShotList
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.export.cache import Cache, code_digest
from podium.export.cache import key as cache_key
from podium.export.manuscript import MAX_IMAGE_BYTES
from podium.export.screenplay import slots
from podium.export.sources import ExportSource, number, one_line

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from podium.llm.rehearsal.sketch import Sketch

FRAME = (384, 216)  # pixels: 16:9, small enough for hundreds of shots in one page
# What draws a sketch: a change to any names new entries in the export's cache.
_SKETCHING = (
    "podium.llm.rehearsal.illustrator",
    "podium.llm.rehearsal.lettering",
    "podium.llm.rehearsal.sketch",
)


@dataclass(frozen=True, slots=True)
class Frame:
    episode: int | None
    shot: Shot
    status: str | None  # how unfinished the shot list is, or None
    artifact_id: str = ""  # the shot list version it belongs to
    named: str = ""  # its label worked out already (`frames`: once a distinct shot), or ""

    @property
    def label(self) -> str:
        return self.named or f"{self.shot.scene}{one_line(self.shot.shot)}"


def frames(source: ExportSource) -> list[Frame]:
    """Every shot of the current shot lists, by episode, scene and plan order."""
    series = source.format is Format.SERIES
    found: list[tuple[int, int, int, Frame]] = []
    # A shot alike in many lists (the big series repeats its shot lists) is held once, not
    # each list's whole content for as long as the frames are held.
    alike: dict[tuple[object, ...], Shot] = {}
    labels: dict[int, str] = {}  # a shot held (in `alike`) -> its label
    for index, record in enumerate(source.plan()):
        if record.spec.kind is not TaskKind.SHOT_LIST:
            continue
        artifact = source.current(record)
        content = source.parsed(artifact) if artifact is not None else None
        if artifact is None or not isinstance(content, ShotList):
            continue
        episode = number(record.spec.params.get("episode")) if series else None
        status = source.short_status(artifact)
        for order, shot in enumerate(content.shots):
            key = (episode or 0, shot.scene, index * 10_000 + order)
            shot = alike.setdefault(shot_fields(shot), shot)
            label = labels.get(id(shot))
            if label is None:
                label = labels[id(shot)] = f"{shot.scene}{one_line(shot.shot)}"
            found.append((*key, Frame(episode, shot, status, artifact.id, label)))
    return [f for *_, f in sorted(found, key=lambda k: k[:3])]


def shot_fields(shot: Shot) -> tuple[object, ...]:
    """Every field of the shot, the same for shots alike and only for them (the float as its
    repr: -0.0 is not 0.0 in print)."""
    return (
        shot.scene, shot.shot, shot.size, shot.angle, shot.movement, shot.lens,
        repr(shot.duration_s), shot.description,
    )  # fmt: skip


def _e(value: object) -> str:
    return html.escape(one_line(value), quote=True)


CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; background: #f4f3ef; color: #222; }
h1 { font-weight: 600; margin: 0 0 0.2em; }
h2 { margin: 1.6em 0 0.4em; border-bottom: 2px solid #222; }
h3 { margin: 1.2em 0 0.5em; font-size: 1em; font-family: 'Courier Prime', Courier, monospace; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(17em, 1fr)); gap: 1em; }
figure { margin: 0; background: #fff; border: 1px solid #ccc; padding: 0.4em; }
figure img, figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85em; margin-top: 0.3em; }
.shot { font-weight: 700; }
.meta { color: #555; }
.status { color: #8a4b00; font-size: 0.8em; }
.standin { color: #6b6b6b; font-size: 0.8em; font-style: italic; }
svg.sprites { position: absolute; width: 0; height: 0; overflow: hidden; }
"""


@dataclass(frozen=True)
class Picture:
    """One distinct frame picture, encoded once for the page."""

    uri: str  # data:…
    width: int
    height: int
    drawn: bool  # the rehearsal illustrator's stand-in, not an image model's


@dataclass(frozen=True)
class ShotPicture:
    """A shot's picture as every deliverable shows it (the storyboard, the animatic): the image
    model's when it drew one (`data`, the file's bytes), else the rehearsal sketch."""

    key: object  # the same for the same picture: the sketch, or ("model", its bytes' hash)
    sketch: Sketch | None
    data: bytes | None = None

    @property
    def drawn(self) -> bool:
        """The rehearsal illustrator's stand-in, not an image model's picture."""
        return self.data is None

    def image(self, size: tuple[int, int], caption: str = "") -> PILImage.Image:
        """The picture as an RGB image of exactly `size`: the model's fitted inside it (bars
        where its shape differs), the sketch drawn at that size with `caption` under it."""
        from PIL import Image, ImageOps

        if self.data is not None:
            with Image.open(io.BytesIO(self.data)) as opened:
                picture = ImageOps.contain(opened.convert("RGB"), size)
            if picture.size == size:
                return picture
            framed = Image.new("RGB", size, (24, 24, 28))
            framed.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
            return framed
        from podium.llm.rehearsal.illustrator import image

        assert self.sketch is not None
        sketch = replace(self.sketch, caption=caption) if caption else self.sketch
        return image(sketch, *size)  # the pixels a PNG of it holds, without making one


def drawn_for(source: ExportSource, artifact_id: str, label: str) -> tuple[str | None, bool]:
    """The image file the model drew for shot `label` of that shot list version (the path the
    engine recorded, or None), and whether its call failed."""
    drawn = source.view.frames.get(artifact_id)
    if drawn is None:
        return None, False
    return drawn.frames.get(label), label in drawn.failed


class Pictures:
    """The frames' pictures, each made once: stand-ins by their sketch, the model's by their
    bytes' hash (two shots the model drew alike, or one file listed twice, are one picture).
    `picture` is a shot's picture for any deliverable; `for_frame` encodes it for the page."""

    def __init__(self, source: ExportSource, cast: list[str], palette: list[str]) -> None:
        self.source = source
        self.cast = cast
        self.palette = palette
        self.root = source.files_root.resolve() if source.files_root is not None else None
        self.made: dict[object, Picture] = {}
        self.keys: dict[str, ShotPicture | None] = {}  # a file's path -> the model's picture
        self.sketches: dict[tuple[object, ...], ShotPicture] = {}  # a shot's words -> sketch
        self.kept: Cache | None = None  # the export's cache, opened at the first sketch
        # A shot's picture (held in `sketches` or `keys`, so its id stands) -> its key, one
        # object for equal keys, and its picture: a frame shown again costs a look-up by id.
        self.chosen: dict[int, tuple[object, Picture]] = {}
        self.one_key: dict[object, object] = {}

    def picture(self, shot: Shot, label: str, drawn_by_model: str | None) -> ShotPicture:
        """The shot's picture: the image model's (the file at `drawn_by_model`, when it is a
        real image inside the production's folder), else the rehearsal sketch of the shot."""
        if drawn_by_model is not None:
            found = self._model(drawn_by_model)
            if found is not None:
                return found
        words = (label, *self.words(shot))
        known = self.sketches.get(words)
        if known is None:  # reading who is in frame is most of a sketch's cost: once a shot
            from podium.llm.rehearsal.sketch import from_shot

            sketch = from_shot(shot, self.cast, self.palette, label)
            known = self.sketches[words] = ShotPicture(sketch, sketch)
        return known

    def for_frame(self, frame: Frame, drawn_by_model: str | None) -> tuple[object, Picture]:
        """The frame's picture encoded for the page, and its key: the same object for every
        frame showing an equal picture."""
        shot = self.picture(frame.shot, frame.label, drawn_by_model)
        known = self.chosen.get(id(shot))
        if known is not None:
            return known
        picture = self.made.get(shot.key)
        if picture is None:
            if shot.data is not None:
                picture = _scaled(shot.data)
            else:
                assert shot.sketch is not None
                png = self._sketch_png(shot.sketch)
                uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                picture = Picture(uri, *FRAME, True)
            self.made[shot.key] = picture
        found = self.chosen[id(shot)] = (self.one_key.setdefault(shot.key, shot.key), picture)
        return found

    def _sketch_png(self, sketch: Sketch) -> bytes:
        """The sketch as the page's PNG: kept by an earlier export (`podium.export.cache`, read
        back only when it is a PNG), else drawn and kept."""
        from podium.llm.rehearsal.illustrator import image

        if self.kept is None:
            self.kept = Cache.default()
        name = cache_key("sketch", sketch, FRAME, _ENCODING, code_digest(*_SKETCHING))
        png = self.kept.get("sketch", name)
        if png is None or not png.startswith(_PNG_SIGNATURE):
            png = png_of(image(sketch, *FRAME))  # thousands of frames: fast
            self.kept.put("sketch", name, png)
        return png

    @staticmethod
    def words(shot: Shot) -> tuple[object, ...]:
        return (shot.scene, shot.shot, shot.size, shot.angle, shot.movement, shot.description)

    def _model(self, path_text: str) -> ShotPicture | None:
        """The model's picture at `path_text`; None unless it is a real image file inside the
        production's folder (the path is the engine's, but the folder may have been edited
        since)."""
        if path_text in self.keys:
            return self.keys[path_text]
        data = _read_inside(self.root, path_text)
        found: ShotPicture | None = None
        if data is not None and _is_image(data):
            found = ShotPicture(("model", hashlib.sha256(data).hexdigest()), None, data)
        self.keys[path_text] = found
        return found


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ENCODING = "rows unfiltered, zlib 3"  # how `png_of` encodes: part of a kept sketch's name


def png_of(picture: PILImage.Image) -> bytes:
    """An RGB picture as a PNG (8 bits a channel), its rows unfiltered and deflated at zlib's
    level 3: the same pixels as Pillow's PNG of it, in a third of the time. Pillow tries the
    five PNG filters on every row, most of its time on a sketch; a sketch's flat colours
    deflate as well without (a storyboard frame: 3.7 kB either way)."""
    width, height = picture.size
    if picture.mode != "RGB":
        picture = picture.convert("RGB")
    raw = memoryview(picture.tobytes())
    stride = width * 3
    rows = b"".join(b"\0" + raw[y : y + stride] for y in range(0, stride * height, stride))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows, 3)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(tag: bytes, data: bytes) -> bytes:
    return b"".join(
        (struct.pack(">I", len(data)), tag, data, struct.pack(">I", zlib.crc32(tag + data)))
    )


def _read_inside(root: Path | None, path_text: str) -> bytes | None:
    if root is None or not path_text:
        return None
    try:
        path = (root / path_text).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        if not 0 < path.stat().st_size <= MAX_IMAGE_BYTES:
            return None
        return path.read_bytes()
    except (OSError, ValueError):
        return None


def _is_image(data: bytes) -> bool:
    """Whether PIL reads `data` as a picture (a damaged or foreign file is shown as a sketch)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False
    return True


def _scaled(data: bytes) -> Picture:
    """An image model's picture as a JPEG at twice the sheet's frame size (sharp on a dense
    screen, a few dozen kilobytes instead of a megabyte or more); `data` is a readable image."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    image.thumbnail((FRAME[0] * 2, FRAME[1] * 2))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Picture(uri, image.width, image.height, False)


def _figure(
    frame: Frame, picture: Picture, symbol: str | None, failed: bool, image_model: str | None
) -> str:
    shot, label = frame.shot, frame.label
    alt = f"Shot {_e(label)}" + (" (stand-in sketch)" if picture.drawn and image_model else "")
    if symbol is not None:
        image = (
            f'<svg role="img" aria-label="{alt}" viewBox="0 0 {picture.width} '
            f'{picture.height}" width="{picture.width}" height="{picture.height}">'
            f'<use href="#{symbol}"/></svg>'
        )
    else:
        image = (
            f'<img src="{picture.uri}" alt="{alt}" width="{picture.width}" '
            f'height="{picture.height}"/>'
        )
    meta = " · ".join(
        _e(v) for v in (shot.size, shot.movement, f"{shot.duration_s:g} s") if one_line(v)
    )
    status = f' <span class="status">({_e(frame.status)})</span>' if frame.status else ""
    if picture.drawn and image_model:
        why = "the image call failed" if failed else "not drawn by the image model"
        status += f' <span class="standin">(stand-in sketch: {why})</span>'
    return (
        f'<figure>{image}\n<figcaption><span class="shot">{_e(label)}</span> '
        f'<span class="meta">{meta}</span>{status}<br/>{_e(shot.description)}'
        "</figcaption></figure>"
    )


def storyboard(source: ExportSource) -> str | None:
    """The storyboard page; None for an illustrated story or before any shot list exists."""
    spec = source.view.spec
    if spec is None or not spec.production.format.screenplay:
        return None
    shots = frames(source)
    if not shots:
        return None
    cast = [c.name for c in (source.view.vision or spec.vision).characters]
    pictures = Pictures(source, cast, list(spec.style.palette))
    chosen: list[tuple[Frame, object, Picture, bool]] = []  # frame, picture's key, picture, failed
    counts: dict[int, int] = {}  # by the key's id: one object for equal keys (`for_frame`)
    keys: dict[int, object] = {}
    for frame in shots:
        path, failed = drawn_for(source, frame.artifact_id, frame.label)
        key, picture = pictures.for_frame(frame, path)
        chosen.append((frame, key, picture, failed))
        if id(key) in counts:
            counts[id(key)] += 1
        else:
            counts[id(key)], keys[id(key)] = 1, key
    # a picture's key -> the frames showing it, in order of first use
    uses = {keys[k]: n for k, n in counts.items()}
    headings = {
        (episode, slot.number): slot.scene.heading
        for episode, chosen_slots in slots(source).items()
        for slot in chosen_slots
    }
    image_model = spec.models.image
    if pictures.kept is not None:
        pictures.kept.prune()  # what it kept stays under the cache's bound
    sketches = sum(1 for *_, picture, _ in chosen if picture.drawn)
    parts = [f"<h1>{_e(source.title)}: storyboard</h1>"]
    if sketches == len(chosen):
        what = (
            "Frames are rehearsal sketches drawn from each shot's size, movement and "
            "description in the style guide's palette."
        )
    else:
        what = (
            f"{len(chosen) - sketches} frames drawn by the image model {_e(image_model or '')}"
            + (
                f"; {sketches} are rehearsal sketches in their place, marked stand-in."
                if sketches
                else "."
            )
        )
    parts.append(f'<p class="meta">{len(chosen)} shots. {what}</p>')
    symbols: dict[object, str] = {}
    sprites: list[str] = []
    for key in uses:  # in the order of first use, however the pictures were made
        picture = pictures.made[key]
        if uses[key] > 1:
            symbols[key] = name = f"frame-{len(symbols) + 1}"
            sprites.append(
                f'<symbol id="{name}" viewBox="0 0 {picture.width} {picture.height}">'
                f'<image href="{picture.uri}" width="{picture.width}" '
                f'height="{picture.height}"/></symbol>'
            )
    if sprites:
        parts.append(
            '<svg class="sprites" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">'
            + "".join(sprites)
            + "</svg>"
        )
    episode_open: object = object()
    scene_open: tuple[int | None, int] | None = None
    written: dict[tuple[object, ...], str] = {}
    for frame, key, picture, failed in chosen:
        shot = frame.shot
        if frame.episode != episode_open:
            if scene_open is not None:
                parts.append("</div>")
                scene_open = None
            episode_open = frame.episode
            if frame.episode is not None:
                parts.append(f'<h2 id="episode-{frame.episode}">Episode {frame.episode}</h2>')
        if scene_open != (frame.episode, shot.scene):
            if scene_open is not None:
                parts.append("</div>")
            scene_open = (frame.episode, shot.scene)
            heading = headings.get(scene_open, "")
            title = f"{shot.scene}. {one_line(heading)}" if heading else f"Scene {shot.scene}"
            parts.append(f'<h3>{html.escape(title, quote=True)}</h3>\n<div class="sheet">')
        # A repeated shot (the big series repeats its shot lists) is written from its first.
        seen = (id(key), frame.status, failed, shot.duration_s, *pictures.words(shot))
        figure = written.get(seen)
        if figure is None:
            figure = written[seen] = _figure(frame, picture, symbols.get(key), failed, image_model)
        parts.append(figure)
    if scene_open is not None:
        parts.append("</div>")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{_e(source.title)}: storyboard</title>
<style>{CSS}</style>
</head>
<body>
{body}
</body>
</html>
"""
