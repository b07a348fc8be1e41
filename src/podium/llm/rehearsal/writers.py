"""What the rehearsal model delivers for a task: screenplays, prose, images briefs, shots, cues.

Every writer builds from the production's material (via `Composer`) so a rehearsal run reads
like the production it rehearses, and honours the validators' figures the hints pass on.
"""

from __future__ import annotations

import re
from typing import Literal

from podium.domain.artifacts import (
    Content,
    Cue,
    CueSheet,
    EditItem,
    EditPlan,
    IllustrationBrief,
    Prose,
    Screenplay,
    Shot,
    ShotList,
)
from podium.domain.tasks import TaskKind
from podium.domain.validators import count_words
from podium.llm.rehearsal import banks, craft_banks, timing
from podium.llm.rehearsal.composer import Composer, word_goal
from podium.llm.rehearsal.material import (
    capitalise,
    heading_place,
    int_of,
    is_exterior,
    mappings_of,
    text_of,
)
from podium.llm.rehearsal.screenplay import covered_scenes, screenplay

_USAGES: tuple[Literal["underscore", "source", "sting"], ...] = (
    "underscore",
    "underscore",
    "source",
    "sting",
)
_LOOK_LINES = (
    "Keep the palette to {colours}; anything outside it has to earn its place.",
    "Light motivated from the world: {lighting}.",
    "Camera: {camera}. We move only when a character does.",
    "Skin stays warm even when the room goes cold.",
    "{Place} should feel lived in: clutter at the edges, clean in the middle of frame.",
    "Night is never black; it is {colour} and it has texture.",
    "Frames leave room above heads; the world is bigger than the people in it.",
    "Let {theme} show in what is missing from the frame, not in what is added.",
)
_LOOK_RULES = (
    "No lens flares unless a character is looking into the light.",
    "One strong source per scene; fill only from bounce.",
    "Wides establish geography once; after that, stay close.",
    "Handheld only when the story loses its footing.",
    "Reserve the {colour} for the moments that matter.",
)


def write_task(comp: Composer, schema: type[Content]) -> Content:
    """Content of the requested schema, fitted to the task kind the hints name."""
    if schema is Screenplay:
        return screenplay(comp)
    if schema is IllustrationBrief:
        return illustration(comp)
    if schema is ShotList:
        return shot_list(comp)
    if schema is CueSheet:
        return cue_sheet(comp)
    if schema is EditPlan:
        return edit_plan(comp)
    return prose(comp)


# --- prose -----------------------------------------------------------------------------------


def prose(comp: Composer) -> Prose:
    kind = comp.m.kind
    if kind is TaskKind.CHAPTER or kind is None:
        return _chapter(comp)
    if kind is TaskKind.TREATMENT:
        return _treatment(comp)
    if kind is TaskKind.OUTLINE:
        return _outline(comp)
    if kind is TaskKind.EPISODE_ARC:
        return _episode_arc(comp)
    if kind is TaskKind.LOOK:
        return _look(comp)
    if kind is TaskKind.FINAL:
        return _final(comp)
    title = comp.m.task_title or comp.m.production_title()
    return _with_body(comp, title, [], word_goal(comp, 220), intro="")


_SYNOPSIS = (("synopsis", 1),)


def _with_body(
    comp: Composer,
    title: str,
    beats: list[str],
    goal: int,
    intro: str,
    weights: tuple[tuple[str, int], ...] | None = None,
) -> Prose:
    """Fill the body so title + intro + body + beats land on the word goal."""
    fixed = count_words(title) + count_words(intro) + sum(count_words(b) for b in beats)
    body_goal = max(goal - fixed, 0)
    extras = comp.extras()
    if weights is None:
        body = comp.passage(body_goal, extras=extras)
    else:
        body = comp.passage(body_goal, weights, extras=extras)
    text = f"{intro}\n\n{body}" if intro else body
    return Prose(title=title, text=text, beats=beats)


def _chapter(comp: Composer) -> Prose:
    m = comp.m
    number = m.chapter or 1
    # A chapter keeps to one or two places, so it reads as one stretch of story.
    home = comp.places[(number - 1) % len(comp.places)]
    others = [p for p in comp.places if p != home]
    comp.places = [home, home, comp.rng.choice(others)] if others else [home]
    subtitle = comp.title(comp.pick(craft_banks.CUE_TITLES, "cue_title"))
    title = f"Chapter {number}: {subtitle}"
    goal = word_goal(comp, 600, may_miss=True)
    return _with_body(comp, title, [], goal, intro=_follows(comp, home))


_CHAPTER_TITLE = re.compile(r"^\s*Chapter\s+(\d+):\s*(.+?)\s*$", re.MULTILINE)


