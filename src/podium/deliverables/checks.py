"""The production file's rules over the assembled deliverables, checked while the production
runs: runtime and page ranges on the paginated script, the cut against the shot list, the cues
against the cut, counted style rules, and who is on the printed page.

`check_deliverables` assembles the film (or the task's episode) from the current versions, with
the version just delivered standing for its task, and holds each rule against it with `measure`:
the figures recomputed with `podium.deliverables.figures`, a sentence stating them, and a
finding when the rule does not hold. The export's report prints the same measures (`held`), so
a figure the engine sends back and the figure the report prints are one computation. A rule
whose deliverables do not exist yet (no cut before the edit) has nothing to hold and passes.
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
from podium.export.pagination import Paginated, pages_text, paginate
from podium.export.screenplay import SCREEN_KINDS, ScreenplayFile, screenplays
from podium.export.sources import ExportSource, number, one_line

Json = dict[str, Any]

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
        content = source.parsed(artifact) if artifact is not None else None
        if content is not None:
            episode = number(record.spec.params.get("episode")) if series else None
            found.setdefault(episode, []).append(content)
    return found


def episode_of(source: ExportSource, task: TaskSpec) -> int | None:
    """The episode a task belongs to (None for a film, or a series task of no episode)."""
    return number(task.params.get("episode")) if source.format is Format.SERIES else None


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


def assemble_all(
    source: ExportSource, plays: Sequence[tuple[ScreenplayFile, Paginated]]
) -> dict[int | None, Assembled]:
    """Every film or episode of the production, with its screenplays as already laid out (the
    export's), in order: the film, or episode 1, 2, …"""
    laid = {play.episode: (play, pages) for play, pages in plays}
    shots = by_episode(source, TaskKind.SHOT_LIST)
    plans = by_episode(source, TaskKind.EDIT)
    sheets = by_episode(source, TaskKind.MUSIC_CUES)
    episodes = sorted(
        set(laid) | set(shots) | set(plans) | set(sheets), key=lambda e: (e is not None, e or 0)
    )
    return {
        episode: Assembled(
            episode=episode,
            play=laid[episode][0] if episode in laid else None,
            laid=laid[episode][1] if episode in laid else None,
            shots=shots.get(episode),
            plans=plans.get(episode, []),
            sheets=sheets.get(episode, []),
        )
        for episode in episodes
    }


# -- a rule held against the film or an episode ------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One rule held against one film or episode: the figures it recounted, a sentence stating
    them (whether or not the rule holds), and the finding when it does not."""

    rule: ValidatorSpec
    episode: int | None
    figures: Json
    statement: str
    evidence: str
    finding: Finding | None

    @property
    def holds(self) -> bool:
        return self.finding is None

    def json(self) -> Json:
        return {
            "rule": self.rule.id or self.rule.type,
            "type": self.rule.type,
            "episode": self.episode,
            "holds": self.holds,
            "statement": self.statement,
            "evidence": self.evidence,
            "figures": self.figures,
        }


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    return shown + (f" and {len(items) - _LISTED} more" if len(items) > _LISTED else "")


def bounds_text(low: float | None, high: float | None) -> str:
    """A rule's range as a reader says it: `10–14`, `0–1`, `≥ 3`."""
    return f"{low if low is not None else 0:g}–{high:g}" if high is not None else f"≥ {low:g}"


def _outside(value: float, low: float | None, high: float | None) -> bool:
    return (low is not None and value < low - 1e-9) or (high is not None and value > high + 1e-9)


def _measured(
    rule: ValidatorSpec,
    made: Assembled,
    numbers: Json,
    statement: str,
    problem: str | None,
    evidence: str,
) -> Measure:
    finding = None
    if problem is not None:
        finding = Finding(
            rule=rule.id or rule.type, severity=rule.severity, message=problem, evidence=evidence
        )
    return Measure(rule, made.episode, numbers, statement, evidence, finding)


def _scene_lengths(laid: Paginated) -> str:
    return "; ".join(f"scene {s.number} {pages_text(s.eighths)}" for s in laid.scenes)


def _script_rule(rule: RuntimeRange | PageRange, made: Assembled) -> Measure | None:
    laid, play = made.laid, made.play
    if laid is None or play is None:
        return None
    pages = laid.eighths / 8
    minutes = float(laid.minutes)
    numbers: Json = {
        "minutes": figures.rounded(minutes),
        "pages": figures.rounded(pages),
        "eighths": laid.eighths,
        "min": rule.min,
        "max": rule.max,
    }
    if isinstance(rule, RuntimeRange):
        value = minutes
        statement = (
            f"{made.where} runs {figures.clock(minutes * 60)} ({pages_text(laid.eighths)} pages, "
            f"a page a minute); the range is {bounds_text(rule.min, rule.max)} minutes"
        )
    else:
        value = pages
        statement = (
            f"{made.where} is {pages_text(laid.eighths)} pages long; the range is "
            f"{bounds_text(rule.min, rule.max)} pages"
        )
    problem = statement if _outside(value, rule.min, rule.max) else None
    evidence = f"recounted from {play.stem}.pdf as printed: {_scene_lengths(laid)}"
    return _measured(rule, made, numbers, statement, problem, evidence)


def _shot_rule(rule: ShotReferences, made: Assembled) -> Measure | None:
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
    statement = (
        f"{made.where}: {cut['items']} items, {cut['seconds']:g} s, every one on a listed shot "
        "and none longer than it"
    )
    numbers = {k: cut[k] for k in ("items", "seconds", "missing_shots", "longer_than_shot")} | {
        "tolerance": rule.runtime_tolerance,
        "script_seconds": None,
        "share_of_script": None,
        "within_tolerance": None,
    }
    if rule.runtime_tolerance is not None and made.laid is not None:
        script_s = float(made.laid.minutes) * 60
        share = cut["seconds"] / script_s - 1 if script_s else 0.0
        within = abs(share) <= rule.runtime_tolerance + 1e-9
        numbers |= {
            "script_seconds": figures.rounded(script_s),
            "share_of_script": round(share, 4),
            "within_tolerance": within,
        }
        against = (
            f"the cut runs {figures.clock(cut['seconds'])} ({cut['seconds']:g} s), the script "
            f"{figures.clock(script_s)}: {share:+.0%}"
        )
        if not within:
            problems.append(f"{against}, outside ±{rule.runtime_tolerance:.0%}")
        else:
            statement += f"; {against}, within ±{rule.runtime_tolerance:.0%}"
    problem = f"{made.where}: " + "; ".join(problems) if problems else None
    evidence = (
        f"recounted: {cut['items']} items, {cut['seconds']:g} s; "
        f"{len(figures.all_shots(made.shots))} shots in the shot list"
    )
    return _measured(rule, made, numbers, problem or statement, problem, evidence)


def _cue_rule(rule: CueBounds, made: Assembled) -> Measure | None:
    if not made.sheets:
        return None
    cut = figures.cut_figures(made.plans, made.shots) if made.plans else None
    cues = figures.cue_figures(made.sheets, cut["seconds"] if cut else None)
    ends = {c["cue"]: c["end_s"] for c in cues["cues"]}
    last_end = figures.clock(cues["last_end_s"]) if cues["last_end_s"] is not None else "—"
    statement = f"{made.where}: {len(cues['cues'])} cues, the last ending at {last_end}"
    problems: list[str] = []
    if cues["outside_cut"] and cut is not None:
        named = [f"{c} (ends {figures.clock(ends[c] or 0)})" for c in cues["outside_cut"]]
        problems.append(
            f"cues end after the cut ({figures.clock(cut['seconds'])}): {_listed(named)}"
        )
    elif cut is not None:
        statement += f", inside the cut ({figures.clock(cut['seconds'])})"
    if cues["unreadable_start"]:
        problems.append(f"cues whose start is not a timecode: {_listed(cues['unreadable_start'])}")
    early: list[str] = []
    if rule.enters_scene is not None:
        early = figures.cues_before_scene(cues, rule.enters_scene)
        if early:
            scenes = {c["cue"]: c["scene"] for c in cues["cues"]}
            named = [f"{c} (scene {scenes[c]})" for c in early]
            problems.append(
                f"the score enters in scene {rule.enters_scene}, but cues come before it: "
                f"{_listed(named)}"
            )
        else:
            statement += f", none before scene {rule.enters_scene}"
    late: list[str] = []
    last_shot = cut["last_shot_start"] if cut is not None else None
    if rule.leaves_before_last_shot and last_shot is not None:
        late = figures.cues_after(cues, last_shot)
        if late:
            problems.append(
                f"the score leaves before the last shot ({figures.clock(last_shot)}), "
                f"but cues run past it: {_listed(late)}"
            )
        else:
            statement += f", none past the last shot ({figures.clock(last_shot)})"
    numbers: Json = {
        "cues": len(cues["cues"]),
        "last_end_s": cues["last_end_s"],
        "cut_seconds": cues["cut_seconds"],
        "outside_cut": cues["outside_cut"] if cut is not None else [],
        "unreadable_start": cues["unreadable_start"],
        "first_scene": cues["first_scene"],
        "enters_scene": rule.enters_scene,
        "before_scene": early,
        "last_shot_start": last_shot if rule.leaves_before_last_shot else None,
        "after_last_shot_start": late,
    }
    problem = f"{made.where}: " + "; ".join(problems) if problems else None
    evidence = f"recounted: {len(cues['cues'])} cues, the last ending at {last_end}"
    return _measured(rule, made, numbers, problem or statement, problem, evidence)


def _counted(rule: Count, made: Assembled) -> tuple[int, list[str]] | None:
    what = rule.what
    if what in ("handheld_shots", "shots"):
        if made.shots is None:
            return None
        shots = figures.all_shots(made.shots)
        chosen = figures.handheld(shots) if what == "handheld_shots" else shots
        return len(chosen), [figures.shot_label(s, made.episode) for s in chosen]
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


def _count_rule(rule: Count, made: Assembled) -> Measure | None:
    counted = _counted(rule, made)
    if counted is None:
        return None
    total, items = counted
    noun = rule.what.replace("_", " ").removesuffix("s" if total == 1 else "")
    statement = (
        f"{made.where} has {total} {noun}; the rule allows {bounds_text(rule.min, rule.max)}"
    )
    problem = statement if _outside(total, rule.min, rule.max) else None
    numbers: Json = {
        "what": rule.what,
        "counted": total,
        "items": items,
        "min": rule.min,
        "max": rule.max,
    }
    evidence = f"counted: {_listed(items)}" if items else "counted: none"
    return _measured(rule, made, numbers, statement, problem, evidence)


def measure(rule: ValidatorSpec, made: Assembled) -> Measure | None:
    """A deliverable rule (runtime, pages, shot_references, cue_bounds, count) held against
    this film or episode; None for another kind, or when its deliverables are not made yet."""
    if isinstance(rule, RuntimeRange | PageRange):
        return _script_rule(rule, made)
    if isinstance(rule, ShotReferences):
        return _shot_rule(rule, made)
    if isinstance(rule, CueBounds):
        return _cue_rule(rule, made)
    if isinstance(rule, Count):
        return _count_rule(rule, made)
    return None


def held(source: ExportSource, made: dict[int | None, Assembled]) -> list[Measure]:
    """Every declared deliverable rule held against every film or episode one of its tasks
    belongs to, in the production file's order: what `check_deliverables` would find if each
    of those tasks delivered now."""
    spec = source.view.spec
    if spec is None:
        return []
    plan = source.plan()
    out: list[Measure] = []
    for rule in spec.validators:
        if not isinstance(rule, DELIVERABLE_RULES):
            continue
        episodes = {episode_of(source, r.spec) for r in plan if applicable([rule], r.spec)}
        for episode, assembled in made.items():
            if episode in episodes and (found := measure(rule, assembled)) is not None:
                out.append(found)
    return out


# -- who is on the printed page ------------------------------------------------------------------


def printed_scenes(play: ScreenplayFile, task: TaskSpec, by: str | None = None) -> list[int]:
    """The printed scenes (numbered from 1) that stand for a task: the scene it names, or every
    scene for a task that names none (a script, an episode's pass); with `by`, only those
    printed from that task's version."""
    wanted = whole_number(task.params.get("scene"))
    return [
        i + 1
        for i, slot in enumerate(play.slots)
        if (by is None or slot.artifact.task_id == by) and (wanted is None or slot.number == wanted)
    ]


def characters(view: ProductionView) -> list[str]:
    """The production's characters, named as its file (or its amended vision) names them."""
    vision = view.vision or (view.spec.vision if view.spec is not None else None)
    return [one_line(c.name) for c in vision.characters] if vision is not None else []


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
        printed = printed_scenes(made.play, spec, by=task.id)
        if not printed:
            continue
        missing = figures.missing_from(present, printed, rule.characters)
        if missing:
            there = sorted({n for s in printed for n in present.get(s, [])})
            found.append(
                Finding(
                    rule=rule.id or rule.type,
                    severity=rule.severity,
                    message=f"{', '.join(missing)} not on the printed page of scene "
                    f"{', '.join(map(str, printed))} ({made.play.stem}.pdf, for {spec.id})",
                    evidence=f"on the page: {', '.join(there) or 'nobody'}; a synopsis or a "
                    "note is not printed",
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
    made = assemble(source, episode_of(source, task))
    known = characters(view)
    findings: list[Finding] = []
    for rule in rules:
        if isinstance(rule, CharacterPresence):
            findings.extend(_presence(rule, source, made, task, known))
        elif (found := measure(rule, made)) is not None and found.finding is not None:
            findings.append(found.finding)
    return findings
