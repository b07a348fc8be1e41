"""Production files: the samples validate, and every malformed file gets `FILE:LINE: field:`.

Each malformed case marks the line the error must point at with a `# <-` comment, so the
expected line is visible in the case itself.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from podium.cli import main
from podium.domain import agents, policy, production, tasks, validators
from podium.domain.loading import ProductionFileError, parse_production
from podium.domain.production import ProductionSpec

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_productions"
SAMPLES = sorted(SAMPLES_DIR.glob("*.toml"))
MARK = "# <-"

BASE = """\
[production]
title = "Test"
format = "short_film"
brief = "A test production."

[vision]
premise = "A premise."

[[crew]]
id = "producer"
role = "producer"

[[crew]]
id = "director"
role = "director"
reports_to = "producer"

[[crew]]
id = "writer"
role = "writer"
reports_to = "director"

[[tasks]]
id = "treatment"
title = "Treatment"
kind = "treatment"
assignee = "writer"
gate = "treatment"
reviewers = ["director"]

[[tasks]]
id = "scene-1"
title = "Scene 1"
kind = "scene"
assignee = "writer"
depends_on = ["treatment"]
"""


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must occur once in BASE"
    return BASE.replace(old, new)


def add(snippet: str) -> str:
    return BASE + "\n" + snippet + "\n"


@dataclass(frozen=True)
class Case:
    name: str
    content: str | bytes | None
    field: str
    message: str
    line: int | None = None  # None: the line carrying the `# <-` mark
    make: Literal["file", "dir", "missing"] = "file"

    def expected_line(self) -> int:
        if self.line is not None:
            return self.line
        assert isinstance(self.content, str)
        marked = [i for i, text in enumerate(self.content.splitlines(), 1) if MARK in text]
        assert len(marked) == 1, f"{self.name}: mark exactly one line with {MARK!r}"
        return marked[0]


CASES = [
    Case(
        "unknown top-level key",
        add(f'[prodution]  {MARK}\nlogline = "x"'),
        "prodution",
        "unknown key 'prodution'; did you mean 'production'?",
    ),
    Case(
        "unknown nested key",
        edit('brief = "A test production."', f'brief = "A test."\nlogine = "x"  {MARK}'),
        "production.logine",
        "unknown key 'logine'; did you mean 'logline'?",
    ),
    Case(
        "unknown key in an array table",
        edit('reports_to = "director"', f'report_to = "director"  {MARK}'),
        "crew[2].report_to",
        "unknown key 'report_to'; did you mean 'reports_to'?",
    ),
    Case(
        "unknown key in a sub-table of an array element",
        add(f'[[vision.characters]]\nname = "Mara"\nage = 40  {MARK}'),
        "vision.characters[0].age",
        "unknown key 'age'",
    ),
    Case(
        "TOML syntax error",
        edit('title = "Test"', f'title = "Test  {MARK}'),
        "toml",
        "TOML syntax: Illegal character",
    ),
    Case(
        "TOML key defined twice",
        edit('title = "Test"', f'title = "Test"\ntitle = "Again"  {MARK}'),
        "toml",
        "TOML syntax: Cannot overwrite a value",
    ),
    Case(
        "TOML string left open to the end",
        add(f'notes = """never closed\nstill open  {MARK}'),
        "toml",
        "Unterminated string at the end of the file",
    ),
    Case("empty file", "", "production", "the file is empty", line=1),
    Case("whitespace-only file", " \n\t\n   \n", "production", "the file is empty", line=1),
    Case("binary file", b"\x7fELF\x02\x01\x01\x00\x00\x00", "file", "binary file", line=1),
    Case(
        "non-UTF-8 file",
        b'[production]\ntitle = "Caf\xe9"\n',
        "file",
        "not valid UTF-8 text; save the file as UTF-8",
        line=2,
    ),
    Case("directory", None, "file", "is a directory", line=1, make="dir"),
    Case("missing file", None, "file", "no such file", line=1, make="missing"),
    Case(
        "wrong type",
        edit("[vision]", f'[constraints]\nmax_concurrency = "four"  {MARK}\n\n[vision]'),
        "constraints.max_concurrency",
        "valid integer",
    ),
    Case(
        "wrong type: string for a list",
        edit('reviewers = ["director"]', f'reviewers = "director"  {MARK}'),
        "tasks[0].reviewers",
        "valid array",
    ),
    Case(
        "bad format",
        edit('format = "short_film"', f'format = "short-film"  {MARK}'),
        "production.format",
        "did you mean 'short_film'?",
    ),
    Case(
        "bad role",
        edit('role = "writer"', f'role = "scribe"  {MARK}'),
        "crew[2].role",
        "(got 'scribe')",
    ),
    Case(
        "bad task kind",
        edit('kind = "scene"', f'kind = "scenes"  {MARK}'),
        "tasks[1].kind",
        "did you mean 'scene'?",
    ),
    Case(
        "missing required key",
        edit('[vision]\npremise = "A premise."', f'[vision]  {MARK}\ntone = "grim"'),
        "vision.premise",
        "required key missing; add `premise = …`",
    ),
    Case(
        "missing required table",
        edit('[vision]\npremise = "A premise."\n', ""),
        "vision",
        "required key missing",
        line=1,
    ),
    Case(
        "unknown assignee",
        edit('assignee = "writer"\ngate', f'assignee = "writr"  {MARK}\ngate'),
        "tasks[0].assignee",
        "unknown agent 'writr' (did you mean 'writer'?)",
    ),
    Case(
        "unknown reviewer",
        edit('reviewers = ["director"]', f'reviewers = ["directer"]  {MARK}'),
        "tasks[0].reviewers[0]",
        "unknown agent 'directer' (did you mean 'director'?)",
    ),
    Case(
        "reviewer is the assignee",
        edit('reviewers = ["director"]', f'reviewers = ["writer"]  {MARK}'),
        "tasks[0].reviewers[0]",
        "an agent cannot review its own task",
    ),
    Case(
        "dependency on an unknown task",
        edit('depends_on = ["treatment"]', f'depends_on = ["treatmnt"]  {MARK}'),
        "tasks[1].depends_on[0]",
        "unknown task 'treatmnt' (did you mean 'treatment'?)",
    ),
    Case(
        "self dependency",
        edit('depends_on = ["treatment"]', f'depends_on = ["scene-1"]  {MARK}'),
        "tasks[1].depends_on[0]",
        "a task cannot depend on itself",
    ),
    Case(
        "cycle in depends_on",
        edit('gate = "treatment"', f'gate = "treatment"\ndepends_on = ["scene-1"]  {MARK}'),
        "tasks[0].depends_on",
        "dependency cycle: treatment → scene-1 → treatment",
    ),
    Case(
        "reports_to loop",
        edit(
            'id = "producer"\nrole = "producer"',
            f'id = "producer"\nrole = "producer"\nreports_to = "writer"  {MARK}',
        ),
        "crew[0].reports_to",
        "reports_to loop: producer → writer → director → producer",
    ),
    Case(
        "reports_to unknown",
        edit('reports_to = "producer"', f'reports_to = "produser"  {MARK}'),
        "crew[1].reports_to",
        "unknown agent 'produser' (did you mean 'producer'?)",
    ),
    Case(
        "reports_to itself",
        edit('reports_to = "director"', f'reports_to = "writer"  {MARK}'),
        "crew[2].reports_to",
        "an agent cannot report to itself",
    ),
    Case(
        "gate naming an unknown milestone",
        edit('gate = "treatment"', f'gate = "pilot"  {MARK}'),
        "tasks[0].gate",
        "unknown milestone 'pilot'; declare it in [[gates]]",
    ),
    Case(
        "max_concurrency = 0",
        edit("[vision]", f"[constraints]\nmax_concurrency = 0  {MARK}\n\n[vision]"),
        "constraints.max_concurrency",
        "greater than 0 (got 0)",
    ),
    Case(
        "budget_usd = inf",
        edit("[vision]", f"[constraints]\nbudget_usd = inf  {MARK}\n\n[vision]"),
        "constraints.budget_usd",
        "finite number (got inf)",
    ),
    Case(
        "budget_usd = nan",
        edit("[vision]", f"[constraints]\nbudget_usd = nan  {MARK}\n\n[vision]"),
        "constraints.budget_usd",
        "finite number (got nan)",
    ),
    Case(
        "deadline = inf",
        edit("[vision]", f"[constraints]\ndeadline = inf  {MARK}\n\n[vision]"),
        "constraints.deadline",
        "finite number (got inf)",
    ),
    Case(
        "rehearsal speed = inf",
        add(f"[models.rehearsal]\ntokens_per_s = inf  {MARK}"),
        "models.rehearsal.tokens_per_s",
        "finite number (got inf)",
    ),
    Case(
        "model timeout = -inf",
        add(f'[models.settings."openai/gpt-4o"]\ntimeout_s = -inf  {MARK}'),
        "models.settings.openai/gpt-4o.timeout_s",
        "finite number",
    ),
    Case(
        "model name without a provider",
        add(f'[models]\ndefault = "gpt4"  {MARK}'),
        "models.default",
        "'gpt4' names no provider; write provider/model (for OpenAI: 'openai/gpt4')",
    ),
    Case(
        "agent model without a provider",
        edit('role = "writer"', f'role = "writer"\nmodel = "llama3.1"  {MARK}'),
        "crew[2].model",
        "'llama3.1' names no provider; write provider/model, e.g. \"openai/gpt-4o-mini\"",
    ),
    Case(
        "model name with nothing after the provider",
        add(f'[models]\nimage = "openai/"  {MARK}'),
        "models.image",
        "names no model after 'openai/'",
    ),
    Case(
        "per-model limit on a name without a provider",
        add(f'[constraints.max_per_model]\n"gpt-4o" = 2  {MARK}'),
        "constraints.max_per_model.gpt-4o",
        "(for OpenAI: 'openai/gpt-4o')",
    ),
    Case(
        "character agent voicing someone not in the vision",
        add(
            '[[vision.characters]]\nname = "Tam"\n\n'
            f'[[crew]]\nid = "tam"\nrole = "character"\ncharacter = "Tom"  {MARK}'
        ),
        "crew[3].character",
        "no character 'Tom' in the vision (did you mean 'Tam'?); the vision has Tam",
    ),
    Case(
        "character agent in a vision without characters",
        add(f'[[crew]]\nid = "tam"\nrole = "character"\ncharacter = "Tam"  {MARK}'),
        "crew[3].character",
        "no character 'Tam' in the vision; declare it in [[vision.characters]]",
    ),
    Case(
        "character_presence naming an unknown character",
        add(
            '[[vision.characters]]\nname = "Morag"\n\n[[vision.characters]]\nname = "Elias"\n\n'
            f'[[validators]]\ntype = "character_presence"\ncharacters = ["Elias", "Mrag"]  {MARK}'
        ),
        "validators[0].characters[1]",
        "no character 'Mrag' in the vision (did you mean 'Morag'?)",
    ),
    Case(
        "values nested too deeply",
        edit(
            'gate = "treatment"',
            f'gate = "treatment"\nparams = {{ x = {"[" * 40}{"]" * 40} }}  {MARK}',
        ),
        "tasks[0].params.x",
        "values nested more than 32 levels deep",
    ),
    Case(
        "TOML nested beyond what the parser can read",
        edit('title = "Test"', f'title = "Test"\nx = {"[" * 2000}{"]" * 2000}  {MARK}'),
        "toml",
        "arrays or tables nested too deeply (at most 32 levels)",
    ),
    Case(
        "budget_usd = -5",
        edit("[vision]", f"[constraints]\nbudget_usd = -5  {MARK}\n\n[vision]"),
        "constraints.budget_usd",
        "greater than 0 (got -5)",
    ),
    Case(
        "retries = -1",
        edit("[vision]", f"[constraints]\nretries = -1  {MARK}\n\n[vision]"),
        "constraints.retries",
        "greater than or equal to 0 (got -1)",
    ),
    Case(
        "per-model limit of 0",
        add(f'[constraints.max_per_model]  {MARK}\n"rehearsal/x" = 0'),
        "constraints.max_per_model",
        "max_per_model['rehearsal/x'] must be at least 1, not 0",
    ),
    Case(
        "word_count min > max",
        add(f'[[validators]]\ntype = "word_count"\nmin = 700  {MARK}\nmax = 500'),
        "validators[0].min",
        "min (700) is larger than max (500)",
    ),
    Case(
        "unknown validator type",
        add(f'[[validators]]\ntype = "word_cont"  {MARK}\nmin = 7'),
        "validators[0].type",
        "unknown type 'word_cont'; did you mean 'word_count'?",
    ),
    Case(
        "validator without a type",
        add(f"[[validators]]  {MARK}\nmin = 7"),
        "validators[0].type",
        "required key missing; add `type = …`",
    ),
    Case(
        "validator naming an unknown task",
        add(f'[[validators]]\ntype = "word_count"\nmax = 9\ntasks = ["scene-9"]  {MARK}'),
        "validators[0].tasks[0]",
        "unknown task 'scene-9'",
    ),
    Case(
        "duplicate task ids",
        edit(
            'id = "scene-1"\ntitle = "Scene 1"\nkind = "scene"\nassignee = "writer"\n'
            'depends_on = ["treatment"]\n',
            f'id = "treatment"  {MARK}\ntitle = "Scene 1"\nkind = "scene"\nassignee = "writer"\n',
        ),
        "tasks[1].id",
        "duplicate task id 'treatment'",
    ),
    Case(
        "duplicate agent ids",
        add(f'[[crew]]\nid = "writer"  {MARK}\nrole = "editor"'),
        "crew[3].id",
        "duplicate agent id 'writer'",
    ),
    Case(
        "character agent without `character`",
        add(f'[[crew]]  {MARK}\nid = "mara"\nrole = "character"'),
        "crew[3]",
        "a character agent needs `character`",
    ),
    Case(
        "bad duration for deadline",
        edit("[vision]", f'[constraints]\ndeadline = "two hours"  {MARK}\n\n[vision]'),
        "constraints.deadline",
        "'two hours' is not a duration; write e.g.",
    ),
    Case(
        "protected decision kind lowered",
        add(f'[authority.decisions]\nmajor_story_beat = "autonomous"  {MARK}'),
        "authority.decisions.major_story_beat",
        "major_story_beat must stay approval_required",
    ),
    Case(
        "unknown decision kind",
        add(f'[authority.decisions]\nmajor_story = "collaborative"  {MARK}'),
        "authority.decisions.major_story",
        "did you mean 'major_story_beat'?",
    ),
    Case(
        "bad id pattern",
        edit('id = "writer"', f'id = "Writer One"  {MARK}'),
        "crew[2].id",
        "String should match pattern",
    ),
    Case(
        "unknown key in a quoted sub-table",
        add(f'[models.settings."openai/gpt-4o"]\ntimeout = 30  {MARK}'),
        "models.settings.openai/gpt-4o.timeout",
        "did you mean 'timeout_s'?",
    ),
    Case(
        "api key pasted into the file",
        add(f'[models.settings."openai/gpt-4o"]\napi_key = "sk-live-abc123"  {MARK}'),
        "models.settings.openai/gpt-4o.api_key",
        "unknown key 'api_key'; did you mean 'api_key_env'?",
    ),
    Case(
        "error after a multi-line array",
        add(f'[style]\npalette = [\n  ["amber"],\n  "grey",\n]\nlightning = "low"  {MARK}'),
        "style.lightning",
        "did you mean 'lighting'?",
    ),
]


