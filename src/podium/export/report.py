"""`report.json` and `report.md`: the production's figures, recounted from what was exported.

Every figure is computed from the deliverables, never taken from what an agent said, by
`podium.deliverables.figures` (the functions the engine's checks use while the production runs):
the script's length from its printed pages (`pagination`; a page a minute, each scene in eighths
of a page as a script supervisor counts them), the cut's length as the sum of its edit items,
shot references and cue times against the shot list and the cut, and who is on the printed page
of each scene (character cues, and the production's characters named in printed action; never
synopses or notes).

Each figure stands beside the production's targets. The rules its file declares over the
assembled deliverables (runtime, pages, shot_references, cue_bounds, count) are held as
`podium.deliverables.checks` holds them, so the report says what the engine said. A length
written as data in the brief or distribution line ("a twelve-minute short film", "twelve
28-minute episodes", "about 3,000 words") is quoted as the target a reader can check. The style
guide's prose is read (`_style_guide`) only for what no declared rule counts: handheld shots,
the scene the score enters in, a score that leaves before the last shot. Where no target is
stated, the figure is reported without one and the report says so.

The JSON is the one source: the Markdown is rendered from it alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podium.deliverables import figures
from podium.deliverables.checks import (
    Assembled,
    Measure,
    assemble_all,
    characters,
    episode_of,
    held,
    printed_scenes,
)
from podium.deliverables.figures import rounded, timecode
from podium.domain.artifacts import Prose
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.domain.validators import (
    CharacterPresence,
    Count,
    CueBounds,
    PageRange,
    RuntimeRange,
    ShotReferences,
    ValidatorSpec,
    count_words,
)
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


def _against(minutes: float, target: Target | None) -> Json:
    if target is None:
        return {"target_minutes": None}
    return {
        "target_minutes": target.value,
        "difference_minutes": rounded(minutes - target.value),
        "share_of_target": rounded(minutes / target.value),
    }


# -- the style guide's prose, for what no declared rule counts ---------------------------------

_HANDHELD = re.compile(rf"\b(no|{_QUANTITY})\s+handheld\s+shots?\b", re.IGNORECASE)
_SCORE_ENTERS = re.compile(r"\benters\s+(?:only\s+)?(?:in|at)\s+scene\s+(\d+)", re.IGNORECASE)
_SCORE_LEAVES = re.compile(r"\bleaves\s+before\s+the\s+last\s+shot\b", re.IGNORECASE)


def _style_guide(
    source: ExportSource, made: dict[int | None, Assembled], declared: Sequence[ValidatorSpec]
) -> list[Json]:
    """The countable sentences of the style guide (camera: "one handheld shot"; music: "enters
    in scene 5", "leaves before the last shot"), each only where no declared rule counts the
    same thing: a production file that declares them is read, not its prose."""
    spec = source.view.spec
    if spec is None:
        return []
    counts_handheld = any(isinstance(r, Count) and r.what == "handheld_shots" for r in declared)
    bounds = [r for r in declared if isinstance(r, CueBounds)]
    rules: list[Json] = []
    camera = spec.style.camera
    if not counts_handheld and (match := _HANDHELD.search(camera)) is not None:
        limit = 0 if match.group(1).lower() == "no" else _quantity(match.group(2) or "")
        offending = [
            figures.shot_label(shot, episode)
            for episode, assembled in made.items()
            for shot in figures.handheld(figures.all_shots(assembled.shots or []))
        ]
        rules.append(
            {
                "rule": _sentence(camera, match),
                "measure": "handheld shots in the shot list (movement column)",
                "expected": limit,
                "counted": len(offending),
                "offending": offending,
                "holds": limit is not None and len(offending) <= limit,
            }
        )
    music = spec.style.music
    enters = (
        None if any(r.enters_scene is not None for r in bounds) else _SCORE_ENTERS.search(music)
    )
    leaves = None if any(r.leaves_before_last_shot for r in bounds) else _SCORE_LEAVES.search(music)
    for episode, assembled in made.items():
        if not assembled.sheets:
            continue
        cut = figures.cut_figures(assembled.plans, assembled.shots) if assembled.plans else None
        cues = figures.cue_figures(assembled.sheets, cut["seconds"] if cut else None)
        if enters is not None:
            wanted = int(enters.group(1))
            early = figures.cues_before_scene(cues, wanted)
            rules.append(
                {
                    "rule": _sentence(music, enters),
                    "measure": "scene the score enters",
                    "expected": wanted,
                    "counted": cues["first_scene"],
                    "offending": early,
                    "holds": not early,
                    "episode": episode,
                }
            )
        last_shot = cut["last_shot_start"] if cut is not None else None
        if leaves is not None and last_shot is not None and cues["last_end_s"] is not None:
            late = figures.cues_after(cues, last_shot)
            rules.append(
                {
                    "rule": _sentence(music, leaves),
                    "measure": "seconds the last cue ends after the last shot starts",
                    "expected": 0,
                    "counted": rounded(max(0.0, cues["last_end_s"] - last_shot)),
                    "offending": late,
                    "holds": not late,
                    "episode": episode,
                }
            )
    return rules


# -- the script, the cut, the cues ---------------------------------------------------------------


def _ranges(measures: Sequence[Measure]) -> list[Json]:
    """The declared runtime and page ranges a script is held to."""
    return [
        {
            "rule": m.rule.id or m.rule.type,
            "unit": "minutes" if isinstance(m.rule, RuntimeRange) else "pages",
            "min": m.figures["min"],
            "max": m.figures["max"],
            "holds": m.holds,
        }
        for m in measures
        if isinstance(m.rule, RuntimeRange | PageRange)
    ]


def _script_figures(
    play: ScreenplayFile,
    laid: Paginated,
    present: dict[int, list[str]],
    target: Target | None,
    measures: Sequence[Measure],
) -> Json:
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
    found: Json = {
        "file": f"{play.stem}.pdf",
        "episode": play.episode,
        "pages": laid.page_count,
        "lines_per_page": laid.lines_per_page,
        "eighths": laid.eighths,
        "length": pages_text(laid.eighths),
        "runtime_minutes": rounded(minutes),
        "scenes": scenes,
    }
    return found | _against(minutes, target) | {"ranges": _ranges(measures)}


def _cut_figures(made: Assembled, target: Target | None, measures: Sequence[Measure]) -> Json:
    cut = figures.cut_figures(made.plans, made.shots)
    against = next(
        (
            {
                "rule": m.rule.id or m.rule.type,
                "tolerance": m.figures["tolerance"],
                "share_of_script": m.figures["share_of_script"],
                "holds": m.figures["within_tolerance"],
            }
            for m in measures
            if isinstance(m.rule, ShotReferences) and m.figures["within_tolerance"] is not None
        ),
        None,
    )
    return (
        {"episode": made.episode}
        | cut
        | _against(cut["seconds"] / 60, target)
        | {"against_script": against}
    )


def _cue_figures(made: Assembled, cut_seconds: float | None) -> Json:
    return {"episode": made.episode} | figures.cue_figures(made.sheets, cut_seconds)


# -- presence rules --------------------------------------------------------------------------


def _presence(
    source: ExportSource,
    made: dict[int | None, Assembled],
    present: dict[int | None, dict[int, list[str]]],
) -> list[Json]:
    spec = source.view.spec
    if spec is None:
        return []
    out: list[Json] = []
    for rule in spec.validators:
        if not isinstance(rule, CharacterPresence):
            continue
        for record in source.plan():
            task = record.spec
            if task.kind not in SCREEN_KINDS or not rule.applies_to(task):
                continue
            assembled = made.get(episode_of(source, task))
            if assembled is None or assembled.play is None:
                continue
            printed = printed_scenes(assembled.play, task)
            missing = figures.missing_from(present[assembled.episode], printed, rule.characters)
            out.append(
                {
                    "rule": rule.id or "character_presence",
                    "task": task.id,
                    "file": f"{assembled.play.stem}.pdf",
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
    made = assemble_all(source, plays)
    measures = held(source, made)
    notes: list[str] = []
    if (
        fmt is not None
        and fmt.screenplay
        and target is None
        and not any(isinstance(m.rule, RuntimeRange | PageRange) for m in measures)
    ):
        notes.append(
            "No runtime is stated in the production file (no runtime or pages rule, and no "
            "length such as “twelve-minute” in its brief or distribution), so figures have no "
            "target."
        )
    known = characters(source.view)
    present = {
        episode: figures.on_page(m.laid, known) if m.laid is not None else {}
        for episode, m in made.items()
    }
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

    def of(episode: int | None) -> list[Measure]:
        return [m for m in measures if m.episode == episode]

    data["scripts"] = [
        _script_figures(play, laid, present[play.episode], target, of(play.episode))
        for play, laid in plays
    ]
    cuts: list[Json] = []
    cues: list[Json] = []
    for episode, assembled in made.items():
        cut = _cut_figures(assembled, target, of(episode)) if assembled.plans else None
        if cut is not None:
            cuts.append(cut)
        if assembled.sheets:
            cues.append(_cue_figures(assembled, cut["seconds"] if cut else None))
    data["cut"] = cuts
    data["cues"] = cues
    data["rules"] = [m.json() for m in measures]
    data["style_rules"] = _style_guide(source, made, spec.validators if spec else [])
    data["presence"] = _presence(source, made, present)
    data["notes"] = notes
    return data
