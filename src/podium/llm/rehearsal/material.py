"""The rehearsal model's reading of `request.hints`, and the sentence composer built on it.

Hints are read defensively: every key is optional and any value may have the wrong type, since
a rehearsal must never fail because the engine left something out. Strings from hints may come
from other models, so they are sanitized and flattened before they are echoed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar, cast

from podium.domain.agents import Role
from podium.domain.base import whole_number
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.domain.text import PLACEHOLDER, sanitize
from podium.llm.rehearsal import banks, dialogue_banks

E = TypeVar("E", bound=StrEnum)

# The validators' word pattern: truncation must cut exactly where count_words counts.
_WORD = re.compile(r"[A-Za-z0-9\u00C0-\uFFFF]+(?:['’\-][A-Za-z0-9\u00C0-\uFFFF]+)*")
_ARTICLES = ("the ", "a ", "an ")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


_CLEANED: dict[tuple[str, int], str] = {}
_CLEANED_MAX = 4096  # distinct (text, limit) pairs kept; a production repeats a few hundred


def text_of(value: Any, limit: int = 400) -> str:
    """One clean line of text from a hint value, or "" when it is not text."""
    if not isinstance(value, str):
        return ""
    # Every call reads the same premise, themes and cast again: remember what they became.
    key = (value, limit)
    cleaned = _CLEANED.get(key)
    if cleaned is None:
        cleaned = _clean_line(value, limit)
        if len(_CLEANED) >= _CLEANED_MAX:
            _CLEANED.clear()
        _CLEANED[key] = cleaned
    return cleaned


def _clean_line(value: str, limit: int) -> str:
    cleaned = sanitize(value).replace(PLACEHOLDER, " ")
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cut = cleaned[:limit].rsplit(" ", 1)[0]
        cleaned = cut.rstrip(",;:.") + "…"
    return cleaned


def texts_of(value: Any, limit: int = 200, items: int = 60) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        return []  # most lists in hints are empty
    found = [t for t in (text_of(v, limit) for v in value[:items]) if t]
    return list(dict.fromkeys(found))


int_of = whole_number


def enum_of(cls: type[E], value: Any) -> E | None:
    if not isinstance(value, str):
        return None
    # The value map is what cls(value) looks in first; only a miss pays for the exception.
    found = cls._value2member_map_.get(value)
    if found is not None:
        return cast(E, found)
    try:
        return cls(value)
    except ValueError:
        return None


def mapping_of(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def mappings_of(value: Any, items: int = 500) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value[:items] if isinstance(v, Mapping)]


@dataclass(frozen=True)
class CharacterHint:
    name: str
    description: str = ""
    voice: str = ""

    @property
    def cue(self) -> str:
        return self.name.upper()

    def registers(self) -> list[str]:
        """Dialogue registers the character's voice suggests (e.g. "dry, clipped")."""
        voice = self.voice.lower()
        return [
            reg
            for reg, words in dialogue_banks.REGISTER_WORDS.items()
            if any(w in voice for w in words)
        ]

    def short_description(self) -> str:
        first = re.split(r"[.;:]", self.description, maxsplit=1)[0].strip()
        words = first.split()
        return " ".join(words[:14]) if words else ""


@dataclass(frozen=True)
class Dependency:
    task_id: str
    kind: TaskKind | None
    title: str
    summary: str


_DEPENDENCIES: dict[tuple[Any, ...], Dependency] = {}
_DEPENDENCIES_MAX = 4096  # distinct inputs kept; a task of a dense plan gives 50 a call


def _dependency(d: Mapping[str, Any]) -> Dependency:
    """One input as read from its hint, remembered by its raw values: every call of a task
    with many inputs gives the same inputs again (a `Dependency` is immutable, so shared)."""
    raw = (d.get("task_id"), d.get("kind"), d.get("title"), d.get("summary"))
    try:
        found = _DEPENDENCIES.get(raw)
    except TypeError:  # a value that is not hashable (not text): read it every time
        return _read_dependency(raw)
    if found is None:
        found = _read_dependency(raw)
        if len(_DEPENDENCIES) >= _DEPENDENCIES_MAX:
            _DEPENDENCIES.clear()
        _DEPENDENCIES[raw] = found
    return found


