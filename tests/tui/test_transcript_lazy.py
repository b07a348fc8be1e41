"""Issue 20, big productions: a resumed production's transcript (2,000 entries) is drawn from
the newest back, a screenful before the first paint and the rest after it, so the first frame
does not wait for every entry; the oldest is still there for `g`, a search and a copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.strip import Strip

from podium.domain.events import Event, ReviewGiven
from podium.domain.state import ProductionView
from podium.tui.app import PodiumApp
from podium.tui.widgets.debate_transcript import DebateTranscript

from .conftest import BASE_TS, app_for, frozen_view, read_events, screen_text, until

NARROW = (80, 24)
ENTRIES = 400


@pytest.fixture
def long_view(waiting_db: Path) -> ProductionView:
    """The waiting Last Light with ENTRIES reviews more, numbered from the oldest."""
    view = frozen_view(read_events(waiting_db))
    task_id = list(view.tasks)[-1]  # the transcript is in plan order: these come last
    seq = view.last_seq
    for number in range(ENTRIES):
        review = ReviewGiven(
            task_id=task_id,
            artifact_id=f"a{number}",
            reviewer="director",
            round=1,
            verdict="revise",
            summary=f"note-{number:04d} on the pacing",
        )
        view.apply(Event(seq=seq + 1 + number, ts=BASE_TS, payload=review))
    return view


def count_draws(monkeypatch: pytest.MonkeyPatch) -> tuple[list[object], list[int]]:
    """Every entry drawn, and how many had been drawn when the transcript was first painted
    with lines in it."""
    drawn: list[object] = []
    at_first_paint: list[int] = []
    lines_for = DebateTranscript._lines_for
    render_lines = DebateTranscript.render_lines

    def counting(self: DebateTranscript, item: Any) -> Any:
        drawn.append(item)
        return lines_for(self, item)

    def painting(self: DebateTranscript, crop: Region) -> list[Strip]:
        if self.lines and not at_first_paint:
            at_first_paint.append(len(drawn))
        return render_lines(self, crop)

    monkeypatch.setattr(DebateTranscript, "_lines_for", counting)
    monkeypatch.setattr(DebateTranscript, "render_lines", painting)
    return drawn, at_first_paint


def hold_older(monkeypatch: pytest.MonkeyPatch) -> None:
    """The older entries are not drawn after the first paint unless asked for."""
    monkeypatch.setattr(DebateTranscript, "_draw_older", lambda self: None, raising=False)


async def test_a_long_history_is_painted_after_a_screenful_and_g_shows_the_first_entry(
    long_view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn, at_first_paint = count_draws(monkeypatch)
    hold_older(monkeypatch)  # what `g` shows, `g` draws
    app = app_for(long_view)
    async with app.run_test(size=NARROW) as pilot:
        transcript = app.screen.query_one(DebateTranscript)
        await until(pilot, lambda: bool(at_first_paint), "the transcript painted")
        # Every review is at least two lines: a screenful is at most its height in entries.
        assert at_first_paint[0] <= transcript.scrollable_content_region.height
        assert len(transcript._shown) >= ENTRIES  # noqa: SLF001 - all of them are kept
        await until(pilot, lambda: "note-0399" in screen_text(app), "the newest entry shown")
        transcript.focus()
        assert transcript.waiting > 0
        await pilot.press("g")
        await until(pilot, lambda: transcript.scroll_y == 0, "the top of the transcript")
        first = transcript._shown[0]  # noqa: SLF001 - the oldest entry
        assert transcript.waiting == 0 and transcript.selected is first
        assert first.plain[:20] in screen_text(app)


async def test_older_entries_laid_out_later_do_not_move_what_is_shown(
    long_view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scrolled up while the older entries are drawn: the same lines stay in view."""
    drawn, at_first_paint = count_draws(monkeypatch)
    draw_older = DebateTranscript._draw_older  # noqa: SLF001 - run slice by slice here
    hold_older(monkeypatch)
    app = app_for(long_view)
    async with app.run_test(size=NARROW) as pilot:
        transcript = app.screen.query_one(DebateTranscript)
        await until(pilot, lambda: bool(at_first_paint), "the transcript painted")
        transcript.focus()
        while transcript.max_scroll_y < 10 and transcript.waiting:
            draw_older(transcript)  # room to scroll up in
        await pilot.pause()
        transcript.scroll_to(y=transcript.max_scroll_y - 5, animate=False, immediate=True)
        await pilot.pause()

        def in_view() -> list[str]:
            return [strip.text for strip in transcript.lines[int(transcript.scroll_y) :][:5]]

        shown = in_view()
        slices = 0
        while transcript.waiting:  # the rest, a slice at a time, as after the first paint
            draw_older(transcript)
            slices += 1
            await pilot.pause()
            assert in_view() == shown
        assert slices > 0
        assert len(drawn) == len(transcript._shown)  # noqa: SLF001 - each drawn once
        texts = [" ".join(strip.text.split()) for strip in transcript.lines]
        notes = [t.split("note-")[1][:4] for t in texts if "note-" in t]
        assert notes == [f"{n:04d}" for n in range(ENTRIES)]  # in order, none twice


