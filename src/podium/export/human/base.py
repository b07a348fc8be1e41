"""What the human formats share: their names, the text they render, the error a person reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Line = tuple[int, str]  # (1-based line number, the line as typed)


@dataclass(frozen=True)
class HumanFormat:
    name: str  # "fountain", "markdown" or "csv"
    suffix: str  # for a file an editor opens: ".fountain", ".md", ".csv"


FOUNTAIN = HumanFormat("fountain", ".fountain")
MARKDOWN = HumanFormat("markdown", ".md")
CSV = HumanFormat("csv", ".csv")


@dataclass(frozen=True)
class HumanText:
    text: str
    format: HumanFormat

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def suffix(self) -> str:
        return self.format.suffix


class ParseError(ValueError):
    """Text that cannot be read back; `line` is 1-based, `message` says what to do."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def friendly(problem: Any, name: str) -> str:
    """A pydantic complaint as a sentence about the section or column a person wrote."""
    kind, ctx, value = problem["type"], problem.get("ctx", {}), problem.get("input")
    if kind in {"missing", "string_too_short", "too_short"}:
        return f"{name} is empty; fill it in"
    if kind == "greater_than_equal":
        return f"{name} must be {ctx['ge']:g} or more, not {value:g}"
    if kind == "less_than_equal":
        return f"{name} must be at most {ctx['le']:g}, not {value:g}"
    if kind == "literal_error":
        return f"{name} must be {ctx['expected']}, not {value!r}"
    return f"{name}: {problem['msg']}"
