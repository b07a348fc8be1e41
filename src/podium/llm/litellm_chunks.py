"""litellm's list of a stream's chunks, kept short while the stream lasts (issue 20).

litellm's stream wrapper (`CustomStreamWrapper`) appends every chunk it hands over to its
`chunks` list and keeps them until the stream ends, for the usage and the whole response it
builds then (`stream_chunk_builder`: the text joined, the usage the provider sent or counted
from that text) and for its check that a model repeats itself (the last two chunks). Each
chunk is a pydantic object with its own copy of the answer's headers, about 3.7 KB: thirty
streams at 2,000 chunks a second held 430 MB more each minute, for as long as the replies
lasted. litellm has no setting for it.

`FoldedChunks` takes the list's place (`fold`): it is a list, and what litellm reads from it
is the same, but a run of chunks that carry only text (one choice, a content string, nothing
else: no usage, no finish reason, no tool call, reasoning, audio or provider fields) is
folded into its first chunk, whose content becomes the run's text joined. The first chunk
(the response's id, model and role) and the last `KEEP` chunks stay as they came, and so does
every chunk that carries more than text, in its place. A stream then holds a few dozen
chunks and its text (once more), whatever its length.
"""

from __future__ import annotations

from typing import Any

KEEP = 8  # the newest chunks, as they came (litellm compares the last two)
BATCH = 64  # chunks gathered before a fold: a fold copies the folded text once

# A chunk's own fields that a text-only chunk has (whatever their values); any other field
# set to something (usage, citations, provider fields...) makes it more than text.
_BASE_FIELDS = frozenset({"id", "created", "model", "object", "system_fingerprint", "choices"})
_TEXT_DELTA_FIELDS = frozenset({"content", "role"})


def fold(response: Any) -> None:
    """Give a litellm stream (`CustomStreamWrapper`) a `FoldedChunks` for its chunk list;
    anything else (another litellm, a test's fake) is left as it is."""
    chunks = getattr(response, "chunks", None)
    if type(chunks) is list:
        response.chunks = FoldedChunks(chunks)


class FoldedChunks(list[Any]):
    """A stream's chunks, with runs of text-only chunks folded into one (module doc)."""

    def __init__(self, chunks: list[Any] = ()) -> None:  # type: ignore[assignment]
        super().__init__(chunks)
        # Before this index the list is settled: folded, or never folded (the first chunk).
        self._settled = max(1, len(self))
        self._carrier: Any = None  # the text-only chunk at _settled - 1, if there is one
        self.folded = 0  # chunks folded so far (for tests and the bench)

    def append(self, chunk: Any) -> None:
        super().append(chunk)
        if len(self) - self._settled >= KEEP + BATCH:
            self._fold()

    def _fold(self) -> None:
        end = len(self) - KEEP
        kept: list[Any] = []
        carrier = self._carrier
        run: list[str] = []  # texts of the chunks folded into the carrier, not joined yet
        for chunk in self[self._settled : end]:
            text = text_only(chunk)
            if text is None:  # kept, in its place: the next text starts a new carrier
                if run:
                    _extend(carrier, run)
                    run = []
                carrier = None
                kept.append(chunk)
            elif carrier is None:
                carrier = chunk
                kept.append(chunk)
            else:
                run.append(text)
                self.folded += 1
        if run:
            _extend(carrier, run)
        self[self._settled : end] = kept
        self._settled += len(kept)
        self._carrier = carrier


def _extend(carrier: Any, texts: list[str]) -> None:
    delta = carrier.choices[0].delta
    delta.content = delta.content + "".join(texts)


def text_only(chunk: Any) -> str | None:
    """A chunk's text when it carries nothing else, else None."""
    try:
        choices = chunk.choices
        if len(choices) != 1:
            return None
        for name in chunk.model_fields_set | set(chunk.model_extra or ()):
            if name not in _BASE_FIELDS and getattr(chunk, name, None) is not None:
                return None
        if getattr(chunk, "usage", None) is not None:
            return None
        hidden = getattr(chunk, "_hidden_params", None)
        if isinstance(hidden, dict) and "provider_specific_fields" in hidden:
            return None
        choice = choices[0]
        if choice.finish_reason is not None or getattr(choice, "logprobs", None) is not None:
            return None
        if getattr(choice, "index", 0) != 0:
            return None
        delta = choice.delta
        content = delta.content
        if not isinstance(content, str):
            return None
        for name in delta.model_fields_set | set(delta.model_extra or ()):
            if name not in _TEXT_DELTA_FIELDS and getattr(delta, name, None) is not None:
                return None
        if delta.role not in (None, "assistant"):
            return None
    except Exception:  # a shape this code does not know: keep it as it came
        return None
    return content
