"""What an agent sees of its inputs (issue 17): whole, up to the model's context window; past
it (or past the fan-in bound), the most relevant whole and the rest as summaries made once and
recorded, the prompt saying which; the work under review always whole; the same text once.
And the layout: production-wide text first, then the agent, then the task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.domain.artifacts import Prose, Screenplay
from podium.domain.events import ProductionState
from podium.domain.loading import ProductionFileError
from podium.domain.production import ProductionSpec
from podium.engine.engine import AutoApprove
from podium.engine.prompts import context_window
from podium.llm.litellm_requests import messages_for
from podium.llm.types import CompletionRequest, schema_json

from .harness import Script, crew, open_engine, production, tasks

LONG = " ".join(f"Sentence {n} of the chapter, with words enough to count." for n in range(90))


def chapters(*ids: str, deps: dict[str, list[str]] | None = None) -> str:
    deps = deps or {}
    return tasks(
        *(
            {
                "id": t,
                "title": f"Chapter {t}",
                "kind": "chapter",
                "assignee": "w",
                "depends_on": deps.get(t, []),
            }
            for t in ids
        )
    )


def body(extra: str, *ids: str, deps: dict[str, list[str]] | None = None) -> str:
    return (
        crew(("w", "writer")) + chapters(*ids, deps=deps) + '[planner]\nmode = "explicit"\n' + extra
    )


def long_text(request: CompletionRequest) -> Prose | None:
    """Chapters a-c write distinct long texts (about 1,300 tokens each)."""
    if request.purpose == "task" and request.task_id in ("a", "b", "c"):
        return Prose(text=f"{request.task_id.upper()} {LONG}")
    return None


def user(request: CompletionRequest) -> str:
    """What the user messages say: the inputs, then the task."""
    return "\n\n".join(m.content for m in request.messages if m.role == "user")


async def test_an_input_is_given_whole(tmp_path: Path) -> None:
    script = Script(answer=long_text)
    spec = production(body("", "a", "d", deps={"d": ["a"]}))
    engine = await open_engine(spec, tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    assert len(LONG) > 5000
    [call] = [c for c in script.calls if c.task_id == "d"]
    assert f"A {LONG}" in user(call)  # was cut to its first 1,200 characters
    assert "SUMMARY" not in user(call)


async def test_past_the_window_the_rest_are_summaries_made_once(tmp_path: Path) -> None:
    script = Script(answer=long_text)
    small = "[models.rehearsal]\ncontext_tokens = 2600\n"
    deps = {"d": ["a", "b", "c"], "e": ["a", "b", "c"]}
    spec = production(body(small, "a", "b", "c", "d", "e", deps=deps))
    engine = await open_engine(spec, tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    made = [e.payload for e in await engine.store.read(kinds=("summary_made",))]
    await engine.store.close()
    summaries = [c for c in script.calls if c.purpose == "summary"]
    # The first input whole (the order the task lists them); b and c summarised, once each,
    # though two tasks read them; the calls are booked to the task that needed them.
    assert sorted(c.hints["summary_of"] for c in summaries) == ["b", "c"]
    assert sorted((m.task_id, m.version) for m in made) == [("b", 1), ("c", 1)]
    assert {m.for_task for m in made} <= {"d", "e"}
    for task in ("d", "e"):
        prompt = user(next(c for c in script.calls if c.task_id == task and c.purpose == "task"))
        assert f"A {LONG}" in prompt
        assert f"B {LONG}" not in prompt and f"C {LONG}" not in prompt
        assert "2 of 3 inputs are given as summaries (marked SUMMARY)" in prompt
        assert "INPUT from b (chapter), SUMMARY of" in prompt
    assert engine.view.summaries == {(m.task_id, m.version): m.text for m in made}


async def test_the_fan_in_bound_and_the_same_text_once(tmp_path: Path) -> None:
    def answer(request: CompletionRequest) -> Prose | None:
        if request.purpose == "task" and request.task_id in ("a", "b", "c", "x"):
            same = "x" if request.task_id == "x" else request.task_id
            return Prose(text=f"Text of {'a' if same == 'x' else same}: {LONG[:300]}")
        return None

    script = Script(answer=answer)
    bound = "[constraints]\nmax_whole_inputs = 2\n"
    spec = production(body(bound, "a", "x", "b", "c", "d", deps={"d": ["a", "x", "b", "c"]}))
    engine = await open_engine(spec, tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    prompt = user(next(c for c in script.calls if c.task_id == "d" and c.purpose == "task"))
    assert "INPUT from x (chapter): is the same text as the INPUT from a, given once." in prompt
    assert prompt.count(f"Text of a: {LONG[:300]}") == 1
    assert f"Text of b: {LONG[:300]}" in prompt  # a and b whole: the bound is 2
    assert f"Text of c: {LONG[:300]}" not in prompt
    assert "1 of 4 inputs are given as summaries" in prompt
    assert [c.hints["summary_of"] for c in script.calls if c.purpose == "summary"] == ["c"]


async def test_a_reviewer_sees_the_whole_work_past_the_window(tmp_path: Path) -> None:
    script = Script(answer=long_text)
    small = "[models.rehearsal]\ncontext_tokens = 1024\n"
    text = (
        crew(("w", "writer"), ("ed", "editor"))
        + tasks({"id": "a", "title": "A", "kind": "chapter", "assignee": "w", "reviewers": ["ed"]})
        + '[planner]\nmode = "explicit"\n'
        + small
    )
    engine = await open_engine(production(text), tmp_path / "p.db", script)
    await engine.run()
    await engine.store.close()
    review = next(c for c in script.calls if c.purpose == "review")
    assert f"A {LONG}" in user(review)
    # Under the heading any reader sees, so a review shares its start with other readers.
    assert f"INPUT from a (chapter):\nA {LONG}" == review.messages[2].content
    assert "The INPUT from a is the work under review, whole." in review.messages[3].content
    assert not [c for c in script.calls if c.purpose == "summary"]


async def test_the_layout_puts_the_stable_text_first_and_the_schema_once(tmp_path: Path) -> None:
    script = Script()
    text = (
        crew(("w", "writer"), ("v", "writer"))
        + tasks(
            {"id": "a", "title": "A", "kind": "chapter", "assignee": "w"},
            {"id": "b", "title": "B", "kind": "chapter", "assignee": "v"},
        )
        + '[planner]\nmode = "explicit"\n'
    )
    engine = await open_engine(production(text), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    a, b = (next(c for c in script.calls if c.task_id == t) for t in ("a", "b"))
    assert [m.role for m in a.messages] == ["system", "system", "user"]  # no inputs
    # Production-wide text (rules, style, vision, schema): the same for both agents' calls.
    assert a.messages[0].content == b.messages[0].content
    assert a.messages[0].content.startswith('PRODUCTION: "Test"')
    assert "RULES" in a.messages[0].content and "VISION" in a.messages[0].content
    assert a.messages[1].content.startswith("You are w, the writer")
    assert a.messages[2].content.startswith("TASK a (chapter)")
    schema = a.response_schema
    assert schema is not None and schema_json(schema) in a.messages[0].content
    assert all(schema_json(schema) not in m.content for m in a.messages[1:])
    # The schema offers the reply protocol: claim a territory, ask a question.
    properties = json.loads(schema_json(schema))["properties"]
    assert {"territory", "question", "text"} <= set(properties)
    # On the litellm path both system blocks carry Anthropic's cache mark; the schema is not
    # added again.
    sent = messages_for(a, cacheable=True)
    assert [m["role"] for m in sent] == ["system", "system", "user"]
    assert all(m["content"][0]["cache_control"] == {"type": "ephemeral"} for m in sent[:2])
    assert sum(json.dumps(m).count(json.dumps(schema_json(schema))[1:-1]) for m in sent) == 1


def test_the_context_window_comes_from_the_settings() -> None:
    spec = production(
        crew(("w", "writer")) + "[models.rehearsal]\ncontext_tokens = 4096\n"
        '[models.settings."openai/house"]\ncontext_tokens = 200000\n'
    )
    assert context_window(spec, "rehearsal/any") == 4096
    assert context_window(spec, "openai/house") == 200000


async def test_an_input_another_was_made_from_is_the_first_summarised(tmp_path: Path) -> None:
    script = Script(answer=long_text)
    small = "[models.rehearsal]\ncontext_tokens = 2600\n"
    spec = production(body(small, "a", "b", "d", deps={"b": ["a"], "d": ["a", "b"]}))
    engine = await open_engine(spec, tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    prompt = user(next(c for c in script.calls if c.task_id == "d" and c.purpose == "task"))
    # b was made from a: b (the direct input) whole, a (which reaches d through b) summarised,
    # though d lists a first.
    assert f"B {LONG}" in prompt and f"A {LONG}" not in prompt
    assert "INPUT from a (chapter), SUMMARY of" in prompt


async def test_inputs_come_before_the_task_and_are_marked_for_the_cache(tmp_path: Path) -> None:
    script = Script(answer=long_text)
    text = (
        crew(("w", "writer"), ("v", "writer"))
        + tasks(
            {"id": "a", "title": "A", "kind": "chapter", "assignee": "w"},
            {"id": "d", "title": "D", "kind": "chapter", "assignee": "w", "depends_on": ["a"]},
            {"id": "e", "title": "E", "kind": "chapter", "assignee": "w", "depends_on": ["a"]},
        )
        + '[planner]\nmode = "explicit"\n'
    )
    engine = await open_engine(production(text), tmp_path / "p.db", script)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    d, e = (next(c for c in script.calls if c.task_id == t) for t in ("d", "e"))
    assert [m.role for m in d.messages] == ["system", "system", "user", "user"]
    # Two tasks reading the same input share everything up to their own task.
    assert d.messages[:3] == e.messages[:3]
    assert d.messages[2].content == f"INPUT from a (chapter):\nA {LONG}"
    assert d.messages[3].content.startswith("TASK d (chapter)")
    # Anthropic's marks: both system blocks and the inputs, not the task.
    sent = messages_for(d, cacheable=True)
    marked = [n for n, m in enumerate(sent) if isinstance(m["content"], list)]
    assert marked == [0, 1, 2]
    assert sent[2]["content"][0]["cache_control"] == {"type": "ephemeral"}
    assert sent[3]["content"].startswith("TASK d (chapter)")


FILM_CREW = (
    crew(("w", "writer"), ("dp", "director_of_photography"))
    + '[[crew]]\nid = "elias"\nrole = "character"\ncharacter = "Elias"\n'
    + '[[vision.characters]]\nname = "Elias"\n[[vision.characters]]\nname = "Morag"\n'
)
MORAG = [f"Line {n} of Morag's, said to the lamp and the sea." for n in range(120)]


def film_answer(request: CompletionRequest) -> Screenplay | None:
    if request.purpose != "task":
        return None
    elements: list[dict[str, str]] = [{"type": "action", "text": "The lamp turns."}]
    elements += [{"type": "character", "text": "ELIAS"}, {"type": "dialogue", "text": "Lit."}]
    for line in MORAG:
        elements += [{"type": "character", "text": "MORAG"}, {"type": "dialogue", "text": line}]
    if request.task_id == "pass-elias":
        elements[2] = {"type": "dialogue", "text": "The light's lit, and I'm staying."}
    if request.task_id in ("scene-1", "pass-elias"):
        heading = "INT. LAMP ROOM - NIGHT"
        return Screenplay.model_validate({"scenes": [{"heading": heading, "elements": elements}]})
    return None


def film_plan(window: int, *more: dict[str, object]) -> ProductionSpec:
    plan = tasks(
        {"id": "scene-1", "title": "S1", "kind": "scene", "assignee": "w"},
        {
            "id": "pass-elias",
            "title": "Dialogue pass: Elias",
            "kind": "dialogue",
            "assignee": "elias",
            "depends_on": ["scene-1"],
        },
        {
            "id": "shots",
            "title": "Shots",
            "kind": "shot_list",
            "assignee": "dp",
            "depends_on": ["scene-1", "pass-elias"],
        },
        *more,
    ).replace(
        'assignee = "elias"\n', 'assignee = "elias"\nparams = { scene = 1, character = "Elias" }\n'
    )
    window_line = f"[models.rehearsal]\ncontext_tokens = {window}\n"
    return production(FILM_CREW + plan + '[planner]\nmode = "explicit"\n' + window_line)


async def test_a_dialogue_pass_reads_its_screenplay_once_and_whole(tmp_path: Path) -> None:
    """The screenplay a dialogue pass revises is given once (not again as JSON), and whole
    past the window, as the work under review is."""
    script = Script(answer=film_answer)
    engine = await open_engine(film_plan(1600), tmp_path / "p.db", script)
    await engine.run()
    await engine.store.close()
    dialogue = next(c for c in script.calls if c.task_id == "pass-elias")
    told = user(dialogue)
    assert sum(len(line) for line in MORAG) // 4 > 1600 - 400  # past the window's room
    assert told.count(MORAG[-1]) == 1  # whole, and once: no JSON copy beside it
    assert '"elements"' not in told
    assert "THE SCREENPLAY YOU REVISE is the INPUT from scene-1, whole." in told
    assert [c for c in script.calls if c.purpose == "summary" and c.task_id == "pass-elias"] == []


async def test_a_shot_list_reads_the_dialogue_pass_not_the_scene_again(tmp_path: Path) -> None:
    script = Script(answer=film_answer)
    engine = await open_engine(film_plan(32768), tmp_path / "p.db", script)
    await engine.run()
    await engine.store.close()
    told = user(next(c for c in script.calls if c.task_id == "shots"))
    assert (
        "INPUT from scene-1 (scene): revised by the INPUT from pass-elias (its dialogue pass), "
        "which stands for it; not repeated." in told
    )
    assert told.count(MORAG[0]) == 1
    assert "The light's lit, and I'm staying." in told


async def test_a_scene_held_in_the_script_as_its_pass_revised_it_is_named(tmp_path: Path) -> None:
    """The composer reads the script podium assembled (holding the dialogue pass's version of
    the scene) and the scene: the scene is named, not given a second time."""
    script_task = {
        "id": "script",
        "title": "Script",
        "kind": "script",
        "assignee": "w",
        "depends_on": ["scene-1", "pass-elias"],
    }
    cues = {
        "id": "cues",
        "title": "Cues",
        "kind": "music_cues",
        "assignee": "w",
        "depends_on": ["script", "scene-1"],
    }
    script = Script(answer=film_answer)
    spec = film_plan(32768, script_task, cues)
    engine = await open_engine(spec, tmp_path / "p.db", script, auto=AutoApprove.ALL)
    assert await engine.run() is ProductionState.COMPLETED
    await engine.store.close()
    told = user(next(c for c in script.calls if c.task_id == "cues"))
    assert (
        "INPUT from scene-1 (scene): is part of the INPUT from script as its dialogue pass "
        "revised it, given once." in told
    )
    assert told.count(MORAG[0]) == 1


def test_the_rehearsal_model_draws_the_same_whatever_the_layout() -> None:
    """Its randomness comes from the prompt's paragraphs, not their order: a new layout leaves
    the samples' content as it was; a changed word changes it."""
    from podium.llm.rehearsal.backend import seed_material
    from podium.llm.types import Message

    def ask(*messages: Message) -> CompletionRequest:
        return CompletionRequest(model="rehearsal/x", messages=messages, agent_id="w")

    system, inputs, task = "RULES\n\nVISION", "INPUT from a (chapter):\nText.", "TASK b"
    before = ask(Message("system", system), Message("user", f"{task}\n\n{inputs}"))
    after = ask(Message("system", system), Message("user", inputs), Message("user", task))
    changed = ask(Message("system", system), Message("user", inputs), Message("user", "TASK c"))
    assert seed_material(7, before) == seed_material(7, after)
    assert seed_material(7, after) != seed_material(7, changed)


