"""Word banks for the rehearsal model: the raw material its sentences are built from.

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

# --- dialogue, by the register a character's `voice` suggests ---------------------------------

REGISTER_WORDS: dict[str, tuple[str, ...]] = {
    "terse": ("terse", "clipped", "short", "laconic", "curt", "few words", "economical"),
    "warm": ("warm", "kind", "gentle", "tender", "soft", "rambling", "chatty", "talker"),
    "wry": (
        "wry",
        "dry",
        "sardonic",
        "sarcastic",
        "ironic",
        "deadpan",
        "witty",
        "humour",
        "humor",
        "joke",
        "understatement",
        "deflect",
        "quick",
    ),
    "formal": ("formal", "precise", "measured", "polite", "proper", "archaic", "stiff"),
    "nervous": (
        "nervous",
        "anxious",
        "hesitant",
        "stammer",
        "halting",
        "shy",
        "uncertain",
        "over-explain",
    ),
    "poetic": ("poetic", "lyrical", "dreamy", "metaphor", "whimsical", "strange"),
    "blunt": ("blunt", "angry", "sharp", "harsh", "fierce", "bitter", "instruction", "orders"),
    "curious": ("curious", "question", "inquisitive", "asks", "nosy"),
}
LINES: dict[str, tuple[str, ...]] = {
    "terse": (
        "No.",
        "Leave it.",
        "Not tonight.",
        "I said I'd handle it.",
        "Don't.",
        "Later.",
        "Fine. Go.",
        "Ask me tomorrow.",
        "Sit down.",
        "It's done.",
        "Your call.",
        "Tea's there.",
        "Not my problem.",
    ),
    "warm": (
        "Come here. Sit. You look frozen.",
        "I kept your chair, you know. Nobody sits in it.",
        "We'll work it out. We always do, in the end.",
        "Eat something first. Then tell me everything.",
        "You don't have to be brave at me.",
        "I'm glad it's you. Whatever this is, I'm glad it's you.",
        "Look at you. You've not changed a bit, and you've changed completely.",
        "Stay till the morning, at least. The bed's made up.",
        "I'd have come to get you, if you'd asked.",
        "It's all right. It's all right to be tired.",
        "You always did make the good tea.",
        "Whatever happens, you're not on your own with it.",
    ),
    "wry": (
        "Well. That went about as well as last time.",
        "Oh good, a plan. I love those.",
        "You say that like it's news.",
        "Remind me never to ask you for directions.",
        "I'd be offended if I had the energy.",
        "Congratulations. You've found the one thing worse than silence.",
        "Marvellous. Truly. Someone write that down.",
        "I've had worse days. Not many, but some.",
        "If that's the good news, I'll skip the rest.",
        "Don't mind me. I only live here.",
        "It's not a disaster. It's a learning opportunity with water damage.",
        "Lovely weather for it.",
    ),
    "formal": (
        "I would prefer that we discuss this properly.",
        "With respect, that is not what was agreed.",
        "I believe I have made my position clear.",
        "You will forgive me if I don't sit down.",
        "There is a correct way to do this, and this is not it.",
        "I'll need that in writing.",
        "Let us at least be accurate about what happened.",
        "I have the figures here, if anyone cares to look.",
        "That is a question for the morning, I think.",
        "Thank you. That will be all.",
    ),
    "nervous": (
        "I— sorry. I didn't mean— it's fine. It's fine.",
        "Is that— should we even be doing this?",
        "I can go. If you want. I can just go.",
        "Did I say something? I said something.",
        "It's probably nothing. It's probably— yes. Nothing.",
        "Sorry. Sorry, I'll— sorry.",
        "I was going to tell you. I was. Just not today.",
        "Is everyone looking at me, or is that just—",
        "Right. Okay. Right. What do we do now?",
        "I practised this in the car. It sounded better in the car.",
    ),
    "poetic": (
        "Everything here is the colour of leaving.",
        "Do you ever feel the house listening?",
        "The sea keeps whatever you give it.",
        "Some nights the whole town sounds like it's holding its breath.",
        "I used to think the lights on the water were other people's wishes.",
        "Memory's a tide. It goes out, but it always comes back in.",
        "We were so loud here, once.",
        "The dark's different out here. It has edges.",
        "Every room remembers who left it last.",
    ),
    "blunt": (
        "You don't get to decide that.",
        "Say it. Just say it.",
        "I'm done cleaning up after you.",
        "Don't look at me like that.",
        "You left. That's the whole story.",
        "Fix it, then.",
        "Stop talking and pass me the spanner.",
        "I'm not asking. I'm telling you.",
        "We both know how this ends.",
        "Put it back where you found it.",
    ),
    "curious": (
        "What's in the box?",
        "Why here? Why now?",
        "Who told you that?",
        "And then what happened?",
        "How long have you known?",
        "Wait. Say that again?",
        "Whose coat is that?",
        "What did they actually say? Word for word.",
        "Is that a yes, or is that a you-don't-know?",
    ),
    "plain": (
        "We should go.",
        "You came back.",
        "I didn't think you would.",
        "Tell me what happened.",
        "It's not what you think.",
        "I kept meaning to call.",
        "Is it still raining?",
        "I'll put the kettle on.",
        "Where were you?",
        "It doesn't matter now.",
        "I know. I know.",
        "You should see the state of the place.",
        "Nobody's blaming you.",
    ),
}
MATERIAL_LINES = (
    "This is about {theme}, isn't it?",
    "Everyone keeps talking about {theme}. Nobody does anything about it.",
    "Have you seen {object}? It was right here.",
    "I haven't set foot in {place} since {time}.",
    "You kept {object}. All this time.",
    "Don't bring {theme} into it.",
    "Meet me at {place}. Before {time}.",
)

# --- illustration, camera, music, edit --------------------------------------------------------

COMPOSITIONS = (
    "low horizon; the figure small in the lower third, sky doing the work",
    "tight on hands and the object between them; faces cropped at the eyes",
    "deep perspective down a corridor of light to a single open door",
    "overhead view, as if remembered; long shadows pointing the way out",
    "two figures split by a window frame, each in their own pane",
    "foreground clutter out of focus, the subject sharp and far away",
)
LIGHTING = (
    "one practical lamp, everything else falling to blue",
    "late sun raking low across the scene",
    "overcast and shadowless, colours slightly drained",
    "window light from the left, hard-edged",
    "sodium street light through rain",
)
SHOT_SIZES = ("EWS", "WS", "MS", "MCU", "CU", "ECU", "OTS", "TWO-SHOT", "INSERT")
ANGLES = ("eye level", "low angle", "high angle", "overhead", "POV", "Dutch tilt", "over-shoulder")
MOVES = (
    "static",
    "slow push-in",
    "handheld",
    "dolly left",
    "crane up",
    "pan right",
    "tilt down",
    "Steadicam follow",
)
LENSES = ("18mm", "24mm", "35mm", "50mm", "85mm", "100mm macro", "135mm")
SHOT_DESCRIPTIONS = (
    "{NAME} in the doorway, backlit; we can't read the face yet",
    "{object} on the table, untouched",
    "{NAME2}'s reaction, held a beat past comfortable",
    "{place} empty; the light changes",
    "{NAME} and {NAME2} in one frame, a gap between them",
    "hands: {NAME} {action_p}",
    "through the window: {weather_l} against the glass",
    "{NAME} exits frame; we stay on the empty room",
)
INSTRUMENTS = (
    "solo piano",
    "string quartet",
    "analogue synth pad",
    "bowed vibraphone",
    "felt piano and room tone",
    "nylon-string guitar",
    "low brass",
    "detuned music box",
    "solo cello",
    "field recordings",
)
CUE_TITLES = (
    "{place} at {time}",
    "{object}",
    "{name}'s Theme",
    "What {name2} Knew",
    "{colour} Light",
    "Leaving {place}",
    "Small Hours",
    "The Long Way Round",
    "Undertow",
    "Nobody Moved",
)
MUSIC_MOODS = (
    "restrained, aching",
    "uneasy, circling",
    "warm, hopeful",
    "suspended, glassy",
    "driving, urgent",
    "tender, unresolved",
)
EDIT_TRANSITIONS = ("CUT", "CUT", "CUT", "J-CUT", "L-CUT", "MATCH CUT", "DISSOLVE", "SMASH CUT")
EDIT_NOTES = (
    "hold on {NAME} two beats past the line",
    "pre-lap the next scene's sound",
    "lose the first line; start on the reaction",
    "let the room tone carry the cut",
    "trim the entrance; we know where we are",
    "cut on the look, not the line",
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
