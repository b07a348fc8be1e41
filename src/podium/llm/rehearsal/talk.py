"""What the rehearsal model says about work: critiques, debate turns, rulings, reports, options.

Each speaks in the voice of the agent's role, so a rehearsed debate between a director of
photography and an editor reads like one.
"""

from __future__ import annotations

from podium.domain.agents import Role
from podium.domain.artifacts import (
    Alternative,
    Alternatives,
    Critique,
    Position,
    Ruling,
    StatusReport,
)
from podium.domain.tasks import TaskKind
from podium.llm.rehearsal.asking import holds_out
from podium.llm.rehearsal.composer import Composer
from podium.llm.rehearsal.material import capitalise, int_of, mapping_of, text_of

# What each role cares about, in its own words: (preference, worry, value).
_ROLE_LENS: dict[Role, tuple[str, str, str]] = {
    Role.PRODUCER: (
        "take the version that fits the schedule and leaves money for the ending",
        "we spend the contingency before we have a cut",
        "a finished film beats a perfect plan",
    ),
    Role.SHOWRUNNER: (
        "serve the season arc, not the single episode",
        "we resolve in episode two what should hurt until the finale",
        "every episode has to earn the next one",
    ),
    Role.DIRECTOR: (
        "protect the performances and let the scene breathe",
        "we explain what the actors can already show",
        "the audience should feel it before they understand it",
    ),
    Role.WRITER: (
        "fix it on the page first: the want has to be clearer",
        "the dialogue is doing the work the structure should do",
        "every scene has to turn something",
    ),
    Role.DIRECTOR_OF_PHOTOGRAPHY: (
        "solve it with light and lens rather than more coverage",
        "we light it flat to save time and it looks like it",
        "the frame should tell you where to look without a cut",
    ),
    Role.EDITOR: (
        "cut for rhythm, because the audience is ahead of us here",
        "we hold on shots because they were hard to get, not because they play",
        "what we leave out is half the film",
    ),
    Role.COMPOSER: (
        "let silence carry it and bring the theme in late",
        "the score tells people what to feel before the picture has",
        "music should arrive like weather, not like a signpost",
    ),
    Role.CHARACTER: (
        "stay true to who I am, even when it costs me",
        "you make me say things I would never say out loud",
        "I only change if something forces me to",
    ),
    Role.ILLUSTRATOR: (
        "make it one strong image, not three weak ones",
        "the picture repeats the text instead of adding to it",
        "the image should hold a second look",
    ),
    Role.CUSTOM: (
        "choose the simpler version",
        "we are adding complication nobody asked for",
        "clarity first",
    ),
}