@pytest.mark.parametrize(
    ("section", "line", "field"),
    [
        ("[constraints]", "max_whole_inputs = 0", "constraints.max_whole_inputs"),
        ("[models.rehearsal]", "context_tokens = 100", "models.rehearsal.context_tokens"),
        ('[models.settings."openai/x"]', "context_tokens = 512", "context_tokens"),
        ('[models.settings."openai/x"]', "stall_timeout_s = 0", "stall_timeout_s"),
        ('[models.settings."openai/x"]', "max_tokens = { script = 0 }", "max_tokens"),
        ('[models.settings."openai/x"]', "continuations = 9", "continuations"),
        ('[models.settings."openai/x"]', "down_after = 0", "down_after"),
        ('[models.settings."openai/x"]', "cached_input_cost_per_token = -1", "cached_input_cost"),
    ],
)
def test_each_new_setting_is_checked_at_its_line(section: str, line: str, field: str) -> None:
    """The settings docs/production-file.md describes for issue 17 exist and are bounded."""
    text = crew(("w", "writer")) + f"{section}\n{line}\n"
    with pytest.raises(ProductionFileError) as caught:
        production(text)
    [issue] = caught.value.issues
    assert field in issue.field
    assert issue.line == text.count("\n", 0, text.index(line)) + 1 + 6  # after the header


