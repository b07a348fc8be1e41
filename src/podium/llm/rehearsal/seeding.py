"""The rehearsal model's seeds: what a call's randomness derives from (`seed_material`), and
one independent generator per concern drawn from it (`rng`). A request and a seed give the same
draws every time; the prompt counts as the set of its paragraphs, so a prompt laid out anew
leaves the model's work as it was.
"""

from __future__ import annotations

import hashlib
import random

from podium.llm.types import CompletionRequest, Message, remember


def seed_material(seed: int, request: CompletionRequest) -> str:
    """What a call's randomness derives from: same request and seed, same draw.

    The prompt counts as the set of its paragraphs (blocks between blank lines), whatever
    their order and message: laying a prompt out anew (`podium.engine.prompts.layout`) leaves
    the rehearsal model's work as it was, while a changed word changes it."""
    # Each block's UTF-8 (surrogates passed), sorted as bytes: the order of the text (UTF-8
    # keeps code point order), each then \x01, hashed in one piece.
    blocks: list[bytes] = []
    for m in request.messages:
        if m.parts is not None:  # a joined message (the inputs): its blocks sorted, kept
            blocks[:0] = _sorted_blocks(m)  # first: the sort below finds them in order
        else:
            blocks += _blocks(m)
    blocks.sort()
    blocks.append(b"")
    digest = hashlib.sha256(b"\x01".join(blocks))
    parts = (
        str(seed),
        request.model,
        request.agent_id,
        request.task_id or "",
        request.purpose,
        str(request.attempt),
        digest.hexdigest(),
    )
    return "\x1f".join(parts)


def _blocks(message: Message) -> list[bytes]:
    """The UTF-8 of each of `message.content.split("\\n\\n")` (cut as bytes: a newline's byte
    is never part of another character's). For a message joined from parts, each part's
    blocks, kept: the same blocks when no part ends with a newline (a blank line found across
    a join needs one), else the content is cut."""
    parts = message.parts
    held = _BLOCKS
    if parts is None:
        content = message.content
        if len(content) < _BLOCKS_MIN:
            return _cut(content)
        # A long message (the system prompt: the same text for many calls) is kept as a part.
        kept = held.get(content)
        if kept is None:
            kept = remember(held, content, tuple(_cut(content)), _BLOCKS_MAX)
        return list(kept)
    found: list[bytes] = []
    for part in parts:
        blocks = held.get(part)
        if blocks is None:
            if part.endswith("\n"):
                return _cut(message.content)
            blocks = remember(held, part, tuple(_cut(part)), _BLOCKS_MAX)
        found += blocks
    return found


def _cut(text: str) -> list[bytes]:
    return text.encode("utf-8", "surrogatepass").split(b"\n\n")


def _sorted_blocks(message: Message) -> list[bytes]:
    """`sorted(_blocks(message))` for a joined message, kept for its set of parts: the same
    blocks in any order of the parts (a dense plan's layer gives the same inputs in turn, each
    task from its own), unless a part ends with a newline (a blank line across a join) or two
    are the same (then it is sorted anew)."""
    parts = message.parts
    assert parts is not None
    key = frozenset(parts)
    if len(key) < len(parts):
        return sorted(_blocks(message))
    held = _SORTED
    found = held.get(key)
    if found is None:
        found = sorted(_blocks(message))
        if any(part.endswith("\n") for part in parts):
            return found  # kept only for parts whose blocks are theirs in any order
        remember(held, key, found, _SORTED_MAX)
    return found


_SORTED: dict[frozenset[str], list[bytes]] = {}
_SORTED_MAX = 8  # sets of parts kept, oldest out first (a layer's calls are made together)

_BLOCKS: dict[str, tuple[bytes, ...]] = {}
_BLOCKS_MAX = 256  # parts kept, oldest out first (a dense plan's layer reads 50)
_BLOCKS_MIN = 512  # a message this long without parts is kept as one


def rng(material: str, stream: str) -> random.Random:
    """One independent stream per concern, so changing the latency never changes the text."""
    digest = hashlib.sha256(f"{material}\x1e{stream}".encode("utf-8", "surrogatepass")).digest()
    return random.Random(int.from_bytes(digest, "big"))