_ISSUES: dict[str, tuple[str, ...]] = {
    "screenplay": (
        "Scene {n}: {NAME}'s second speech says what the action already shows; cut it to subtext.",
        "Scene {n} needs a clearer turn: {NAME2} should want something {NAME} won't give.",
        "{NAME2} goes silent after scene {n}; give one reaction that keeps them in the story.",
        "The middle of scene {n} runs long: halve the second action block.",
        "Establish {place} earlier, so the final image has something to answer.",
        "Too many parentheticals in scene {n}; trust the actors with the line readings.",
    ),
    "prose": (
        "The opening explains {theme} instead of dramatising it; start on {name} doing something.",
        "The {colour} light appears three times; keep the best one.",
        "{name2} disappears after the midpoint; bring them back before the close.",
        "The ending resolves too neatly for a {tone_word} story; leave one question open.",
        "Paragraph {n} slips into summary; play it as a scene between {name} and {name2}.",
        "The dialogue tags draw attention to themselves; let 'said' do the work.",
    ),
    "image": (
        "{name} sits dead centre; move them to the left third so {place} can read.",
        "The palette drifts from the style guide; pull it back to {colour}.",
        "The caption repeats what the image shows; make it say what it cannot.",
        "The lighting fights the mood: it should feel {tone_word}, not bright.",
    ),
    "shots": (
        "Scene {n} has no close-up: we never see {NAME}'s face at the turn.",
        "Too much movement in scene {n}; lock off at least one shot.",
        "The coverage on {NAME2} in scene {n} is thin; add a single.",
        "Scene {n} opens on a wide we don't need; we already know {place}.",
    ),
    "music": (
        "The first cue enters too early; let the room tone play.",
        "Two cues in a row share the same mood; vary one of them.",
        "The theme arrives before {NAME} has earned it; hold it for the last scene.",
    ),
    "edit": (
        "Hold on {NAME} two beats longer before the cut into scene {n}.",
        "Scene {n} ends twice; lose the last shot.",
        "The dissolve into scene {n} softens a moment that should land hard.",
    ),
    "general": (
        "Tie it back to {theme}: right now it could belong to any production.",
        "The stakes for {name} are stated, not felt.",
        "It is a draft of the right idea; tighten it by a third.",
    ),
}
_KIND_FAMILY: dict[TaskKind, str] = {
    TaskKind.SCENE: "screenplay",
    TaskKind.SCRIPT: "screenplay",
    TaskKind.DIALOGUE: "screenplay",
    TaskKind.CHAPTER: "prose",
    TaskKind.TREATMENT: "prose",
    TaskKind.OUTLINE: "prose",
    TaskKind.EPISODE_ARC: "prose",
    TaskKind.FINAL: "prose",
    TaskKind.LOOK: "image",
    TaskKind.ILLUSTRATION: "image",
    TaskKind.SHOT_LIST: "shots",
    TaskKind.MUSIC_CUES: "music",
    TaskKind.EDIT: "edit",
}
_PRAISE = (
    "{name}'s voice is distinct and holds all the way through.",
    "The material set in {place} earns its quiet.",
    "It knows what it is about: {theme}, without saying so.",
    "The shape is right and the ending lands.",
    "It sits well inside the style guide; the {colour} is used with restraint.",
)
_APPROACHES = (
    (
        "Play it quiet",
        "Strip it back to {name} and {name2} in one room; let {theme} live in what goes unsaid.",
    ),
    (
        "Lean into the weather",
        "Externalise the conflict: wind, noise, a door that will not stay shut at {place}.",
    ),
    ("Tell it backwards", "Open on the aftermath at {place}, then show how we got there."),
    ("Give it to {name2}", "Shift the point of view to {name2}; {name} becomes the mystery."),
    ("One long take", "Play the turn in a single unbroken shot, with no coverage to hide in."),
    ("Start late, leave early", "Keep only the second half; trust the audience with the setup."),
    ("Find the joke first", "Play the absurdity up front so that {theme} lands harder after it."),
    ("Move it outside", "Take it out of the room and into the weather, on the way to {place}."),
    ("Let the music carry it", "Drop most of the dialogue, score it, and trust the faces."),
    ("Put a clock on it", "{name} has until {time}; every beat spends that time."),
)
_REASONS = (
    "The cheapest option; it keeps us on schedule.",
    "Riskier, but it is the version that sounds most {tone_word}.",
    "Costs a day of rework and buys a stronger ending.",
    "Closest to the vision as written; least surprising.",
    "It gives {name2} something to play, which the draft does not.",
    "It puts {theme} in the picture instead of in the dialogue.",
)


REVISE_RATE = 0.12


def _lens(comp: Composer) -> tuple[str, str, str]:
    return _ROLE_LENS[comp.m.role or Role.CUSTOM]


def critique(comp: Composer) -> Critique:
    """Revise on about one review in eight, with concrete notes, and always on the ending of
    a sample (`holds_out`): a debate follows an objection the revision does not settle, so
    every sample argues somewhere; more would double a rehearsal's length.
    """
    m, rng = comp.m, comp.rng
    revise = rng.random() < REVISE_RATE or holds_out(m)
    subject = m.task_title or "this draft"
    if not revise:
        praise = comp.fill(comp.pick(_PRAISE, "praise"))
        summary = f"Approved: {subject}. {praise}"
        if m.direction:
            summary += f" It follows the direction ({m.direction})."
        return Critique(verdict="approve", summary=summary, issues=[])
    family = _KIND_FAMILY.get(m.kind, "general") if m.kind else "general"
    count = rng.randint(2, 4)
    templates = comp.sample(_ISSUES[family], count)
    if family != "general":  # one note that reaches past the craft, to the whole
        templates[-1] = comp.pick(_ISSUES["general"], "issue:general")
    scenes = int_of(m.hints.get("scenes")) or 5
    number = m.scene or m.chapter or rng.randint(1, max(1, min(scenes, 60)))
    issues = [comp.fill(t, n=str(number)) for t in templates]
    issues.extend(f"Validator: {f}" for f in m.feedback[:2])
    worry = _lens(comp)[1]
    summary = f"Not yet: {subject} is close, but I worry {worry}. {len(issues)} notes below."
    return Critique(verdict="revise", summary=summary, issues=issues)


