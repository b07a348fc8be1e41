"""Validators: rules the production sets on deliverables, checked by recomputing the metrics.

An agent's own claims ("1,000 words", "all characters present") are never trusted: every
figure here is recounted from the content.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from podium.domain.artifacts import Content, ElementType, Screenplay, character_name
from podium.domain.base import Identifier, Model
from podium.domain.tasks import TaskKind, TaskSpec

_WORD = re.compile(r"[A-Za-z0-9\u00C0-\uFFFF]+(?:['’\-][A-Za-z0-9\u00C0-\uFFFF]+)*")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


class Severity(StrEnum):
    ERROR = "error"  # the agent must correct it
    DEVIATION = "deviation"  # drift from the vision or style guide: escalated with evidence


class _ValidatorBase(Model):
    id: Identifier | None = None
    kinds: list[TaskKind] = Field(default_factory=list, description="Task kinds it applies to.")
    tasks: list[Identifier] = Field(default_factory=list, description="Task ids it applies to.")
    severity: Severity = Severity.ERROR

    def applies_to(self, task: TaskSpec) -> bool:
        if not self.kinds and not self.tasks:
            return True
        return task.kind in self.kinds or task.id in self.tasks


class WordCount(_ValidatorBase):
    type: Literal["word_count"]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _range(self) -> WordCount:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class RequiredElements(_ValidatorBase):
    """Screenplay element types (action, dialogue, …) that must appear."""

    type: Literal["required_elements"]
    elements: list[ElementType] = Field(min_length=1)


class RequiredTerms(_ValidatorBase):
    type: Literal["required_terms"]
    terms: list[str] = Field(min_length=1)


class ForbiddenTerms(_ValidatorBase):
    type: Literal["forbidden_terms"]
    terms: list[str] = Field(min_length=1)
    reason: str = ""


class SceneLimit(_ValidatorBase):
    type: Literal["scene_limit"]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _range(self) -> SceneLimit:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class CharacterPresence(_ValidatorBase):
    """Each character speaks or is named in what is printed: never a synopsis or a note."""

    type: Literal["character_presence"]
    characters: list[str] = Field(min_length=1)


# -- rules over the assembled deliverables (`podium.deliverables`) ------------------------------
# They read the paginated script, the shot list, the cut and the cues together, so `check`
# (one content alone) passes them by; `podium.deliverables.checks` computes them.


class _Bounds(_ValidatorBase):
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _range(self) -> _Bounds:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is larger than max ({self.max:g})")
        return self


class RuntimeRange(_Bounds):
    """Minutes of screen time of the film, or of each episode: the paginated script, a page a
    minute."""

    type: Literal["runtime"]


class PageRange(_Bounds):
    """Pages of the printed script (in eighths, as a script supervisor counts them)."""

    type: Literal["pages"]


class ShotReferences(_ValidatorBase):
    """Every item of the cut names a shot of the shot list, and runs no longer than it; with
    `runtime_tolerance`, the cut's length is the script's runtime within that share."""

    type: Literal["shot_references"]
    runtime_tolerance: float | None = Field(default=None, gt=0, le=1)


class CueBounds(_ValidatorBase):
    """Every music cue lies inside the cut; with `enters_scene`, no cue is in an earlier scene;
    with `leaves_before_last_shot`, every cue ends before the cut's last shot starts."""

    type: Literal["cue_bounds"]
    enters_scene: int | None = Field(default=None, ge=1)
    leaves_before_last_shot: bool = False


CountWhat = Literal["handheld_shots", "shots", "cues", "edit_items", "scenes"]


class Count(_ValidatorBase):
    """A counted style rule: how many of `what` the deliverables hold (of a film, or of each
    episode), e.g. `{type = "count", what = "handheld_shots", max = 1}`."""

    type: Literal["count"]
    what: CountWhat
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _range(self) -> Count:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


DeliverableRule = RuntimeRange | PageRange | ShotReferences | CueBounds | Count
DELIVERABLE_RULES = (RuntimeRange, PageRange, ShotReferences, CueBounds, Count)

ValidatorSpec = Annotated[
    WordCount
    | RequiredElements
    | RequiredTerms
    | ForbiddenTerms
    | SceneLimit
    | CharacterPresence
    | RuntimeRange
    | PageRange
    | ShotReferences
    | CueBounds
    | Count,
    Field(discriminator="type"),
]


class Finding(BaseModel):
    """One failed rule, with the recomputed figure as evidence."""

    model_config = ConfigDict(defer_build=True)

    rule: str
    severity: Severity
    message: str
    evidence: str = ""


def _terms_found(text: str, terms: list[str]) -> list[str]:
    lowered = text.lower()
    return [
        t
        for t in terms
        if re.search(r"(?<!\w)" + re.escape(t.lower()) + r"(?!\w)", lowered) is not None
    ]


