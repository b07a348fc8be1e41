"""Golden prompts (issue 17): for every task kind the samples make, the first prompt its first
task is sent, as the rehearsal model receives it; and one prompt of each other purpose (review,
debate, summary). Made from the three samples with their seeds, compared as text.

Regenerate with
    PODIUM_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/engine/test_golden_prompts.py
and read the changed files as a model would before committing them.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from podium.domain.tasks import TaskKind
from podium.llm.rehearsal.backend import RehearsalBackend
from podium.llm.types import CompletionRequest
from tests.export.samples import SAMPLE_NAMES, make

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "prompts"
UPDATE = os.environ.get("PODIUM_UPDATE_GOLDEN") == "1"
PURPOSES = ("review", "debate", "summary")


def render(sample: str, request: CompletionRequest) -> str:
    head = (
        f"# sample {sample}, task {request.task_id}, agent {request.agent_id}, "
        f"purpose {request.purpose}, model {request.model}\n"
    )
    body = "".join(f"\n=== {m.role} ===\n{m.content}\n" for m in request.messages)
    return head + body


async def sample_calls(
    sample: str, monkeypatch: pytest.MonkeyPatch, tmp: Path
) -> tuple[list[CompletionRequest], list[str]]:
    """Every request the rehearsal model received making `sample`, and the plan's task order."""
    from podium.store import EventStore

    calls: list[CompletionRequest] = []
    original = RehearsalBackend.complete

    def recording(self: Any, request: CompletionRequest) -> Any:
        calls.append(request)
        return original(self, request)

    monkeypatch.setattr(RehearsalBackend, "complete", recording)
    db = tmp / f"{sample}.db"
    try:
        await make(sample, db)
    finally:
        monkeypatch.setattr(RehearsalBackend, "complete", original)
    store = await EventStore.open(db)
    try:
        rows = await store.read(kinds=("tasks_planned",))
    finally:
        await store.close()
    return calls, [t.id for e in rows for t in e.payload.tasks]  # type: ignore[union-attr]


async def prompts(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for sample in SAMPLE_NAMES:
        calls, order = await sample_calls(sample, monkeypatch, tmp)
        rank = {task_id: n for n, task_id in enumerate(order)}
        first: dict[str, CompletionRequest] = {}
        for request in calls:  # a task's own calls are in order; tasks by plan order
            kind = str(request.hints.get("kind", ""))
            name = request.purpose if request.purpose in PURPOSES else kind
            if request.purpose not in ("task", "plan", *PURPOSES) or name in chosen:
                continue
            best = first.get(name)
            far = 1 << 30
            if best is None or rank.get(request.task_id or "", far) < rank.get(
                best.task_id or "", far
            ):
                first[name] = request
        for name, request in first.items():
            chosen[name] = render(sample, request)
    return chosen


def test_golden_prompts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made = asyncio.run(prompts(monkeypatch, tmp_path))
    kinds = {k.value for k in TaskKind} - {"review"}  # no sample has a review task
    assert kinds <= set(made), sorted(kinds - set(made))
    assert set(PURPOSES) <= set(made)
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for stale in GOLDEN.glob("*.txt"):
            if stale.stem not in made:
                stale.unlink()
        for name, text in made.items():
            (GOLDEN / f"{name}.txt").write_text(text, encoding="utf-8")
        return
    on_disk = {p.stem for p in GOLDEN.glob("*.txt")}
    assert on_disk == set(made), "regenerate with PODIUM_UPDATE_GOLDEN=1"
    for name, text in sorted(made.items()):
        want = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8")
        assert text == want, f"{name}.txt differs; regenerate with PODIUM_UPDATE_GOLDEN=1"