def _follows(comp: Composer, home: str) -> str:
    """The opening that picks up where the previous chapter, among the inputs, left off: its
    title (as its text gives it) and the place it ended, on the way to this one's."""
    previous = None
    for dep in mappings_of(comp.m.hints.get("dependencies")):
        raw = dep.get("summary")
        if dep.get("kind") != TaskKind.CHAPTER.value or not isinstance(raw, str):
            continue
        found = _CHAPTER_TITLE.match(raw.split("\n", 1)[0])  # the text's first line: its title
        if found and (previous is None or int(found.group(1)) > previous[0]):
            previous = (int(found.group(1)), text_of(found.group(2), 120))
    if previous is None:
        return ""
    number, title = previous
    before = _place_of(comp, max(1, number))
    a, _ = comp.pair()
    if before.lower() == home.lower():
        where = f"they were still at {before}"
    else:
        where = f"they had left {before} behind for {home}"
    return capitalise(
        f"After {title.rstrip('.')}, {where}, and {a.name} said nothing about it for a long time."
    )


def _place_of(comp: Composer, number: int) -> str:
    places = comp.m.places()
    return places[(number - 1) % len(places)]


def _treatment(comp: Composer) -> Prose:
    m = comp.m
    title = f"{m.production_title()}: treatment"
    beats = [comp.fill(t) for t in banks.TREATMENT_ACTS]
    intro = m.logline or m.premise
    if m.direction:
        beats.append(f"Per the Orchestrator's direction: {m.direction}")
    return _with_body(comp, title, beats, word_goal(comp, 420), intro, _SYNOPSIS)


def _outline(comp: Composer) -> Prose:
    m = comp.m
    count = int_of(m.hints.get("scenes")) or 5
    locations = m.locations or list(banks.DEFAULT_LOCATIONS)
    beats = []
    for n in range(1, min(max(count, 1), 60) + 1):
        location = locations[(n - 1) % len(locations)]
        prefix = "EXT" if is_exterior(location) else "INT"
        summary = comp.fill(comp.pick(banks.SCENE_SUMMARIES, "summary"))
        beats.append(f"Scene {n}: {prefix}. {heading_place(location)}. {summary}")
    intro = m.premise or m.logline
    if m.direction:
        beats.append(f"Per the Orchestrator's direction: {m.direction}")
    title = f"{m.production_title()}: outline"
    goal = word_goal(comp, 160 + 25 * len(beats))
    return _with_body(comp, title, beats, goal, intro, _SYNOPSIS)


def _episode_arc(comp: Composer) -> Prose:
    m = comp.m
    number = m.episode or 1
    subtitle = comp.title(comp.pick(craft_banks.CUE_TITLES, "cue_title"))
    beats = [
        f"{label}: {comp.fill(comp.pick(banks.SCENE_SUMMARIES, 'summary'))}"
        for label in banks.EPISODE_BEATS
    ]
    if m.direction:
        beats.append(f"Per the Orchestrator's direction: {m.direction}")
    title = f"Episode {number}: {subtitle}"
    return _with_body(comp, title, beats, word_goal(comp, 260), "", _SYNOPSIS)


def _look(comp: Composer) -> Prose:
    m = comp.m
    colours = m.colours()
    fixed = {
        "colours": _joined(colours),
        "lighting": (m.lighting or comp.pick(craft_banks.LIGHTING, "lighting")).rstrip(". "),
        "camera": (m.camera or "a 35mm prime at eye level, mostly locked off").rstrip(". "),
    }
    lines = [comp.fill(t, **fixed) for t in comp.sample(_LOOK_LINES, 6)]
    text = " ".join(lines)
    if m.tone:
        text += f"\n\nThe whole of it should feel {_joined(m.tone_words())}."
    if extras := comp.extras():
        text += "\n\n" + " ".join(extras)
    beats = [comp.fill(r) for r in comp.sample(_LOOK_RULES, 4)]
    if m.direction:
        beats.append(f"Per the Orchestrator's direction: {m.direction}")
    return Prose(title=f"{m.production_title()}: look book", text=text, beats=beats)


def _final(comp: Composer) -> Prose:
    m = comp.m
    delivered = [d for d in m.dependencies if d.title]
    beats = [f"{d.title}: {d.summary}" if d.summary else d.title for d in delivered[:40]]
    parts = [f"{m.production_title()} is ready for the Orchestrator's sign-off."]
    if m.logline:
        parts.append(f"In one line: {m.logline}")
    if delivered:
        count = len(delivered)
        parts.append(f"{count} deliverable{'s' if count != 1 else ''} came in for this stage.")
    parts.append(
        capitalise(
            f"{comp.pick(m.theme_list(), 'theme')} runs through every part of it, "
            "and the crew held to the style guide."
        )
    )
    intro = " ".join(parts)
    title = f"{m.production_title()}: final delivery"
    return _with_body(comp, title, beats, word_goal(comp, 220), intro, _SYNOPSIS)


