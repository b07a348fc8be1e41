"""The transcript says why a debate closed without a ruling."""

from __future__ import annotations

from textual.app import App, ComposeResult

from podium.domain.debate import DebateState
from podium.domain.events import DebateClosed, DebateOpened
from podium.tui.widgets.debate_transcript import DebateTranscript


class _One(App[None]):
    def compose(self) -> ComposeResult:
        yield DebateTranscript(id="t")


async def test_a_debate_cut_short_shows_its_reason() -> None:
    app = _One()
    async with app.run_test(size=(120, 20)) as pilot:
        transcript = app.query_one(DebateTranscript)
        transcript.add(
            [
                DebateOpened(
                    debate_id="d1",
                    task_id="scene-1",
                    participants=["writer", "director"],
                    topic="the ending",
                    judge="producer",
                    max_rounds=3,
                    time_limit_s=120,
                ),
                DebateClosed(
                    debate_id="d1",
                    state=DebateState.STALLED,
                    reason="the time limit (2m) ran out in round 2 [bold]",
                ),
            ]
        )
        await pilot.pause()
        shown = " ".join(" ".join(strip.text.split()) for strip in transcript.lines)  # unwrapped
        assert "d1 stalled: it goes to the inbox" in shown
        assert "the time limit (2m) ran out in round 2 [bold]" in shown  # literal, not markup
