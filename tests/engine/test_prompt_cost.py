"""What a task's prompt costs to make (issue 20's per-task overhead): built once per attempt
(the summaries it needs and its call share the build), each input version parsed once, no
litellm import in the engine's process for a model's context window, and the backends made
as the production opens rather than on the first call."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from podium.domain.artifacts import Artifact, ArtifactStatus, Prose
from podium.domain.events import CallFinished, ProductionState
from podium.domain.versions import current_of
from podium.engine import prompt_inputs, prompts
from podium.engine.engine import Engine
from podium.llm.rehearsal.material import Material
from podium.llm.types import CompletionRequest
from podium.llm.worker_backend import ProcessBackend
from podium.store.db import EventStore

from .harness import Script, crew, open_engine, production, tasks

LONG = " ".join(f"Sentence {n} of the chapter, with words enough to count." for n in range(90))


def composed(view: Any, task: str, inputs: list[Artifact]) -> prompts.Composed:
    """Writer w's prompt for `task` over `inputs`, as the engine composes it."""
    return prompts.compose(
        view,
        view.tasks[task],
        view.agents["w"].spec,
        "rehearsal/default",
        schema=Prose,
        inputs=inputs,
        feedback=[],
        call_number=1,
    )


def fan_in(extra: str = "") -> str:
    """Three chapters, then d and e each reading all three."""
    items: list[dict[str, Any]] = [
        {"id": t, "title": f"Chapter {t}", "kind": "chapter", "assignee": "w"} for t in "abc"
    ]
    items += [
        {
            "id": t,
            "title": f"Chapter {t}",
            "kind": "chapter",
            "assignee": "w",
            "depends_on": ["a", "b", "c"],
        }
        for t in "de"
    ]
    return crew(("w", "writer")) + tasks(*items) + '[planner]\nmode = "explicit"\n' + extra


def long_text(request: CompletionRequest) -> Prose | None:
    if request.purpose == "task" and request.task_id in ("a", "b", "c"):
        return Prose(text=f"{request.task_id.upper()} {LONG}")
    return None


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """Wrap owner.name to record the arguments of each call."""
    seen: list[tuple[Any, ...]] = []
    real = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return seen