def _same_text(request: CompletionRequest) -> Prose | None:
    if request.purpose == "task" and request.task_id in ("a", "x", "b"):
        return Prose(text=f"Text of {'a' if request.task_id == 'x' else request.task_id}.")
    return None


@pytest.mark.parametrize(
    "case",
    ["whole", "window", "bound", "same text", "review", "review window", "film", "film window"],
)
async def test_inputs_given_whole_at_once_are_what_the_whole_policy_gives(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`arrange` gives every input whole without ranking them when nothing can be named instead
    and all fit (`_all_whole`); each prompt of these productions is what the policy, followed
    input by input, gives."""
    from podium.engine import prompt_inputs, prompts

    full = prompt_inputs.arrange
    quick = [0]
    differ: list[tuple[object, ...]] = []  # raised in a task, an assertion would fail the task

    def both(*args: object, **kwargs: object) -> list[prompt_inputs.Given]:
        given = full(*args, **kwargs)  # type: ignore[arg-type]
        with monkeypatch.context() as inner:
            inner.setattr(prompt_inputs, "_all_whole", lambda *a: False)
            policy = full(*args, **kwargs)  # type: ignore[arg-type]
        if policy != given:
            differ.append((kwargs.get("purpose"), given, policy))
        versions = [prompt_inputs.version_of(a) for a in args[2]]  # type: ignore[attr-defined]
        quick[0] += prompt_inputs._all_whole(versions, [v.text for v in versions], 10**6, 10**9)
        return given

    monkeypatch.setattr(prompts, "arrange", both)
    three = {"d": ["a", "b", "c"], "e": ["a", "b", "c"]}
    small = "[models.rehearsal]\ncontext_tokens = 2600\n"
    bound = "[constraints]\nmax_whole_inputs = 2\n"
    script = Script(answer=film_answer if case.startswith("film") else long_text)
    if case == "whole":
        spec = production(body("", "a", "b", "c", "d", "e", deps=three))
    elif case == "window":
        spec = production(body(small, "a", "b", "c", "d", "e", deps=three))
    elif case == "bound":
        spec = production(body(bound, "a", "b", "c", "d", "e", deps=three))
    elif case == "same text":
        script = Script(answer=_same_text)
        spec = production(body("", "a", "x", "b", "d", deps={"d": ["a", "x", "b"]}))
    elif case.startswith("review"):
        reviewed = {
            "id": "a",
            "title": "A",
            "kind": "chapter",
            "assignee": "w",
            "reviewers": ["ed"],
        }
        plan = crew(("w", "writer"), ("ed", "editor")) + tasks(reviewed)
        window = small if case == "review window" else ""
        spec = production(plan + '[planner]\nmode = "explicit"\n' + window)
    else:
        spec = film_plan(1600 if case == "film window" else 32768)
    engine = await open_engine(spec, tmp_path / "p.db", script)
    await engine.run()
    await engine.store.close()
    assert differ == []
    assert quick[0] > 0  # some prompt had inputs that could all be whole