async def test_a_search_finds_an_entry_not_laid_out_yet_and_shows_it(
    long_view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, at_first_paint = count_draws(monkeypatch)
    hold_older(monkeypatch)
    app = app_for(long_view)
    async with app.run_test(size=NARROW) as pilot:
        transcript = app.screen.query_one(DebateTranscript)
        await until(pilot, lambda: bool(at_first_paint), "the transcript painted")
        assert transcript.waiting > 1
        found = transcript.search("note-0001 ")
        assert len(found) == 1
        transcript.show_match(found[0])
        await until(pilot, lambda: "note-0001 " in screen_text(app), "the match shown")
        assert transcript.selected is found[0]


async def test_a_filter_cleared_gives_back_the_layout_it_replaced_unless_entries_changed(
    long_view: ProductionView,
) -> None:
    """A search for an id filters the transcript and esc clears it: the unfiltered layout of
    every entry is kept across the filter and given back, not laid out again; an entry that
    arrives while filtered is in it when the filter goes."""
    app = app_for(long_view)
    async with app.run_test(size=NARROW) as pilot:
        transcript = app.screen.query_one(DebateTranscript)
        await until(pilot, lambda: not transcript.waiting and bool(transcript.lines), "drawn")
        everything, shown = transcript.lines, list(transcript._shown)
        task_id = list(long_view.tasks)[-1]
        transcript.filter_text = task_id
        await pilot.pause()
        assert all(entry.task_id == task_id for entry in transcript._shown)
        assert len(transcript._shown) < len(shown)
        transcript.filter_text = ""
        await pilot.pause()
        assert transcript.lines is everything and transcript._shown == shown
        assert "note-0399" in screen_text(app)
        transcript.filter_text = task_id
        await pilot.pause()
        late = ReviewGiven(
            task_id=list(long_view.tasks)[0],
            artifact_id="late",
            reviewer="director",
            round=1,
            verdict="revise",
            summary="late-note while filtered",
        )
        transcript.add([late])
        assert "late-note" not in screen_text(app)
        transcript.filter_text = ""
        await pilot.pause()
        assert transcript.lines is not everything
        assert len(transcript._shown) == len(shown) + 1
        await until(pilot, lambda: "late-note" in screen_text(app), "the late entry shown")


async def test_the_settled_hook_is_called_once_when_the_older_entries_are_drawn(
    long_view: ProductionView, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook `podium` hands the screen (it freezes what the screen made for the history)
    runs once, when no older entry waits: not at the first paint, not again after."""
    waiting_then: list[int] = []
    app = app_for(long_view)
    monkeypatch.setattr(
        PodiumApp,
        "settled",
        lambda: waiting_then.append(app.screen.query_one(DebateTranscript).waiting),
    )
    async with app.run_test(size=NARROW) as pilot:
        transcript = app.screen.query_one(DebateTranscript)
        await until(pilot, lambda: bool(waiting_then), "the hook called")
        assert waiting_then == [0] and transcript.waiting == 0
        transcript.focus()
        await pilot.press("g", "G")
        transcript.redraw()  # as after a theme change: the older entries wait again
        assert transcript.waiting > 0
        await until(pilot, lambda: not transcript.waiting, "the older entries drawn again")
        await pilot.pause()
        assert waiting_then == [0]
