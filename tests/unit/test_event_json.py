"""`artifact_created_json`: the bytes pydantic's own serializer gives, content held or not."""

from __future__ import annotations

from podium.domain.artifacts import Artifact, ArtifactStatus, Provenance
from podium.domain.event_json import artifact_created_json
from podium.domain.events import ArtifactCreated
from podium.domain.policy import Territory
from podium.domain.tasks import TaskKind


def _artifact(**fields: object) -> Artifact:
    base: dict[str, object] = {
        "id": "t1-v2",
        "task_id": "t1",
        "kind": TaskKind.REPORT,
        "content_type": "StatusReport",
        "content": {
            "progress_pct": 12.5,
            "summary": "on \u00e9 track \U0001f600",
            "blockers": ["x"],
        },
        "provenance": Provenance(
            agent_id="a0",
            model="rehearsal/bench",
            prompt_hash="abc",
            attempt=2,
            cost_usd=0.125,
            parents=("t1-v1",),
            made_from={"t0": 3},
            vision_sections=("style",),
        ),
        "status": ArtifactStatus.PROVISIONAL,
        "created_at": 1_700_000_000.25,
    }
    return Artifact(**{**base, **fields})


def test_the_same_bytes_as_pydantic() -> None:
    for event in (
        ArtifactCreated(artifact=_artifact()),
        ArtifactCreated(artifact=_artifact(content={}), agent_claim=Territory.APPROVAL_REQUIRED),
        ArtifactCreated(
            artifact=_artifact(
                provenance=Provenance(agent_id="o", model="m", prompt_hash="", attempt=1)
            )
        ),
    ):
        assert artifact_created_json(event) == event.__pydantic_serializer__.to_json(event)
        assert artifact_created_json(event) == event.model_dump_json().encode()


def test_a_content_held_elsewhere_is_written_too() -> None:
    held = _artifact().held_elsewhere(lambda: {"summary": "kept"})
    event = ArtifactCreated(artifact=held)
    assert b'"content":{"summary":"kept"}' in artifact_created_json(event)
    assert artifact_created_json(event) == event.model_dump_json().encode()