def _materialize(case: Case, tmp_path: Path) -> Path:
    path = tmp_path / "production.toml"
    if case.make == "dir":
        path.mkdir()
    elif case.make == "file":
        if isinstance(case.content, bytes):
            path.write_bytes(case.content)
        else:
            assert case.content is not None
            path.write_text(case.content, encoding="utf-8")
    return path


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_file_is_reported_with_line_and_field(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _materialize(case, tmp_path)

    code = main(["validate", str(path)])

    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out + err
    expected = f"{path}:{case.expected_line()}: {case.field}: "
    lines = err.splitlines()
    matching = [line for line in lines if line.startswith(expected)]
    assert matching, f"no line starts with {expected!r} in:\n{err}"
    assert any(case.message in line for line in matching), err
    assert all(re.match(rf"{re.escape(str(path))}:\d+: \S", line) for line in lines), err


def test_an_api_key_in_the_file_is_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone who pastes a key where the variable's name goes must not see it in a log."""
    secret = "sk-proj-0123456789abcdefABCDEF"
    path = tmp_path / "p.toml"
    path.write_text(add(f'[models.settings."openai/gpt-4o"]\napi_key_env = "{secret}"'))

    assert main(["validate", str(path)]) == 2

    out, err = capsys.readouterr()
    assert secret not in out + err
    assert "models.settings.openai/gpt-4o.api_key_env" in err


def test_several_field_errors_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit('format = "short_film"', 'format = "movie"')
    text = text.replace('role = "writer"', 'role = "scribe"')
    text += "\n[constraints]\nretries = -1\nmax_concurency = 3\n"
    path = tmp_path / "p.toml"
    path.write_text(text)

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    fields = [line.split(": ")[1] for line in err.splitlines()]
    assert fields == [
        "production.format",
        "crew[2].role",
        "constraints.retries",
        "constraints.max_concurency",
    ]


def test_several_cross_reference_errors_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit('assignee = "writer"\ngate', 'assignee = "writr"\ngate')
    text = text.replace('gate = "treatment"', 'gate = "pilot"')
    text = text.replace('depends_on = ["treatment"]', 'depends_on = ["nothing"]')
    path = tmp_path / "p.toml"
    path.write_text(text)

    assert main(["validate", str(path)]) == 2

    err = capsys.readouterr().err
    assert "tasks[0].assignee: unknown agent 'writr'" in err
    assert "tasks[0].gate: unknown milestone 'pilot'" in err
    assert "tasks[1].depends_on[0]: unknown task 'nothing'" in err


def test_every_file_on_the_command_line_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(edit('format = "short_film"', 'format = "movie"'))

    assert main(["validate", str(bad), *map(str, SAMPLES)]) == 2

    out, err = capsys.readouterr()
    assert f"{bad}:3: production.format:" in err
    assert all(f"{sample}: ok:" in out for sample in SAMPLES)


# --- the samples -------------------------------------------------------------------------------


def test_the_three_samples_exist() -> None:
    assert {p.name for p in SAMPLES} >= {
        "arctic_journey.toml",
        "arcadian_summers.toml",
        "last_light.toml",
    }


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_validates(sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(sample)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"{sample}: ok:" in out


def _load(name: str) -> ProductionSpec:
    path = SAMPLES_DIR / name
    return parse_production(path.read_text(encoding="utf-8"), str(path))


def test_arctic_journey_is_planned_entirely_by_the_producer() -> None:
    spec = _load("arctic_journey.toml")
    assert spec.production.format is production.Format.ILLUSTRATED_STORY
    assert spec.production.chapters == 5
    assert spec.tasks == []
    assert spec.planner_agent().role is agents.Role.PRODUCER
    assert {a.role for a in spec.crew} >= {agents.Role.ILLUSTRATOR, agents.Role.DIRECTOR}
    (count,) = [v for v in spec.validators if isinstance(v, validators.WordCount)][:1]
    assert count.kinds == [tasks.TaskKind.CHAPTER]
    assert any(
        isinstance(v, validators.ForbiddenTerms) and v.severity is validators.Severity.DEVIATION
        for v in spec.validators
    )
    slow = spec.models.rehearsal.latency_by_kind
    assert slow[tasks.TaskKind.ILLUSTRATION] > slow.get(tasks.TaskKind.CHAPTER, 0.0)


def test_arcadian_summers_is_a_series_led_by_a_showrunner() -> None:
    spec = _load("arcadian_summers.toml")
    assert spec.production.format is production.Format.SERIES
    assert spec.production.episodes == 12
    assert spec.planner_agent().role is agents.Role.SHOWRUNNER
    assert spec.planner.mode is production.PlannerMode.EXTEND
    writers = [a for a in spec.crew if a.role is agents.Role.WRITER]
    assert 2 <= len(writers) <= 3
    assert all(w.reports_to == "showrunner" for w in writers)
    assert {"season_arc", "pilot_script", "finale_script"} <= spec.gate_ids()
    assert set(production.DEFAULT_GATES) <= spec.gate_ids()
    assert spec.authority.territory_for(policy.DecisionKind.CHARACTER_ARC) is (
        policy.Territory.APPROVAL_REQUIRED
    )
    assert spec.authority.territory_for(policy.DecisionKind.VISUAL_STYLE) is (
        policy.Territory.AUTONOMOUS
    )
    limits = spec.constraints
    assert limits.budget_usd and limits.budget_tokens and limits.deadline == 7200.0
    assert limits.max_per_model
    assert any(a.max_concurrency for a in spec.crew)


def test_last_light_has_the_full_crew_and_a_partial_plan() -> None:
    spec = _load("last_light.toml")
    roles = [a.role for a in spec.crew]
    for role in (
        agents.Role.PRODUCER,
        agents.Role.DIRECTOR,
        agents.Role.WRITER,
        agents.Role.DIRECTOR_OF_PHOTOGRAPHY,
        agents.Role.EDITOR,
        agents.Role.COMPOSER,
    ):
        assert role in roles
    cast = [a for a in spec.crew if a.role is agents.Role.CHARACTER]
    assert len(cast) == 3
    assert {a.character for a in cast} == {c.name for c in spec.vision.characters}
    assert all(a.reports_to == "director" for a in cast)
    by_id = {t.id: t for t in spec.tasks}
    assert by_id["treatment"].gate == "treatment"
    writer = next(a.id for a in spec.crew if a.role is agents.Role.WRITER)
    dp = next(a.id for a in spec.crew if a.role is agents.Role.DIRECTOR_OF_PHOTOGRAPHY)
    scenes = [t for t in spec.tasks if t.kind is tasks.TaskKind.SCENE]
    assert len(scenes) == 2
    assert all(t.assignee == writer and "director" in t.reviewers for t in scenes)
    assert all(t.depends_on for t in scenes)
    looks = [t for t in spec.tasks if t.assignee == dp]
    assert looks and all("director" in t.reviewers for t in looks)
    assert spec.planner.mode is production.PlannerMode.EXTEND
    types = {v.type for v in spec.validators}
    assert types >= {"scene_limit", "character_presence", "required_elements", "forbidden_terms"}
    style = spec.style
    assert style.palette and style.lighting and style.camera and style.sound and style.music
    assert len(spec.vision.locations) >= 3


# --- no input makes a traceback ----------------------------------------------------------------


def _field_names() -> list[str]:
    models: list[type[BaseModel]] = [
        ProductionSpec,
        production.ProductionInfo,
        production.Vision,
        production.Character,
        production.StyleGuide,
        production.Constraints,
        production.Gate,
        production.Planner,
        production.Models,
        production.RehearsalSettings,
        production.ModelSettings,
        agents.AgentSpec,
        policy.AuthorityPolicy,
        tasks.TaskSpec,
        validators.WordCount,
        validators.RequiredElements,
        validators.ForbiddenTerms,
        validators.SceneLimit,
        validators.CharacterPresence,
    ]
    return sorted({name for model in models for name in model.model_fields})


_WORDS = sorted(
    {
        *(v.value for v in production.Format),
        *(v.value for v in agents.Role),
        *(v.value for v in tasks.TaskKind),
        *(v.value for v in policy.DecisionKind),
        *(v.value for v in policy.Territory),
        "word_count",
        "scene_limit",
        "forbidden_terms",
        "producer",
        "writer",
        "treatment",
        "45m",
        "rehearsal/x",
    }
)
_BARE_KEY = re.compile(r"^[A-Za-z0-9_\-]+$")

keys = st.sampled_from(_field_names()) | st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz_-./ ", min_size=1, max_size=10
)
scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(_WORDS)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
documents = st.dictionaries(
    st.sampled_from(_field_names()) | keys,
    values | st.lists(st.dictionaries(keys, values, max_size=5), min_size=1, max_size=3),
    max_size=8,
)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"


def dump_toml(document: dict[str, Any], prefix: str = "") -> str:
    """A tiny TOML writer: scalars first, then tables as `[a.b]` and arrays as `[[a]]`."""
    head: list[str] = []
    tail: list[str] = []
    for key, value in document.items():
        name = f"{prefix}.{_key(key)}" if prefix else _key(key)
        if isinstance(value, dict):
            tail.append(f"\n[{name}]\n" + dump_toml(value, name))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                tail.append(f"\n[[{name}]]\n" + dump_toml(item, name))
        else:
            head.append(f"{_key(key)} = {_value(value)}\n")
    return "".join(head) + "".join(tail)


def _never_a_traceback(text: str) -> None:
    try:
        parse_production(text, "p.toml")
    except ProductionFileError as exc:
        last = max(1, len(text.splitlines()))
        assert exc.issues
        for issue in exc.issues:
            assert 1 <= issue.line <= last, issue
            assert str(issue).startswith(f"p.toml:{issue.line}: {issue.field}: ")


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text_never_makes_a_traceback(text: str) -> None:
    _never_a_traceback(text)


@FUZZ
@given(documents)
def test_arbitrary_toml_documents_never_make_a_traceback(document: dict[str, Any]) -> None:
    text = dump_toml(document)
    tomllib.loads(text)  # the writer makes valid TOML, so validation itself is exercised
    _never_a_traceback(text)


_SAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in SAMPLES]
_LITERALS = st.sampled_from(
    ['""', "0", "-1", "true", "[]", "{}", '"writer"', '"autonomous"', '"x"', "1e999", '["a"]']
) | scalars.map(_value)


