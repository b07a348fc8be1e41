"""The rehearsal illustrator: a real stand-in picture for a sketch, drawn with Pillow, offline.

The picture is flat colour in the sketch's palette: a sky and ground split on a horizon placed
by the composition (a low horizon, a high one, the rule of thirds), or a room, a corridor, a
window, an overhead view; the people in frame as labelled silhouettes, framed by the shot size
(small in a wide shot, cut at the waist in a medium shot, a face filling a close-up); a
camera move as arrows; the caption in a band under it; the palette as swatches in a corner.
Every choice comes from the sketch and a generator seeded by its words, and PNG is written
without a timestamp, so the same sketch is the same bytes. Pillow is imported when drawing.
"""

from __future__ import annotations

import io
import random
import threading
from typing import TYPE_CHECKING

from podium.llm.rehearsal.lettering import bbox, length, wrap, write
from podium.llm.rehearsal.sketch import RGB, Roles, Sketch, mix

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

__all__ = ["draw", "draw_cover", "image"]

# A figure's height in picture heights, and where its head starts, for each framing.
_FRAMING: dict[str, tuple[float, float]] = {
    "EWS": (0.16, -1.0),  # -1: standing on the ground
    "WS": (0.42, -1.0),
    "MS": (1.7, 0.14),
    "TWO-SHOT": (1.7, 0.14),
    "OTS": (1.7, 0.16),
    "MCU": (2.6, 0.1),
    "CU": (4.4, 0.06),
    "ECU": (8.0, -0.34),
}
_INTERIOR = ("room", "kitchen", "window", "door", "corridor", "interior", "table", "lamp", "stair")
_FONTS = threading.local()  # each thread's fonts by size (a FreeType face is never shared)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's default font at `size` (8 px at least), loaded once a size and thread: a font
    loaded afresh renders its first glyphs slowly (a third of a sketch's time); same pixels."""
    from PIL import ImageFont

    fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont]
    fonts = _FONTS.__dict__.setdefault("by_size", {})
    size = max(8, size)
    if size not in fonts:
        fonts[size] = ImageFont.load_default(size=size)
    return fonts[size]


_ROLES: dict[tuple[str, ...], Roles] = {}  # a palette's colours with their jobs, read once


def _roles(sketch: Sketch) -> Roles:
    """A palette's colours read once (a series' sketches share one; read only, never changed)."""
    found = _ROLES.get(sketch.palette)
    if found is None:
        if len(_ROLES) >= 256:
            _ROLES.clear()
        found = _ROLES[sketch.palette] = Roles(sketch.colours())
    return found


