"""The debate transcript: reviews, debates round by round, rulings and stalls, as they happen.

Entries are kept (bounded) as the events they came from, so a theme change or a filter
redraws them; the complete history stays in the store (`podium export` writes it out).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import RichLog

from podium.domain.debate import DebateState
from podium.domain.events import DebateClosed, DebateOpened, DebateTurnTaken, ReviewGiven
from podium.domain.state import ProductionView
from podium.domain.text import sanitize
from podium.tui.format import ROLE_CLASSES, role_class
from podium.tui.live import TranscriptPayload

MAX_ENTRIES = 2000
MAX_LINES = 6000
REWRAP_S = 0.1  # a terminal being dragged narrower sends many sizes: wrap again once it stops


class Hanging:
    """A paragraph with a hanging indent: its first line as it comes, the lines it wraps to
    indented, so each entry's speaker (or mark) stands out at the left edge."""

    def __init__(self, text: Text, indent: int = 4) -> None:
        self.text = text
        self.indent = indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(8, options.max_width)
        lines = self.text.wrap(console, max(4, width - self.indent))
        for number, line in enumerate(lines):
            line.no_wrap = True
            line.end = "\n"
            if number:
                line = Text(" " * self.indent, end="\n", no_wrap=True) + line
            yield line


def with_role(speaker: str, role: str) -> str:
    """`Callum (writer)`, but not `writer (writer)`: the role only where the name lacks it."""
    role = role.replace("_", " ")
    return "" if not role or role in speaker.lower() else f" ({role})"


def history(view: ProductionView) -> list[TranscriptPayload]:
    """What a resumed production has said so far, task by task in plan order."""
    out: list[TranscriptPayload] = []
    by_task: dict[str, list[str]] = {}
    for debate in view.debates.values():
        by_task.setdefault(debate.task_id, []).append(debate.id)
    for task_id, record in view.tasks.items():
        out.extend(record.reviews)
        for debate_id in by_task.pop(task_id, []):
            out.extend(_debate_events(view, debate_id))
    for debate_ids in by_task.values():  # debates on tasks no longer in the plan
        for debate_id in debate_ids:
            out.extend(_debate_events(view, debate_id))
    return out


def _debate_events(view: ProductionView, debate_id: str) -> list[TranscriptPayload]:
    debate = view.debates[debate_id]
    events: list[TranscriptPayload] = [
        DebateOpened(
            debate_id=debate.id,
            task_id=debate.task_id,
            topic=debate.topic,
            participants=debate.participants,
            judge=debate.judge,
            max_rounds=debate.max_rounds,
            time_limit_s=debate.time_limit_s,
        )
    ]
    for turn in debate.turns:
        events.append(
            DebateTurnTaken(
                debate_id=debate.id,
                round=turn.round,
                speaker=turn.speaker,
                role=turn.role.value,
                stance=turn.stance,
                reasoning=turn.reasoning,
                concedes=turn.concedes,
            )
        )
    if debate.state is not DebateState.OPEN:
        events.append(
            DebateClosed(
                debate_id=debate.id,
                state=debate.state,
                ruling=debate.ruling,
                recommendation=debate.recommendation,
                reason=debate.reason,
            )
        )
    return events


