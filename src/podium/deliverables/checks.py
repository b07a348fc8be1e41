"""The production file's rules over the assembled deliverables, checked while the production
runs: runtime and page ranges on the paginated script, the cut against the shot list, the cues
against the cut, counted style rules, and who is on the printed page.

`check_deliverables` assembles the film (or the task's episode) from the current versions, with
the version just delivered standing for its task, and recomputes every figure with
`podium.deliverables.figures`, the functions the export's report prints. A rule whose
deliverables do not exist yet (no cut before the edit) has nothing to hold and passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from podium.deliverables import figures
from podium.domain.artifacts import Artifact, CueSheet, EditPlan, ShotList
from podium.domain.base import whole_number
from podium.domain.production import Format
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind, TaskSpec
from podium.domain.validators import (
    DELIVERABLE_RULES,
    CharacterPresence,
    Count,
    CueBounds,
    Finding,
    PageRange,
    RuntimeRange,
    ShotReferences,
    ValidatorSpec,
)
from podium.export.manuscript import parsed
from podium.export.pagination import Paginated, pages_text, paginate
from podium.export.screenplay import SCREEN_KINDS, ScreenplayFile, screenplays
from podium.export.sources import ExportSource, number, one_line

_LISTED = 8  # offending items named in a finding; the rest are counted


@dataclass
class _Source(ExportSource):
    """The production as exported, with a just-delivered version standing for its task."""

    standing: dict[str, Artifact] = field(default_factory=dict)

    def current(self, record: TaskRecord) -> Artifact | None:
        return self.standing.get(record.spec.id) or super().current(record)


def by_episode(source: ExportSource, kind: TaskKind) -> dict[int | None, list[Any]]:
    """The current content of every task of this kind, by episode (None for a film)."""
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


@dataclass
class Assembled:
    """One film, or one episode, as far as it is made."""

    episode: int | None
    play: ScreenplayFile | None
    laid: Paginated | None
    shots: list[ShotList] | None
    plans: list[EditPlan]
    sheets: list[CueSheet]

    @property
    def where(self) -> str:
        return "the film" if self.episode is None else f"episode {self.episode}"


def assemble(source: ExportSource, episode: int | None) -> Assembled:
    play = next((p for p in screenplays(source) if p.episode == episode), None)
    shots = by_episode(source, TaskKind.SHOT_LIST).get(episode)
    return Assembled(
        episode=episode,
        play=play,
        laid=paginate(play.script) if play is not None else None,
        shots=shots,
        plans=by_episode(source, TaskKind.EDIT).get(episode, []),
        sheets=by_episode(source, TaskKind.MUSIC_CUES).get(episode, []),
    )


def _minutes(seconds: float) -> str:
    whole, rest = divmod(round(seconds), 60)
    return f"{whole}:{rest:02d}"


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    return shown + (f" and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


def _bounds(low: float | None, high: float | None) -> str:
    return f"{low if low is not None else 0:g}–{high:g}" if high is not None else f"≥ {low:g}"


def _outside(value: float, low: float | None, high: float | None) -> bool:
    return (low is not None and value < low - 1e-9) or (high is not None and value > high + 1e-9)


def _finding(rule: ValidatorSpec, message: str, evidence: str = "") -> Finding:
    return Finding(
        rule=rule.id or rule.type, severity=rule.severity, message=message, evidence=evidence
    )


def _scene_lengths(laid: Paginated) -> str:
    return "; ".join(f"scene {s.number} {pages_text(s.eighths)}" for s in laid.scenes)


def _script_rule(rule: RuntimeRange | PageRange, made: Assembled) -> Finding | None:
    laid, play = made.laid, made.play
    if laid is None or play is None:
        return None
    pages = laid.eighths / 8
    minutes = float(laid.minutes)
    if isinstance(rule, RuntimeRange):
        if not _outside(minutes, rule.min, rule.max):
            return None
        message = (
            f"{made.where} runs {_minutes(minutes * 60)} ({pages_text(laid.eighths)} pages, "
            f"a page a minute); the range is {_bounds(rule.min, rule.max)} minutes"
        )
    else:
        if not _outside(pages, rule.min, rule.max):
            return None
        message = (
            f"{made.where} is {pages_text(laid.eighths)} pages long; the range is "
            f"{_bounds(rule.min, rule.max)} pages"
        )
    evidence = f"recounted from {play.stem}.pdf as printed: {_scene_lengths(laid)}"
    return _finding(rule, message, evidence)


def _shot_rule(rule: ShotReferences, made: Assembled) -> Finding | None:
    if not made.plans or made.shots is None:
        return None
    cut = figures.cut_figures(made.plans, made.shots)
    problems: list[str] = []
    if cut["missing_shots"]:
        problems.append(f"the cut names shots the shot list lacks: {_listed(cut['missing_shots'])}")
    if longer := cut["longer_than_shot"]:
        named = [f"{x['shot']} ({x['item_s']:g} s of a {x['shot_s']:g} s shot)" for x in longer]
        problems.append(
            f"{len(longer)} of {cut['items']} items run longer than their shot: {_listed(named)}"
        )
    if rule.runtime_tolerance is not None and made.laid is not None:
        script_s = float(made.laid.minutes) * 60
        share = cut["seconds"] / script_s - 1 if script_s else 0.0
        if abs(share) > rule.runtime_tolerance + 1e-9:
            problems.append(
                f"the cut runs {_minutes(cut['seconds'])} ({cut['seconds']:g} s), the script "
                f"{_minutes(script_s)}: {share:+.0%}, outside ±{rule.runtime_tolerance:.0%}"
            )
    if not problems:
        return None
    evidence = (
        f"recounted: {cut['items']} items, {cut['seconds']:g} s; "
        f"{len(figures.all_shots(made.shots))} shots in the shot list"
    )
    return _finding(rule, f"{made.where}: " + "; ".join(problems), evidence)


def _cue_rule(rule: CueBounds, made: Assembled) -> Finding | None:
    if not made.sheets:
        return None
    cut = figures.cut_figures(made.plans, made.shots) if made.plans else None
    cues = figures.cue_figures(made.sheets, cut["seconds"] if cut else None)
    ends = {c["cue"]: c["end_s"] for c in cues["cues"]}
    problems: list[str] = []
    if cues["outside_cut"] and cut is not None:
        named = [f"{c} (ends {_minutes(ends[c] or 0)})" for c in cues["outside_cut"]]
        problems.append(f"cues end after the cut ({_minutes(cut['seconds'])}): {_listed(named)}")
    if cues["unreadable_start"]:
        problems.append(f"cues whose start is not a timecode: {_listed(cues['unreadable_start'])}")
    if rule.enters_scene is not None:
        early = figures.cues_before_scene(cues, rule.enters_scene)
        if early:
            scenes = {c["cue"]: c["scene"] for c in cues["cues"]}
            named = [f"{c} (scene {scenes[c]})" for c in early]
            problems.append(
                f"the score enters in scene {rule.enters_scene}, but cues come before it: "
                f"{_listed(named)}"
            )
    if rule.leaves_before_last_shot and cut is not None and cut["last_shot_start"] is not None:
        late = figures.cues_after(cues, cut["last_shot_start"])
        if late:
            problems.append(
                f"the score leaves before the last shot ({_minutes(cut['last_shot_start'])}), "
                f"but cues run past it: {_listed(late)}"
            )
    if not problems:
        return None
    evidence = f"recounted: {len(cues['cues'])} cues, the last ending at " + (
        _minutes(cues["last_end_s"]) if cues["last_end_s"] is not None else "—"
    )
    return _finding(rule, f"{made.where}: " + "; ".join(problems), evidence)


def _counted(rule: Count, made: Assembled) -> tuple[int, list[str]] | None:
    what = rule.what
    if what in ("handheld_shots", "shots"):
        if made.shots is None:
            return None
        shots = figures.all_shots(made.shots)
        chosen = figures.handheld(shots) if what == "handheld_shots" else shots
        return len(chosen), [figures.shot_label(s) for s in chosen]
    if what == "cues":
        if not made.sheets:
            return None
        cues = [c for sheet in made.sheets for c in sheet.cues]
        return len(cues), [one_line(c.cue_id) for c in cues]
    if what == "edit_items":
        if not made.plans:
            return None
        items = figures.cut_items(made.plans)
        return len(items), [f"{i.scene}{one_line(i.shot)}" for i in items]
    if made.laid is None:  # scenes, as printed
        return None
    return len(made.laid.scenes), [s.heading for s in made.laid.scenes]


def _count_rule(rule: Count, made: Assembled) -> Finding | None:
    counted = _counted(rule, made)
    if counted is None:
        return None
    total, items = counted
    if not _outside(total, rule.min, rule.max):
        return None
    noun = rule.what.replace("_", " ")
    message = f"{made.where} has {total} {noun}; the rule allows {_bounds(rule.min, rule.max)}"
    return _finding(rule, message, f"counted: {_listed(items)}" if items else "counted: none")


def _presence(
    rule: CharacterPresence,
    source: ExportSource,
    made: Assembled,
    task: TaskSpec,
    known: Sequence[str],
) -> list[Finding]:
    """The scenes the rule's tasks stand for, as printed, where this task's version is what is
    printed: each required character speaks or is named in the printed action."""
    if made.play is None or made.laid is None:
        return []
    present = figures.on_page(made.laid, known)
    found: list[Finding] = []
    for record in source.plan():
        spec = record.spec
        if spec.kind not in SCREEN_KINDS or not rule.applies_to(spec) or spec.id == task.id:
            continue  # (a rule on this very task is checked on its content: `check`)
        if made.episode is not None and whole_number(spec.params.get("episode")) != made.episode:
            continue
        wanted = whole_number(spec.params.get("scene"))
        printed = [
            i + 1
            for i, slot in enumerate(made.play.slots)
            if slot.artifact.task_id == task.id
            and ((wanted is not None and slot.number == wanted) or wanted is None)
        ]
        if not printed:
            continue
        missing = figures.missing_from(present, printed, rule.characters)
        if missing:
            there = sorted({n for s in printed for n in present.get(s, [])})
            found.append(
                _finding(
                    rule,
                    f"{', '.join(missing)} not on the printed page of scene "
                    f"{', '.join(map(str, printed))} ({made.play.stem}.pdf, for {spec.id})",
                    f"on the page: {', '.join(there) or 'nobody'}; a synopsis or a note is "
                    "not printed",
                )
            )
    return found


def applicable(rules: Sequence[ValidatorSpec], task: TaskSpec) -> list[ValidatorSpec]:
    """The deliverable rules this task's delivery sets off: those naming its kind or id, and
    character presence for a screen task (whose scenes may be what is printed)."""
    return [
        r
        for r in rules
        if (isinstance(r, DELIVERABLE_RULES) and (r.kinds or r.tasks) and r.applies_to(task))
        or (isinstance(r, CharacterPresence) and task.kind in SCREEN_KINDS)
    ]


def check_deliverables(
    view: ProductionView, task: TaskSpec, delivered: Artifact | None = None
) -> list[Finding]:
    """Every finding of the deliverable rules this task sets off, recomputed from the film (or
    the task's episode) as assembled now, with `delivered` standing for the task."""
    spec = view.spec
    if spec is None:
        return []
    rules = applicable(spec.validators, task)
    if not rules:
        return []
    source = _Source(view, standing={task.id: delivered} if delivered is not None else {})
    episode = (
        whole_number(task.params.get("episode"))
        if spec.production.format is Format.SERIES
        else None
    )
    made = assemble(source, episode)
    vision = view.vision or spec.vision
    known = [one_line(c.name) for c in vision.characters]
    findings: list[Finding] = []
    for rule in rules:
        if isinstance(rule, RuntimeRange | PageRange):
            found = _script_rule(rule, made)
        elif isinstance(rule, ShotReferences):
            found = _shot_rule(rule, made)
        elif isinstance(rule, CueBounds):
            found = _cue_rule(rule, made)
        elif isinstance(rule, Count):
            found = _count_rule(rule, made)
        elif isinstance(rule, CharacterPresence):
            findings.extend(_presence(rule, source, made, task, known))
            continue
        else:
            continue
        if found is not None:
            findings.append(found)
    return findings
