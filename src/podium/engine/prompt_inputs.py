"""A prompt's inputs: how each is given (`arrange`: whole, as its summary, or named as the
same text as another input), each version read once (`reading`), and the text that gives them
and says which are summaries (`inputs_text`, `inputs_note`). `podium.engine.prompts` lays them
out in a call's messages; the stated policy is docs/production-file.md, "What an agent
reads"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from podium.domain.artifacts import PODIUM, Artifact, Screenplay
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskKind
from podium.domain.versions import current_of
from podium.engine.budget import CHARS_PER_TOKEN

# Purposes whose inputs are the work being judged: always given whole.
REVIEWING = frozenset({"review", "debate", "ruling"})
# Kinds whose work is a revision of the input it was made from (a character's dialogue pass
# over a screenplay): that input is named, not given again, beside it.
REVISING_KINDS = frozenset({TaskKind.DIALOGUE})
# The reply's room in the context window, by task kind (the rest: DEFAULT_REPLY_TOKENS).
LONG_REPLY_TOKENS = {TaskKind.SCRIPT: 16384, TaskKind.PLAN: 16384}
DEFAULT_REPLY_TOKENS = 4096
EXCERPT_CHARS = 1200  # of each input, in the rehearsal model's hints (it reads no prompt)


def tokens_of(text: str) -> int:
    """Tokens in a text, by the budget's rule (CHARS_PER_TOKEN), rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def reading(art: Artifact) -> tuple[str, str]:
    """An input's plain text and its excerpt (what the rehearsal model reads), parsed once per
    version (`version_of`)."""
    version = version_of(art)
    return version.text, version.excerpt


@dataclass(slots=True)
class Given:
    """One input as a prompt gives it: whole, as its summary, or as "the same text as" an
    earlier input (the same text is sent once per call).

    Never changed once made (`dataclasses.replace` makes another); not frozen because a frozen
    dataclass is built field by field through `object.__setattr__`, eight times slower, and a
    prompt with 50 inputs builds 50 of these (130 µs of a layers task's prompt)."""

    artifact: Artifact
    whole_text: str
    whole: bool
    summary: str | None = None
    same_as: str | None = None
    part_of: bool = False  # `same_as` is a script podium assembled with this text in it
    revised: bool = False  # `same_as` is (or holds) a dialogue pass over this screenplay
    reviewed: bool = False

    @property
    def key(self) -> tuple[str, int]:
        """What its summary is stored under: the input's task and version."""
        return summary_key(self.artifact)


def summary_key(artifact: Artifact) -> tuple[str, int]:
    return artifact.task_id, artifact.provenance.version


@dataclass(slots=True, eq=False)
class Version:
    """One input version as prompts read it, made once and kept (`version_of`): a version's
    content never changes, so what is read from it serves every prompt that reads it (a dense
    plan's layer of 50 tasks reads the same 50 versions)."""

    artifact: Artifact
    text: str  # its plain text
    excerpt: str  # its opening and scene headings: what the rehearsal model reads
    tokens: int
    plain: bool  # neither a script podium assembled nor a dialogue pass (`_all_whole`)
    given: Given  # given whole, as `arrange` gives it (to `artifact`)
    part: str | None = None  # given whole under its heading (`inputs_text`), once it has been
    # The rehearsal model's hint for it (`podium.engine.prompts`), with the task spec it was
    # made from (a plan change gives the task a new spec).
    hint: tuple[object, dict[str, Any]] | None = None


# The versions read, by artifact id, checked to be the same version by the provenance (which a
# copy of the artifact shares); the oldest go past `_VERSIONS_MAX` versions or past
# `_VERSIONS_CHARS` characters of text (a version keeps about three times its text: the text,
# its part under its heading, the excerpt), so long scripts do not hold the memory a count
# alone would let them.
_VERSIONS: dict[str, Version] = {}
_VERSIONS_MAX = 1024
_VERSIONS_CHARS = 8_000_000
_held_chars = 0


def version_of(art: Artifact) -> Version:
    """`art`'s version as prompts read it, read once (`Version`)."""
    found = _VERSIONS.get(art.id)
    if found is not None:
        if found.artifact is art:
            return found
        if found.artifact.provenance is art.provenance:
            # A copy of the version read (its status changed since: the draft was read when
            # checked, its readers get the accepted one): kept as the copy now read, so the
            # prompts giving it share its `Given` again (`arrange`).
            found.artifact = art
            found.given = Given(art, found.text, True)
            return found
    content = art.parsed()
    text = content.plain_text()
    provenance = art.provenance
    made = Version(
        art,
        text,
        _excerpt(content, text),
        tokens_of(text),
        provenance.agent_id != PODIUM and art.kind not in REVISING_KINDS,
        Given(art, text, True),
    )
    global _held_chars
    if not _VERSIONS:
        _held_chars = 0
    if found is not None:
        _held_chars -= len(_VERSIONS.pop(art.id).text)
    while _VERSIONS and (
        len(_VERSIONS) >= _VERSIONS_MAX or _held_chars + len(text) > _VERSIONS_CHARS
    ):
        _held_chars -= len(_VERSIONS.pop(next(iter(_VERSIONS))).text)
    _VERSIONS[art.id] = made
    _held_chars += len(text)
    return made