def check(rule: ValidatorSpec, content: Content) -> Finding | None:
    text = content.plain_text()
    name = rule.id or rule.type
    if isinstance(rule, WordCount):
        words = count_words(text)
        low, high = rule.min, rule.max
        if (low is not None and words < low) or (high is not None and words > high):
            bounds = f"{low if low is not None else 0}–{high if high is not None else '∞'}"
            return Finding(
                rule=name,
                severity=rule.severity,
                message=f"{words} words; the range is {bounds}",
                evidence=f"recounted: {words} words",
            )
    elif isinstance(rule, RequiredElements):
        present = (
            {e.type for s in content.scenes for e in s.elements}
            if isinstance(content, Screenplay)
            else set()
        )
        missing = [e.value for e in rule.elements if e not in present]
        if missing:
            return Finding(
                rule=name,
                severity=rule.severity,
                message=f"missing screenplay elements: {', '.join(missing)}",
            )
    elif isinstance(rule, RequiredTerms):
        seen_terms = set(_terms_found(text, rule.terms))
        missing = [t for t in rule.terms if t not in seen_terms]
        if missing:
            return Finding(
                rule=name, severity=rule.severity, message=f"missing: {', '.join(missing)}"
            )
    elif isinstance(rule, ForbiddenTerms):
        hits = _terms_found(text, rule.terms)
        if hits:
            why = f" ({rule.reason})" if rule.reason else ""
            return Finding(
                rule=name,
                severity=rule.severity,
                message=f"uses forbidden terms: {', '.join(hits)}{why}",
                evidence=_evidence(text, hits[0]),
            )
    elif isinstance(rule, SceneLimit):
        scenes = content.scene_count()
        if (rule.min is not None and scenes < rule.min) or (
            rule.max is not None and scenes > rule.max
        ):
            return Finding(
                rule=name,
                severity=rule.severity,
                message=f"{scenes} scenes; the limit is {rule.min or 0}–{rule.max or '∞'}",
                evidence=f"recounted: {scenes} scenes",
            )
    elif isinstance(rule, CharacterPresence):
        speakers = content.speakers()
        named = {c for c in rule.characters if c.upper() in speakers}
        named.update(
            _terms_found(printed_text(content), [c for c in rule.characters if c not in named])
        )
        missing = [c for c in rule.characters if c not in named]
        if missing:
            return Finding(
                rule=name,
                severity=rule.severity,
                message=f"characters absent: {', '.join(missing)}",
            )
    return None


_UNPRINTED = frozenset({ElementType.SYNOPSIS, ElementType.NOTE, ElementType.SECTION})


def printed_text(content: Content) -> str:
    """What a reader sees printed: a screenplay's elements but its synopses, notes and sections
    (Fountain keeps those off the page); any other content whole."""
    if not isinstance(content, Screenplay):
        return content.plain_text()
    return "\n".join(
        e.text for s in content.scenes for e in s.elements if e.type not in _UNPRINTED and e.text
    )


def _evidence(text: str, term: str, width: int = 60) -> str:
    at = text.lower().find(term.lower())
    if at < 0:
        return ""
    start, end = max(0, at - width), min(len(text), at + len(term) + width)
    head = "…" if start else ""
    tail = "…" if end < len(text) else ""
    return head + text[start:end].replace("\n", " ") + tail


def run_validators(rules: list[ValidatorSpec], task: TaskSpec, content: Content) -> list[Finding]:
    """Every finding for this task's content, in the order the rules are written. Rules over the
    assembled deliverables are not this content's alone: `podium.deliverables.checks` runs them."""
    findings: list[Finding] = []
    for rule in rules:
        if rule.applies_to(task) and (finding := check(rule, content)) is not None:
            findings.append(finding)
    return findings


# -- a character's dialogue pass ------------------------------------------------------------------

DIALOGUE_PASS_RULE = "dialogue-pass"


def spoken_lines(play: Screenplay) -> dict[str, list[str]]:
    """Every speaker's lines (dialogue and parentheticals, in order) across the scenes, keyed by
    the cue's name (`MARA (V.O.)` speaks as MARA)."""
    lines: dict[str, list[str]] = {}
    speaker: str | None = None
    for scene in play.scenes:
        speaker = None
        for element in scene.elements:
            if element.type is ElementType.CHARACTER:
                speaker = character_name(element.text)
                lines.setdefault(speaker, [])
            elif element.type in (ElementType.DIALOGUE, ElementType.PARENTHETICAL):
                if speaker is not None:
                    lines[speaker].append(" ".join(element.text.split()))
            else:
                speaker = None
    return lines


def dialogue_pass_findings(character: str, revised: Screenplay, made: Screenplay) -> list[Finding]:
    """A character's dialogue pass may change only that character's lines: every other speaker
    keeps each of their lines, word for word and in order, and no speaker is added. One finding
    naming, for each other speaker whose lines changed, how many they had and have, and how many
    differ (recounted from both versions, never from the agent's word)."""
    own = character_name(character)
    before, after = spoken_lines(revised), spoken_lines(made)
    changed: list[str] = []
    for who in sorted(set(before) | set(after)):
        if who == own:
            continue
        was, now = before.get(who, []), after.get(who, [])
        if was == now:
            continue
        differ = sum(1 for a, b in zip(was, now, strict=False) if a != b) + abs(len(was) - len(now))
        if not was:
            changed.append(f"{who} added ({len(now)} line(s) where the scene has none)")
        elif not now:
            changed.append(f"{who} dropped (all {len(was)} line(s))")
        else:
            changed.append(f"{who}: {differ} of {len(was)} line(s) changed ({len(now)} now)")
    if not changed:
        return []
    return [
        Finding(
            rule=DIALOGUE_PASS_RULE,
            severity=Severity.ERROR,
            message=f"a dialogue pass for {own} may change only {own}'s lines; keep every other "
            "speaker's cue and lines word for word: " + "; ".join(changed),
            evidence=f"recounted: {sum(len(v) for k, v in before.items() if k != own)} lines of "
            f"other speakers in the scene, {sum(len(v) for k, v in after.items() if k != own)} "
            "in the pass",
        )
    ]
