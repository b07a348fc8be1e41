"""Craft banks for the rehearsal model: the words of an illustration brief, a shot list, a cue
sheet and an edit plan (compositions, lighting, shot sizes, lenses, instruments, transitions).
"""

from __future__ import annotations

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