class DebateTranscript(RichLog):
    """Turns coloured by the speaker's department; follows the end unless scrolled up."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "down", show=False, id="down", tooltip="Scroll down"),
        Binding("k", "scroll_up", "up", show=False, id="up", tooltip="Scroll up"),
        Binding("g", "scroll_home", "top", show=False, id="top", tooltip="Oldest entry"),
        Binding("G", "scroll_end", "bottom", show=False, id="bottom", tooltip="Newest; follow"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "debate-transcript--header",
        "debate-transcript--round",
        "debate-transcript--dim",
        "debate-transcript--ruling",
        "debate-transcript--stall",
        "debate-transcript--review",
        *(f"debate-transcript--role-{name}" for name in ROLE_CLASSES),
    }

    filter_text: reactive[str] = reactive("")
    """Show only entries whose task or debate id contains this; empty shows everything."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            max_lines=MAX_LINES,
            min_width=20,
            wrap=True,
            markup=False,
            auto_scroll=False,
        )
        self._entries: deque[TranscriptPayload] = deque(maxlen=MAX_ENTRIES)
        self._debate_task: dict[str, str] = {}
        self._rounds: dict[str, int] = {}
        self._roles: Mapping[str, str] = {}
        self._following = True  # False once the user scrolls up; `G` (the end) sets it again
        self._width = 0  # the width the lines were wrapped at
        self._rewrap: Timer | None = None

    def watch_filter_text(self) -> None:
        self.redraw()

    def on_resize(self, event: Resize) -> None:
        """Lines are wrapped when written: a new width wraps the kept entries again."""
        width = event.size.width
        if self._width and width != self._width:
            if self._rewrap is not None:
                self._rewrap.stop()
            self._rewrap = self.set_timer(REWRAP_S, self._rewrap_now)
        self._width = width

    def _rewrap_now(self) -> None:
        self._rewrap = None
        following, place = self._following, self.scroll_y / max(1, self.max_scroll_y)
        self.redraw()
        if not following:
            self._following = False
            self.call_after_refresh(
                lambda: self.scroll_to(y=place * self.max_scroll_y, animate=False)
            )

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y - 1

    # -- updates from the screen -----------------------------------------------------------

    def set_roles(self, roles: Mapping[str, str]) -> None:
        """Agent id → role, to colour reviewers and judges."""
        self._roles = dict(roles)

    def add(self, payloads: Iterable[TranscriptPayload]) -> None:
        """Append a batch of entries: one write for the whole batch."""
        lines: list[RenderableType] = []
        for payload in payloads:
            if isinstance(payload, DebateOpened):
                self._debate_task[payload.debate_id] = payload.task_id
            self._entries.append(payload)
            if self._matches(payload):
                lines.extend(self._lines_for(payload))
        self._write(lines)

    def reset(self, payloads: Iterable[TranscriptPayload]) -> None:
        """Start again from these entries (the whole history, after the stream fell behind)."""
        self._entries.clear()
        self._debate_task.clear()
        for payload in payloads:
            if isinstance(payload, DebateOpened):
                self._debate_task[payload.debate_id] = payload.task_id
            self._entries.append(payload)
        self.redraw()

    def redraw(self) -> None:
        """Draw the kept entries again: after a theme change or a new filter."""
        self.clear()
        self._rounds.clear()
        self._following = True
        self._write(
            [line for p in self._entries if self._matches(p) for line in self._lines_for(p)]
        )

    def _write(self, lines: list[RenderableType]) -> None:
        if not lines:
            return
        self.write(Group(*lines), scroll_end=self._following)

    # -- rendering -----------------------------------------------------------------------------

    def _task_of(self, payload: TranscriptPayload) -> str:
        if isinstance(payload, ReviewGiven | DebateOpened):
            return payload.task_id
        return self._debate_task.get(payload.debate_id, "")

    def _matches(self, payload: TranscriptPayload) -> bool:
        wanted = self.filter_text.strip().lower()
        if not wanted:
            return True
        debate = "" if isinstance(payload, ReviewGiven) else payload.debate_id
        return wanted in self._task_of(payload).lower() or (bool(debate) and wanted in debate)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"debate-transcript--{name}", partial=True)

    def _role(self, role: str) -> Style:
        return self._style(f"role-{role_class(role)}")

    def _lines_for(self, p: TranscriptPayload) -> list[RenderableType]:
        if isinstance(p, ReviewGiven):
            return self._review(p)
        if isinstance(p, DebateOpened):
            header = Text(f"━━ debate {p.debate_id} on {p.task_id}: ", style=self._style("header"))
            for i, who in enumerate(p.participants):
                if i:
                    header.append(" vs ", style=self._style("header"))
                header.append(who, style=self._role(self._roles.get(who, "")))
            header.append(f" · judge {p.judge} · up to {p.max_rounds} rounds ━━")
            topic = Text("   topic: ", style=self._style("dim"))
            topic.append(sanitize(p.topic))
            return [Text(""), header, topic]
        if isinstance(p, DebateTurnTaken):
            lines: list[RenderableType] = []
            if self._rounds.get(p.debate_id) != p.round:
                self._rounds[p.debate_id] = p.round
                lines.append(Text(f"  ── round {p.round} ──", style=self._style("round")))
            turn = Text("  ")
            turn.append(p.speaker, style=self._role(p.role))
            turn.append(with_role(p.speaker, p.role), style=self._style("dim"))
            turn.append(": ")
            turn.append(sanitize(p.stance))
            if p.concedes:
                turn.append("  [concedes]", style=self._style("ruling"))
            lines.append(Hanging(turn, 4))
            if p.reasoning:
                why = Text("      why: ", style=self._style("dim"))
                why.append(sanitize(p.reasoning), style=self._style("dim"))
                lines.append(Hanging(why, 6))
            return lines
        return self._closing_lines(p)

    def _review(self, p: ReviewGiven) -> list[RenderableType]:
        head = Text("✎ ", style=self._style("review"))
        head.append(f"{p.task_id} · review by ")
        head.append(p.reviewer, style=self._role(self._roles.get(p.reviewer, "")))
        head.append(f" (round {p.round}): ")
        verdict = "ruling" if p.verdict == "approve" else "stall"
        head.append(p.verdict, style=self._style(verdict))
        lines: list[RenderableType] = [Hanging(head, 4)]
        if p.summary:
            lines.append(Hanging(Text("   " + sanitize(p.summary)), 3))
        for issue in p.issues[:6]:
            lines.append(Hanging(Text("   – " + sanitize(issue), style=self._style("dim")), 5))
        if len(p.issues) > 6:
            lines.append(Text(f"   – and {len(p.issues) - 6} more", style=self._style("dim")))
        return lines

    def _closing_lines(self, p: DebateClosed) -> list[RenderableType]:
        if p.state is DebateState.STALLED:
            line = Text(
                f"  ⚠ {p.debate_id} stalled: it goes to the inbox", style=self._style("stall")
            )
            if p.reason:
                line.append(" · ", style=self._style("dim"))
                line.append(sanitize(p.reason))
            if p.recommendation:
                line.append(" · judge recommends: ", style=self._style("dim"))
                line.append(sanitize(p.recommendation))
            return [line]
        marks = {
            DebateState.RULED: ("⚖", "ruled"),
            DebateState.SETTLED: ("✓", "settled"),
            DebateState.DECIDED: ("✓", "decided by the Orchestrator"),
        }
        glyph, word = marks.get(p.state, ("·", p.state.value))
        line = Text(f"  {glyph} {p.debate_id} {word}", style=self._style("ruling"))
        if p.ruling:
            line.append(": ")
            line.append(sanitize(p.ruling))
        return [line]