# --- illustration, camera, music, edit -------------------------------------------------------


def illustration(comp: Composer) -> IllustrationBrief:
    m, rng = comp.m, comp.rng
    number = m.chapter or 1
    a, b = comp.pair()
    place = comp.pick(comp.places, "place")
    subject = capitalise(f"{place}: {a.name} {comp.pick(banks.ACTIONS_P, 'action_p')}")
    if rng.random() < 0.5:
        subject += f", with {b.name} just out of reach"
    palette = comp.sample(m.colours(), min(4, len(m.colours())))
    mood = ", ".join(comp.sample(m.tone_words(), 2))
    caption = comp.prose_sentence(rng.choice(["setting", "interior", "close"]), (a, b))
    extras = comp.extras()
    if extras:
        caption = f"{caption} {' '.join(extras)}"
    lighting = m.lighting or comp.pick(craft_banks.LIGHTING, "lighting")
    if m.direction:
        mood = f"{mood}; per the Orchestrator: {m.direction}"
    return IllustrationBrief(
        title=m.task_title or f"Chapter {number}: illustration",
        subject=subject,
        composition=comp.pick(craft_banks.COMPOSITIONS, "composition"),
        palette=palette,
        lighting=lighting,
        mood=mood,
        caption=caption,
    )


def _preferred(camera: str, options: tuple[str, ...]) -> list[str]:
    """Options the style guide's camera notes mention, to be favoured."""
    lowered = camera.lower()
    return [o for o in options if o.lower().split()[0] in lowered]


def _location(comp: Composer, number: int) -> str:
    """The place scene `number` is set in, as the screenplay writer sets it."""
    locations = comp.m.locations or list(banks.DEFAULT_LOCATIONS)
    return locations[(number - 1) % len(locations)]


def _plan(comp: Composer) -> list[tuple[int, list[timing.Planned]]]:
    """Each scene the deliverable covers, with the shots that cover its share of the runtime."""
    numbers = covered_scenes(comp)
    seconds = timing.scene_seconds(comp.m, len(numbers))
    return [(n, timing.coverage(comp.m, n, seconds)) for n in numbers]


def _handheld_scene(comp: Composer, numbers: list[int]) -> int | None:
    """The scene the style guide's handheld shots belong to ("one handheld shot: the landing
    stage in the storm"), when it allows any and names a place the film has."""
    allowed, where = timing.handheld_allowed(comp.m)
    if not allowed or not where:
        return None
    where = where.lower()
    for number in numbers:
        place = _location(comp, number).lower().removeprefix("the ")
        if place and (place in where or where.removeprefix("the ") in place):
            return number
    return None


def shot_list(comp: Composer) -> ShotList:
    m, rng = comp.m, comp.rng
    allowed, _ = timing.handheld_allowed(m)
    lenses = _preferred(m.camera, craft_banks.LENSES)
    moves = _preferred(m.camera, craft_banks.MOVES)
    all_moves: tuple[str, ...] = craft_banks.MOVES
    if allowed is not None:  # the style guide counts them: handheld only where it says
        moves = [v for v in moves if v != "handheld"]
        all_moves = tuple(v for v in all_moves if v != "handheld")
    plan = _plan(comp)
    handheld_in = _handheld_scene(comp, [n for n, _ in plan])
    shots: list[Shot] = []
    extras = comp.extras(present=True)
    for number, planned in plan:
        for index, one in enumerate(planned):
            a, b = comp.pair()
            description = comp.fill(comp.pick(craft_banks.SHOT_DESCRIPTIONS, "shot"), (a, b))
            if not shots and m.direction:
                description += f" (per the Orchestrator: {m.direction})"
            if extras and index == 1:
                description += " " + extras.pop(0)
            pool_lens = lenses if lenses and rng.random() < 0.7 else craft_banks.LENSES
            pool_move = moves if moves and rng.random() < 0.6 else all_moves
            movement = comp.pick(pool_move, "move")
            if number == handheld_in and index == 0:
                movement = "handheld"
            shots.append(
                Shot(
                    scene=number,
                    shot=one.shot,
                    size="WS" if index == 0 else comp.pick(craft_banks.SHOT_SIZES, "size"),
                    angle=comp.pick(craft_banks.ANGLES, "angle"),
                    movement=movement,
                    lens=comp.pick(pool_lens, "lens"),
                    duration_s=one.shot_s,
                    description=description,
                )
            )
    if extras:
        shots[-1].description += " " + " ".join(extras)
    return ShotList(shots=shots)