class _Canvas:
    def __init__(self, sketch: Sketch, width: int, height: int) -> None:
        from PIL import Image, ImageDraw

        self.sketch = sketch
        self.rng = random.Random(sketch.seed())
        self.roles = _roles(sketch)
        self.width = width
        band = round(height * 0.17) if sketch.caption else 0
        self.height = height - band  # the picture, above the caption band
        self.image = Image.new("RGB", (width, height), self.roles.dark)
        self.pen: ImageDraw.ImageDraw = ImageDraw.Draw(self.image)
        self.words = sketch.composition

    def has(self, *words: str) -> bool:
        return any(w in self.words for w in words)

    # -- the setting -----------------------------------------------------------------------

    def setting(self) -> float:
        """Sky, ground, light, weather; the y of the ground line figures stand on."""
        w, h, r, pen = self.width, self.height, self.roles, self.pen
        if self.has("overhead", "top-down", "bird's-eye"):
            pen.rectangle((0, 0, w, h), fill=r.ground)
            for _ in range(self.rng.randint(5, 9)):
                x, y = self.rng.uniform(0, w), self.rng.uniform(0, h)
                s = self.rng.uniform(0.04, 0.12) * w
                pen.ellipse((x - s, y - s * 0.6, x + s, y + s * 0.6), fill=r.far)
            return -1.0
        if self.sketch.size == "INSERT":
            pen.rectangle((0, 0, w, h), fill=r.far)
            pen.rectangle((0, h * 0.55, w, h), fill=r.ground)
            return h * 0.55
        if self.has(*_INTERIOR):
            return self._room()
        if self.has("low horizon"):
            horizon = h * 0.72
        elif self.has("high horizon"):
            horizon = h / 3
        elif self.sketch.size in ("EWS", "WS"):
            horizon = h * self.rng.choice((2 / 3, 0.6, 1 / 3 + 0.08))
        else:
            horizon = h * 0.58
        pen.rectangle((0, 0, w, horizon), fill=r.sky)
        if not self.has("overcast", "fog", "shadowless"):
            sx = w * self.rng.choice((1 / 3, 2 / 3)) + self.rng.uniform(-0.05, 0.05) * w
            rad = h * (0.07 if self.has("low", "late", "raking", "dusk") else 0.05)
            for k, t in ((2.2, 0.75), (1.6, 0.45), (1.0, 0.0)):
                fill = mix(r.accent, r.sky, t)
                pen.ellipse(
                    (
                        sx - rad * k,
                        horizon - rad * (k + 0.6),
                        sx + rad * k,
                        horizon + rad * (k - 0.6),
                    ),
                    fill=fill,
                )
        ridge = [(0.0, horizon)]
        x = 0.0
        while x < w:
            x += self.rng.uniform(0.06, 0.16) * w
            ridge.append((min(x, float(w)), horizon - self.rng.uniform(0.0, 0.09) * h))
        ridge.append((float(w), horizon))
        pen.polygon(ridge, fill=r.far)
        pen.rectangle((0, horizon, w, h), fill=r.ground)
        for _ in range(self.rng.randint(2, 5)):  # bands of the ground, toward us
            y = self.rng.uniform(horizon, h)
            pen.rectangle((0, y, w, y + self.rng.uniform(0.004, 0.012) * h), fill=r.far)
        self._weather(horizon)
        return horizon + (h - horizon) * self.rng.uniform(0.45, 0.7)

    def _room(self) -> float:
        w, h, r, pen = self.width, self.height, self.roles, self.pen
        floor = h * 0.7
        pen.rectangle((0, 0, w, floor), fill=r.far)
        pen.rectangle((0, floor, w, h), fill=r.ground)
        if self.has("corridor", "perspective", "door"):
            vx, vy = w / 2, h * 0.45
            dw, dh = w * 0.09, h * 0.3
            pen.polygon(
                [(0, 0), (vx - dw, vy - dh / 2), (vx - dw, vy + dh / 2), (0, h)],
                fill=mix(r.far, r.dark, 0.35),
            )
            pen.polygon(
                [(w, 0), (vx + dw, vy - dh / 2), (vx + dw, vy + dh / 2), (w, h)],
                fill=mix(r.far, r.dark, 0.2),
            )
            pen.polygon(
                [(0, h), (vx - dw, vy + dh / 2), (vx + dw, vy + dh / 2), (w, h)], fill=r.ground
            )
            pen.rectangle(
                (vx - dw * 0.45, vy - dh * 0.4, vx + dw * 0.45, vy + dh / 2), fill=r.accent
            )
            return h * 0.9
        if self.has("window", "pane"):
            x0 = w * self.rng.choice((0.18, 0.55))
            box = (x0, h * 0.12, x0 + w * 0.27, h * 0.55)
            pen.rectangle(box, fill=r.sky)
            self._weather(box[3], box)
            bar = max(3, round(w * 0.008))
            pen.rectangle(box, outline=r.dark, width=bar)
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            pen.line((cx, box[1], cx, box[3]), fill=r.dark, width=bar)
            pen.line((box[0], cy, box[2], cy), fill=r.dark, width=bar)
        if self.has("lamp", "practical"):
            lx = w * self.rng.choice((0.12, 0.88))
            for k, t in ((0.16, 0.7), (0.1, 0.4), (0.05, 0.0)):
                rad = h * k
                pen.ellipse(
                    (lx - rad, h * 0.35 - rad, lx + rad, h * 0.35 + rad),
                    fill=mix(r.accent, r.far, t),
                )
        return h * 0.86

    def _weather(self, bottom: float, box: tuple[float, float, float, float] | None = None) -> None:
        x0, y0, x1, y1 = box or (0.0, 0.0, float(self.width), bottom)
        if self.has("rain"):
            for _ in range(60):
                x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
                self.pen.line((x, y, x - 6, y + 18), fill=self.roles.light, width=1)
        elif self.has("snow", "blizzard"):
            for _ in range(80):
                x, y = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
                self.pen.ellipse((x - 2, y - 2, x + 2, y + 2), fill=self.roles.light)

    def foreground(self) -> None:
        if not self.has("foreground", "out of focus", "clutter"):
            return
        from PIL import Image, ImageDraw, ImageFilter

        layer = Image.new("L", (self.width, self.height), 0)
        mask = ImageDraw.Draw(layer)
        for cx in (self.width * 0.06, self.width * 0.94):
            rad = self.height * self.rng.uniform(0.25, 0.4)
            mask.ellipse((cx - rad, self.height - rad * 0.9, cx + rad, self.height + rad), fill=255)
        layer = layer.filter(ImageFilter.GaussianBlur(self.height * 0.03))
        self.image.paste(self.roles.dark, (0, 0, self.width, self.height), layer)

    # -- people and things -----------------------------------------------------------------

    def people(self, ground: float) -> None:
        sketch, w, h = self.sketch, self.width, self.height
        names: list[str] = list(sketch.figures)
        if sketch.size == "INSERT":
            self._object()
            return
        if ground < 0:
            self._from_above(names or [""])
            return
        if sketch.size in ("CU", "ECU"):
            names = names[:1] or [""]
        elif sketch.size in ("MCU", "TWO-SHOT", "OTS"):
            names = (names + ["", ""])[:2] if sketch.size != "MCU" else names[:2] or [""]
        elif not names:
            names = [""]
        if self.has("split by", "each in their own pane") and len(names) == 2:
            bar = w * 0.035
            self.pen.rectangle((w / 2 - bar / 2, 0, w / 2 + bar / 2, h), fill=self.roles.dark)
        tall, top = _FRAMING.get(sketch.size, _FRAMING["MS"])
        if sketch.size == "OTS":
            subject, shoulder = names[0], names[1]
            self._figure(w * 2 / 3, tall * h, top * h, subject)
            self._figure(w * 0.1, 4.2 * h, 0.24 * h, shoulder, back=True)
            return
        count = len(names)
        if count == 1:
            xs = [w * self.rng.choice((1 / 3, 2 / 3))]
        elif count == 2:
            xs = [w / 3, w * 2 / 3]
        else:
            xs = [w * (i + 1) / (count + 1) for i in range(count)]
        for i, (x, name) in enumerate(zip(xs, names, strict=True)):
            if top < 0:  # standing on the ground, further back the later they are named
                feet = ground - i * h * 0.03
                self._figure(x, tall * h * (1 - 0.08 * i), feet - tall * h * (1 - 0.08 * i), name)
            else:
                self._figure(x, tall * h, top * h, name)

    def _figure(self, x: float, tall: float, top: float, name: str, back: bool = False) -> None:
        """A standing silhouette `tall` high with its head at `top`, labelled with `name`."""
        pen, colour = self.pen, self.roles.dark
        head = tall / 8
        rx, ry = head * 0.42, head * 0.5
        pen.ellipse((x - rx, top, x + rx, top + 2 * ry), fill=colour)
        neck = top + 2 * ry
        pen.rectangle(
            (x - rx * 0.45, neck - ry * 0.2, x + rx * 0.45, neck + head * 0.25), fill=colour
        )
        shoulder = neck + head * 0.2
        half = head * 0.95
        hip = top + tall * 0.52
        pen.rounded_rectangle((x - half, shoulder, x + half, hip), radius=head * 0.35, fill=colour)
        pen.polygon(
            [
                (x - half, hip - head * 0.2),
                (x + half, hip - head * 0.2),
                (x + half * 0.7, top + tall),
                (x + half * 0.15, top + tall),
                (x, hip + head * 0.4),
                (x - half * 0.15, top + tall),
                (x - half * 0.7, top + tall),
            ],
            fill=colour,
        )
        arm = max(2, round(head * 0.3))
        for side in (-1, 1):
            pen.line(
                (
                    x + side * half * 0.9,
                    shoulder + head * 0.2,
                    x + side * half * 1.2,
                    hip + head * 0.3,
                ),
                fill=colour,
                width=arm,
            )
        if name:
            label_y = top - head * 0.3 if top - head * 0.3 > self.height * 0.08 else None
            if back or label_y is None:
                label_y = min(top + tall, self.height) - self.height * 0.06
            self._label(name, x, label_y)

    def _from_above(self, names: list[str]) -> None:
        w, h, r = self.width, self.height, self.roles
        shadow = mix(r.ground, r.dark, 0.55)
        for i, name in enumerate(names):
            x = w * (i + 1) / (len(names) + 1)
            y = h * self.rng.choice((1 / 3, 2 / 3))
            rad = h * 0.05
            self.pen.polygon(
                [
                    (x - rad, y),
                    (x + rad, y),
                    (x + rad * 9, y + rad * 4),
                    (x + rad * 7, y + rad * 5),
                ],
                fill=shadow,
            )
            self.pen.ellipse((x - rad * 1.6, y - rad, x + rad * 1.6, y + rad), fill=r.dark)
            self.pen.ellipse(
                (x - rad * 0.7, y - rad * 0.7, x + rad * 0.7, y + rad * 0.7),
                fill=mix(r.dark, r.light, 0.25),
            )
            if name:
                self._label(name, x, y - rad * 3)

    def _object(self) -> None:
        w, h, r = self.width, self.height, self.roles
        x = w * self.rng.choice((1 / 3, 2 / 3, 0.5))
        y = h * 0.62
        ow, oh = w * 0.14, h * 0.16
        self.pen.ellipse(
            (x - ow * 1.2, y + oh * 0.5, x + ow * 1.2, y + oh * 0.9),
            fill=mix(r.ground, r.dark, 0.4),
        )
        self.pen.rounded_rectangle(
            (x - ow, y - oh, x + ow, y + oh * 0.7), radius=oh * 0.3, fill=r.accent
        )
        if self.has("hands"):
            for side in (-1, 1):
                hx = x + side * ow * 1.9
                self.pen.ellipse(
                    (hx - ow * 0.5, y - oh * 0.2, hx + ow * 0.5, y + oh * 0.5), fill=r.dark
                )
                near, far = hx + side * ow * 0.3, hx + side * w
                arm = (min(near, far), y - oh * 0.05, max(near, far), y + oh * 0.35)
                self.pen.rectangle(arm, fill=r.dark)

    def _label(self, text: str, x: float, y: float) -> None:
        size = max(10, round(min(self.width, self.height) * 0.045))
        font = _font(size)
        text = text[:32]
        wide = length(font, text)
        pad = size * 0.27
        tall = size * 1.1 + 2 * pad
        x0 = min(max(pad, x - wide / 2 - pad), self.width - wide - 3 * pad)
        y0 = min(max(pad, y - tall), self.height - tall - pad)  # its foot at y
        box = (x0, y0, x0 + wide + 2 * pad, y0 + tall)
        self.pen.rounded_rectangle(box, radius=pad, fill=self.roles.paper, outline=self.roles.ink)
        write(self.pen, (x0 + pad, y0 + pad * 0.6), text, self.roles.ink, font)

    # -- what is written on it -------------------------------------------------------------

    def movement(self) -> None:
        move, w, h = self.sketch.movement, self.width, self.height
        if not move or "static" in move:
            return
        colour, width = self.roles.paper, max(2, round(h * 0.012))
        cx, cy = w / 2, h / 2
        if "push" in move or "in" == move.split()[-1]:
            for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
                self._arrow(
                    (cx + sx * w * 0.42, cy + sy * h * 0.4),
                    (cx + sx * w * 0.3, cy + sy * h * 0.28),
                    colour,
                    width,
                )
        elif "pull" in move or "out" in move:
            for sx, sy in ((-1, -1), (1, -1), (-1, 1), (1, 1)):
                self._arrow(
                    (cx + sx * w * 0.3, cy + sy * h * 0.28),
                    (cx + sx * w * 0.42, cy + sy * h * 0.4),
                    colour,
                    width,
                )
        elif "handheld" in move:
            points = [
                (w * (0.3 + 0.04 * i), h * (0.08 + (0.025 if i % 2 else 0))) for i in range(11)
            ]
            self.pen.line(points, fill=colour, width=width)
        else:
            ends = {
                "left": ((0.7, 0.85), (0.3, 0.85)),
                "up": ((0.92, 0.75), (0.92, 0.25)),
                "down": ((0.92, 0.25), (0.92, 0.75)),
            }
            key = next((k for k in ends if k in move), "right")
            (ax, ay), (bx, by) = ends.get(key, ((0.3, 0.85), (0.7, 0.85)))
            self._arrow((ax * w, ay * h), (bx * w, by * h), colour, width)

    def _arrow(
        self, start: tuple[float, float], end: tuple[float, float], colour: RGB, width: int
    ) -> None:
        self.pen.line((start, end), fill=colour, width=width)
        dx, dy = end[0] - start[0], end[1] - start[1]
        size = (dx * dx + dy * dy) ** 0.5 or 1.0
        ux, uy = dx / size, dy / size
        head = width * 4
        self.pen.polygon(
            [
                end,
                (end[0] - ux * head - uy * head * 0.6, end[1] - uy * head + ux * head * 0.6),
                (end[0] - ux * head + uy * head * 0.6, end[1] - uy * head - ux * head * 0.6),
            ],
            fill=colour,
        )

    def swatches(self) -> None:
        side = round(self.height * 0.06)
        gap = max(2, side // 6)
        colours = self.roles.all
        x = self.width - gap - len(colours) * (side + gap)
        for c in colours:
            self.pen.rectangle(
                (x - 1, gap - 1, x + side, gap + side), fill=c, outline=self.roles.ink
            )
            self.pen.rectangle((x + 1, gap + 1, x + side - 2, gap + side - 2), fill=c)
            x += side + gap

    def tag(self) -> None:
        text = self.sketch.label or "stand-in"
        font = _font(round(self.height * (0.05 if self.sketch.label else 0.032)))
        pad = round(self.height * 0.012)
        left, top, right, bottom = bbox(font, text)
        self.pen.rectangle(
            (pad, pad, pad * 3 + right - left, pad * 3 + bottom), fill=self.roles.ink
        )
        write(self.pen, (pad * 2 - left, pad * 2), text, self.roles.paper, font)

    def caption(self) -> None:
        text = self.sketch.caption
        if not text:
            return
        full = self.image.height
        band = full - self.height
        self.pen.rectangle((0, self.height, self.width, full), fill=self.roles.ink)
        font = _font(round(band * 0.22))
        lines = wrap(text, font, self.width * 0.92, 3)
        y = self.height + (band - len(lines) * band * 0.27) / 2
        for line in lines:
            write(self.pen, (self.width * 0.04, y), line, self.roles.paper, font)
            y += band * 0.27

    def png(self, compress_level: int = 6) -> bytes:
        # zlib's default level, not `optimize=True`: that searched every filter and level and
        # was three quarters of a storyboard frame's time (5.3 ms -> 2.2 ms for 384x216, for
        # files about 17 % larger). The same image is still the same bytes.
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", compress_level=compress_level)
        return buffer.getvalue()


def _drawn(sketch: Sketch, width: int, height: int) -> _Canvas:
    canvas = _Canvas(sketch, width, height)
    ground = canvas.setting()
    canvas.people(ground)
    canvas.foreground()
    canvas.movement()
    canvas.swatches()
    canvas.tag()
    canvas.caption()
    return canvas


def draw(sketch: Sketch, width: int = 960, height: int = 640, *, compress_level: int = 6) -> bytes:
    """The sketch drawn as a PNG of `width` × `height` pixels (the caption band included);
    `compress_level` is zlib's (1 encodes in about two thirds of the time, for files about
    half as large again; the storyboard writes its frames' PNGs itself: `storyboard.png_of`)."""
    return _drawn(sketch, width, height).png(compress_level)


def image(sketch: Sketch, width: int = 960, height: int = 640) -> PILImage.Image:
    """The sketch drawn as `draw` draws it, as an RGB Pillow image (no PNG made and read back:
    the animatic's stills)."""
    return _drawn(sketch, width, height).image


def draw_cover(
    title: str, byline: str, sketch: Sketch, width: int = 900, height: int = 1350
) -> bytes:
    """A book cover: the sketch's landscape under the title, the byline at the foot."""
    canvas = _Canvas(sketch, width, height)
    ground = canvas.setting()
    canvas.people(ground)
    canvas.swatches()
    roles, pen = canvas.roles, canvas.pen
    pen.rectangle((0, height * 0.08, width, height * 0.3), fill=roles.ink)
    font = _font(round(height * 0.06))
    lines = wrap(title, font, width * 0.86, 2)
    y = height * 0.19 - len(lines) * height * 0.036
    for line in lines:
        write(pen, ((width - length(font, line)) / 2, y), line, roles.paper, font)
        y += height * 0.075
    small = _font(round(height * 0.022))
    lines = wrap(byline, small, width * 0.8, 4)
    y = height * 0.97 - len(lines) * height * 0.03
    pen.rectangle((0, y - height * 0.015, width, height), fill=roles.ink)
    for line in lines:
        write(pen, ((width - length(small, line)) / 2, y), line, roles.paper, small)
        y += height * 0.03
    return canvas.png()
