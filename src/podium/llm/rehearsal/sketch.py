"""What the rehearsal illustrator draws, read from a brief, a shot or an image prompt.

A `Sketch` is the plan of a stand-in picture: the palette's colours, the framing (a shot size),
the composition's words (horizon, window, corridor, overhead…), who is in frame, the caption.
Everything here is pure and deterministic: the same words give the same sketch, and
`illustrator.draw` turns a sketch into the same bytes. Colour names are read word by word
("lamp-oil amber" is amber, a little oily), so a palette written for people still gives colours.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podium.domain.artifacts import IllustrationBrief, Shot

RGB = tuple[int, int, int]

__all__ = ["RGB", "Roles", "Sketch", "colour", "from_brief", "from_prompt", "from_shot", "in_frame"]

# Colour words a palette is written in, beyond the CSS names Pillow knows.
_WORDS: dict[str, RGB] = {
    "white": (245, 245, 240),
    "black": (20, 20, 24),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "red": (190, 40, 40),
    "green": (60, 130, 70),
    "blue": (50, 90, 170),
    "yellow": (235, 200, 60),
    "orange": (230, 130, 40),
    "brown": (110, 70, 40),
    "pink": (230, 140, 170),
    "purple": (110, 60, 140),
    "violet": (130, 90, 180),
    "amber": (255, 176, 40),
    "ochre": (204, 136, 34),
    "rust": (170, 70, 30),
    "slate": (90, 104, 120),
    "ice": (200, 228, 240),
    "bone": (227, 218, 201),
    "ivory": (250, 245, 225),
    "cream": (245, 235, 200),
    "sepia": (112, 66, 20),
    "teal": (0, 120, 120),
    "navy": (20, 30, 90),
    "gold": (212, 175, 55),
    "silver": (192, 192, 200),
    "copper": (184, 115, 51),
    "bronze": (150, 110, 50),
    "oxblood": (74, 0, 0),
    "crimson": (160, 20, 40),
    "scarlet": (220, 36, 30),
    "olive": (110, 110, 40),
    "moss": (90, 110, 50),
    "sage": (150, 170, 130),
    "mint": (170, 225, 190),
    "storm": (70, 78, 90),
    "sodium": (250, 160, 40),
    "kodachrome": (214, 120, 64),
    "seal": (80, 62, 50),
    "sea": (60, 100, 110),
    "snow": (250, 250, 252),
    "fog": (200, 204, 206),
    "smoke": (150, 150, 150),
    "ash": (178, 178, 170),
    "steel": (110, 125, 140),
    "charcoal": (54, 54, 58),
    "ink": (28, 30, 50),
    "night": (16, 20, 40),
    "candy": (250, 120, 170),
    "rose": (220, 120, 140),
    "wine": (114, 30, 50),
    "plum": (100, 40, 80),
    "honey": (230, 170, 60),
    "straw": (228, 210, 130),
    "sand": (210, 190, 150),
    "umber": (99, 81, 71),
    "sienna": (160, 82, 45),
    "indigo": (60, 40, 120),
    "mustard": (210, 170, 40),
    "concrete": (150, 148, 140),
    "peat": (70, 50, 35),
    "glass": (215, 230, 230),
    "blood": (120, 10, 10),
    "lamp": (255, 200, 120),
    "fire": (240, 100, 30),
    "sky": (135, 180, 225),
    "earth": (100, 80, 60),
}
_LIGHTER = frozenset({"pale", "light", "faded", "washed", "bleached", "soft", "pastel"})
_DARKER = frozenset({"dark", "deep", "deepest", "dusky", "shadow", "burnt"})
_DEFAULT_PALETTE = ("slate grey", "bone white", "amber", "ink")

# Shot sizes, from the widest; anything else is read as a medium shot.
SIZES = ("EWS", "WS", "MS", "MCU", "CU", "ECU", "OTS", "TWO-SHOT", "INSERT")
_NOT_NAMES = frozenset(
    "A An The In On At Of With And But Or To From By For Into Over Under Through As It He She "
    "They We I You His Her Their Its This That These Those Chapter Illustration Scene Shot Hands "
    "Through Outside Inside Somewhere Nobody Everyone Someone Everything Nothing When Then "
    "Low Late One Two Three Overcast Window Sodium Tight Deep Overhead Foreground".split()
)


@dataclass(frozen=True)
class Sketch:
    """The plan of one stand-in picture."""

    key: str  # every word it was read from: the seed of its details
    palette: tuple[str, ...]  # colour names, as written
    size: str  # a shot size (SIZES), the framing
    composition: str = ""  # lowercase words: horizon, window, corridor, overhead…
    figures: tuple[str, ...] = ()  # who is in frame, in the order named
    caption: str = ""  # drawn in a band under the picture when not empty
    label: str = ""  # a shot's number and size, drawn in a corner
    movement: str = ""  # a shot's camera move, drawn as arrows

    def colours(self) -> list[RGB]:
        """The palette as colours (a default palette when it names none)."""
        return [colour(name) for name in (self.palette or _DEFAULT_PALETTE)]

    def seed(self) -> int:
        return int.from_bytes(hashlib.sha256(self.key.encode("utf-8")).digest()[:8], "big")


def colour(name: str) -> RGB:
    """A colour for a palette entry: its colour words mixed (the qualifiers weigh most),
    lightened or darkened by its adjectives; a name with no colour word gets a hue from its
    letters."""
    words = [w for w in re.split(r"[^a-z]+", name.lower()) if w]
    found: list[RGB] = []
    for word in words:
        rgb = _WORDS.get(word) or _WORDS.get(word.rstrip("s")) or _css(word)
        if rgb is not None:
            found.append(rgb)
    if found:
        weights = [2.0] * (len(found) - 1) + [1.0]  # "ice blue": a blue, mostly ice
        total = sum(weights)
        mixed = [
            sum(c[i] * w for c, w in zip(found, weights, strict=True)) / total for i in (0, 1, 2)
        ]
    else:
        digest = hashlib.sha256(name.strip().lower().encode("utf-8")).digest()
        r, g, b = colorsys.hsv_to_rgb(
            digest[0] / 255, 0.35 + digest[1] / 900, 0.45 + digest[2] / 900
        )
        mixed = [r * 255, g * 255, b * 255]
    if _LIGHTER & set(words):
        mixed = [c + (255 - c) * 0.35 for c in mixed]
    if _DARKER & set(words):
        mixed = [c * 0.6 for c in mixed]
    return (round(mixed[0]), round(mixed[1]), round(mixed[2]))


def luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


class Roles:
    """The palette's colours given jobs: the lightest is sky, the darkest the figures."""

    def __init__(self, colours: list[RGB]) -> None:
        ordered = sorted(colours, key=luma)
        self.all = colours
        self.dark = ordered[0]
        self.light = ordered[-1]
        self.sky = ordered[-1] if len(ordered) > 1 else mix(ordered[0], (255, 255, 255), 0.6)
        self.ground = (
            ordered[len(ordered) // 2] if len(ordered) > 2 else mix(self.sky, self.dark, 0.5)
        )
        self.far = ordered[1] if len(ordered) > 3 else mix(self.ground, self.dark, 0.3)
        rest = [c for c in colours if c not in (self.sky, self.dark)] or colours
        self.accent = max(rest, key=lambda c: max(c) - min(c))
        self.ink = self.dark if luma(self.light) - luma(self.dark) > 90 else (16, 16, 16)
        self.paper = self.light if luma(self.light) - luma(self.dark) > 90 else (250, 250, 250)


def _css(word: str) -> RGB | None:
    """A CSS colour name (Pillow's table), read only when Pillow is there."""
    try:
        from PIL import ImageColor
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None
    value = ImageColor.colormap.get(word)
    if not isinstance(value, str) or not value.startswith("#") or len(value) != 7:
        return None
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))


