"""`report.json` and `report.md`: the production's figures, recounted from what was exported.

Every figure is computed here from the deliverables, never taken from what an agent said: the
script's length from its printed pages (`pagination`; a page a minute, each scene in eighths of
a page as a script supervisor counts them), the cut's length as the sum of its edit items,
shot references and cue times against the shot list and the cut, who is on the printed page of
each scene (character cues, and the production's characters named in printed action; never
synopses or notes), and the style guide's rules that can be counted. Each figure stands beside
the format's target where the production states one: a field of the production file, or a
length written as data in its brief or distribution line ("a twelve-minute short film",
"twelve 28-minute episodes", "about 3,000 words"), quoted so a reader can check it. Where no
target is stated, the figure is reported without one and the report says so.

The JSON is the one source: the Markdown is rendered from it alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podium.domain.artifacts import CueSheet, EditPlan, Prose, ShotList
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.domain.validators import CharacterPresence, count_words
from podium.export.fountain import Kind
from podium.export.manuscript import parsed
from podium.export.pagination import LINES_PER_PAGE, Paginated, pages_text
from podium.export.report_text import to_json, to_markdown
from podium.export.screenplay import SCREEN_KINDS, ScreenplayFile
from podium.export.sources import ExportSource, number, one_line

Json = dict[str, Any]

__all__ = ["Target", "report", "runtime_target", "timecode", "to_json", "to_markdown"]


_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS |= {"thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60}
_QUANTITY = r"(\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_MINUTES = re.compile(rf"\b{_QUANTITY}[- ]minutes?\b", re.IGNORECASE)
_WORDS = re.compile(rf"\babout {_QUANTITY} words\b", re.IGNORECASE)
_HANDHELD = re.compile(rf"\b(no|{_QUANTITY})\s+handheld\s+shots?\b", re.IGNORECASE)
_SCORE_ENTERS = re.compile(r"\benters\s+(?:only\s+)?(?:in|at)\s+scene\s+(\d+)", re.IGNORECASE)
_SCORE_LEAVES = re.compile(r"\bleaves\s+before\s+the\s+last\s+shot\b", re.IGNORECASE)
_EXTENSION = re.compile(r"\s*\([^()]*\)\s*$")
FRAMES_PER_SECOND = 24  # a timecode's fourth field, when a cue gives one


def _quantity(text: str) -> float | None:
    text = text.lower().replace(",", "")
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    try:
        return float(text)
    except ValueError:
        return None


def _sentence(text: str, match: re.Match[str]) -> str:
    """The sentence of `text` that holds the match, on one line: the rule as the guide says it."""
    start = max(text.rfind(". ", 0, match.start()) + 2, 0) if ". " in text[: match.start()] else 0
    end = text.find(".", match.end())
    return one_line(text[start : end + 1 if end >= 0 else len(text)])


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


def _round(value: float) -> float:
    return round(value, 3)


# -- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    value: float
    source: str  # where it was read, quoted

    def json(self) -> Json:
        return {"value": self.value, "source": self.source}


def _stated(source: ExportSource, pattern: re.Pattern[str]) -> Target | None:
    spec = source.view.spec
    if spec is None:
        return None
    vision = source.view.vision or spec.vision
    for where, text in (
        ("the production brief", spec.production.brief),
        ("the vision's distribution", vision.distribution),
    ):
        match = pattern.search(text)
        value = _quantity(match.group(1)) if match else None
        if match and value:
            return Target(value, f"{where}: “{one_line(match.group(0))}”")
    return None


def runtime_target(source: ExportSource) -> Target | None:
    """Minutes of the film, or of each episode of a series, as the production states them;
    None for a story (its minutes are reading time, not a screen runtime)."""
    if source.format is None or not source.format.screenplay:
        return None
    return _stated(source, _MINUTES)


# -- the script ------------------------------------------------------------------------------


def _name(cue: str) -> str:
    name = cue
    while (stripped := _EXTENSION.sub("", name)) != name:
        name = stripped
    return name.strip().upper()


def _characters(source: ExportSource) -> list[str]:
    spec = source.view.spec
    vision = source.view.vision or (spec.vision if spec else None)
    return [one_line(c.name) for c in vision.characters] if vision else []


def _on_page(laid: Paginated, known: Sequence[str]) -> dict[int, list[str]]:
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
                cue = _name(line.text)
                for part in re.split(r"\s*(?:&|\band\b|/)\s*", cue) if cue else []:
                    shown = by_upper.get(part, part)
                    if shown and shown not in names:
                        names.append(shown)
            elif line.kind is Kind.ACTION:
                for name, pattern in patterns.items():
                    if name not in names and pattern.search(line.text):
                        names.append(name)
    return found


def _script_figures(
    play: ScreenplayFile, laid: Paginated, known: Sequence[str], target: Target | None
) -> Json:
    present = _on_page(laid, known)
    scenes = []
    for i, extent in enumerate(laid.scenes):
        slot = play.slots[i] if i < len(play.slots) else None
        scenes.append(
            {
                "scene": extent.number,
                "planned_scene": slot.number if slot else None,
                "heading": extent.heading,
                "pages": list(extent.pages),
                "eighths": extent.eighths,
                "length": pages_text(extent.eighths),
                "on_page": present.get(extent.number, []),
            }
        )
    minutes = float(laid.minutes)
    figures: Json = {
        "file": f"{play.stem}.pdf",
        "episode": play.episode,
        "pages": laid.page_count,
        "lines_per_page": laid.lines_per_page,
        "eighths": laid.eighths,
        "length": pages_text(laid.eighths),
        "runtime_minutes": _round(minutes),
        "scenes": scenes,
    }
    figures |= _against(minutes, target)
    return figures


def _against(minutes: float, target: Target | None) -> Json:
    if target is None:
        return {"target_minutes": None}
    return {
        "target_minutes": target.value,
        "difference_minutes": _round(minutes - target.value),
        "share_of_target": _round(minutes / target.value),
    }


# -- shots, cut, cues --------------------------------------------------------------------------


def _by_episode(source: ExportSource, kind: TaskKind) -> dict[int | None, list[Any]]:
    series = source.format is Format.SERIES
    found: dict[int | None, list[Any]] = {}
    for record in source.plan():
        if record.spec.kind is not kind:
            continue
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        if content is not None:
            episode = number(record.spec.params.get("episode")) if series else None
            found.setdefault(episode, []).append(content)
    return found


def _cut_figures(
    episode: int | None,
    plans: list[EditPlan],
    shots: list[ShotList] | None,
    target: Target | None,
) -> Json:
    items = [item for plan in plans for item in plan.sequence]
    known = {(s.scene, s.shot.strip().upper()): s for sl in shots or [] for s in sl.shots}
    seconds = sum(item.duration_s for item in items)
    missing: list[str] = []
    longer: list[Json] = []
    for item in items:
        key = (item.scene, item.shot.strip().upper())
        label = f"{item.scene}{one_line(item.shot)}"
        shot = known.get(key)
        if shots is None:
            continue
        if shot is None:
            if label not in missing:
                missing.append(label)
        elif item.duration_s > shot.duration_s:
            longer.append({"shot": label, "item_s": item.duration_s, "shot_s": shot.duration_s})
    figures: Json = {
        "episode": episode,
        "items": len(items),
        "seconds": _round(seconds),
        "minutes": _round(seconds / 60),
        "shot_list": shots is not None,
        "missing_shots": missing,
        "longer_than_shot": longer,
    }
    return figures | _against(seconds / 60, target)


def _cue_figures(
    episode: int | None,
    sheets: list[CueSheet],
    cut_seconds: float | None,
    last_shot_start: float | None,
    style_music: str,
) -> Json:
    cues: list[Json] = []
    for sheet in sheets:
        for cue in sheet.cues:
            start = timecode(cue.start)
            end = _round(start + cue.duration_s) if start is not None else None
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
    figures: Json = {
        "episode": episode,
        "cues": cues,
        "cut_seconds": cut_seconds,
        "last_end_s": max(ends) if ends else None,
        "outside_cut": [c["cue"] for c in cues if c["inside_cut"] is False],
        "unreadable_start": [c["cue"] for c in cues if c["start_s"] is None],
        "first_scene": min(scenes) if scenes else None,
    }
    rules: list[Json] = []
    if match := _SCORE_ENTERS.search(style_music):
        wanted = int(match.group(1))
        early = [c["cue"] for c in cues if c["scene"] is not None and c["scene"] < wanted]
        rules.append(
            {
                "rule": _sentence(style_music, match),
                "measure": "scene the score enters",
                "expected": wanted,
                "counted": figures["first_scene"],
                "offending": early,
                "holds": not early,
            }
        )
    if (match := _SCORE_LEAVES.search(style_music)) and last_shot_start is not None and ends:
        late = [c["cue"] for c in cues if c["end_s"] is not None and c["end_s"] > last_shot_start]
        rules.append(
            {
                "rule": _sentence(style_music, match),
                "measure": "seconds the last cue ends after the last shot starts",
                "expected": 0,
                "counted": _round(max(0.0, max(ends) - last_shot_start)),
                "offending": late,
                "holds": not late,
            }
        )
    figures["rules"] = rules
    return figures


def _handheld(source: ExportSource, shots: dict[int | None, list[ShotList]]) -> Json | None:
    spec = source.view.spec
    camera = spec.style.camera if spec else ""
    match = _HANDHELD.search(camera)
    if match is None:
        return None
    limit = 0 if match.group(1).lower() == "no" else _quantity(match.group(2) or "")
    offending = [
        f"{'' if ep is None else f'ep{ep} '}{s.scene}{one_line(s.shot)}"
        for ep, lists in shots.items()
        for sl in lists
        for s in sl.shots
        if "handheld" in s.movement.lower() or "hand-held" in s.movement.lower()
    ]
    return {
        "rule": _sentence(camera, match),
        "measure": "handheld shots in the shot list (movement column)",
        "expected": limit,
        "counted": len(offending),
        "offending": offending,
        "holds": limit is not None and len(offending) <= limit,
    }


# -- presence rules --------------------------------------------------------------------------


def _presence(
    source: ExportSource, laid: dict[int | None, tuple[ScreenplayFile, Paginated]]
) -> list[Json]:
    spec = source.view.spec
    if spec is None:
        return []
    known = _characters(source)
    out: list[Json] = []
    for rule in spec.validators:
        if not isinstance(rule, CharacterPresence):
            continue
        for record in source.plan():
            task = record.spec
            if task.kind not in SCREEN_KINDS or not rule.applies_to(task):
                continue
            episode = number(task.params.get("episode")) if source.format is Format.SERIES else None
            if episode not in laid:
                continue
            play, pages = laid[episode]
            wanted_scene = number(task.params.get("scene"))
            printed = [
                i + 1
                for i, slot in enumerate(play.slots)
                if (wanted_scene is not None and slot.number == wanted_scene)
                or (wanted_scene is None and task.kind is not TaskKind.SCENE)
            ]
            present = _on_page(pages, known)
            seen = {name.upper() for scene in printed for name in present.get(scene, [])}
            missing = [c for c in rule.characters if c.upper() not in seen]
            out.append(
                {
                    "rule": rule.id or "character_presence",
                    "task": task.id,
                    "file": f"{play.stem}.pdf",
                    "scenes": printed,
                    "required": list(rule.characters),
                    "missing": missing,
                    "holds": bool(printed) and not missing,
                }
            )
    return out


# -- stories ---------------------------------------------------------------------------------


def _story(source: ExportSource) -> Json:
    spec = source.view.spec
    chapters: list[Json] = []
    for record in source.plan():
        if record.spec.kind is not TaskKind.CHAPTER:
            continue
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        if isinstance(content, Prose):
            chapters.append(
                {
                    "chapter": number(record.spec.params.get("chapter")),
                    "title": one_line(content.title),
                    "words": count_words(content.text),
                }
            )
    words = sum(c["words"] for c in chapters)
    target_words = _stated(source, _WORDS)
    target = spec.production.chapters if spec else None
    return {
        "chapters": chapters,
        "chapter_count": len(chapters),
        "target_chapters": target,
        "words": words,
        "target_words": target_words.json() if target_words else None,
    }


# -- the report ------------------------------------------------------------------------------


def report(source: ExportSource, plays: Sequence[tuple[ScreenplayFile, Paginated]]) -> Json:
    """Every figure of the production, as data (see the module's docstring)."""
    spec = source.view.spec
    fmt = source.format
    target = runtime_target(source) if fmt is not None and fmt.screenplay else None
    notes: list[str] = []
    if fmt is not None and fmt.screenplay and target is None:
        notes.append(
            "No runtime is stated in the production file (no field, and no length such as "
            "“twelve-minute” in its brief or distribution), so figures have no target."
        )
    known = _characters(source)
    data: Json = {
        "title": source.title,
        "format": fmt.value if fmt else None,
        "method": {
            "lines_per_page": LINES_PER_PAGE,
            "minutes_per_page": 1,
            "eighths": "each scene's lines on each page, rounded to the nearest eighth of a "
            "page, at least one eighth",
        },
        "target": (
            {"runtime_minutes": target.value, "per": "episode" if fmt is Format.SERIES else "film"}
            | {"source": target.source}
            if target
            else None
        ),
    }
    if fmt is Format.ILLUSTRATED_STORY:
        data["story"] = _story(source)
        if data["story"]["target_words"] is None:
            notes.append("No word count is stated as data in the production file.")
    data["scripts"] = [_script_figures(play, laid, known, target) for play, laid in plays]
    shots = _by_episode(source, TaskKind.SHOT_LIST)
    plans = _by_episode(source, TaskKind.EDIT)
    sheets = _by_episode(source, TaskKind.MUSIC_CUES)
    cuts = []
    cue_figures = []
    music = spec.style.music if spec else ""
    for episode in sorted(set(plans) | set(sheets), key=lambda e: (e is not None, e or 0)):
        plan = plans.get(episode, [])
        cut_seconds = None
        last_start = None
        if plan:
            cut = _cut_figures(episode, plan, shots.get(episode), target)
            cuts.append(cut)
            cut_seconds = cut["seconds"]
            items = [i for p in plan for i in p.sequence]
            last_start = _round(cut_seconds - items[-1].duration_s) if items else None
        if episode in sheets:
            cue_figures.append(
                _cue_figures(episode, sheets[episode], cut_seconds, last_start, music)
            )
    data["cut"] = cuts
    data["cues"] = cue_figures
    style: list[Json] = []
    if (handheld := _handheld(source, shots)) is not None:
        style.append(handheld)
    style += [rule | {"episode": c["episode"]} for c in cue_figures for rule in c["rules"]]
    data["style_rules"] = style
    data["presence"] = _presence(source, {p.episode: (p, laid) for p, laid in plays})
    data["notes"] = notes
    return data
