"""Rehearsal screenplays: scenes with headings, action, cues, parentheticals and dialogue.

Headings use the production's locations, cues its characters (in CAPS, so character-presence
checks find them), and dialogue follows the register each character's `voice` suggests.
"""

from __future__ import annotations

import hashlib
import re
import textwrap

from podium.domain.artifacts import ElementType, Scene, ScreenElement, Screenplay
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.domain.validators import count_words
from podium.llm.rehearsal import banks, timing
from podium.llm.rehearsal.composer import Composer, scene_numbers, word_goal
from podium.llm.rehearsal.material import (
    CharacterHint,
    capitalise,
    heading_place,
    int_of,
    is_exterior,
    prose_place,
)

_SCREEN = (TaskKind.SCENE, TaskKind.SCRIPT, TaskKind.DIALOGUE)
_FILM_SCENES = 8  # a film's scenes, when nothing says how many

# What "{time}" means in a scene's action lines, so they agree with its heading.
_WHEN = {"DAY": "midday", "NIGHT": "midnight", "DAWN": "first light", "DUSK": "dusk"}
_TIME_WORDS = (
    ("first light", "DAWN"),
    ("dawn", "DAWN"),
    ("dusk", "DUSK"),
    ("sunset", "DUSK"),
    ("night", "NIGHT"),
    ("midnight", "NIGHT"),
)
_INTRO_ACTIONS = (
    "stands at the window",
    "is already here, waiting",
    "works at something that doesn't need doing",
    "sits very still at the far end of the table",
    "comes in out of the weather, shaking it off",
)