@FUZZ
@given(
    sample=st.sampled_from(_SAMPLE_TEXTS),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["delete", "duplicate", "replace"]), st.integers(0, 10_000), _LITERALS
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_samples_never_make_a_traceback(
    sample: str, edits: list[tuple[str, int, str]]
) -> None:
    lines = sample.splitlines()
    for op, at, literal in edits:
        i = at % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + literal
        if not lines:
            lines = [""]
    _never_a_traceback("\n".join(lines) + "\n")


def _chain(count: int) -> str:
    """`count` tasks, each depending on the next: the longest walk a cycle search can take."""
    return BASE + "".join(
        f'\n[[tasks]]\nid = "c{i}"\ntitle = "C"\nkind = "scene"\nassignee = "writer"\n'
        + (f'depends_on = ["c{i + 1}"]\n' if i + 1 < count else "")
        for i in range(count)
    )


def test_the_longest_plan_a_file_may_give_validates() -> None:
    spec = parse_production(_chain(production.MAX_TASKS - 2), "p.toml")
    assert len(spec.tasks) == production.MAX_TASKS


def test_a_plan_longer_than_the_limit_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(ProductionFileError) as caught:
        parse_production(_chain(production.MAX_TASKS), "p.toml")
    [issue] = caught.value.issues
    assert issue.field == "tasks"
    assert f"at most {production.MAX_TASKS} items" in issue.message
    assert issue.line == 1 + BASE.splitlines().index("[[tasks]]")


