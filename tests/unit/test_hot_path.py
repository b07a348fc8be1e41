"""Shortcuts on the path of every model call give exactly what the plain code gave."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from podium.domain.artifacts import Artifact, ArtifactStatus, Critique, Provenance, StatusReport
from podium.domain.asking import Question, asked, question_in, reply_object
from podium.domain.policy import Territory
from podium.domain.records import ContentShelf
from podium.domain.tasks import TaskKind
from podium.domain.text import sanitize, sanitize_joined
from podium.engine.reply import territory_in
from podium.llm.rehearsal.backend import _fate
from podium.llm.rehearsal.material import Material
from podium.llm.types import CompletionRequest, Message

# Text with what sanitize cares about, so pieces often split a CR LF or an escape sequence.
_TRICKY = st.text(alphabet=st.sampled_from(list("ab \n\t\r\x1b[]0;m\x07\x9b\x9d\x00é😀\\")))


@given(st.lists(_TRICKY, min_size=1, max_size=6))
def test_sanitize_joined_is_sanitizing_each_piece(pieces: list[str]) -> None:
    assert sanitize_joined(pieces) == "".join(sanitize(p) for p in pieces)


def _reference_hash(request: CompletionRequest) -> str:
    body = json.dumps(
        {
            "model": request.model,
            "messages": [[m.role, m.content] for m in request.messages],
            "schema": request.response_schema.__name__ if request.response_schema else None,
        },
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


@given(
    st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), st.text()), max_size=3),
    st.text(),
    st.sampled_from([None, StatusReport, Critique]),
)
def test_prompt_hash_is_the_json_of_the_request(
    messages: list[tuple[Any, str]], model: str, schema: Any
) -> None:
    request = CompletionRequest(
        model=model,
        messages=tuple(Message(role, content) for role, content in messages),
        agent_id="a",
        response_schema=schema,
    )
    assert request.prompt_hash() == _reference_hash(request)


def _hints(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Tidewater",
        "format": "short_film",
        "premise": "A ferry mechanic keeps the last ferry running.",
        "themes": ["duty", "family"],
        "characters": [{"name": "Mara", "description": "A mechanic.", "voice": "dry"}],
        "locations": ["the engine room: pipes, heat", "the quay"],
        "palette": ["rust"],
        **extra,
    }


def test_production_facts_are_read_again_when_they_change() -> None:
    hints = _hints()
    first = Material.from_hints(hints)
    assert Material.from_hints(_hints()) == first  # the same facts, read once
    hints["themes"].append("the sea")  # the caller's own list, changed in place
    hints["characters"][0]["name"] = "Ines"
    again = Material.from_hints(hints)
    assert again.themes == ["duty", "family", "the sea"]
    assert [c.name for c in again.characters] == ["Ines"]
    assert again.location_notes == {"the engine room": "pipes, heat"}


def test_facts_of_the_wrong_type_are_read_without_the_cache() -> None:
    odd = Material.from_hints(_hints(title=["not", "text"], tone={"a": 1}))
    assert odd.title == ""
    assert odd.tone == ""
    assert odd.themes == ["duty", "family"]


def test_a_rate_of_zero_never_fails_and_one_always_does() -> None:
    request = CompletionRequest(model="rehearsal/x", messages=(), agent_id="a")
    assert _fate("material", request, 0.0) is None
    failed = _fate("material", request, 1.0)
    assert failed is not None and failed[0].retryable


def _artifact(**extra: Any) -> Artifact:
    provenance = Provenance(agent_id="a1", model="m", prompt_hash="h", attempt=1, version=2)
    return Artifact(
        id="t1-v2",
        task_id="t1",
        kind=TaskKind.REPORT,
        content_type="StatusReport",
        content={"summary": "on track"},
        provenance=provenance,
        **extra,
    )


@given(
    st.sampled_from(list(ArtifactStatus)),
    st.sampled_from(list(ArtifactStatus)),
    st.booleans(),
    st.booleans(),
)
def test_an_artifact_with_another_status_is_its_model_copy(
    before: ArtifactStatus, after: ArtifactStatus, status_set: bool, shelved: bool
) -> None:
    """The fold's copy for a status change is what pydantic's model_copy gives: equal, the
    same fields set (what `exclude_unset` dumps), the content held the same way."""
    original = _artifact(status=before) if status_set else _artifact()
    if shelved:
        shelf = ContentShelf(lambda seq, artifact_id: {"summary": f"{artifact_id} at {seq}"})
        original = shelf.shelve(original, 7)
    cheap = original.with_status(after)
    plain = original.model_copy(update={"status": after})
    assert cheap == plain and cheap is not original
    assert cheap.status is after
    assert original.status is (before if status_set else ArtifactStatus.DRAFT)
    assert cheap.__pydantic_fields_set__ == plain.__pydantic_fields_set__
    assert cheap.__pydantic_private__ == plain.__pydantic_private__
    assert cheap.__pydantic_private__ is not original.__pydantic_private__
    assert cheap.content_held is plain.content_held is (not shelved)
    assert cheap.model_dump() == plain.model_dump()
    assert cheap.model_dump(exclude_unset=True) == plain.model_dump(exclude_unset=True)
    assert cheap.model_dump_json() == plain.model_dump_json()


def _reference_object(text: str) -> object:
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    try:
        return json.loads(body)
    except ValueError:
        return None


def _reference_asked(text: str) -> Question | None:
    data = _reference_object(text)
    raw = data.get("question") if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        return None
    options = raw.get("options")
    try:
        return Question(
            text=str(raw.get("text", "")).strip(),
            options=[str(o).strip() for o in options if str(o).strip()][:6]
            if isinstance(options, list)
            else [],
        )
    except ValueError:
        return None


def _reference_claim(text: str) -> Territory | None:
    data = _reference_object(text)
    if not isinstance(data, dict):
        return None
    try:
        return Territory(str(data.get("territory", "")))
    except ValueError:
        return None


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
_PROTOCOL = st.fixed_dictionaries(
    {},
    optional={
        "summary": st.text(max_size=20),
        "territory": st.sampled_from([*[t.value for t in Territory], "nope", None]) | _JSONISH,
        "question": st.fixed_dictionaries(
            {},
            optional={
                "text": st.text(max_size=10) | _JSONISH,
                "options": st.lists(st.text(max_size=5) | _JSONISH, max_size=8) | _JSONISH,
            },
        )
        | _JSONISH,
    },
)


@given(
    _PROTOCOL | _JSONISH,
    st.sampled_from(["{}", "```json\n{}\n```", "```{}```", "  {} \n", "{}x"]),
    st.booleans(),
)
def test_a_reply_read_once_asks_and_claims_what_each_parse_found(
    data: object, frame: str, escaped: bool
) -> None:
    """The question and the territory read from one parse of the reply are what two parses of
    its text, each on its own, found (the old `asked` and `claimed_territory`)."""
    text = frame.replace("{}", json.dumps(data, ensure_ascii=escaped))
    once = reply_object(text)
    assert question_in(once) == _reference_asked(text)
    assert territory_in(once) == _reference_claim(text)
    assert asked(text) == _reference_asked(text)