def screenplay(comp: Composer) -> Screenplay:
    m = comp.m
    focus = comp.m.voiced() if m.kind is TaskKind.DIALOGUE else None
    revising = _revising(m.hints.get("revising")) if m.kind is TaskKind.DIALOGUE else None
    if focus is not None and revising is not None:
        return _pass_over(comp, revising, focus)
    whole = m.kind is TaskKind.SCRIPT or (m.kind is TaskKind.DIALOGUE and not m.scene)
    numbers = covered_scenes(comp) if whole else [max(1, m.scene or 1)]
    total = None
    if m.target_words or m.min_words is not None or m.max_words is not None:
        total = word_goal(comp, 180 * len(numbers))
    cap = m.max_words
    # Without a word count to meet, a scene fills its share of the runtime (a page a minute).
    lines = None if total else timing.scene_lines(m, film_scenes(comp, numbers))
    per_scene = [(total // len(numbers)) if total else 0 for _ in numbers]
    scene_deps = [d for d in m.dependencies if d.kind is TaskKind.SCENE]
    revised = [d for d in m.dependencies if d.kind in _SCREEN]
    if m.kind is not TaskKind.DIALOGUE:
        revised = scene_deps
    required = [c for c in comp.cast if c.name in m.required_terms]
    if m.kind is TaskKind.SCENE:  # a scene's brief names who is in it ("with Elias and Tam")
        required = list(dict.fromkeys([*required, *_people(comp, m.task_brief)]))
    extras = comp.extras(present=True)
    scenes: list[Scene] = []
    used = 0
    introduced: set[str] = set()
    for i, number in enumerate(numbers):
        synopsis = scene_deps[i].summary or scene_deps[i].title if i < len(scene_deps) else ""
        # A pass keeps the people of the scene it revises; a rule's characters are in it, and
        # those a scene's brief names.
        people = required or (_people(comp, revised[i].summary) if i < len(revised) else [])
        scene, words = _scene(
            comp,
            number,
            focus=focus,
            people=people,
            lines=lines,
            goal=per_scene[i],
            cap=None if cap is None else cap - used - (len(numbers) - i - 1) * 20,
            synopsis=synopsis,
            extras=extras if i == 0 else [],
            last=i == len(numbers) - 1,
            introduced=introduced,
            direction=m.direction if i == 0 else "",
        )
        scenes.append(scene)
        used += words
    if m.kind is TaskKind.DIALOGUE:
        who = focus.cue if focus else "ENSEMBLE"
        title = f"Dialogue pass: {who}, scene {numbers[0]}"
    elif m.kind is TaskKind.SCRIPT:
        title = m.production_title()
    else:
        title = m.task_title or f"Scene {numbers[0]}"
    return Screenplay(title=title, scenes=scenes)


def _revising(value: object) -> Screenplay | None:
    """The screenplay a dialogue pass revises, as the engine hands it over (None: not given)."""
    if not isinstance(value, dict):
        return None
    try:
        return Screenplay.model_validate(value)
    except ValueError:
        return None


def _pass_over(comp: Composer, play: Screenplay, focus: CharacterHint) -> Screenplay:
    """A character's dialogue pass: the scene as it is, the character's own lines said again in
    their voice; every other speaker's cue and lines stay word for word."""
    own = focus.cue
    scenes: list[Scene] = []
    for scene in play.scenes:
        elements: list[ScreenElement] = []
        speaker: str | None = None
        listener = comp.pair(focus)[1]
        for element in scene.elements:
            if element.type is ElementType.CHARACTER:
                speaker = re.sub(r"\s*\(.*?\)\s*", "", element.text).strip().upper()
                other = next((c for c in comp.cast if c.cue == speaker), None)
                if other is not None and other.cue != own:
                    listener = other
            elif element.type is ElementType.DIALOGUE and speaker == own:
                element = element.model_copy(update={"text": comp.line_for(focus, listener)})
            elif element.type is not ElementType.PARENTHETICAL:
                speaker = None
            elements.append(element)
        scenes.append(scene.model_copy(update={"elements": elements}))
    who = focus.cue
    return Screenplay(title=f"Dialogue pass: {who}", scenes=scenes)


def covered_scenes(comp: Composer) -> list[int]:
    """The scenes a script covers, and so the shot list, cue sheet and cut made from it.

    The scenes among the task's inputs decide, as `scene_numbers` has it. A script with no
    scenes among its inputs (a series episode) has three to five, drawn from what the script
    and everything made from it share, the production and the episode, rather than from each
    call's own random stream: so an episode's shot list, cues and cut cover exactly the scenes
    its script has, whatever the seed.
    """
    m = comp.m
    if m.scene or any(d.kind is TaskKind.SCENE for d in m.dependencies) or m.hints.get("scenes"):
        return scene_numbers(comp)
    shared = f"{m.production_title()}\x00{m.episode or 0}".encode()
    # An episode of a half-hour series has eight to ten scenes; anything else three to five.
    fewest = 8 if m.format is Format.SERIES else 3
    return list(range(1, fewest + hashlib.sha256(shared).digest()[0] % 3 + 1))


def film_scenes(comp: Composer, numbers: list[int]) -> int:
    """How many scenes the film (or the episode) has, to share its runtime among them."""
    m = comp.m
    if m.kind is TaskKind.SCRIPT or len(numbers) > 1:
        return len(numbers)
    if (count := int_of(m.hints.get("scenes"))) and count > 0:
        return count
    if m.episode:
        return len(covered_scenes(comp))
    return _FILM_SCENES


def _people(comp: Composer, text: str) -> list[CharacterHint]:
    """The production's characters a scene's text names, in order of appearance."""
    lowered = text.lower()
    found = [(at, c) for c in comp.cast if (at := _first(lowered, c.name.lower())) is not None]
    return [c for _, c in sorted(found, key=lambda f: f[0])]


def _first(text: str, name: str) -> int | None:
    found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)
    return found.start() if found else None


def _printed_lines(elements: list[ScreenElement]) -> int:
    """Lines the elements fill on the page, as the paginator sets them (blank lines included)."""
    total = 0
    for e in elements:
        if e.type in (ElementType.SYNOPSIS, ElementType.NOTE, ElementType.SECTION) or not e.text:
            continue
        if e.type is ElementType.DIALOGUE:
            total += len(textwrap.wrap(e.text, 35)) or 1
        elif e.type is ElementType.PARENTHETICAL:
            total += len(textwrap.wrap(e.text, 24)) or 1
        elif e.type is ElementType.CHARACTER or e.type is ElementType.TRANSITION:
            total += 2
        else:
            total += 1 + (len(textwrap.wrap(e.text, 60)) or 1)
    return total


def _scene(
    comp: Composer,
    number: int,
    *,
    focus: CharacterHint | None,
    people: list[CharacterHint],
    lines: int | None,
    goal: int,
    cap: int | None,
    synopsis: str,
    extras: list[str],
    last: bool,
    introduced: set[str],
    direction: str,
) -> tuple[Scene, int]:
    m, rng = comp.m, comp.rng
    locations = m.locations or list(banks.DEFAULT_LOCATIONS)
    location = locations[(number - 1) % len(locations)]
    prefix = "EXT" if is_exterior(location) else "INT"
    time_of_day = _time_in(location) or rng.choice(banks.TIMES_OF_DAY)
    heading = f"{prefix}. {heading_place(location)} - {time_of_day}"
    when = _WHEN.get(time_of_day, comp.pick(banks.TIMES, "time"))
    if focus is not None and focus in people:
        a, b = focus, next((p for p in people if p is not focus), comp.pair(focus)[1])
    elif len(people) >= 2:
        a, b = people[0], people[1]
    else:
        a, b = comp.pair(people[0] if people else focus)
    here = prose_place(location)
    elements: list[ScreenElement] = []
    if synopsis:
        elements.append(ScreenElement(type=ElementType.SYNOPSIS, text=synopsis))
    if direction:
        elements.append(ScreenElement(type=ElementType.NOTE, text=f"Direction: {direction}"))
    opening: list[str] = []
    if note := m.location_notes.get(location):
        opening.append(f"{capitalise(note)}.")
    for person in (a, b):  # a character's first appearance carries their description
        if person.name not in introduced and person.short_description():
            action = comp.pick(_INTRO_ACTIONS, "intro")
            opening.append(f"{person.cue}, {person.short_description()}, {action}.")
            introduced.add(person.name)
    if len(opening) < 2:
        line = comp.pick(banks.ACTION_LINES, "action_line")
        opening.append(comp.fill(line, (a, b), place=here, time=when))
    elements.append(ScreenElement(type=ElementType.ACTION, text=" ".join(opening)))
    elements.extend(ScreenElement(type=ElementType.ACTION, text=e) for e in extras)
    words = count_words(heading) + sum(count_words(e.text) for e in elements)
    speaker, listener = (b, a) if rng.random() < 0.5 and focus is None else (a, b)
    turns = 0
    heading_lines = 2  # a blank line and the heading
    while turns == 0 or (  # every scene has at least one exchange
        words < goal if lines is None else heading_lines + _printed_lines(elements) < lines
    ):
        unit = _dialogue_turn(comp, speaker, listener, parenthetical=turns == 1)
        if turns % 3 == 2:
            unit.append(
                ScreenElement(
                    type=ElementType.ACTION,
                    text=comp.fill(
                        comp.pick(banks.ACTION_LINES, "action_line"), (a, b), place=here, time=when
                    ),
                )
            )
        unit_words = sum(count_words(e.text) for e in unit)
        if cap is not None and words + unit_words > cap and turns >= 1:
            break
        elements.extend(unit)
        words += unit_words
        turns += 1
        if focus is not None:
            speaker, listener = (a, b) if speaker is not a or rng.random() < 0.35 else (b, a)
        else:
            speaker, listener = listener, speaker
    if not any(e.type is ElementType.PARENTHETICAL for e in elements):
        at = next(i for i, e in enumerate(elements) if e.type is ElementType.DIALOGUE)
        elements.insert(at, ScreenElement(type=ElementType.PARENTHETICAL, text="(beat)"))
    if not last or rng.random() < 0.3:
        text = "FADE OUT." if last else comp.pick(banks.TRANSITIONS, "transition")
        elements.append(ScreenElement(type=ElementType.TRANSITION, text=text))
    total = count_words(heading) + sum(count_words(e.text) for e in elements)
    return Scene(heading=heading, elements=elements), total


def _dialogue_turn(
    comp: Composer, speaker: CharacterHint, listener: CharacterHint, parenthetical: bool
) -> list[ScreenElement]:
    rng = comp.rng
    unit = [ScreenElement(type=ElementType.CHARACTER, text=speaker.cue)]
    if parenthetical or rng.random() < 0.25:
        if rng.random() < 0.2:
            text = f"(to {listener.name})"
        else:
            text = comp.pick(banks.PARENTHETICALS, "paren")
        unit.append(ScreenElement(type=ElementType.PARENTHETICAL, text=text))
    line = comp.line_for(speaker, listener)
    if rng.random() < 0.3:
        line = f"{line} {comp.line_for(speaker, listener)}"
    unit.append(ScreenElement(type=ElementType.DIALOGUE, text=line))
    return unit


def _time_in(location: str) -> str:
    """A time of day the location itself names ("the cliff path at first light")."""
    lowered = location.lower()
    return next((when for words, when in _TIME_WORDS if words in lowered), "")
