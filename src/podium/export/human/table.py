"""ShotList, CueSheet and EditPlan as CSV, both ways.

The columns are the export's (without its `status`). Durations are written as the export writes
them (six significant digits); a text cell is trimmed, and a leading `'` before `= + - @` is the
spreadsheet's defuse mark, not text. An edit plan's notes, which have no column, are the `#`
lines above the header.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from podium.domain.artifacts import Content, CueSheet, EditPlan, ShotList
from podium.export.human.base import ParseError, friendly
from podium.export.shotlist import CUE_COLUMNS, EDIT_COLUMNS, SHOT_COLUMNS, Cell, to_csv
from podium.export.sources import clean


@dataclass(frozen=True)
class _Table:
    what: str  # "a shot list"
    rows: str  # the list attribute
    columns: tuple[str, ...]
    fields: tuple[str, ...]  # the attribute of each column
    required: tuple[str, ...]


TABLES: dict[type[Content], _Table] = {
    ShotList: _Table(
        "a shot list",
        "shots",
        SHOT_COLUMNS,
        ("scene", "shot", "size", "angle", "movement", "lens", "duration_s", "description"),
        ("scene", "shot"),
    ),
    CueSheet: _Table(
        "a cue sheet",
        "cues",
        CUE_COLUMNS,
        (
            "cue_id",
            "title",
            "scene",
            "start",
            "duration_s",
            "mood",
            "instrumentation",
            "usage",
        ),
        ("cue",),
    ),
    EditPlan: _Table(
        "an edit plan",
        "sequence",
        EDIT_COLUMNS,
        ("scene", "shot", "duration_s", "transition", "note"),
        ("scene",),
    ),
}
_NUMBERS = frozenset({"scene", "duration_s"})
_DEFUSED = re.compile(r"^'(?=[=+\-@\t\r])")


def render_table(content: Content) -> str:
    table = TABLES[type(content)]
    rows: list[list[Cell]] = [
        [getattr(item, name) for name in table.fields] for item in getattr(content, table.rows)
    ]
    notes = ""
    if isinstance(content, EditPlan) and clean(content.notes).strip():
        lines = clean(content.notes).strip().split("\n")
        notes = "".join(f"# {line.strip()}".rstrip() + "\n" for line in lines)
    return notes + to_csv(table.columns, rows)


def text_cell(value: str) -> str:
    """A CSV cell as text: trimmed, without the defuse mark `cell` puts before a formula."""
    return _DEFUSED.sub("", value.strip()).strip()


def parse_table(cls: type[Content], text: str) -> Content:
    table = TABLES[cls]
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    notes: list[str] = []
    while len(notes) < len(lines) and lines[len(notes)].startswith("#"):
        notes.append(lines[len(notes)][1:].strip())
    if notes and cls is not EditPlan:
        raise ParseError(1, f"{table.what} has no notes; delete the lines that start with '#'")
    skipped = len(notes)
    reader = csv.reader(io.StringIO("\n".join(lines[skipped:])), strict=True, skipinitialspace=True)
    header: list[str] | None = None
    index: dict[str, int] = {}
    items: list[dict[str, Any]] = []
    where: list[int] = []
    done = 0
    try:
        for row in reader:
            start, done = done + 1 + skipped, reader.line_num
            if not any(c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
                index = _header(table, header, start)
                continue
            if len(row) != len(header):
                raise ParseError(
                    start,
                    f"{len(row)} cells where the header has {len(header)} columns; a cell "
                    "holding a comma needs double quotes around it",
                )
            items.append(_row(table, index, row, start))
            where.append(start)
    except csv.Error as error:
        raise ParseError(
            done + 1 + skipped, f"this row is not valid CSV ({error}); check its double quotes"
        ) from None
    if header is None:
        raise ParseError(
            skipped + 1, f"no header; the first line names the columns: {', '.join(table.columns)}"
        )
    if not items:
        raise ParseError(done + skipped, f"{table.what} needs at least one row under the header")
    data: dict[str, Any] = {table.rows: items}
    if cls is EditPlan:
        data["notes"] = "\n".join(notes).strip()

    try:
        return cls.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]
        loc = problem["loc"]
        row_at = where[loc[1]] if len(loc) > 2 and isinstance(loc[1], int) else where[0]
        column = table.columns[table.fields.index(str(loc[2]))] if len(loc) > 2 else "a cell"
        raise ParseError(row_at, friendly(problem, f"the {column} cell")) from None


def _header(table: _Table, header: list[str], line: int) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        if name not in table.columns:
            raise ParseError(
                line,
                f"unknown column {name!r}; the columns of {table.what} are "
                f"{', '.join(table.columns)}",
            )
        if name in index:
            raise ParseError(line, f"the column {name!r} appears twice; keep one")
        index[name] = position
    for name in table.required:
        if name not in index:
            raise ParseError(line, f"the column {name!r} is missing; {table.what} needs it")
    return index


def _row(table: _Table, index: dict[str, int], row: list[str], line: int) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for column, name in zip(table.columns, table.fields, strict=True):
        if column not in index:
            continue
        value = row[index[column]]
        if name not in _NUMBERS:
            text = text_cell(value)
            if text or name != "usage":  # an empty usage is the default
                item[name] = text
            continue
        value = value.strip()
        if not value:
            if name == "scene" and table.rows != "cues":
                raise ParseError(line, f"the {column} cell is empty; give the scene number")
            continue
        try:
            item[name] = int(value) if name == "scene" else float(value)
        except ValueError:
            kind = "whole number" if name == "scene" else "number of seconds"
            raise ParseError(line, f"{column} {value!r} is not a {kind}") from None
    return item
