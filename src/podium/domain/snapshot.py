"""A folded view as bytes and back: the state snapshot a reload starts from (issue 20).

The log stays the only memory. A snapshot is a cache derived from it: the view the fold gave
after event `seq`, so a reload reads the newest snapshot its fold can use and folds only the
events after it. `fold_version()` names the fold that made one (podium's version, the snapshot
format and a digest of the domain's source, where the fold and its records live): a snapshot
of another fold is not used, and folding the whole log gives what it would have given.

Big artifact contents are not in a snapshot: they stay in the events that recorded them and
the view reads them back when asked (`podium.domain.records.ContentShelf`); small ones (a
critique, a status report) travel inline. Text read from a snapshot is sanitized as the fold
sanitizes what it reads: the file may come from anyone.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from importlib import resources

from pydantic import TypeAdapter
from pydantic_core import to_json

from podium import __version__
from podium.domain.artifacts import Artifact
from podium.domain.records import ContentShelf, shown
from podium.domain.state import ProductionView

FORMAT = 1
SHELVE_OVER = 2048
"""Characters of a content's JSON over which it stays in the store (and out of a snapshot)."""


class UnusableSnapshot(ValueError):
    """A stored snapshot that does not decode into a view: it is ignored, never an error."""


@functools.cache
def _view_adapter() -> TypeAdapter[ProductionView]:
    return TypeAdapter(ProductionView)


@functools.cache
def fold_version() -> str:
    """The fold a snapshot must have been made by to be used: podium's version, the snapshot
    format and a digest of the domain package's source (the fold, its records and models)."""
    digest = hashlib.sha256(f"{__version__}\0{FORMAT}".encode())
    try:
        package = resources.files("podium.domain")
        for entry in sorted(package.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".py") and entry.is_file():
                digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    except OSError:  # an install without sources: the version alone says which fold
        digest.update(b"no source")
    return f"{__version__}+f{FORMAT}.{digest.hexdigest()[:16]}"


def encode(view: ProductionView) -> tuple[bytes, list[str]]:
    """The view as one JSON document, and the artifacts whose content it leaves in the store
    (they may be shelved once the snapshot is stored: their events are stored by then)."""
    rest = dataclasses.replace(view, artifacts={}, summaries={})
    body = _view_adapter().dump_json(rest)
    heads: list[bytes] = []
    referred: list[str] = []
    refer = {"content": "refer"}
    without = {"content"}
    for artifact_id, artifact in view.artifacts.items():
        seq = view.artifact_seqs.get(artifact_id, 0)
        serializer = artifact.__pydantic_serializer__
        content: bytes = b"null"
        if artifact.content_held:  # its head without the content (dumped once, not twice)
            head = serializer.to_json(artifact, exclude=without, context=refer)
            content = to_json(artifact.content)
            if len(content) > SHELVE_OVER and seq:
                content = b"null"
                referred.append(artifact_id)
        else:
            head = serializer.to_json(artifact, context=refer)
        heads.append(b"[%d,%s,%s]" % (seq, head, content))
    summaries = to_json([[task, version, text] for (task, version), text in view.summaries.items()])
    document = b'{"format":%d,"view":%s,"artifacts":[%s],"summaries":%s}' % (
        FORMAT,
        body,
        b",".join(heads),
        summaries,
    )
    return document, referred


def decode(document: bytes | str, shelf: ContentShelf) -> ProductionView:
    """The view a snapshot holds, its big contents read from `shelf` when asked.

    Raises UnusableSnapshot (saying why) when it is not a snapshot this fold reads.
    """
    try:
        data = json.loads(document)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UnusableSnapshot("not a snapshot of this format")
        data = shown(data)  # sanitized as the fold sanitizes what it reads
        view = _view_adapter().validate_python(data["view"])
        artifacts: dict[str, Artifact] = {}
        for seq, head, content in data["artifacts"]:
            artifact = Artifact.model_validate({**head, "content": content or {}})
            if content is None:
                if not isinstance(seq, int) or seq < 1:
                    raise UnusableSnapshot(f"artifact {artifact.id!r} has no event to read")
                artifact = shelf.shelve(artifact, seq)
            artifacts[artifact.id] = artifact
        view.artifacts = artifacts
        view.summaries = {(task, version): text for task, version, text in data["summaries"]}
    except UnusableSnapshot:
        raise
    except Exception as exc:  # noqa: BLE001 - any damage means: fold the log instead
        raise UnusableSnapshot(f"{type(exc).__name__}: {str(exc)[:200]}") from None
    view.keep_contents_on(shelf)
    return view


__all__ = ["FORMAT", "SHELVE_OVER", "UnusableSnapshot", "decode", "encode", "fold_version"]
