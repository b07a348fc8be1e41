"""An animatic's MP3 read as an earlier export laid it out (`podium.export.animatic`), kept in
the export's cache (`podium.export.cache`) under what made it, so a repeat export reads neither
the lines' sound nor hashes it.

The read's frames are kept stretch by stretch under the hash of each stretch's PCM (`mp3`
entries); to find them the sound must be voiced or read back and hashed (hundreds of MB for a
big series). A `read` entry names instead, for one reel, everything the read comes from: each
scene's lines as the voice's own cache names them (the program or model and its version, the
character's voice, the words), where each cut item lies, the reel's length, ffmpeg's version
and MP3 arguments, and the source of the code that lays the read out. Its payload is the recipe:
the README's figures of the read (`Read`) and its pieces in order, each a count of silent frames
or a kept stretch (its `mp3` entry) and how many of its frames are used. A recipe is used only
when every stretch it names reads back with enough frames; otherwise the read is made again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from podium.export.cache import Cache, code_digest
from podium.export.cache import key as cache_key
from podium.export.mp3 import MP3, MP3_OUT, Mp3Error, mp3_frames
from podium.export.timeline import GAP_S, SAMPLE_BYTES, Beat, Read, Reel, dialogue
from podium.export.voices import SAMPLE_RATE, Speaker

# What lays a read out: a change to any of these names new entries.
_LAYOUT = (
    "podium.export.timeline",
    "podium.export.mp3",
    "podium.export.animatic",
    "podium.export.kept_read",
)

Recipe = list[int | tuple[str, int]]  # silent frames, or (a kept stretch's name, frames used)


def name(
    reel: Reel, beats: Sequence[Beat], frames: int, voice: Speaker | None, identity: str
) -> str:
    """The `read` entry's name for this reel said by `voice` ("" when it cannot be named: no
    voice, a voice that names no line, or an ffmpeg that does not say its version)."""
    said_by = getattr(voice, "voice", voice)  # a Remembered voice: the voice it wraps
    naming = getattr(said_by, "cache_name", None)
    if naming is None or not identity:
        return ""
    scenes: list[tuple[int, tuple[str, ...]]] = []
    for number in dict.fromkeys(beat.item.scene for beat in beats):
        scene = reel.scenes.get(number)
        names: list[str] = []
        for line in dialogue(scene) if scene is not None else []:
            line_name = naming(line)
            if not line_name:
                return ""
            names.append(line_name)
        scenes.append((number, tuple(names)))
    layout = [(beat.item.scene, beat.first, beat.last) for beat in beats]
    made_by = (identity, MP3, MP3_OUT, SAMPLE_RATE, SAMPLE_BYTES, GAP_S, code_digest(*_LAYOUT))
    return cache_key("read", made_by, frames, scenes, layout)


def put(kept: Cache, entry: str, read: Read, recipe: Recipe) -> None:
    figures = [read.lines, read.voiced, read.trimmed, read.padded]
    pieces = [p if isinstance(p, int) else list(p) for p in recipe]
    kept.put("read", entry, json.dumps([figures, pieces], separators=(",", ":")).encode())


def get(kept: Cache, entry: str) -> tuple[list[int | list[bytes]], Read] | None:
    """The read's pieces (as `animatic.mp3_track` gives them) and figures, or None when the
    entry or any stretch it names is missing or not what it should be."""
    data = kept.get("read", entry)
    if data is None:
        return None
    try:
        (lines, voiced, trimmed, padded), recipe = json.loads(data)
        read = Read(int(lines), int(voiced), [int(n) for n in trimmed], [int(n) for n in padded])
        stretches: dict[str, list[bytes]] = {}
        pieces: list[int | list[bytes]] = []
        for piece in recipe:
            if isinstance(piece, int):
                pieces.append(piece)
                continue
            stretch, take = str(piece[0]), int(piece[1])
            found = stretches.get(stretch)
            if found is None:
                body = kept.get("mp3", stretch)
                if body is None:
                    return None
                found = stretches[stretch] = mp3_frames(body)
            if len(found) < take:
                return None
            pieces.append(found[:take])
    except (ValueError, TypeError, KeyError, IndexError, Mp3Error):
        return None
    return pieces, read