def _dependencies(value: Any) -> list[Dependency]:
    """`_dependency` of each input hint (at most 200): a task of a dense plan reads 50 a call,
    the same dicts its layer's other readers read, so the usual case (a plain dict, its inputs
    seen before) is looked up here without a call or an ABC check per input."""
    if not isinstance(value, list | tuple) or not value:
        return []
    value = value[:200]
    held = _DEPENDENCIES
    try:
        # The usual case at C speed: plain dicts holding the four keys, every one seen before.
        if set(map(type, value)) == _DICT_ONLY:
            known = list(map(held.get, map(_RAW, value)))
            if all(known):  # a Dependency is always true; a miss is None
                return cast(list[Dependency], known)
    except (KeyError, TypeError):  # a key missing, or a value that is not hashable
        pass
    found: list[Dependency] = []
    for d in value:
        if type(d) is dict:
            raw = (d.get("task_id"), d.get("kind"), d.get("title"), d.get("summary"))
            try:
                dep = held.get(raw)
            except TypeError:  # a value that is not hashable (not text)
                dep = None
            found.append(dep if dep is not None else _dependency(d))
        elif isinstance(d, Mapping):
            found.append(_dependency(d))
    return found


_DICT_ONLY = {dict}
_RAW = operator.itemgetter("task_id", "kind", "title", "summary")  # as `_dependency` reads them


def _read_dependency(raw: tuple[Any, ...]) -> Dependency:
    task_id, kind, title, summary = raw
    return Dependency(
        task_id=text_of(task_id, 64),
        kind=enum_of(TaskKind, kind),
        title=text_of(title, 200),
        summary=text_of(summary, 300),
    )


def _characters(value: Any) -> list[CharacterHint]:
    found: list[CharacterHint] = []
    if not isinstance(value, list | tuple):
        return found
    for item in value[:40]:
        if isinstance(item, str):
            name, description, voice = text_of(item, 60), "", ""
        elif isinstance(item, Mapping):
            name = text_of(item.get("name"), 60)
            description = text_of(item.get("description"), 300)
            voice = text_of(item.get("voice"), 200)
        else:
            name = text_of(getattr(item, "name", None), 60)
            description = text_of(getattr(item, "description", None), 300)
            voice = text_of(getattr(item, "voice", None), 200)
        if name and all(c.name != name for c in found):
            found.append(CharacterHint(name, description, voice))
    return found