def in_frame(text: str, cast: Iterable[str]) -> tuple[str, ...]:
    """The cast members `text` names (by full name or first name), in the order it names them."""
    found: list[tuple[int, str]] = []
    for name in dict.fromkeys(n.strip() for n in cast if n.strip()):
        first = name.split()[0]
        pattern = rf"(?<![\w]){re.escape(name)}(?![\w])|(?<![\w]){re.escape(first)}(?![\w])"
        match = re.search(pattern, text, flags=re.IGNORECASE)
        if match is not None:
            found.append((match.start(), name))
    return tuple(name for _, name in sorted(found))


def _size(text: str) -> str:
    """The framing a composition implies, when it has no shot size."""
    words = text.lower()
    if any(w in words for w in ("hands", "object", "tight on", "detail")):
        return "INSERT"
    if "two figures" in words or "split by" in words:
        return "TWO-SHOT"
    if any(w in words for w in ("close", "face")):
        return "CU"
    if any(w in words for w in ("small", "far away", "horizon", "overhead", "landscape", "vast")):
        return "WS"
    return "MS"


def shot_size(size: str) -> str:
    """A shot list's size as one of SIZES ('wide' is WS, 'close-up' CU…); MS when unknown."""
    token = re.sub(r"[^A-Z]+", "-", size.upper()).strip("-")
    if token in SIZES:
        return token
    if token in ("TWO", "2-SHOT", "TWO-S"):
        return "TWO-SHOT"
    aliases = {
        "EXTREME-WIDE": "EWS",
        "ELS": "EWS",
        "WIDE": "WS",
        "LS": "WS",
        "LONG": "WS",
        "MEDIUM": "MS",
        "MID": "MS",
        "MEDIUM-CLOSE": "MCU",
        "CLOSE": "CU",
        "CLOSE-UP": "CU",
        "EXTREME-CLOSE": "ECU",
        "OVER-THE-SHOULDER": "OTS",
        "CUTAWAY": "INSERT",
    }
    for alias, value in aliases.items():
        if token.startswith(alias):
            return value
    return "MS"


