"""The rehearsal model's use of the reply protocol (`podium.domain.asking`), deterministic from
the request: it asks one question per production and claims one territory, and it summarises.

Both only where the vision has a tone and two themes or more (a bare premise leaves nothing to
ask about, and a test production then runs as it did):

* It asks the Orchestrator on the treatment's first draft, before any answer: "tension or
  intimacy?" (the seed's Vision Clarification), with two options.
* It claims approval_required for the ending, a sensitive beat: the last scene of a film, the
  last chapter of a story, the last episode's arc; and a reviewer of the ending holds out
  (`holds_out`), so every sample stages a debate there, whatever the draw.
* A summary (purpose "summary") keeps the first sentence of each paragraph of the text, up to
  the words asked for.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from podium.domain.artifacts import Prose
from podium.domain.asking import Question
from podium.domain.policy import Territory
from podium.domain.tasks import TaskKind
from podium.llm.rehearsal.material import Material

QUESTION = Question(
    text="The vision leaves it open: should this lean on tension or on intimacy?",
    options=[
        "Tension: keep the danger close and the answers late.",
        "Intimacy: stay with the people; the danger sits behind them.",
    ],
)

_ENDINGS = {
    TaskKind.SCENE: "scenes",
    TaskKind.CHAPTER: "chapters",
    TaskKind.EPISODE_ARC: "episodes",
}
_UNIT = {TaskKind.SCENE: "scene", TaskKind.CHAPTER: "chapter", TaskKind.EPISODE_ARC: "episode"}


def protocol_fields(m: Material, attempt: int) -> dict[str, Any]:
    """The protocol's fields for a task's reply (empty when it neither asks nor claims)."""
    hints = m.hints
    if not hints.get("protocol") or not _open_choice(m):
        return {}
    if (
        m.kind is TaskKind.TREATMENT
        and attempt == 1
        and not hints.get("clarifications")
        and not m.feedback
    ):
        return {"question": QUESTION.model_dump(mode="json")}
    if is_ending(m):
        return {"territory": Territory.APPROVAL_REQUIRED.value}
    return {}


def is_ending(m: Material) -> bool:
    """Whether the work is the ending: the last scene, chapter or episode arc of several."""
    total = m.hints.get(_ENDINGS.get(m.kind, ""), None) if m.kind in _ENDINGS else None
    number = m.hints.get(_UNIT[m.kind]) if m.kind in _UNIT else None
    return isinstance(total, int) and total > 1 and number == total


def holds_out(m: Material) -> bool:
    """A review of the ending asks for a revision in every round, so the disagreement goes to a
    debate (writer against director in Last Light): where the vision leaves a choice open."""
    return m.purpose == "review" and _open_choice(m) and is_ending(m)


def _open_choice(m: Material) -> bool:
    """Whether the vision is full enough to leave a choice open: a tone and two themes or more
    (the samples'). A bare vision (a premise, as in most tests) gives nothing to ask about."""
    return bool(m.tone) and len(m.themes) >= 2


def with_protocol(
    content: BaseModel, schema: type[BaseModel], m: Material, attempt: int
) -> BaseModel:
    fields = protocol_fields(m, attempt)
    if not fields:
        return content
    return schema.model_validate({**content.model_dump(mode="json"), **fields})


_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)", re.DOTALL)


def summary(m: Material) -> Prose:
    text = str(m.hints.get("text") or "")
    words = m.hints.get("summary_words")
    limit = words if isinstance(words, int) and words > 0 else 250
    kept: list[str] = []
    count = 0
    for paragraph in re.split(r"\n\s*\n", text):
        line = " ".join(paragraph.split())
        if not line:
            continue
        found = _SENTENCE.match(line)
        sentence = found.group(1) if found else line
        size = len(sentence.split())
        if count + size > limit:
            break
        kept.append(sentence)
        count += size
    of = str(m.hints.get("summary_of") or "the input")
    return Prose(title=f"Summary of {of}", text=" ".join(kept) or f"{of}, in brief.")
