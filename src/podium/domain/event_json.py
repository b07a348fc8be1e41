"""An event payload's JSON, as the store writes it (`payload_json`); an `ArtifactCreated`'s
without the Python dict round trip (issue 20).

`Artifact`'s wrap model-serializer (it puts back a content held elsewhere) makes pydantic dump
the artifact to a Python dict and then serialize that dict: 3.5-4.5 µs an event where the plain
serializer takes 1.5-2. An artifact the engine has just made holds its content, so the
serializer built here, from the same core schema without that wrap, gives the same bytes.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic_core import SchemaSerializer

from podium.domain.artifacts import Artifact
from podium.domain.events import ArtifactCreated, Payload


class _Plain:
    """Stands in for a model class in the copied schema: pydantic-core reuses the class's own
    serializer (its wrap included) for a schema naming a complete model class."""


def _without_wrap(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {key: _without_wrap(value) for key, value in schema.items()}
        if out.get("type") == "model":
            if out["cls"] is Artifact:
                del out["serialization"]  # `_with_content`: a held content is dumped as is
            out["cls"] = _Plain
        return out
    if isinstance(schema, list):
        return [_without_wrap(value) for value in schema]
    return schema


@functools.cache
def _plain_serializer() -> SchemaSerializer:
    ArtifactCreated.model_rebuild()
    schema = _without_wrap(copy.copy(ArtifactCreated.__pydantic_core_schema__))
    return SchemaSerializer(schema)


def artifact_created_json(event: ArtifactCreated) -> bytes:
    """The event's JSON, as `event.__pydantic_serializer__.to_json(event)` gives it."""
    if event.artifact.content_held:
        return _plain_serializer().to_json(event)
    return event.__pydantic_serializer__.to_json(event)


def payload_json(payload: Payload) -> bytes:
    """A payload's JSON: pydantic's serializer itself (`model_dump_json` costs twice as much
    for the same bytes), an `ArtifactCreated` through `artifact_created_json`."""
    if type(payload) is ArtifactCreated:
        return artifact_created_json(payload)
    return payload.__pydantic_serializer__.to_json(payload)