def from_brief(brief: IllustrationBrief, cast: Sequence[str], *, captioned: bool = True) -> Sketch:
    """An illustration brief's picture; `captioned` draws its caption under it."""
    subject = " ".join(brief.subject.split())
    composition = " ".join(brief.composition.split())
    key = "\n".join(
        [brief.title, subject, composition, *brief.palette, brief.lighting, brief.caption]
    )
    return Sketch(
        key=key,
        palette=tuple(p for p in brief.palette if p.strip())[:6],
        size=_size(f"{composition} {subject}"),
        composition=f"{composition} {brief.lighting}".lower(),
        figures=in_frame(f"{subject} {composition}", cast)[:4],
        caption=" ".join(brief.caption.split()) if captioned else "",
    )


def from_shot(shot: Shot, cast: Sequence[str], palette: Sequence[str], label: str = "") -> Sketch:
    """One shot's frame for a storyboard, in the production's palette."""
    size = shot_size(shot.size)
    description = " ".join(shot.description.split())
    figures = in_frame(description, cast)[:4]
    if size == "INSERT" or description.lower().startswith("hands"):
        size, figures = "INSERT", ()
    words = f"{shot.angle} {description}".lower()
    key = "\n".join([label or f"{shot.scene}{shot.shot}", shot.size, shot.movement, words])
    return Sketch(
        key=key,
        palette=tuple(p for p in palette if p.strip())[:6],
        size=size,
        composition=words,
        figures=figures,
        label=label or f"{shot.scene}{shot.shot} {shot.size}".strip(),
        movement=shot.movement.lower(),
    )


def from_prompt(prompt: str) -> Sketch:
    """A picture for an image prompt in plain words (what the rehearsal model is sent).

    Its colours are the colour phrases it uses (a `Palette:` line when it has one); who is in
    frame, the names of an `In frame:` line (podium's image prompts have one), else the
    capitalised names that do not start a sentence. What it draws is read from the lines
    before the production's look (a `Palette:`, `Lighting:`, `Look book:`… line).
    """
    text = prompt.strip()
    palette: list[str] = []
    named: list[str] | None = None
    scene: list[str] = []
    look = False
    for line in text.splitlines():
        head = line.split(":", 1)[0].strip().lower()
        if head == "palette":
            palette = [p.strip() for p in line.split(":", 1)[1].split(",") if p.strip()]
        elif head == "in frame":
            named = [n.strip() for n in line.split(":", 1)[1].split(",") if n.strip()]
        look = look or head in _LOOK_LINES or head.startswith("character ")
        if not look:
            scene.append(line)
    words = "\n".join(scene) or text
    if not palette:
        palette = list(_colour_phrases(text))
    return Sketch(
        key=text,
        palette=tuple(palette[:5]),
        size=_size(words),
        composition=words.lower(),
        figures=tuple(named[:4]) if named is not None else _names(words)[:4],
    )


# The lines of an image prompt that give the production's look rather than the picture.
_LOOK_LINES = frozenset(
    {"in frame", "palette", "lighting", "camera", "references", "style notes", "look book"}
)


def _colour_phrases(text: str) -> Iterable[str]:
    """'... falling to blue ... lamp-oil amber ...' → blue, lamp-oil amber (once each)."""
    seen: set[str] = set()
    tokens = re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", text)
    for i, token in enumerate(tokens):
        last = token.lower().split("-")[-1]
        if last not in _WORDS or last in ("lamp", "glass", "sea", "sky", "earth", "fire", "night"):
            continue
        before = tokens[i - 1].lower() if i else ""
        phrase = (
            f"{before} {token.lower()}" if before in _WORDS or before in _LIGHTER else token.lower()
        )
        if phrase not in seen:
            seen.add(phrase)
            yield phrase


def _names(text: str) -> tuple[str, ...]:
    names: list[str] = []
    for sentence in re.split(r"(?:[.!?]\s+|\n)", text):
        words = re.findall(r"[A-Za-z][\w'-]*", sentence)
        for word in words[1:]:
            name = word.removesuffix("'s")
            if name[:1].isupper() and name not in _NOT_NAMES and name.title() not in names:
                names.append(name.title())
    return tuple(names)
