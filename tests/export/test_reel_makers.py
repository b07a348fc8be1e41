"""A series' reels are built one at a time: their shot lists and cues read when made."""

from __future__ import annotations

from typing import Any

import pytest

from podium.domain.artifacts import Cue, CueSheet, EditItem, EditPlan, Shot, ShotList
from podium.domain.tasks import TaskKind
from podium.export import timeline

from .builder import Log


def _series() -> Log:
    log = Log("series")
    for episode in (2, 1, 3):
        log.task(f"shots-{episode}", TaskKind.SHOT_LIST, episode=episode)
        log.deliver(
            f"shots-{episode}",
            ShotList(shots=[Shot(scene=1, shot="A", duration_s=3, description=f"Ep {episode}.")]),
        )
        log.task(f"cues-{episode}", TaskKind.MUSIC_CUES, episode=episode)
        log.deliver(f"cues-{episode}", CueSheet(cues=[Cue(cue_id=f"M{episode}", scene=1)]))
        if episode == 3:
            continue  # a shot list and cues but no cut: no reel
        log.task(f"edit-{episode}", TaskKind.EDIT, episode=episode)
        log.deliver(
            f"edit-{episode}",
            EditPlan(sequence=[EditItem(scene=1, shot="a", duration_s=2.0 * episode)]),
        )
    return log


def test_a_reels_shot_lists_and_cues_are_read_when_it_is_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = _series()
    source = log.source
    read: list[str] = []
    current = type(source).current

    def counted(self: Any, record: Any) -> Any:
        read.append(record.spec.id)
        return current(self, record)

    monkeypatch.setattr(type(source), "current", counted)
    makers = timeline.reel_makers(source)
    assert len(makers) == 2 and all(not r.startswith(("shots", "cues")) for r in read)
    read.clear()
    first = makers[0]()
    assert sorted(read) == ["cues-1", "shots-1"]
    assert first.episode == 1 and first.name == "animatic-episode-01.mp4"
    assert first.shots is not None and first.shots[(1, "A")].description == "Ep 1."
    assert [c.cue_id for c in first.cues] == ["M1"]
    second = makers[1]()
    assert second.episode == 2 and [i.duration_s for i in second.items] == [4.0]
    assert [c.cue_id for c in second.cues] == ["M2"]
    assert [(r.episode, r.items, r.cues, r.lists) for r in timeline.reels(source)] == [
        (r.episode, r.items, r.cues, r.lists) for r in (first, second)
    ]