def reply_room(kind: TaskKind, window: int) -> int:
    return min(LONG_REPLY_TOKENS.get(kind, DEFAULT_REPLY_TOKENS), window // 4)


def arrange(
    view: ProductionView,
    record: TaskRecord,
    inputs: list[Artifact],
    *,
    purpose: str,
    window: int,
    fixed_tokens: int,
    versions: list[Version] | None = None,
) -> list[Given]:
    """The stated policy for a prompt's inputs (docs/production-file.md, "Inputs"), in the
    order the task lists them:

    * the same text is sent once: an input whose text is another's, is part of a script podium
      assembled from it (a scene in the film's script), or is the screenplay a dialogue pass
      among the inputs revised (the pass stands for it, as in the deliverables), is named, not
      repeated;
    * every other input is given whole while the whole inputs fit the model's context window
      (less the rest of the prompt and room for the reply) and number at most
      `max_whole_inputs`. Past either bound the most relevant stay whole (the work under review
      and the screenplay a dialogue pass revises, always; then what podium assembled; then the
      task's inputs in the order its dependencies list them, those another input was made from
      last) and the rest are given as their summaries, said to be summaries.

    `versions`: `version_of` each input, when the caller has read them already."""
    limits = view.constraints or (view.spec.constraints if view.spec else None)
    most = limits.max_whole_inputs if limits is not None else 16
    budget = window - reply_room(record.spec.kind, window) - fixed_tokens
    summaries = view.summaries
    reviewing = purpose in REVIEWING
    if versions is None:
        versions = [version_of(art) for art in inputs]
    texts = [v.text for v in versions]
    if _all_whole(versions, texts, most, budget):
        given = [
            v.given if v.artifact is art else Given(art, v.text, True)
            for v, art in zip(versions, inputs, strict=True)
        ]
        if reviewing and given:
            given[0] = Given(inputs[0], texts[0], True, reviewed=True)
        return given
    assembled = [
        n
        for n, art in enumerate(inputs)
        if art.provenance.agent_id == PODIUM and art.provenance.made_from
    ]
    # An input another input was made from (the script under its dialogue pass) reaches the
    # task through that one too: it ranks after the inputs made from it.
    beneath: set[str] = set()
    for art in inputs:
        beneath.update(art.provenance.made_from)
    # The work judged (a review's first input) or revised (the screenplay under a dialogue
    # pass): always whole, whatever the window.
    kept = 0 if reviewing else None
    if kept is None and record.spec.kind in REVISING_KINDS:
        kept = next((n for n, art in enumerate(inputs) if art.content_type == "Screenplay"), None)
    order = sorted(
        range(len(inputs)),
        key=lambda n: (
            n != kept,
            n not in assembled,
            inputs[n].task_id in beneath,
            n,
        ),
    )
    decided: dict[int, Given] = {}
    first: dict[str, str] = {}
    # What the inputs decided so far stand for, kept as each is decided (linear in the inputs):
    # an input version a dialogue pass in an assembled script revised (the first such script
    # decided), and an input version a dialogue pass among the inputs revised (the pass listed
    # first among the inputs).
    revised_in: dict[tuple[str, int], str] = {}
    passes: dict[tuple[str, int, str], int] = {}

    def decide(n: int, given: Given) -> None:
        decided[n] = given
        if not given.whole or given.same_as is not None:
            return
        art = inputs[n]
        if art.provenance.agent_id == PODIUM:
            for key in _revisions_in(view, art):
                revised_in.setdefault(key, art.task_id)
        if art.kind in REVISING_KINDS:
            for task_id, version in art.provenance.made_from.items():
                key3 = (task_id, version, art.content_type)
                if passes.get(key3, n) >= n:
                    passes[key3] = n

    used = 0
    whole_count = 0
    for n in order:
        art, text = inputs[n], texts[n]
        reviewed = reviewing and n == 0
        must = n == kept
        if text in first:
            decide(n, Given(art, text, True, same_as=first[text], reviewed=reviewed))
            continue
        within = (
            next(
                (
                    inputs[a].task_id
                    for a in assembled
                    if a != n
                    and a in decided
                    and decided[a].whole
                    and art.task_id in inputs[a].provenance.made_from
                    and text in texts[a]
                ),
                None,
            )
            if assembled
            else None
        )
        if within is None and not must:
            within = revised_in.get((art.task_id, art.provenance.version))
            if within is not None:
                decide(n, Given(art, text, True, same_as=within, part_of=True, revised=True))
                continue
        if within is not None and not must:
            decide(n, Given(art, text, True, same_as=within, part_of=True))
            continue
        b = passes.get((art.task_id, art.provenance.version, art.content_type))
        if b is not None and not must:
            decide(n, Given(art, text, True, same_as=inputs[b].task_id, revised=True))
            continue
        first[text] = art.task_id
        size = tokens_of(text)
        if must or (whole_count < most and used + size <= budget):
            used += size
            whole_count += 1
            decide(n, Given(art, text, True, reviewed=reviewed))
        else:
            decide(n, Given(art, text, False, summary=summaries.get(summary_key(art))))
    return [decided[n] for n in range(len(inputs))]


def _all_whole(versions: list[Version], texts: list[str], most: int, budget: int) -> bool:
    """Whether `arrange` gives every input whole whatever their order: none is named instead
    (no two hold the same text, none is a script podium assembled or a dialogue pass) and all
    of them fit (at most `most`, their tokens within `budget`). Then their order, which costs
    a look at every input's own inputs (quadratic in a dense plan), decides nothing."""
    if len(versions) > most or len(set(texts)) < len(texts):
        return False
    used = 0
    for version in versions:
        if not version.plain:
            return False
        used += version.tokens
    return used <= budget


def _revisions_in(view: ProductionView, assembled: Artifact) -> list[tuple[str, int]]:
    """The input versions a script podium assembled holds as a dialogue pass revised them: an
    input among them, when this script is given whole, is named, not given again beside it."""
    found: list[tuple[str, int]] = []
    for task_id in assembled.provenance.made_from:
        record = view.tasks.get(task_id)
        if record is None or record.spec.kind not in REVISING_KINDS:
            continue
        revision = current_of(view, record)
        if revision is not None:
            found.extend(revision.provenance.made_from.items())
    return found


def needed_summaries(given: list[Given]) -> list[Given]:
    """The inputs to be summarised whose summaries are not made yet."""
    return [g for g in given if not g.whole and g.summary is None]


def inputs_text(given: list[Given]) -> list[str]:
    """The inputs, each under the same heading whoever reads it and why (a review, a dialogue
    pass, a shot list), so calls reading the same work share the start of their prompts."""
    parts: list[str] = []
    held = _VERSIONS
    for g in given:
        art = g.artifact
        # No version number: a version made again after an interruption is numbered anew, and the
        # same work must be asked for in the same words (the rehearsal model draws from them).
        if g.whole and g.same_as is None:
            hit = held.get(art.id)
            if (
                hit is not None
                and hit.part is not None
                and hit.text is g.whole_text
                and hit.artifact.provenance is art.provenance
            ):
                parts.append(hit.part)  # the same version's text, read by another prompt
                continue
        title = f"INPUT from {art.task_id} ({art.kind.value})"
        if g.same_as is not None:
            if g.revised and g.part_of:
                parts.append(
                    f"{title}: is part of the INPUT from {g.same_as} as its dialogue pass "
                    "revised it, given once."
                )
            elif g.revised:
                parts.append(
                    f"{title}: revised by the INPUT from {g.same_as} (its dialogue pass), which "
                    "stands for it; not repeated."
                )
            else:
                what = "is part of" if g.part_of else "is the same text as"
                parts.append(f"{title}: {what} the INPUT from {g.same_as}, given once.")
        elif g.whole:
            parts.append(_whole_part(art, title, g.whole_text))
        else:
            body = g.summary if g.summary is not None else g.whole_text
            what = "SUMMARY" if g.summary is not None else "whole (no summary could be made)"
            parts.append(f"{title}, {what} of {tokens_of(g.whole_text):,} tokens:\n{body}")
    return parts


def _whole_part(art: Artifact, title: str, text: str) -> str:
    """An input given whole, as every prompt that reads it gives it: kept with its version."""
    part = f"{title}:\n{text}"
    version = version_of(art)
    if version.text is text:
        version.part = part
    return part


def inputs_note(given: list[Given], window: int, most: int) -> list[str]:
    """What the task says of its inputs: which one is the work under review, which are
    summaries and why. Never a silent cut."""
    notes: list[str] = []
    for g in given:
        if g.reviewed:
            notes.append(f"The INPUT from {g.artifact.task_id} is the work under review, whole.")
    summarised = [g for g in given if not g.whole]
    if summarised:
        notes.append(
            f"{len(summarised)} of {len(given)} inputs are given as summaries (marked SUMMARY): "
            f"the whole inputs would not fit the model's context window ({window:,} tokens) "
            f"or pass the {most} inputs a task gets whole. Ask for an input whole if you need it."
        )
    return notes


def _excerpt(content: Any, plain: str) -> str:
    """An input's opening, and a screenplay's scene headings: what the rehearsal model reads."""
    text = plain[:EXCERPT_CHARS]
    if isinstance(content, Screenplay) and len(content.scenes) > 1:
        headings = "\n".join(f"{n}. {s.heading}" for n, s in enumerate(content.scenes, 1))
        text += f"\nSCENES ({len(content.scenes)}):\n{headings[:EXCERPT_CHARS]}"
    return text