# -- untrusted text at the door (issue 14 §2) --------------------------------------------------

# What a hostile file could carry in a string, as TOML escapes: clipboard write (OSC 52),
# window title (OSC 0), clear screen, a bare 8-bit CSI, a lone CR, and a bidi override.
HOSTILE = [
    "\\u001b]52;c;SGVsbG8=\\u0007",
    "\\u001b]0;pwned\\u0007",
    "\\u001b[2J",
    "\\u009b31m",
    "x\\ry",
    "\\u202egnp.exe",
]
_STRING_LINE = re.compile(r'^(\s*[A-Za-z0-9_."\-]+\s*=\s*)"(.*)$')


def _inject(text: str, payloads: list[str]) -> tuple[str, list[int]]:
    """`text` with a payload at the start of every one-line string value, and those lines."""
    out, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _STRING_LINE.match(line)
        if match and not match.group(2).startswith('""'):
            line = f'{match.group(1)}"{payloads[len(lines) % len(payloads)]}{match.group(2)}'
            lines.append(number)
        out.append(line)
    return "\n".join(out) + "\n", lines


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_terminal_escapes_in_every_string_are_refused_at_their_line(sample: Path) -> None:
    text, lines = _inject(sample.read_text(encoding="utf-8"), HOSTILE)
    assert len(lines) > 40

    with pytest.raises(ProductionFileError) as caught:
        parse_production(text, "p.toml")

    refused = {
        issue.line
        for issue in caught.value.issues
        if "a terminal control character" in issue.message or "a bidirectional" in issue.message
    }
    assert refused == set(lines)
    first = next(i for i in caught.value.issues if i.line == lines[0])
    assert str(first).startswith(f"p.toml:{lines[0]}: ")
    assert "holds ESC (U+001B) at character 1, a terminal control character; remove it" in str(
        first
    )