@dataclass
class Material:
    """The production's own facts, as far as the hints give them."""

    kind: TaskKind | None = None
    purpose: str = ""
    role: Role | None = None
    agent_name: str = ""
    title: str = ""
    format: Format | None = None
    logline: str = ""
    premise: str = ""
    themes: list[str] = field(default_factory=list)
    tone: str = ""
    characters: list[CharacterHint] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    location_notes: dict[str, str] = field(default_factory=dict)
    palette: list[str] = field(default_factory=list)
    lighting: str = ""
    camera: str = ""
    music: str = ""
    task_title: str = ""
    task_brief: str = ""
    chapter: int | None = None
    episode: int | None = None
    scene: int | None = None
    target_words: int | None = None
    min_words: int | None = None
    max_words: int | None = None
    forbidden_terms: list[str] = field(default_factory=list)
    required_terms: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    direction: str = ""
    character: str = ""
    hints: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def dependencies(self) -> list[Dependency]:
        """The inputs the hints list, read on first use: a status report reads a few titles
        of its 50 (`input_titles`), a chapter only its scenes."""
        return _dependencies(self.hints.get("dependencies"))

    def input_titles(self, limit: int) -> list[str]:
        """The first `limit` titles of `dependencies` (those that have one), reading only as
        many inputs as that takes when they are not all read already."""
        if "dependencies" in self.__dict__:
            return [d.title for d in self.dependencies if d.title][:limit]
        found: list[str] = []
        if limit <= 0:
            return found
        raw = self.hints.get("dependencies")
        if not isinstance(raw, list | tuple):
            return found
        held = _DEPENDENCIES
        for d in raw[:200]:
            dep = None
            if type(d) is dict:  # the usual input: a plain dict seen before, looked up as is
                try:
                    dep = held.get(_RAW(d))
                except (KeyError, TypeError):  # a key missing, or a value that is not text
                    pass
            if dep is None:
                if not isinstance(d, Mapping):
                    continue
                dep = _dependency(d)
            if dep.title:
                found.append(dep.title)
                if len(found) >= limit:
                    break
        return found

    def has_inputs(self) -> bool:
        """Whether `dependencies` is not empty, without reading them all."""
        if "dependencies" in self.__dict__:
            return bool(self.dependencies)
        raw = self.hints.get("dependencies")
        if not isinstance(raw, list | tuple):
            return False
        return any(type(d) is dict or isinstance(d, Mapping) for d in raw[:200])

    @property
    def year(self) -> int | None:
        """The year the premise sets the story in ("Spring 1911."), when it names one."""
        found = _YEAR.search(self.premise)
        return int(found.group(1)) if found else None

    @classmethod
    def from_hints(cls, hints: Mapping[str, Any]) -> Material:
        h = hints if isinstance(hints, Mapping) else {}
        return cls(
            **_setting(h),
            kind=enum_of(TaskKind, h.get("kind")),
            purpose=text_of(h.get("purpose"), 40),
            role=enum_of(Role, h.get("role")),
            agent_name=text_of(h.get("agent_name"), 120),
            task_title=text_of(h.get("task_title"), 200),
            task_brief=text_of(h.get("task_brief"), 600),
            chapter=int_of(h.get("chapter")),
            episode=int_of(h.get("episode")),
            scene=int_of(h.get("scene")),
            target_words=int_of(h.get("target_words")),
            min_words=int_of(h.get("min_words")),
            max_words=int_of(h.get("max_words")),
            forbidden_terms=texts_of(h.get("forbidden_terms"), 80),
            required_terms=texts_of(h.get("required_terms"), 80),
            feedback=texts_of(h.get("feedback"), 300),
            direction=text_of(h.get("direction"), 400),
            character=text_of(h.get("character"), 60),
            hints=h,
        )

    def cast(self) -> list[CharacterHint]:
        cast = list(self.characters or _DEFAULT_CAST)
        if self.character and all(c.name.lower() != self.character.lower() for c in cast):
            cast.insert(0, CharacterHint(self.character))
        if len(cast) == 1:  # a scene needs someone to talk to
            cast.extend(c for c in _DEFAULT_CAST[:2] if c.name != cast[0].name)
        return cast

    def voiced(self) -> CharacterHint | None:
        """The character a character agent voices, when there is one."""
        if not self.character:
            return None
        return next((c for c in self.cast() if c.name.lower() == self.character.lower()), None)

    def places(self) -> list[str]:
        return [prose_place(p) for p in self.locations] or list(banks.DEFAULT_LOCATIONS)

    def theme_list(self) -> list[str]:
        return self.themes or list(banks.DEFAULT_THEMES)

    def colours(self) -> list[str]:
        return self.palette or list(banks.DEFAULT_PALETTE)

    def tone_words(self) -> list[str]:
        """The tone's adjectives: 'Warm, quick and rueful. Never cruel.' → warm, quick, rueful."""
        first = re.split(r"[.!?;:]", self.tone, maxsplit=1)[0]
        words = [w.strip(" '\"").lower() for w in re.split(r",| and |/", first)]
        return [w for w in words if w and len(w.split()) <= 4] or list(banks.DEFAULT_TONE)

    def production_title(self) -> str:
        return self.title or "Untitled"


_DEFAULT_CAST = tuple(CharacterHint(*c) for c in banks.DEFAULT_CHARACTERS)  # frozen: shared

