"""Figures recounted from the deliverables: pure functions over the paginated script, the shot
list, the cut and the cue sheet. `podium.export.report` prints them; `podium.deliverables.checks`
holds them against the production file's validators, while the production runs.

Nothing here trusts what an agent said: runtime is the printed script a page a minute, the cut
is the sum of its items, a cue's end is its start plus its duration, and who is in a scene is
who speaks or is named in its printed action.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from podium.domain.artifacts import CueSheet, EditItem, EditPlan, Shot, ShotList
from podium.export.fountain import Kind
from podium.export.pagination import Paginated
from podium.export.sources import one_line

Json = dict[str, Any]

FRAMES_PER_SECOND = 24  # a timecode's fourth field, when a cue gives one
_EXTENSION = re.compile(r"\s*\([^()]*\)\s*$")
_HANDHELD_MOVES = ("handheld", "hand-held")


def rounded(value: float) -> float:
    return round(value, 3)


def clock(seconds: float) -> str:
    """`M:SS` of a number of seconds, to the nearest second, a half rounding up (rounded to a
    microsecond first: minutes × 60 in floating point is not exact)."""
    whole = int(round(max(seconds, 0.0), 6) + 0.5)
    return f"{whole // 60}:{whole % 60:02d}"


def timecode(text: str) -> float | None:
    """Seconds from `HH:MM:SS`, `MM:SS`, `HH:MM:SS:FF` (24 fps) or a plain number; else None."""
    parts = text.strip().split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    if not values or any(v < 0 for v in values) or len(values) > 4:
        return None
    frames = values.pop() / FRAMES_PER_SECOND if len(values) == 4 else 0.0
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return round(seconds + frames, 3)


# -- who is on the printed page ----------------------------------------------------------------


def cue_name(cue: str) -> str:
    """`ELIAS (V.O.) (CONT'D)` → `ELIAS`."""
    name = cue
    while (stripped := _EXTENSION.sub("", name)) != name:
        name = stripped
    return name.strip().upper()


def on_page(laid: Paginated, known: Sequence[str]) -> dict[int, list[str]]:
    """Per printed scene: who speaks (cues) or is named in printed action, in order of first
    appearance; a production character is named as the production file names them."""
    by_upper = {name.upper(): name for name in known}
    patterns = {
        name: re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])", re.IGNORECASE) for name in known
    }
    found: dict[int, list[str]] = {}
    for page in laid.pages:
        for line in page.lines:
            if line.scene is None:
                continue
            names = found.setdefault(line.scene, [])
            if line.kind is Kind.CHARACTER:
                cue = cue_name(line.text)
                for part in re.split(r"\s*(?:&|\band\b|/)\s*", cue) if cue else []:
                    shown = by_upper.get(part, part)
                    if shown and shown not in names:
                        names.append(shown)
            elif line.kind is Kind.ACTION:
                for name, pattern in patterns.items():
                    if name not in names and pattern.search(line.text):
                        names.append(name)
    return found


def missing_from(
    present: dict[int, list[str]], scenes: Iterable[int], required: Sequence[str]
) -> list[str]:
    """The required characters nobody sees in any of these printed scenes."""
    seen = {name.upper() for scene in scenes for name in present.get(scene, [])}
    return [c for c in required if c.upper() not in seen]


# -- shots and the cut -------------------------------------------------------------------------


def _key(scene: int, shot: str) -> tuple[int, str]:
    return scene, shot.strip().upper()


def cut_items(plans: Sequence[EditPlan]) -> list[EditItem]:
    return [item for plan in plans for item in plan.sequence]


def all_shots(lists: Sequence[ShotList]) -> list[Shot]:
    return [shot for sl in lists for shot in sl.shots]


def cut_figures(plans: Sequence[EditPlan], shots: Sequence[ShotList] | None) -> Json:
    """The cut's length (the sum of its items), and its items against the shot list: the shots
    it names that the list lacks, and the items that run longer than their shot."""
    items = cut_items(plans)
    known = {_key(s.scene, s.shot): s for s in all_shots(shots or [])}
    seconds = sum(item.duration_s for item in items)
    missing: list[str] = []
    longer: list[Json] = []
    for item in items:
        label = f"{item.scene}{one_line(item.shot)}"
        shot = known.get(_key(item.scene, item.shot))
        if shots is None:
            continue
        if shot is None:
            if label not in missing:
                missing.append(label)
        elif item.duration_s > shot.duration_s:
            longer.append({"shot": label, "item_s": item.duration_s, "shot_s": shot.duration_s})
    return {
        "items": len(items),
        "seconds": rounded(seconds),
        "minutes": rounded(seconds / 60),
        "shot_list": shots is not None,
        "missing_shots": missing,
        "longer_than_shot": longer,
        "last_shot_start": rounded(seconds - items[-1].duration_s) if items else None,
    }


def handheld(shots: Iterable[Shot]) -> list[Shot]:
    """The shots whose movement column says handheld."""
    return [s for s in shots if any(w in s.movement.lower() for w in _HANDHELD_MOVES)]


def shot_label(shot: Shot, episode: int | None = None) -> str:
    return f"{'' if episode is None else f'ep{episode} '}{shot.scene}{one_line(shot.shot)}"


# -- music cues --------------------------------------------------------------------------------


def cue_figures(sheets: Sequence[CueSheet], cut_seconds: float | None) -> Json:
    """Each cue's start and end in seconds (start + duration) and whether it lies inside the
    cut; the last end, the cues outside the cut or with no readable start, the first scene."""
    cues: list[Json] = []
    for sheet in sheets:
        for cue in sheet.cues:
            start = timecode(cue.start)
            end = rounded(start + cue.duration_s) if start is not None else None
            inside = None
            if cut_seconds is not None and start is not None and end is not None:
                inside = end <= cut_seconds + 1e-9
            cues.append(
                {
                    "cue": one_line(cue.cue_id),
                    "scene": cue.scene,
                    "start": one_line(cue.start),
                    "start_s": start,
                    "end_s": end,
                    "inside_cut": inside,
                }
            )
    ends = [c["end_s"] for c in cues if c["end_s"] is not None]
    scenes = [c["scene"] for c in cues if c["scene"] is not None]
    return {
        "cues": cues,
        "cut_seconds": cut_seconds,
        "last_end_s": max(ends) if ends else None,
        "outside_cut": [c["cue"] for c in cues if c["inside_cut"] is False],
        "unreadable_start": [c["cue"] for c in cues if c["start_s"] is None],
        "first_scene": min(scenes) if scenes else None,
    }


def cues_before_scene(figures: Json, scene: int) -> list[str]:
    """The cues (of `cue_figures`) in a scene earlier than the one the score enters in."""
    return [c["cue"] for c in figures["cues"] if c["scene"] is not None and c["scene"] < scene]


def cues_after(figures: Json, seconds: float) -> list[str]:
    """The cues (of `cue_figures`) that end after this time (the last shot's start)."""
    return [c["cue"] for c in figures["cues"] if c["end_s"] is not None and c["end_s"] > seconds]
