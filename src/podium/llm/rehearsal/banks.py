"""Word banks for the rehearsal model: the raw material its narration is built from (prose,
screenplay action, outline beats); what characters say is in `dialogue_banks`, the words of
shot lists, cue sheets and edit plans in `craft_banks`.

A user reads rehearsal output, so the banks aim for specific, concrete images rather than
filler; the production's own material (names, places, palette, themes) fills the slots.
Slots are `{name}`, `{place}`, `{colour}`… and are resolved by `Composer.fill`.
"""

from __future__ import annotations

# --- default material, used only when the production leaves a section out -------------------

DEFAULT_CHARACTERS: tuple[tuple[str, str, str], ...] = (
    ("Mara", "a ferry mechanic who keeps lists of everything", "dry, clipped"),
    ("Jonah", "her younger brother, back after six years away", "warm, rambling"),
    ("Ines", "the neighbour who notices everything", "curious, full of questions"),
)
DEFAULT_LOCATIONS = ("the kitchen", "the harbour wall", "the night bus", "the back office")
DEFAULT_THEMES = ("memory", "belonging", "the cost of keeping secrets")
DEFAULT_PALETTE = ("slate blue", "rust", "bone white", "sodium orange")
DEFAULT_TONE = ("quiet", "wry", "tender")

# --- prose (past tense, third person) --------------------------------------------------------

PROSE: dict[str, tuple[str, ...]] = {
    "setting": (
        "The light in {place} had gone {light}, {colour} at the edges.",
        "{Place} smelled of {smell} and, underneath it, {smell2}.",
        "Outside, {sound}.",
        "{Weather} had settled over {place} and showed no sign of leaving.",
        "By {time}, {place} had emptied of everyone but {name}.",
        "Everything in {place} was {colour}: the walls, the floor, even the air.",
        "The clock in {place} ran four minutes fast; nobody had ever fixed it.",
        "Somewhere below, {sound}.",
        "{Place} looked smaller than {name} remembered, the way places do.",
        "A strip of {colour} light lay across {place} like something left behind.",
        "The radiator ticked. {Weather} worked at the window frames.",
    ),
    "action": (
        "{name} {action}.",
        "{name} picked up {object}, turned it over once, and put it back.",
        "For a long moment {name} said nothing, {gesture}.",
        "{name} crossed {place} without looking back.",
        "{name} {action}, {manner}.",
        "It took {name} three tries to {task_verb}.",
        "{name} counted the steps to the door: eleven, the same as always.",
        "{name} wiped {object} clean, though it was already clean.",
        "{name} stood at the window, {gesture}, and let the minutes go.",
    ),
    "interior": (
        "{name} thought about {theme}, and about how little of it anyone said out loud.",
        "It occurred to {name} that {theme} was not a thing you kept but a thing you practised.",
        "There was a word for what {name} felt, but it belonged to someone else.",
        "{name} had promised, once, never to come back to {place}.",
        "If anyone had asked, {name} would have said it was about {object}. It was not.",
        "The trouble with {theme}, {name} decided, was that it never arrived all at once.",
        "{name} felt {feeling}, and then, absurdly, hungry.",
        "Some part of {name} had been waiting for this since {time}.",
        "{name} tried to remember the last time {place} had felt like anyone's home.",
    ),
    "together": (
        "{name} and {name2} stood a careful distance apart, {object} between them.",
        "{name2} watched {name} the way one watches weather.",
        "Neither {name} nor {name2} mentioned {theme}; it sat with them anyway.",
        "{name2} laughed, and for a second {place} was warmer.",
        "When {name} finally looked up, {name2} was already at the door.",
        "{name2} pushed {object} across the table. {name} did not take it.",
        "They had the same hands, {name} noticed: {name2}'s were only older.",
    ),
    "synopsis": (
        "{name} has spent years not going back to {place}.",
        "What {name} wants is simple, and {name2} is standing in the way of it.",
        "{name2} arrives with {object} and a version of the past {name} does not recognise.",
        "Every scene tightens the same knot: {theme}.",
        "The story stays close to {name}, who notices everything and says almost nothing.",
        "At {place}, {name} and {name2} are forced to work together, and it goes badly.",
        "By the middle, {name} has lost the argument and won something else.",
        "{name2} has a secret that is not a twist but a weight.",
        "The world is small and specific: {place}, {place2}, and the weather between them.",
        "Nothing explodes; what breaks is quieter than that.",
        "The last movement brings {name} back to {place}, changed in a way only {name2} sees.",
        "{name2} keeps offering help; {name} keeps finding reasons to refuse it.",
        "The turn comes late and small: {name} says the thing out loud.",
        "We learn {name}'s history the way {name2} does, in pieces and out of order.",
        "Underneath the plot, the question is whether {theme} can be chosen.",
        "The weather is a character too, and it does not take sides.",
        "{name} is funny when frightened, which is most of the time.",
        "Nobody in it is a villain; everyone in it is a little late.",
    ),
    "close": (
        "Later, {name} would remember this as the moment {theme} stopped being an idea.",
        "It was not an ending. It was barely a pause.",
        "{Weather} came on again, and this time {name} let it.",
        "{name} switched off the light in {place} and stood in the dark a while longer.",
    ),
}