@pytest.mark.parametrize("window", ["", "[models.rehearsal]\ncontext_tokens = 2600\n"])
async def test_a_task_s_prompt_is_built_once_an_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: str
) -> None:
    """With its inputs whole, and with two of them summarised: the summaries step and the call
    share the build (it was built twice, the first time only to list the summaries needed),
    and the call reads the summaries made meanwhile."""
    arranged = counting(monkeypatch, prompts, "arrange")
    script = Script(answer=long_text)
    engine = await open_engine(production(fan_in(window)), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    # arrange(view, record, inputs, …): once per task, each made in one attempt.
    assert sorted(args[1].spec.id for args in arranged) == ["a", "b", "c", "d", "e"]
    for task in ("d", "e"):
        call = next(c for c in script.calls if c.task_id == task and c.purpose == "task")
        prompt = "\n\n".join(m.content for m in call.messages if m.role == "user")
        assert f"A {LONG}" in prompt
        if window:
            assert "INPUT from b (chapter), SUMMARY of" in prompt
            assert "no summary could be made" not in prompt
            assert f"B {LONG}" not in prompt
        else:
            assert f"B {LONG}" in prompt and "SUMMARY" not in prompt


async def test_each_input_version_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two prompts reading the same three versions parse each once (it was four times a
    prompt: for its text and for its excerpt, in each of two builds)."""
    script = Script(answer=long_text)
    engine = await open_engine(production(fan_in()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    monkeypatch.setattr(prompt_inputs, "_VERSIONS", {})  # none read yet
    parsed = counting(monkeypatch, Artifact, "parsed")
    inputs = [a for t in "abc" if (a := current_of(view, view.tasks[t])) is not None]
    requests = [composed(view, task, inputs).request for task in ("d", "e")]
    assert sorted(args[0].id for args in parsed) == sorted(a.id for a in inputs)
    for request in requests:
        assert [d["summary"][:2] for d in request.hints["dependencies"]] == ["A ", "B ", "C "]


async def test_an_input_s_hint_is_made_once_a_version_and_follows_its_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every prompt reading a version gives the rehearsal model the same hint for it (made
    once, not once per reader); the task renamed by a plan change, the hint reads the new
    title."""
    script = Script(answer=long_text)
    engine = await open_engine(production(fan_in()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    inputs = [a for t in "abc" if (a := current_of(view, view.tasks[t])) is not None]

    def hints(task: str) -> list[Any]:
        request = composed(view, task, inputs).request
        return list(request.hints["dependencies"])

    first, second = hints("d"), hints("e")
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert [h["title"] for h in first] == ["Chapter a", "Chapter b", "Chapter c"]
    record = view.tasks["a"]
    renamed = record.spec.model_copy(update={"title": "The Landing"})
    monkeypatch.setitem(view.tasks, "a", dataclasses.replace(record, spec=renamed))
    assert [h["title"] for h in hints("d")] == ["The Landing", "Chapter b", "Chapter c"]


async def test_an_input_version_is_read_once_for_all_its_uses_and_the_oldest_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One kept `Version` per input version serves its text, excerpt and whole part, and the
    `Given` of prompts giving it whole; a copy of the artifact (the same provenance) finds it;
    past the bound the oldest version read goes first."""
    script = Script(answer=long_text)
    engine = await open_engine(production(fan_in()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    a, b, c = (current_of(view, view.tasks[t]) for t in "abc")
    assert a is not None and b is not None and c is not None
    monkeypatch.setattr(prompt_inputs, "_VERSIONS", {})
    monkeypatch.setattr(prompt_inputs, "_VERSIONS_MAX", 2)

    def given(task: str) -> list[prompt_inputs.Given]:
        return composed(view, task, [a, b]).given

    first, second = given("d"), given("e")
    assert all(x is y for x, y in zip(first, second, strict=True))  # made once, shared
    kept = prompt_inputs.version_of(b)
    assert kept.part is not None and kept.part.endswith(kept.text)
    assert prompt_inputs.version_of(b.model_copy()) is kept
    assert prompt_inputs.reading(b) == (kept.text, kept.excerpt)
    prompt_inputs.version_of(c)  # a third: the oldest (a) goes
    assert list(prompt_inputs._VERSIONS) == [b.id, c.id]
    # Long texts: a budget of characters holds fewer versions than the count would.
    monkeypatch.setattr(prompt_inputs, "_VERSIONS", {})
    monkeypatch.setattr(prompt_inputs, "_VERSIONS_MAX", 1024)
    texts = [prompt_inputs.version_of(x).text for x in (a, b, c)]
    monkeypatch.setattr(prompt_inputs, "_VERSIONS", {})
    monkeypatch.setattr(prompt_inputs, "_VERSIONS_CHARS", len(texts[1]) + len(texts[2]))
    for x in (a, b, c):
        prompt_inputs.version_of(x)
    assert list(prompt_inputs._VERSIONS) == [b.id, c.id]


def test_a_model_s_window_is_read_without_importing_litellm() -> None:
    """A real model with no `context_tokens`: its window comes from litellm's model map, read
    without importing litellm (it was imported, synchronously, on the engine's loop)."""
    code = textwrap.dedent(
        """
        import sys
        from podium.domain.production import ProductionSpec
        from podium.engine.prompts import context_window
        spec = ProductionSpec.model_validate_json(sys.stdin.read())
        print(context_window(spec, "openai/gpt-4o"), context_window(spec, "openai/house"))
        print("litellm" in sys.modules)
        """
    )
    spec = production(crew(("w", "writer")))
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=spec.model_dump_json(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == ["128000", "128000", "False"]


async def test_the_backends_are_made_as_the_production_opens(tmp_path: Path) -> None:
    """The rehearsal model's modules are imported by `Engine.open`, not by the run's first
    call (inside the makespan)."""
    store = await EventStore.open(tmp_path / "p.db")
    engine = await Engine.open(store, spec=production(fan_in()))
    try:
        assert "rehearsal" in engine.gateway.made
    finally:
        await store.close()


async def test_the_provider_worker_starts_as_a_real_model_s_production_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started by `Engine.open` (litellm imported there in the background), not by the first
    call."""
    monkeypatch.delenv("PODIUM_STREAM_WORKER", raising=False)
    spec = production(crew(("w", "writer")) + '[models]\ndefault = "openai/fake-model"\n')
    store = await EventStore.open(tmp_path / "p.db")
    engine = await Engine.open(store, spec=spec)
    backend = engine.gateway.backend_for("openai/fake-model")
    try:
        assert isinstance(backend, ProcessBackend)
        assert backend.worker_pid is not None
    finally:
        backend.close()
        await store.close()


async def test_the_rehearsal_model_reads_a_request_s_hints_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task's reply (its content and the protocol's fields) is written from one reading of
    the hints (the 50 inputs' excerpts, on W3): it was read twice, once per schema."""
    read = counting(monkeypatch, Material, "from_hints")
    engine = await open_engine(production(fan_in()), tmp_path / "p.db")
    made: list[Any] = []
    engine.subscribe(lambda seq, payload: made.append(payload))
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    calls = [p for p in made if isinstance(p, CallFinished)]
    assert len(calls) == 5
    assert len(read) == len(calls)


async def test_prompts_share_the_given_of_a_version_read_as_another_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version read first as one copy (the draft, when it was checked) and then by its
    readers as another (the accepted one, its status changed): the prompts giving it share one
    `Given` again, of the copy they give (they each made their own)."""
    script = Script(answer=long_text)
    engine = await open_engine(production(fan_in()), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    view = engine.view
    a, b = (current_of(view, view.tasks[t]) for t in "ab")
    assert a is not None and b is not None
    monkeypatch.setattr(prompt_inputs, "_VERSIONS", {})
    draft = b.with_status(ArtifactStatus.DRAFT)  # another copy, the same provenance
    assert prompt_inputs.version_of(draft).artifact is draft

    def given(task: str) -> list[prompt_inputs.Given]:
        return composed(view, task, [a, b]).given

    first, second = given("d"), given("e")
    assert first[1] is second[1] and first[1].artifact is b
    assert prompt_inputs.version_of(b).given is first[1]
    assert prompt_inputs.version_of(draft).given.artifact is draft  # the copy given, as ever