def test_an_escape_in_a_key_is_refused_too() -> None:
    text = BASE + '\n[models.settings."rehearsal/\\u001b[2J"]\ntimeout_s = 5\n'
    with pytest.raises(ProductionFileError) as caught:
        parse_production(text, "p.toml")
    [issue] = caught.value.issues
    assert issue.field == "models.settings.rehearsal/\x1b[2J"
    assert issue.message.startswith("the key holds ESC (U+001B)")
    assert "\x1b" not in str(issue)  # the key is shown sanitized


_FREE_TEXT = re.compile(
    r"^(\s*(?:title|logline|brief|premise|tone|audience|distribution|name|description|arc|"
    r"voice|lighting|camera|sound|music|notes|phase|deliverable)\s*=\s*)\"(.*)$"
)


def _with_markup(text: str) -> str:
    """Rich markup at the start of every one-line free-text value; a character's name is
    left as it is, since agents and rules name the character by it."""
    out, table = [], ""
    for line in text.splitlines():
        if line.startswith("["):
            table = line
        elif '= """' not in line and not (table == "[[vision.characters]]" and "name" in line):
            line = _FREE_TEXT.sub(r'\1"[bold red]x[/] \2', line)
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_rich_markup_in_free_text_is_just_text(sample: Path) -> None:
    text = _with_markup(sample.read_text(encoding="utf-8"))
    spec = parse_production(text, "p.toml")
    assert spec.production.title.startswith("[bold red]x[/] ")