SHORT = (
    "Nobody moved.",
    "Then silence.",
    "Not yet.",
    "{name} waited.",
    "The door held.",
    "Still nothing.",
    "It was enough.",
    "{name} stayed.",
    "Almost.",
    "Rain, again.",
    "{name} nodded.",
    "Then it passed.",
    "Nothing.",
    "Silence.",
    "Enough.",
    "Still.",
    "Listen.",
    "Morning came anyway.",
    "No one answered.",
)

SHORT_SYNOPSIS = (
    "It costs them.",
    "Nobody wins.",
    "It holds.",
    "Not yet.",
    "{name} stays.",
    "{name} waits.",
    "It matters.",
    "Just.",
    "Barely.",
    "For now.",
)

SAY_TAGS = ("", " quietly", " at last", " to no one in particular", " without turning round")

LIGHT = ("thin", "amber", "bruised", "milky", "low", "watery", "hard", "honeyed", "grey-blue")
SMELLS = (
    "salt",
    "diesel",
    "wet stone",
    "burnt sugar",
    "old paper",
    "cut grass",
    "rain on hot tarmac",
    "cold coffee",
    "pine resin",
    "engine oil",
)
SOUNDS = (
    "a dog barked twice and stopped",
    "a radio played to nobody",
    "the tide dragged at the shingle",
    "a kettle began to whistle",
    "a car idled and moved on",
    "gulls argued over nothing",
    "the building settled with a sound like a sigh",
    "someone was practising scales, badly",
)
OBJECTS = (
    "the letter",
    "a spare key",
    "a chipped mug",
    "the photograph",
    "an old map",
    "a coat that was not theirs",
    "the radio",
    "a box of matches",
    "the ticket",
    "a spool of red thread",
    "the ledger",
    "a child's drawing",
)
ACTIONS = (
    "set the kettle on and forgot it",
    "pulled the curtain back an inch",
    "folded the note into smaller and smaller squares",
    "sat down on the bottom stair",
    "checked the lock twice",
    "pocketed the key",
    "traced a crack in the plaster with one finger",
    "hung the coat on the wrong hook",
)
TASK_VERBS = ("light the stove", "open the window", "find the right key", "say the name aloud")
GESTURES = (
    "thumb worrying the edge of a sleeve",
    "eyes on the floor",
    "jaw set",
    "hands flat on the table",
    "breath held a beat too long",
    "head tilted as if listening for something",
    "arms folded tight",
)
MANNERS = (
    "slowly, as if it might break",
    "without hurrying",
    "carefully",
    "the way one handles evidence",
    "with more force than it needed",
    "almost tenderly",
)
FEELINGS = (
    "light-headed",
    "oddly calm",
    "seen",
    "twelve years old again",
    "furious, and then tired",
    "relieved, and ashamed of it",
)
TIMES = (
    "dusk",
    "half past three",
    "first light",
    "the last of the light",
    "midnight",
    "the morning after",
    "that winter",
)
WEATHER = ("Rain", "A low fog", "The wind", "The cold", "A thin snow", "The dark")

# --- screenplay (present tense) --------------------------------------------------------------

