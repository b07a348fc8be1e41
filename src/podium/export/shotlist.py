"""Shot list, music cue sheet and edit plan as CSV, for a spreadsheet or a scheduling tool.

Written with the csv module (quoting does the rest), and every text cell that a spreadsheet
would run as a formula (starting with = + - @, a tab or a carriage return) gets a leading `'`.
A `status` column marks work that is not yet approved.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from podium.domain.artifacts import Artifact, CueSheet, EditPlan, ShotList
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.export.sources import ExportSource, clean, number

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None

SHOT_COLUMNS = ("scene", "shot", "size", "angle", "movement", "lens", "duration", "description")
CUE_COLUMNS = (
    "cue",
    "title",
    "scene",
    "start",
    "duration",
    "mood",
    "instrumentation",
    "usage",
)
EDIT_COLUMNS = ("scene", "shot", "duration", "transition", "note")


def cell(value: Cell) -> str:
    """One CSV cell: numbers as written, text cleaned and defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    text = clean(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    # Text repeats down a column (sizes, moves, transitions, statuses): each distinct text is
    # made a cell once (a big series' shot list and edit plan: 786,000 cells, 0.3 s of `clean`).
    # Only `str` itself: 1, 1.0 and True are one key to a dict and three different cells.
    cells: dict[str, str] = {}
    for row in rows:
        out: list[str] = []
        for value in row:
            if type(value) is str:
                text = cells.get(value)
                if text is None:
                    text = cells[value] = cell(value)
                out.append(text)
            else:
                out.append(cell(value))
        writer.writerow(out)
    return buffer.getvalue()


def _sources(source: ExportSource, kind: TaskKind) -> list[tuple[int | None, Artifact]]:
    series = source.format is Format.SERIES
    found = []
    for record in source.plan():
        if record.spec.kind is not kind:
            continue
        artifact = source.current(record)
        if artifact is not None:
            episode = number(record.spec.params.get("episode")) if series else None
            found.append((episode, artifact))
    return found


def _status(source: ExportSource, artifact: Artifact) -> str:
    return source.short_status(artifact) or artifact.status.value


def _table(
    source: ExportSource, columns: Sequence[str], rows: list[tuple[int | None, list[Cell]]]
) -> str | None:
    if not rows:
        return None
    series = source.format is Format.SERIES
    header = [*(["episode"] if series else []), *columns, "status"]
    return to_csv(header, ([*([episode] if series else []), *row] for episode, row in rows))


def shot_list(source: ExportSource) -> str | None:
    rows: list[tuple[int | None, list[Cell]]] = []
    for episode, artifact in _sources(source, TaskKind.SHOT_LIST):
        content = source.parsed(artifact)
        if isinstance(content, ShotList):
            status = _status(source, artifact)
            for s in content.shots:
                values: list[Cell] = [s.scene, s.shot, s.size, s.angle, s.movement, s.lens]
                rows.append((episode, [*values, s.duration_s, s.description, status]))
    return _table(source, SHOT_COLUMNS, rows)


def cue_sheet(source: ExportSource) -> str | None:
    rows: list[tuple[int | None, list[Cell]]] = []
    for episode, artifact in _sources(source, TaskKind.MUSIC_CUES):
        content = source.parsed(artifact)
        if isinstance(content, CueSheet):
            status = _status(source, artifact)
            for c in content.cues:
                values: list[Cell] = [c.cue_id, c.title, c.scene, c.start, c.duration_s]
                rows.append((episode, [*values, c.mood, c.instrumentation, c.usage, status]))
    return _table(source, CUE_COLUMNS, rows)


def edit_plan(source: ExportSource) -> str | None:
    rows: list[tuple[int | None, list[Cell]]] = []
    for episode, artifact in _sources(source, TaskKind.EDIT):
        content = source.parsed(artifact)
        if isinstance(content, EditPlan):
            status = _status(source, artifact)
            for i in content.sequence:
                values: list[Cell] = [i.scene, i.shot, i.duration_s, i.transition, i.note]
                rows.append((episode, [*values, status]))
    return _table(source, EDIT_COLUMNS, rows)
