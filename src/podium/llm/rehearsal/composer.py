"""The sentence composer: the banks and the production's material, made into text.

It remembers its recent choices per bank so a long chapter does not repeat itself, and counts
words exactly as the validators do so a passage lands on the word count it was asked for.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Sequence

from podium.domain.tasks import TaskKind
from podium.domain.validators import count_words
from podium.llm.rehearsal import banks, dialogue_banks
from podium.llm.rehearsal.material import (
    CharacterHint,
    Material,
    capitalise,
    heading_place,
    int_of,
    truncate_words,
)

_SLOT = re.compile(r"\{(\w+)\}")
_NAME_SLOTS = frozenset({"name", "name2", "NAME", "NAME2"})
_SMALL_WORDS = frozenset({"the", "a", "an", "of", "at", "in", "on", "and", "to", "for"})


class Composer:
    """Builds sentences from the banks and the production's material, avoiding recent repeats."""

    def __init__(self, rng: random.Random, material: Material, attempt: int = 1) -> None:
        self.rng = rng
        self.m = material
        self.attempt = attempt
        self.cast = material.cast()
        self.places = material.places()
        self._recent: dict[str, deque[str]] = {}
        self._anachronism = _anachronism(material.year)
        # A first attempt sometimes drifts onto a forbidden term, so deviation checks get used.
        self.deviation: str | None = None
        if material.forbidden_terms and not material.feedback and attempt <= 1:
            if rng.random() < 0.10:
                self.deviation = rng.choice(material.forbidden_terms)

    @property
    def first_attempt(self) -> bool:
        return not self.m.feedback

    # --- picking ---------------------------------------------------------------------------

    def pick(self, bank: Sequence[str], key: str) -> str:
        """A choice from the bank that was not among the last few picks under the same key
        (and, in a story dated before something was invented, never naming it)."""
        if self._anachronism is not None:
            bank = [b for b in bank if not self._anachronism.search(b)] or bank
        if not bank:
            return ""
        recent = self._recent.get(key)
        if recent is None:
            recent = self._recent[key] = deque(maxlen=max(1, min(len(bank) - 1, 40)))
        # Nothing picked yet under the key: the whole bank (the same draw from a copy of it).
        fresh = ([b for b in bank if b not in recent] or list(bank)) if recent else bank
        choice = self.rng.choice(fresh)
        recent.append(choice)
        return choice

    def sample(self, bank: Sequence[str], n: int) -> list[str]:
        unique = list(dict.fromkeys(bank))
        return self.rng.sample(unique, min(n, len(unique)))

    def pair(self, focus: CharacterHint | None = None) -> tuple[CharacterHint, CharacterHint]:
        first = focus or self.rng.choice(self.cast)
        others = [c for c in self.cast if c.name != first.name]
        return first, (self.rng.choice(others) if others else first)

    # --- filling templates -----------------------------------------------------------------

    def fill(
        self,
        template: str,
        names: tuple[CharacterHint, CharacterHint] | None = None,
        /,
        **fixed: str,
    ) -> str:
        first, second = names or self.pair()
        chosen: dict[str, str] = {}

        def slot(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in fixed:
                return fixed[key]
            if key not in chosen:
                chosen[key] = self._slot(key, first, second, set(chosen.values()))
            return chosen[key]

        return capitalise(_SLOT.sub(slot, template))

    def title(self, template: str) -> str:
        """A filled template in title case, for chapter, episode and cue titles."""
        return _title(self.fill(template))

    def _slot(self, key: str, a: CharacterHint, b: CharacterHint, used: set[str]) -> str:
        if key in _NAME_SLOTS:
            return {"name": a.name, "name2": b.name, "NAME": a.cue, "NAME2": b.cue}[key]
        base = key.rstrip("0123456789").removesuffix("_l")
        lowered = base.lower()
        bank: Sequence[str]
        if lowered == "place":
            bank = self.places
        elif lowered == "colour":
            bank = self.m.colours()
        elif lowered == "theme":
            bank = self.m.theme_list()
        elif lowered == "tone_word":
            bank = self.m.tone_words()
        else:
            bank = _BANKS.get(lowered, ("something",))
        options = ([v for v in bank if v not in used] or list(bank)) if used else bank
        value = self.pick(options, key=lowered)
        if key.endswith("_l"):
            value = value.lower()
        if base[:1].isupper() and base != base.upper():
            value = capitalise(value)
        elif base == base.upper() and lowered == "place":
            value = heading_place(value)
        return value

    # --- prose -----------------------------------------------------------------------------

    def line_for(self, speaker: CharacterHint, listener: CharacterHint) -> str:
        """A line of dialogue in the speaker's voice."""
        registers = speaker.registers() or ["plain"]
        if self.rng.random() < 0.25:
            registers = ["plain"]  # everyone says ordinary things too
        if self.rng.random() < 0.2:
            return self.fill(
                self.pick(dialogue_banks.MATERIAL_LINES, "material_line"), (speaker, listener)
            )
        register = self.rng.choice(registers)
        return self.pick(dialogue_banks.LINES[register], key=f"line:{register}")

    def prose_sentence(
        self, category: str, names: tuple[CharacterHint, CharacterHint] | None = None
    ) -> str:
        names = names or self.pair()
        if category == "dialogue":
            line = self.line_for(*names)
            tag = self.rng.choice(banks.SAY_TAGS)
            form = self.rng.randrange(3)
            if form == 1:
                return f'{names[0].name} looked at {names[1].name}. "{line}"'
            if line.endswith("."):  # "Go home," she said.
                line = line[:-1] + ","
            if form == 0:
                return f'"{line}" {names[0].name} said{tag}.'
            return f'"{line}" said {names[0].name}.'
        if category == "short":
            return self.fill(self.pick(banks.SHORT, "short"), names)
        if category == "short_synopsis":
            return self.fill(self.pick(banks.SHORT_SYNOPSIS, "short_synopsis"), names)
        bank = _SYNOPSIS if category == "synopsis" else banks.PROSE[category]
        return self.fill(self.pick(bank, f"prose:{category}"), names)

    def passage(
        self,
        goal: int,
        weights: Sequence[tuple[str, int]] = (
            ("setting", 3),
            ("action", 4),
            ("interior", 3),
            ("together", 3),
            ("dialogue", 4),
        ),
        extras: Sequence[str] = (),
        focus: CharacterHint | None = None,
    ) -> str:
        """Paragraphs of exactly `goal` words (counted as the validators count)."""
        categories = [c for c, _ in weights]
        cum = [w for _, w in weights]
        budget = goal - sum(count_words(e) for e in extras)
        names = self.pair(focus)
        closing = ""
        if budget > 80 and self.rng.random() < 0.7:
            # end on a closing image rather than mid-thought
            closing = self.fill(self.pick(banks.PROSE["close"], "prose:close"), names)
            budget -= count_words(closing)
        sentences: list[str] = []
        count = 0
        while count < budget:
            if len(sentences) % 5 == 4:
                names = self.pair(focus)
            elif focus is None and self.rng.random() < 0.5:
                names = (names[1], names[0])
            sentence = self._fitting(budget - count, categories, cum, names)
            sentences.append(sentence)
            count += count_words(sentence)
        for extra in extras:
            sentences.insert(self.rng.randint(0, len(sentences)), extra)
        if closing:
            sentences.append(closing)
        if not sentences:
            sentences.append(self.prose_sentence("short", names))
        return self._paragraphs(sentences)

    def _fitting(
        self,
        remaining: int,
        categories: list[str],
        weights: list[int],
        names: tuple[CharacterHint, CharacterHint],
    ) -> str:
        """A sentence of at most `remaining` words, so a passage lands on its count exactly."""
        short = "short_synopsis" if "synopsis" in categories else "short"
        for _ in range(8):
            category = self.rng.choices(categories, weights)[0] if remaining > 3 else short
            candidate = self.prose_sentence(category, names)
            if count_words(candidate) <= remaining:
                return candidate
        for _ in range(12):
            candidate = self.prose_sentence(short, names)
            if count_words(candidate) <= remaining:
                return candidate
        narrative = [c for c in categories if c != "dialogue"] or ["action"]
        candidate = self.prose_sentence(self.rng.choice(narrative), names)
        return truncate_words(candidate, remaining) or candidate

    def _paragraphs(self, sentences: list[str]) -> str:
        paragraphs: list[str] = []
        current: list[str] = []
        size = self.rng.randint(3, 6)
        for sentence in sentences:
            is_speech = sentence.startswith('"')
            if is_speech and current:
                paragraphs.append(" ".join(current))
                current = []
            current.append(sentence)
            if is_speech or len(current) >= size:
                paragraphs.append(" ".join(current))
                current = []
                size = self.rng.randint(3, 6)
        if current:
            paragraphs.append(" ".join(current))
        return "\n\n".join(paragraphs)

    def term_sentence(self, term: str, present: bool = False) -> str:
        """A sentence that names a required (or, deliberately, a forbidden) term."""
        if present:
            forms = ("{NAME} notices {term}.", "In the background: {term}.", "We see {term}.")
        else:
            forms = (
                "{name} kept coming back to {term}.",
                "Somewhere in all of it there was {term}.",
                "Nobody had mentioned {term} yet, but everyone was thinking it.",
            )
        return self.fill(self.pick(forms, "term:" + str(present)), term=term)

    def extras(self, present: bool = False) -> list[str]:
        """Sentences the content must carry: required terms, and a rare deliberate deviation."""
        found = [self.term_sentence(t, present) for t in self.m.required_terms]
        if self.deviation:
            found.append(self.term_sentence(self.deviation, present))
        return found


_PERIOD: dict[int, re.Pattern[str] | None] = {}


def _anachronism(year: int | None) -> re.Pattern[str] | None:
    """What a story dated `year` cannot name (banks.INVENTED), as one pattern; None if nothing."""
    if year is None:
        return None
    if year not in _PERIOD:
        later = [re.escape(word) for word, since in banks.INVENTED if year < since]
        _PERIOD[year] = (
            re.compile(r"\b(?:" + "|".join(later) + r")s?\b", re.IGNORECASE) if later else None
        )
    return _PERIOD[year]


# --- word targets and scene counts ---------------------------------------------------------


def word_goal(comp: Composer, default: int, may_miss: bool = False) -> int:
    """How many words to write: near the target, inside the validators' range.

    A first attempt at a chapter sometimes misses the range by 15–30%, so the engine's
    self-correction loop gets exercised; with validator feedback it always lands inside.
    """
    m, rng = comp.m, comp.rng
    low, high = m.min_words, m.max_words
    if low is not None and high is not None and low > high:
        low, high = high, low
    if m.target_words and m.target_words > 0:
        target = m.target_words
    elif low is not None and high is not None:
        target = (low + high) // 2
    elif low is not None:
        target = round(low * 1.15)
    elif high is not None:
        target = round(high * 0.85)
    else:
        target = default
    if may_miss and comp.first_attempt and rng.random() < 0.25:
        miss = rng.uniform(0.15, 0.30)
        if low is not None and (high is None or rng.random() < 0.5):
            goal = low * (1 - miss)
        elif high is not None:
            goal = high * (1 + miss)
        else:
            goal = target * (1 - miss if rng.random() < 0.5 else 1 + miss)
        return max(1, min(round(goal), 50_000))
    spread = 0.07 if comp.first_attempt else 0.03
    goal = round(target * rng.uniform(1 - spread, 1 + spread))
    if low is not None:
        goal = max(goal, low)
    if high is not None:
        goal = min(goal, high)
    return max(1, min(goal, 50_000))


def scene_numbers(comp: Composer) -> list[int]:
    """Which scenes a whole-script deliverable covers."""
    m = comp.m
    if m.scene and m.kind not in (TaskKind.SCRIPT, TaskKind.EDIT, TaskKind.MUSIC_CUES):
        return [max(1, m.scene)]
    scene_deps = [d for d in m.dependencies if d.kind is TaskKind.SCENE]
    if scene_deps:
        return list(range(1, min(len(scene_deps), 60) + 1))
    if (count := int_of(m.hints.get("scenes"))) and count > 0:
        return list(range(1, min(count, 60) + 1))
    if m.scene:
        return [max(1, m.scene)]
    return list(range(1, comp.rng.randint(3, 5) + 1))


def _title(text: str) -> str:
    """Title case as a cue sheet writes it: 'the last ferry' → 'the Last Ferry'."""
    words = text.split()
    return " ".join(
        w if i and w in _SMALL_WORDS else w[:1].upper() + w[1:] for i, w in enumerate(words)
    )


# Treatments and outlines speak in the present tense: the synopsis lines plus scene summaries.
_SYNOPSIS = banks.PROSE["synopsis"] + tuple(
    s.replace("{NAME}", "{name}").replace("{NAME2}", "{name2}") for s in banks.SCENE_SUMMARIES
)

_BANKS: dict[str, Sequence[str]] = {
    "light": banks.LIGHT,
    "smell": banks.SMELLS,
    "sound": banks.SOUNDS,
    "sound_p": banks.SOUNDS_P,
    "sound_n": banks.SOUNDS_N,
    "object": banks.OBJECTS,
    "action": banks.ACTIONS,
    "action_p": banks.ACTIONS_P,
    "task_verb": banks.TASK_VERBS,
    "gesture": banks.GESTURES,
    "manner": banks.MANNERS,
    "feeling": banks.FEELINGS,
    "time": banks.TIMES,
    "weather": banks.WEATHER,
}
