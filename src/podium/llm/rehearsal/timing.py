"""How long a rehearsal film runs, and how its shots, cut and cues share that time.

A scene's screen time is the film's runtime (or the episode's) shared among its scenes, a page a
minute; the writer fills a scene to that many printed lines. The shot list, the cut and the cue
sheet are made from the same figures, drawn from what they all share (the production, the
episode, the scene) rather than from each call's own random stream: so the cut names only the
shot list's shots, no item runs longer than its shot, the cut adds up to the script's runtime,
and every cue lies inside the cut, whichever call writes which. Where the style guide says when
the score enters ("enters in scene 5") or leaves ("before the last shot"), the cues keep to it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from podium.domain.production import Format
from podium.llm.rehearsal.material import Material

LINES_PER_PAGE = 55  # a page a minute, as the paginator prints it
CUT_SHARE = 0.92  # of a shot's length the cut uses, on average
_DEFAULT_MINUTES = {Format.SHORT_FILM: 12.0, Format.SERIES: 28.0, Format.FEATURE: 100.0}
_NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
_WORDS = {
    w: n for n, w in enumerate("zero one two three four five six seven eight nine ten".split())
}
_ENTERS = re.compile(r"\benters\s+(?:only\s+)?(?:in|at)\s+scene\s+(\d+)", re.IGNORECASE)
_LEAVES = re.compile(r"\bleaves\s+before\s+the\s+last\s+shot\b", re.IGNORECASE)
_HANDHELD = re.compile(rf"\b(no|{_NUMBER})\s+handheld\s+shots?\b[^:.]*(?::\s*([^.]+))?", re.I)


def _draw(*key: object) -> float:
    """A number in [0, 1) from what the calls share: the same for the same key, in any call."""
    text = "\x00".join(str(k) for k in key).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") / 2**64


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def runtime_minutes(m: Material) -> float | None:
    """The film's (or an episode's) runtime to aim at: the task's `runtime_min`, the middle of
    the production's runtime rule, else the format's usual length; None for a story."""
    if (own := _number(m.hints.get("runtime_min"))) is not None:
        return own
    span = m.hints.get("runtime_minutes")
    if isinstance(span, list | tuple) and len(span) == 2:
        low, high = _number(span[0]), _number(span[1])
        if low is not None and high is not None:
            return (low + high) / 2
        if low is not None or high is not None:
            return low if low is not None else high
    return _DEFAULT_MINUTES.get(m.format) if m.format is not None else None


def scene_seconds(m: Material, scenes: int) -> float:
    """One scene's screen time: the runtime shared by the film's (or episode's) scenes."""
    minutes = runtime_minutes(m) or 12.0
    return minutes * 60 / max(1, scenes)


def scene_lines(m: Material, scenes: int) -> int:
    """Printed lines a scene fills for its share of the runtime (a page a minute)."""
    return round(scene_seconds(m, scenes) / 60 * LINES_PER_PAGE)


@dataclass(frozen=True)
class Planned:
    scene: int
    shot: str
    shot_s: float  # the shot as listed
    cut_s: float  # what the cut uses of it: never more than the shot


def coverage(m: Material, scene: int, seconds: float) -> list[Planned]:
    """The shots that cover one scene of `seconds` on screen, and what the cut uses of each."""
    key = (m.production_title(), m.episode or 0, scene)
    count = max(2, min(12, round(seconds / 14 + 2 * _draw(*key, "count") - 1)))
    weights = [0.6 + _draw(*key, "weight", i) for i in range(count)]
    total = sum(weights)
    shots: list[Planned] = []
    for i, weight in enumerate(weights):
        cut = max(1.0, round(seconds * weight / total, 1))
        share = CUT_SHARE + (1 - CUT_SHARE) * (2 * _draw(*key, "share", i) - 1)
        listed = max(cut, round(cut / min(1.0, share) + 0.05, 1))
        shots.append(Planned(scene, _letter(i), listed, cut))
    return shots


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def score_enters(m: Material) -> int | None:
    """The scene the score enters in, as the style guide says it."""
    found = _ENTERS.search(m.music)
    return int(found.group(1)) if found else None


def score_leaves_early(m: Material) -> bool:
    return _LEAVES.search(m.music) is not None


def handheld_allowed(m: Material) -> tuple[int | None, str]:
    """How many handheld shots the style guide allows (None: it does not say) and where."""
    found = _HANDHELD.search(m.camera)
    if found is None:
        return None, ""
    word = found.group(1).lower()
    count = 0 if word == "no" else _WORDS.get(word, int(word) if word.isdigit() else 0)
    return count, (found.group(3) or "").strip()