def test_crlf_line_endings_and_an_escaped_crlf_are_text() -> None:
    text = BASE.replace('brief = "A test production."', 'brief = "one\\r\\ntwo"')
    spec = parse_production(text.replace("\n", "\r\n"), "p.toml")
    assert spec.production.brief == "one\r\ntwo"
    assert spec.vision.premise == "A premise."


# -- limits and strict types (issue 14 §5) -----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("max_concurrency = true", "constraints.max_concurrency"),
        ("max_per_agent = 2.0", "constraints.max_per_agent"),
        ('retries = "3"', "constraints.retries"),
        ('budget_usd = "5"', "constraints.budget_usd"),
        ("budget_tokens = false", "constraints.budget_tokens"),
    ],
)
def test_numbers_are_not_coerced(line: str, field: str) -> None:
    text = BASE.replace("[vision]", f"[constraints]\n{line}  {MARK}\n\n[vision]")
    with pytest.raises(ProductionFileError) as caught:
        parse_production(text, "p.toml")
    [issue] = caught.value.issues
    assert (issue.line, issue.field) == (1 + text.splitlines().index(f"{line}  {MARK}"), field)


def test_a_float_setting_takes_an_integer() -> None:
    text = BASE.replace("[vision]", "[constraints]\nbudget_usd = 5\n\n[vision]")
    assert parse_production(text, "p.toml").constraints.budget_usd == 5.0


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('title = "Test"', 'title = "   "', "production.title"),
        ('brief = "A test production."', 'brief = "\\t\\n"', "production.brief"),
        ('premise = "A premise."', 'premise = " "', "vision.premise"),
        ('title = "Treatment"', 'title = "  "', "tasks[0].title"),
    ],
)
def test_required_text_of_whitespace_alone_is_refused(old: str, new: str, field: str) -> None:
    with pytest.raises(ProductionFileError) as caught:
        parse_production(BASE.replace(old, new), "p.toml")
    [issue] = caught.value.issues
    assert issue.field == field
    assert "only whitespace" in issue.message


def test_a_file_of_too_many_values_is_refused_before_validation() -> None:
    text = BASE.replace('premise = "A premise."', "themes = [" + "1," * 100_000 + "]")
    with pytest.raises(ProductionFileError) as caught:
        parse_production(text, "p.toml")
    [issue] = caught.value.issues
    assert (issue.line, issue.field) == (1, "file")
    assert "holds more than 100,000 values" in issue.message


def test_a_file_wrong_in_many_places_lists_the_first_200_problems_and_a_count() -> None:
    text = BASE.replace("[vision]", "[vision]\nthemes = [" + "1," * 1000 + "]")
    with pytest.raises(ProductionFileError) as caught:
        parse_production(text, "p.toml")
    issues = caught.value.issues
    assert len(issues) == 201
    assert issues[-1].message == "800 more problems not shown; fix these first"


def test_the_benches_2000_task_plan_fits_the_limits() -> None:
    chain = _chain(2000)
    assert len(chain.encode()) < 1024 * 1024
    assert len(parse_production(chain, "p.toml").tasks) == 2002
