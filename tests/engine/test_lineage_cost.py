"""The lineage query runs only after events that can change its answer (issue 20): on a run
where nothing goes stale it runs once, not on every turn of the main loop; and what can make
work stale while the loop skips it still does (an input replaced while its dependent runs)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from podium.domain import lineage
from podium.domain.escalation import OverrideCommand
from podium.domain.events import ProductionState, StaleCause, TaskStateChanged
from podium.domain.tasks import TaskState
from podium.domain.versions import current_number

from .harness import Script, crew, open_engine, production, tasks


def layered(layers: int, width: int) -> str:
    """Report tasks in layers, each on every task of the layer before."""
    items: list[dict[str, Any]] = []
    for layer in range(layers):
        for index in range(width):
            item: dict[str, Any] = {
                "id": f"l{layer}-t{index}",
                "title": f"Report {layer}.{index}",
                "kind": "report",
                "assignee": f"a{index % 2}",
            }
            if layer:
                item["depends_on"] = [f"l{layer - 1}-t{k}" for k in range(width)]
            items.append(item)
    return (
        crew(("a0", "producer"), ("a1", "producer"))
        + tasks(*items)
        + '[planner]\nmode = "explicit"\n'
    )


async def test_a_run_with_nothing_stale_asks_the_lineage_query_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    query = lineage.stale

    def counted(view: Any, **options: Any) -> Any:
        asked.append(view.last_seq)
        return query(view, **options)

    monkeypatch.setattr(lineage, "stale", counted)
    engine = await open_engine(production(layered(3, 6)), tmp_path / "p.db", Script(delay_s=0))
    assert await engine.run() is ProductionState.COMPLETED
    assert all(r.state is TaskState.DONE for r in engine.view.tasks.values())
    # Before: once per turn of the main loop, dozens of times for 18 tasks.
    assert len(asked) == 1, asked
    await engine.store.close()


def scene_json(line: str) -> str:
    return json.dumps(
        {
            "scenes": [
                {
                    "heading": "EXT. HARBOUR - NIGHT",
                    "elements": [
                        {"type": "character", "text": "MORAG"},
                        {"type": "dialogue", "text": line},
                    ],
                }
            ]
        }
    )


async def test_work_finished_from_a_replaced_input_goes_stale_and_is_made_again(
    tmp_path: Path,
) -> None:
    body = (
        crew(("w", "writer"), ("dp", "director_of_photography"))
        + tasks(
            {"id": "scene-1", "title": "S1", "kind": "scene", "assignee": "w"},
            {
                "id": "shots",
                "title": "Shots",
                "kind": "shot_list",
                "assignee": "dp",
                "depends_on": ["scene-1"],
            },
        )
        + '[planner]\nmode = "explicit"\n[authority.decisions]\n'
        + 'scene_pacing = "autonomous"\nmilestone_deliverable = "autonomous"\n'
        + 'shot_composition = "autonomous"\n'
    )
    engine = await open_engine(production(body), tmp_path / "p.db", Script(delay_s=0.3))
    view = engine.view
    # The made tasks the lineage keeps from the events it sees are the view's, after each one.
    kept: list[bool] = []

    def check(seq: int, payload: object) -> None:
        made = engine.lineage._made
        if made is not None:
            kept.append(made == {t for t, r in view.tasks.items() if r.state in lineage.MADE})

    engine.subscribe(check)
    run = asyncio.create_task(engine.run())
    deadline = time.monotonic() + 30
    while (shots := view.tasks.get("shots")) is None or shots.state is not TaskState.RUNNING:
        assert time.monotonic() < deadline, "shots never started"
        assert not run.done()
        await asyncio.sleep(0.005)
    result = await engine.submit(
        OverrideCommand(id="o", task_id="scene-1", text=scene_json("Now."), replace=True)
    )
    assert result.applied, result.detail
    assert view.tasks["shots"].state is TaskState.RUNNING  # still on the first version
    assert await asyncio.wait_for(run, 60) is ProductionState.COMPLETED
    events = [e.payload for e in await engine.store.read()]
    went_stale = [
        (p.task_id, p.stale_cause)
        for p in events
        if isinstance(p, TaskStateChanged) and p.state is TaskState.STALE
    ]
    assert went_stale == [("shots", StaleCause.INPUT_CHANGED)]
    assert current_number(view, view.tasks["scene-1"]) == 2
    assert view.tasks["shots"].made_from == {"scene-1": 2}
    assert lineage.stale(view) == {}
    assert kept and all(kept)
    await engine.store.close()


async def test_tasks_made_from_the_same_inputs_share_their_reckoning_until_an_input_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layer's tasks, made from the same inputs at the same versions, have their inputs
    reckoned once (`Lineage._cause` keeps it); an event moving one of those inputs makes the
    next task's reckoning anew, and it says what `lineage.cause_of` says."""
    engine = await open_engine(production(layered(2, 3)), tmp_path / "p.db", Script(delay_s=0))
    assert await engine.run() is ProductionState.COMPLETED
    view, kept = engine.view, engine.lineage
    reckoned: list[str] = []
    reckon = lineage.inputs_cause

    def counted(view: Any, record: Any, found: Any = ()) -> Any:
        reckoned.append(record.spec.id)
        return reckon(view, record, found)

    monkeypatch.setattr(lineage, "inputs_cause", counted)
    first, second, third = (view.tasks[f"l1-t{n}"] for n in range(3))
    kept._inputs_kept = kept._moved = None  # what the run kept: reckoned anew here
    assert kept._cause(first) is None and kept._cause(second) is None
    assert reckoned == ["l1-t0"]  # the second read what the first reckoned
    turned = dataclasses.replace(
        third, spec=third.spec.model_copy(update={"depends_on": third.spec.depends_on[::-1]})
    )
    assert kept._cause(turned) is None and reckoned == ["l1-t0"]  # in another order: the same
    engine.emit(TaskStateChanged(task_id="l1-t0", state=TaskState.STALE, reason="not an input"))
    assert kept._cause(third) is None and reckoned == ["l1-t0"]
    engine.emit(TaskStateChanged(task_id="l0-t1", state=TaskState.STALE, reason="an input"))
    assert kept._cause(third) is StaleCause.INPUT_STALE
    assert lineage.cause_of(view, third) is StaleCause.INPUT_STALE
    assert reckoned[:2] == ["l1-t0", "l1-t2"]
    await engine.store.close()
