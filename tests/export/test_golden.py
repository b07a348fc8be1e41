"""Each sample production, run headless with its seed, exports exactly the golden files.

Regenerate with `PODIUM_UPDATE_GOLDEN=1 .venv/bin/pytest tests/export/test_golden.py`.

The rehearsal model writes the same words whatever the timing, and the exporter orders
everything by plan order, so the files are stable; what timing still changes is the numbering
of escalations and debates (e7 may be opened before e6 on a busy machine) and so the ids of the
commands that answered them, and the order of command lines in the decision log, which follows
the log. Those ids are replaced by names built from what they are about before comparing, and
the command lines are compared as a set.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from podium.export.exporter import MANIFEST
from podium.export.sources import ExportSource

from .conftest import Made, load_source
from .samples import SAMPLE_NAMES

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("PODIUM_UPDATE_GOLDEN") == "1"
# Files compared by their own tests (the PDF is read back with pdftotext in test_pdf.py).
BINARY = frozenset({".pdf", ".epub", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4"})
# The book and storyboard pages inline their pictures: test_book.py, test_storyboard.py.
PAGES = frozenset({".html"})
_ANIMATIC = re.compile(r"(?m)^- \[animatic[^\n]*\n|^## Animatic\n\n(?:- [^\n]*\n)+\n?")
_ID = re.compile(r"(?<![\w-])((?:auto-|timeout-)?)([ed]\d+)(?![\w-])")


def canonical_ids(source: ExportSource) -> Callable[[str], str]:
    names: dict[str, str] = {}
    counts: dict[tuple[str, ...], int] = {}
    for esc in source.view.escalations.values():  # per task, in the order they were opened
        key = ("esc", esc.task_id or "-", esc.kind.value)
        counts[key] = counts.get(key, 0) + 1
        names[esc.id] = f"esc[{key[1]}/{key[2]}/{counts[key]}]"
    for debate in source.view.debates.values():
        key = ("debate", debate.task_id)
        counts[key] = counts.get(key, 0) + 1
        names[debate.id] = f"debate[{debate.task_id}/{counts[key]}]"

    def rename(text: str) -> str:
        return _ID.sub(lambda m: m.group(1) + names.get(m.group(2), m.group(2)), text)

    return rename


def canonical(name: str, text: str, rename: Callable[[str], str]) -> str:
    text = rename(text)
    if name == "README.md":  # whether there is an animatic depends on ffmpeg: test_animatic.py
        text = _ANIMATIC.sub("", text)
    if name == "decisions.jsonl":
        lines = text.splitlines(keepends=True)
        artifacts = [line for line in lines if '"type": "artifact"' in line]
        commands = sorted(line for line in lines if '"type": "command"' in line)
        assert len(artifacts) + len(commands) == len(lines)
        text = "".join(artifacts + commands)
    return text


def exported_files(out: Path, source: ExportSource) -> dict[str, str]:
    rename = canonical_ids(source)
    files = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name != MANIFEST and path.suffix not in BINARY | PAGES:
            name = path.relative_to(out).as_posix()
            files[name] = canonical(name, path.read_text(encoding="utf-8"), rename)
    return files


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_export_matches_the_golden_files(name: str, sample_db: Made, sample_export: Made) -> None:
    source = load_source(sample_db(name))
    assert source.view.state.value == "completed"
    actual = exported_files(sample_export(name), source)
    folder = GOLDEN / name
    if UPDATE:
        shutil.rmtree(folder, ignore_errors=True)
        for file_name, text in actual.items():
            target = folder / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
    expected = {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    assert sorted(actual) == sorted(expected), "a different set of files was exported"
    for file_name, text in expected.items():
        assert actual[file_name] == text, f"{name}/{file_name} differs from its golden file"


def test_no_timestamps_or_absolute_paths(sample_db: Made, sample_export: Made) -> None:
    for name in SAMPLE_NAMES:
        out = sample_export(name)
        for path in out.rglob("*"):
            if path.suffix in BINARY:
                continue
            text = path.read_text(encoding="utf-8")
            assert str(out) not in text and str(sample_db(name).parent) not in text
            assert not re.search(r"\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d", text), path
            assert '"created_at"' not in text and '"issued_at"' not in text
