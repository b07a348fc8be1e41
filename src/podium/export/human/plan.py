"""The plan as TOML, both ways: the `[[tasks]]` entries of a production file
(docs/production-file.md), which `podium show DB plan` prints and the plan escalation's
`edit` reads back, checked exactly as a production file's tasks are, with errors that name
the line and the field (`podium.domain.loading`, `podium.domain.plan_edit`).

`parse_plan(render_plan(tasks), …) == tasks` for any valid plan. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from pydantic import Field, ValidationError

from podium.domain.base import Model
from podium.domain.loading import (  # the production file's own checks, to the letter
    KeyIndex,
    _field_name,
    _toml_issue,
    _validation_issue,
    control_problems,
    too_deep,
    validate_strictly,
)
from podium.domain.plan_edit import plan_problems, split_plan
from podium.domain.production import MAX_TASKS, ProductionSpec
from podium.domain.state import ProductionView
from podium.domain.tasks import OnFailure, TaskKind, TaskSpec
from podium.export.human.base import HumanFormat, ParseError
from podium.export.human.notes import without_note

TOML = HumanFormat("toml", ".toml")

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class _PlanFile(Model):
    """What a plan file holds: `[[tasks]]` entries, nothing else."""

    tasks: list[TaskSpec] = Field(min_length=1, max_length=MAX_TASKS)


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(text: str) -> str:
    # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if value == value else "nan"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        items = [v for v in (_value(x) for x in value) if v is not None]
        return f"[{', '.join(items)}]"
    if isinstance(value, dict):
        pairs = [(k, _value(v)) for k, v in value.items()]
        return "{" + ", ".join(f"{_key(str(k))} = {v}" for k, v in pairs if v is not None) + "}"
    return None  # TOML has no null: a key without a value is left out


def render_plan(tasks: list[TaskSpec], *, header: str = "") -> str:
    """The tasks as `[[tasks]]` entries of a production file, each key only when it is not
    the default; `header` is written on top as `#` comments."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for task in tasks:
        lines += ["", "[[tasks]]"] if lines else ["[[tasks]]"]
        data = task.model_dump(mode="json")
        for name in ("id", "title", "kind", "assignee"):
            lines.append(f"{name} = {_string(data[name])}")
        optional = {
            "depends_on": data["depends_on"],
            "gate": data["gate"],
            "reviewers": data["reviewers"],
            "on_failure": data["on_failure"] if task.on_failure is not OnFailure.ESCALATE else None,
            "decision": data["decision"],
            "phase": data["phase"],
            "deliverable": data["deliverable"],
            "brief": data["brief"],
        }
        for name, value in optional.items():
            if value or (name == "depends_on" and value == []):
                shown = _value(value)
                if shown is not None:
                    lines.append(f"{name} = {shown}")
        params = [(k, _value(v)) for k, v in data["params"].items()]
        if params:
            lines.append("[tasks.params]")
            lines += [f"{_key(str(k))} = {v}" for k, v in params if v is not None]
    return "\n".join(lines) + "\n"


def parse_plan(
    text: str, spec: ProductionSpec, kept: list[TaskSpec], *, source: str = "plan"
) -> list[TaskSpec]:
    """The plan in `text` (podium's error line on top left out), checked as the `[[tasks]]`
    of a production file beside the tasks that stay; ParseError names the line and field."""
    body, skipped = without_note(TOML.suffix, text)

    def error(line: int, field: str, message: str) -> ParseError:
        return ParseError(line + skipped, f"{field}: {message}")

    if not body.strip():
        raise error(1, "tasks", "the plan is empty; give at least one [[tasks]] entry")
    if "\x00" in body:
        raise error(1, "file", "this is a binary file, not a TOML plan")
    try:
        data = tomllib.loads(body)
    except tomllib.TOMLDecodeError as exc:
        issue = _toml_issue(exc, source, body)
        raise error(issue.line, issue.field, issue.message) from None
    except RecursionError:
        raise error(1, "toml", "arrays or tables nested too deeply") from None
    index = KeyIndex(body)
    if (deep := too_deep(data)) is not None:
        raise error(index.line_for(deep), _field_name(deep), "values nested too deeply")
    other = [k for k in data if k != "tasks"]
    if other:
        where = index.line_for((other[0],))
        raise error(where, _field_name((other[0],)), "only [[tasks]] entries belong in a plan")
    for loc, problem in control_problems(data):
        raise error(index.line_for(loc), _field_name(loc), problem)
    try:
        edited = validate_strictly(_PlanFile, data).tasks
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        issue = _validation_issue(first, index, source)
        raise error(issue.line, issue.field, issue.message) from None
    for loc, problem in plan_problems(spec, kept, edited):
        raise error(index.line_for(loc), _field_name(loc), problem)
    return edited


def plan_file(view: ProductionView) -> str:
    """The plan the planner proposed (what a plan edit replaces) as TOML, with a header that
    says what the file is and how it is read back."""
    proposed, kept = split_plan(view)
    planning = next((t for t in kept if t.kind is TaskKind.PLAN), None)
    by = f" by {planning.assignee}" if planning is not None else ""
    header = (
        f"The plan{by}: {len(proposed)} task(s), as [[tasks]] entries of a production file\n"
        "(docs/production-file.md). Edit, save and quit: podium checks it as a production\n"
        "file's tasks and approves it as you wrote it. A task left out is skipped; the\n"
        "production file's own tasks stay as they are."
    )
    return render_plan(proposed, header=header)