def position(comp: Composer) -> Position:
    m, rng = comp.m, comp.rng
    debate = mapping_of(m.hints.get("debate"))
    side = text_of(debate.get("side"), 300)
    if side.lower() in ("author", "reviewer"):
        side = ""  # which side the speaker is on, not a stance of its own
    rnd = max(1, int_of(debate.get("round")) or 1)
    rounds = max(rnd, int_of(debate.get("max_rounds")) or 3)
    opponent = text_of(debate.get("opponent_stance"), 200)
    preference, worry, value = _lens(comp)
    speaker = m.voiced()
    concede_chance = 0.0 if rnd == 1 else 0.15 + 0.45 * (rnd - 1) / max(rounds - 1, 1)
    if opponent and rng.random() < concede_chance:
        return Position(
            stance=f"I'll concede: \u201c{opponent.rstrip('.')}.\u201d",
            reasoning=capitalise(
                f"{value}, and on reflection the other approach serves that better than mine. "
                f"I'd still ask that we keep an eye on whether {worry}."
            ),
            concedes=True,
        )
    if speaker is not None:
        stance = f"{side}. " if side else ""
        stance += f"As {speaker.name}, I need to {preference}"
    else:
        stance = f"{side}: we should {preference}" if side else f"we should {preference}"
    stance = capitalise(stance.rstrip(".") + ".")
    reasons = [capitalise(value) + "."]
    if opponent:
        reasons.append(f"The other side says \u201c{opponent}\u201d, but then {worry}.")
    else:
        reasons.append(f"If we do the opposite, {worry}.")
    reasons.append(comp.fill("It matters here because the whole thing is about {theme}."))
    if m.direction:
        reasons.append(f"It is also what the Orchestrator asked for: {m.direction}")
    if rnd > 1:
        reasons.insert(0, f"Round {rnd}, and I have not heard anything that changes this.")
    return Position(stance=stance, reasoning=" ".join(reasons), concedes=False)


def ruling(comp: Composer) -> Ruling:
    """Decide ~80% of the time: a winner or a compromise; otherwise stall, for the Orchestrator."""
    m, rng = comp.m, comp.rng
    debate = mapping_of(m.hints.get("debate"))
    raw = mapping_of(debate.get("positions"))
    positions = {str(k): text_of(v, 200) or "(no stance)" for k, v in raw.items() if str(k)}
    value = _lens(comp)[2]
    if not positions or rng.random() < 0.20:
        return Ruling(
            decided=False,
            reasoning=(
                "Both positions are defensible and they pull the production in different "
                "directions; this is a call about the vision, so it goes to the Orchestrator."
            ),
        )
    ids = list(positions)
    if len(ids) > 1 and rng.random() < 0.35:
        first, second = rng.sample(ids, 2)
        return Ruling(
            decided=True,
            winner="",
            decision=(
                f"Compromise: {first}'s approach for the opening, {second}'s for the turn, "
                "and we judge it on the cut."
            ),
            reasoning=capitalise(
                f"{value}. Each position protects something real; taking the strongest part of "
                "each costs less than another round of argument."
            ),
        )
    winner = rng.choice(ids)
    losers = [i for i in ids if i != winner]
    reasoning = capitalise(f"{value}. {winner}'s position serves that most directly")
    if losers:
        reasoning += f"; {', '.join(losers)} raised a fair risk and should watch for it in review"
    return Ruling(
        decided=True,
        winner=winner,
        decision=f"Go with {winner}: {positions[winner]}",
        reasoning=reasoning + ".",
    )


def report(comp: Composer) -> StatusReport:
    m, rng = comp.m, comp.rng
    pct = m.hints.get("progress_pct")
    done, total = int_of(m.hints.get("tasks_done")), int_of(m.hints.get("tasks_total"))
    if isinstance(pct, int | float) and not isinstance(pct, bool):
        progress = float(pct)
    elif done is not None and total:
        progress = 100.0 * done / total
    else:
        progress = 100.0 if m.has_inputs() else 0.0
    progress = max(0.0, min(100.0, progress))
    delivered = m.input_titles(6)
    parts = [f"{m.production_title()}: {progress:.0f}% through the plan."]
    if delivered:
        parts.append("In hand: " + "; ".join(delivered) + ".")
    parts.append(comp.fill("The work is holding to the vision, {theme} above all."))
    if m.direction:
        parts.append(f"Following the Orchestrator's direction: {m.direction}")
    blockers = []
    if m.feedback:
        blockers.append(f"Open validator findings: {'; '.join(m.feedback[:3])}")
    elif rng.random() < 0.15:
        blockers.append(comp.fill("Risk: the scenes at {place} are trending long; watch runtime."))
    return StatusReport(progress_pct=round(progress, 1), summary=" ".join(parts), blockers=blockers)


def alternatives(comp: Composer) -> Alternatives:
    m = comp.m
    count = max(1, min(int_of(m.hints.get("count")) or 3, 10))
    picks = comp.rng.sample(range(len(_APPROACHES)), min(count, len(_APPROACHES)))
    options: list[Alternative] = []
    subject = m.task_title or "it"
    for n, index in enumerate(picks):
        title, summary = _APPROACHES[index]
        names = comp.pair()
        options.append(
            Alternative(
                title=comp.fill(title, names),
                summary=f"For {subject}: {comp.fill(summary, names)}",
                reasoning=comp.fill(_REASONS[(index + n) % len(_REASONS)], names),
            )
        )
    return Alternatives(options=options)