ACTION_LINES = (
    "{NAME} enters, {gesture}.",
    "{NAME} sets {object} on the table. Looks at it. Doesn't touch it again.",
    "Light through the blinds in {colour} bars.",
    "A long beat. {sound_p}.",
    "{NAME} and {NAME2} face each other, {object} between them.",
    "{NAME} turns away. Stops. Turns back.",
    "{NAME2} pretends to read. Hasn't turned a page in minutes.",
    "{NAME} {action_p}.",
    "The {light} light of {time} fills {place}.",
    "Silence, except for {sound_n}.",
    "{NAME} almost says something. Doesn't.",
    "{NAME2} watches {NAME} from the doorway, unseen.",
)
ACTIONS_P = (
    "pours two cups and pushes one across",
    "opens the window; the noise of the street floods in",
    "pockets the key",
    "sits on the floor, back against the door",
    "reads the letter again, lips moving",
    "switches the radio off mid-song",
    "wipes the same clean spot on the counter",
)
SOUNDS_P = (
    "A dog barks twice and stops",
    "The tide drags at the shingle",
    "Somewhere, a kettle starts to whistle",
    "A car idles outside, then pulls away",
    "Gulls argue over nothing",
)
SOUNDS_N = ("the fridge's hum", "rain on the skylight", "a distant siren", "the radiator's tick")
PARENTHETICALS = (
    "(quietly)",
    "(beat)",
    "(not looking up)",
    "(too brightly)",
    "(almost a laugh)",
    "(under breath)",
    "(then)",
)
TRANSITIONS = ("CUT TO:", "CUT TO:", "SMASH CUT TO:", "DISSOLVE TO:", "MATCH CUT TO:")
TIMES_OF_DAY = ("DAY", "NIGHT", "DAY", "NIGHT", "DAWN", "DUSK", "LATER", "CONTINUOUS")
EXTERIOR_WORDS = (
    "street",
    "road",
    "beach",
    "harbour",
    "harbor",
    "wall",
    "forest",
    "woods",
    "field",
    "roof",
    "garden",
    "park",
    "pier",
    "dock",
    "shore",
    "cliff",
    "square",
    "yard",
    "bridge",
    "lane",
    "river",
    "sea",
    "lake",
    "mountain",
    "market",
    "station platform",
    "desert",
    "island",
    "coast",
    "cape",
    "camp",
    "path",
    "landing",
    "spit",
    "beach",
    "ice",
    "outside",
)

# --- outline beats and treatment acts ---------------------------------------------------------

SCENE_SUMMARIES = (
    "{NAME} finds {object} and hides it from {NAME2}.",
    "{NAME2} arrives uninvited; an old argument about {theme} resurfaces.",
    "At {place}, {NAME} tells the truth, or most of it.",
    "{NAME} and {NAME2} work side by side without speaking; the silence says it.",
    "A phone call changes the plan: {NAME} has until {time}.",
    "{NAME2} leaves. {NAME} lets them.",
    "{NAME} returns {object} to where it belongs.",
    "The weather turns; {NAME} and {NAME2} are stuck in {place} together.",
    "{NAME2} learns what {NAME} has been carrying, and says nothing.",
    "Morning at {place}: something small has changed, and both of them notice.",
)
TREATMENT_ACTS = (
    "Opening image: {place} at {time}; {NAME} alone with {object}.",
    "Inciting incident: {NAME2} turns up with news that reframes {theme}.",
    "{NAME} refuses, then bargains, then quietly starts to help.",
    "Midpoint: at {place2}, the truth about {object} comes out.",
    "Low point: {NAME} loses {NAME2}'s trust, and knows it was deserved.",
    "Climax: a choice between {theme} and the easier lie.",
    "Final image: {place} again, the same light, but {NAME} is not alone in it.",
)
EPISODE_BEATS = ("Cold open", "Act one", "Act two", "Act three", "Tag")


# --- the period --------------------------------------------------------------------------------

# Things a story set before them cannot have: a 1911 story has no radio in it. Bank entries that
# name one are left out when the premise dates the story earlier (`Material.year`).
INVENTED = (
    ("radio", 1920),
    ("radiator", 1900),
    ("car", 1900),
    ("phone", 1900),
    ("fridge", 1925),
    ("siren", 1900),
    ("engine oil", 1900),
    ("jukebox", 1930),
    ("television", 1940),
    ("plastic", 1920),
    ("neon", 1920),
    ("headlights", 1910),
    ("sodium", 1930),
    ("vibraphone", 1925),
    ("field recordings", 1930),
)
