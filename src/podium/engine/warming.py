"""What a run's first tasks would otherwise build on first use, built as the run starts.

Every domain model builds its validator on first use (`defer_build`, for the first frame), and
each content kind's reply schema and its JSON text are made by the first task of that kind.
Left to the run, that is 10-30 ms of one core inside the first tasks, all of them waiting on
the one loop: on a 350 ms fan-out that is several percent of the makespan. `warm_models`
builds what every task's events and its kind's reply use, once, before the run starts; what
it leaves (a kind planned later, a rare event) is built on first use as before. It runs at
the run's start, not at open, so the screen's first frame does not wait for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from pydantic import BaseModel

from podium.domain.artifacts import KIND_CONTENT, Artifact, Prose, Provenance
from podium.domain.asking import reply_schema
from podium.domain.events import (
    AgentStateChanged,
    ArtifactCreated,
    ArtifactStatusChanged,
    CallFinished,
    CurrentVersionSet,
    OutputChunk,
    StatusReported,
    TaskSettled,
    TaskStateChanged,
    TerritoryAssigned,
    ValidationReported,
)
from podium.domain.tasks import TaskKind
from podium.llm.types import schema_json

# The events a task records as it runs and concludes (`AgentRunner`, `CallPath`, `Verdicts`).
TASK_MODELS: tuple[type[BaseModel], ...] = (
    TaskStateChanged,
    AgentStateChanged,
    OutputChunk,
    CallFinished,
    Artifact,
    Provenance,
    ArtifactCreated,
    ValidationReported,
    StatusReported,
    TaskSettled,  # a task that stands; the three below for one that waits or is revised
    TerritoryAssigned,
    ArtifactStatusChanged,
    CurrentVersionSet,
)


# What the engine imports on first use (so that the first frame does not wait for it) and a
# run's first tasks would otherwise import inside the makespan: the deliverables' checks every
# task's output goes through, and the export's renderers a proposal uses (~17 ms together; a
# fan-out's makespan was 4 % longer without this, 1.04 -> 1.08).
LATER_IMPORTS = ("podium.deliverables.checks", "podium.export.human.diff")


def warm_models(kinds: Iterable[TaskKind]) -> None:
    """Build the validators of a task's events, and for each of `kinds` its content's and its
    reply's, with the reply schema's JSON text the prompt carries; import `LATER_IMPORTS`. A
    model built already costs nothing here (`model_rebuild` returns at once)."""
    for name in LATER_IMPORTS:
        importlib.import_module(name)
    for model in TASK_MODELS:
        model.model_rebuild()
    for kind in sorted(set(kinds), key=lambda k: k.value):
        content = KIND_CONTENT.get(kind, Prose)
        reply = reply_schema(content)
        content.model_rebuild()
        reply.model_rebuild()
        schema_json(reply)