def _timecode(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def cue_sheet(comp: Composer) -> CueSheet:
    """Cues inside the cut: each starts a little into its scene and ends before the scene does;
    none before the scene the style guide has the score enter in, and none over the last shot
    when the score leaves before it."""
    m, rng = comp.m, comp.rng
    instruments = [p.strip() for p in m.music.replace(" and ", ",").split(",") if p.strip()]
    plan = _plan(comp)
    enters = timing.score_enters(m) or 1
    leaves = timing.score_leaves_early(m)
    eligible = [n for n, _ in plan if n >= enters] or [plan[-1][0]]
    if leaves and len(eligible) > 1:
        eligible = eligible[:-1]  # the last scene holds the last shot
    cues: list[Cue] = []
    clock = 0.0
    for number, planned in plan:
        length = sum(p.cut_s for p in planned)
        start_of_scene, clock = clock, clock + length
        if number not in eligible or (cues and rng.random() < 0.3):
            continue  # not every scene wants music
        offset = float(min(int(length * 0.3), rng.randint(1, 8)))
        room = length - offset - 0.5
        if room < 2:
            continue
        duration = round(room * rng.uniform(0.5, 0.95), 1)
        pool = instruments or list(craft_banks.INSTRUMENTS)
        usage = "theme" if not cues else rng.choice(_USAGES)
        cues.append(
            Cue(
                cue_id=f"{1 + len(cues) // 4}M{1 + len(cues) % 4}",
                title=comp.title(comp.pick(craft_banks.CUE_TITLES, "cue_title")),
                scene=number,
                start=_timecode(start_of_scene + offset),
                duration_s=max(1.0, duration),
                mood=comp.pick(craft_banks.MUSIC_MOODS, "music_mood"),
                instrumentation=", ".join(comp.sample(pool, min(2, len(pool)))),
                usage=usage,
            )
        )
    if not cues:  # a cue sheet holds one cue at least: a short sting in the first eligible scene
        first = eligible[0]
        start = sum(p.cut_s for n, shots in plan if n < first for p in shots)
        cues.append(
            Cue(
                cue_id="1M1",
                title=comp.title(comp.pick(craft_banks.CUE_TITLES, "cue_title")),
                scene=first,
                start=_timecode(start + 1),
                duration_s=1.0,
                mood=comp.pick(craft_banks.MUSIC_MOODS, "music_mood"),
                usage="sting",
            )
        )
    extras = comp.extras()
    if extras or m.direction:
        note = " ".join(extras + ([f"Per the Orchestrator: {m.direction}"] if m.direction else []))
        cues[0].mood = f"{cues[0].mood}. {note}"
    return CueSheet(cues=cues)


def edit_plan(comp: Composer) -> EditPlan:
    """The cut: every scene's shots, in order, each item no longer than its shot, adding up
    to the scenes' share of the runtime."""
    m, rng = comp.m, comp.rng
    sequence: list[EditItem] = []
    plan = _plan(comp)
    for n_i, (number, planned) in enumerate(plan):
        for index, one in enumerate(planned):
            a, b = comp.pair()
            last = n_i == len(plan) - 1 and index == len(planned) - 1
            transition = "FADE OUT" if last else comp.pick(craft_banks.EDIT_TRANSITIONS, "edit_t")
            sequence.append(
                EditItem(
                    scene=number,
                    shot=one.shot,
                    duration_s=one.cut_s,
                    transition="CUT" if index == 0 and n_i == 0 else transition,
                    note=comp.fill(comp.pick(craft_banks.EDIT_NOTES, "edit_note"), (a, b))
                    if rng.random() < 0.5
                    else "",
                )
            )
    runtime = sum(i.duration_s for i in sequence)
    minutes, seconds = divmod(round(runtime), 60)
    notes = [f"Assembly runs {minutes}m {seconds:02d}s across {len(plan)} scenes."]
    notes.append(
        capitalise(
            f"{comp.pick(m.tone_words(), 'tone')} throughout: cut late into scenes, leave early, "
            f"and let {comp.pick(m.theme_list(), 'theme')} breathe in the pauses."
        )
    )
    notes.extend(comp.extras())
    if m.direction:
        notes.append(f"Per the Orchestrator's direction: {m.direction}")
    return EditPlan(sequence=sequence, notes=" ".join(notes))


def _joined(words: list[str]) -> str:
    """'a, b and c'."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