# The production's own facts: the same in every call of a production. Reading them is most of
# `from_hints`, so what they became is kept, under the text facts (hashable, hashes cached),
# and checked against the list facts by equality (a C comparison, mostly by identity).
_SCALAR_FACTS = ("title", "format", "logline", "premise", "tone", "lighting", "camera", "music")
_LIST_FACTS = ("themes", "characters", "locations", "palette")
_SETTINGS: dict[tuple[Any, ...], tuple[tuple[Any, ...], dict[str, Any]]] = {}
_SETTINGS_MAX = 64


def _setting(h: Mapping[str, Any]) -> dict[str, Any]:
    """Material's production fields from the hints. The lists are shared: read them only."""
    lists = tuple(map(h.get, _LIST_FACTS))
    try:
        key = tuple(map(h.get, _SCALAR_FACTS))
        hit = _SETTINGS.get(key)
    except TypeError:  # a fact that is not text: read it every time
        return _read_setting(h)
    if hit is not None and hit[0] == lists:
        return hit[1]
    fields = _read_setting(h)
    if len(_SETTINGS) >= _SETTINGS_MAX:
        _SETTINGS.clear()
    # The raw lists are copied (shallowly) so a caller changing its own list later is seen.
    _SETTINGS[key] = (tuple(_snapshot(v) for v in lists), fields)
    return fields


def _snapshot(value: Any) -> Any:
    if isinstance(value, list | tuple):
        items = [dict(v) if isinstance(v, dict) else v for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _read_setting(h: Mapping[str, Any]) -> dict[str, Any]:
    locations = texts_of(h.get("locations"), 200)
    return {
        "title": text_of(h.get("title"), 200),
        "format": enum_of(Format, h.get("format")),
        "logline": text_of(h.get("logline"), 600),
        "premise": text_of(h.get("premise"), 1200),
        "themes": texts_of(h.get("themes"), 80),
        "tone": text_of(h.get("tone"), 300),
        "characters": _characters(h.get("characters")),
        "locations": [short_place(p) for p in locations],
        "location_notes": {short_place(p): note for p in locations if (note := place_note(p))},
        "palette": texts_of(h.get("palette"), 40),
        "lighting": text_of(h.get("lighting"), 300),
        "camera": text_of(h.get("camera"), 300),
        "music": text_of(h.get("music"), 300),
    }


def short_place(location: str) -> str:
    """The name part of a location: 'the lamp room: lens, brass and glass' → 'the lamp room'."""
    return re.split(r":|;| \(| — | – |,", location, maxsplit=1)[0].strip() or location


def place_note(location: str) -> str:
    """What a location's description lists after a colon, for a scene's opening action."""
    _, colon, note = location.partition(":")
    return note.strip().rstrip(".") if colon else ""


def prose_place(location: str) -> str:
    """A location as it reads mid-sentence: 'lighthouse' → 'the lighthouse'."""
    lowered = location.lower()
    if location[:1].isupper() or lowered.startswith(_ARTICLES) or "'" in location.split()[0]:
        return location
    return "the " + location


def heading_place(location: str) -> str:
    """A location as a scene heading writes it: 'the old lighthouse' → 'OLD LIGHTHOUSE'."""
    lowered = location.lower()
    for article in _ARTICLES:
        if lowered.startswith(article):
            location = location[len(article) :]
            break
    return location.upper().replace(" - ", " – ")


def is_exterior(location: str) -> bool:
    lowered = location.lower()
    return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in banks.EXTERIOR_WORDS)


def capitalise(text: str) -> str:
    for i, char in enumerate(text):
        if char.isalpha():
            return text[:i] + char.upper() + text[i + 1 :] if char.islower() else text
        if char not in "\"'“‘(":
            return text
    return text


def truncate_words(text: str, words: int) -> str:
    """The first `words` words of a sentence, closed with a full stop."""
    matches = list(_WORD.finditer(text))
    if words <= 0 or not matches:
        return ""
    if words >= len(matches):
        return text
    cut = text[: matches[words - 1].end()].rstrip(" ,;:—–-")
    if cut.count('"') % 2:
        cut += '"'
    return cut + "."
