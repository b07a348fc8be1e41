"""The debate transcript: reviews, debates round by round, rulings and stalls, as they happen.

Entries are kept (bounded) as the events they came from, so a theme change or a filter
redraws them; the complete history stays in the store (`podium export` writes it out).

Entries are drawn from the newest back: a layout (the history of a resumed production, a
filter, a new width or theme) draws what fills the pane, and the older entries are drawn a
few milliseconds at a time once the pane has been painted, each slice put above the lines
already there without moving what is shown. `g`, a search's match and copy draw what they
need at once.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import RichLog

from podium.domain.debate import DebateState
from podium.domain.events import DebateClosed, DebateOpened, DebateTurnTaken, ReviewGiven
from podium.domain.state import ProductionView
from podium.domain.text import sanitize
from podium.tui.format import ROLE_CLASSES, Hanging, role_class
from podium.tui.live import TranscriptPayload
from podium.tui.widgets.steady import FrameStyle, KeptComponentStyles, SteadyBars, set_virtual_size

MAX_ENTRIES = 2000
REWRAP_S = 0.1  # a terminal being dragged narrower sends many sizes: wrap again once it stops
SLICE_S = 0.004  # older entries are drawn after the first paint, this long at a time
Layout = tuple[list["Entry"], list[Strip], list[int], int, dict[int, int]]  # shown, lines, …


def _plain(renderable: RenderableType) -> str:
    if isinstance(renderable, Hanging):
        return renderable.text.plain
    return renderable.plain if isinstance(renderable, Text) else ""


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


class Entry:
    """One transcript entry: its event, what it is about, and its lines once drawn.

    Drawn lines are kept per entry, so a filter, a search or a new entry costs the entries
    it shows for the first time (usually none), never a redraw of the whole transcript."""

    __slots__ = ("debate_id", "lower", "new_round", "payload", "plain", "strips", "task_id")

    def __init__(self, payload: TranscriptPayload, task_id: str, new_round: bool) -> None:
        self.payload = payload
        self.task_id = task_id
        self.debate_id = "" if isinstance(payload, ReviewGiven) else payload.debate_id
        self.new_round = new_round  # a turn that opens a round is drawn under its heading
        self.strips: list[Strip] | None = None
        self.plain = ""  # the entry as plain text (set when it is drawn)
        self.lower = ""


class DebateTranscript(KeptComponentStyles, FrameStyle, SteadyBars, RichLog):
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
        "debate-transcript--match",
        "debate-transcript--selected",
        *(f"debate-transcript--role-{name}" for name in ROLE_CLASSES),
    }

    DEFAULT_CSS = """
    DebateTranscript > .debate-transcript--match { background: $primary 35%; }
    DebateTranscript > .debate-transcript--selected { background: $boost; }
    """

    filter_text: reactive[str] = reactive("")
    """Show only entries whose task or debate id contains this; empty shows everything."""

    class HistoryDrawn(Message):
        """The older entries waiting after the first paint are all drawn (once a transcript)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            max_lines=None,
            min_width=20,
            wrap=True,
            markup=False,
            auto_scroll=False,
        )
        self._entries: deque[Entry] = deque(maxlen=MAX_ENTRIES)
        self._shown: list[Entry] = []  # the entries the filter lets through, in order
        self._first = 0  # the first shown entry laid out: those before wait to be drawn
        self._starts: list[int] = []  # the first line of each laid-out entry (from _first)
        self._index: dict[int, int] = {}  # id(entry) → its place among the shown
        self._older_queued = False  # a slice of older entries is on its way
        self._drawn_once = False  # HistoryDrawn was posted
        self._debate_task: dict[str, str] = {}
        self._rounds: dict[str, int] = {}  # each debate's last round, as entries arrive
        self._roles: Mapping[str, str] = {}
        self._following = True  # False once the user scrolls up; `G` (the end) sets it again
        self._width = 0  # the width the pane was last laid out at
        self._drawn_width = 0  # the width the kept strips were wrapped at
        self._rewrap: Timer | None = None
        self.match: Entry | None = None  # the search's current match, drawn highlighted
        self._kept = self._laid_kept = 0  # bumped when entries or their lines change
        self._memo: tuple[int, str, Layout] | None = None  # the layout before the last
        self._wanted = ""  # the filter the layout is for

    def watch_filter_text(self) -> None:
        self._assemble()

    def on_resize(self, event: Resize) -> None:
        """Lines are wrapped when drawn: a new width wraps the kept entries again."""
        width = event.size.width
        if not self._width:
            self._width = width
            self.call_after_refresh(self._assemble)  # the first width: draw what waited
            return
        if width != self._width:
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
            self._lay_out_back_to(0)  # the place is a share of the whole transcript
            self.call_after_refresh(
                lambda: self.scroll_to(y=place * self.max_scroll_y, animate=False)
            )

    def on_focus(self) -> None:
        self.refresh()  # the entry `y` copies is shown only while the pane has focus

    def on_blur(self) -> None:
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._following = new_value >= self.max_scroll_y - 1

    def action_scroll_home(self) -> None:
        """The oldest entry: what is not drawn yet is drawn first."""
        self._lay_out_back_to(0)
        super().action_scroll_home()

    @property
    def waiting(self) -> int:
        """How many of the shown entries are not laid out yet (drawn after the first paint)."""
        return self._first

    # -- updates from the screen -----------------------------------------------------------

    def set_roles(self, roles: Mapping[str, str]) -> None:
        """Agent id → role, to colour reviewers and judges."""
        self._roles = dict(roles)

    def add(self, payloads: Iterable[TranscriptPayload]) -> None:
        """Append a batch of entries, drawing only those the filter shows."""
        new = [self._entry(p) for p in payloads]
        if not new:
            return
        self._kept += 1
        evicts = len(self._entries) + len(new) > MAX_ENTRIES
        self._entries.extend(new)
        if evicts or not self._ready():
            self._assemble()  # the oldest went: lay out again from the kept lines
            return
        width = self._content_width()
        added = False
        for entry in new:
            if self._matches(entry):
                self._index[id(entry)] = len(self._shown)
                self._starts.append(len(self.lines))
                self._shown.append(entry)
                self.lines.extend(self._strips(entry, width))
                added = True
        self._laid_kept = self._kept  # the layout is up to date (the memo is not)
        if added:
            self._laid_out()

    def reset(self, payloads: Iterable[TranscriptPayload]) -> None:
        """Start again from these entries (the whole history, after the stream fell behind)."""
        self._entries.clear()
        self._kept += 1
        self._debate_task.clear()
        self._rounds.clear()
        self.match = None
        self._entries.extend(self._entry(p) for p in payloads)
        self._following = True
        self._assemble()

    def redraw(self) -> None:
        """Draw the kept entries again: after a theme change or a new width."""
        for entry in self._entries:
            entry.strips = None
        self._kept += 1
        self._following = True
        self._assemble()

    # -- search and selection -----------------------------------------------------------------

    def search(self, needle: str) -> list[Entry]:
        """The shown entries whose text holds `needle` (lower case), oldest first."""
        if not needle:
            return []
        width = self._content_width()
        found: list[Entry] = []
        for entry in self._shown:
            if not entry.lower:
                self._strips(entry, width)
            if needle in entry.lower:
                found.append(entry)
        return found

    def show_match(self, entry: Entry | None) -> None:
        """Highlight this entry (None: none) and scroll it into view. None after none draws
        nothing again: a search whose match is a task, and a clear, say None on each enter."""
        if entry is None and self.match is None:
            return
        self.match = entry
        self._line_cache.clear()
        self.refresh()
        if entry is None:
            return
        index = self._index.get(id(entry), -1)
        if index < 0:
            return
        self._lay_out_back_to(index)
        start = self._starts[index - self._first]
        height = len(entry.strips or ())
        view = self.scrollable_content_region.height
        if not (self.scroll_y <= start and start + height <= self.scroll_y + view):
            self._following = False
            self.scroll_to(y=max(0, start - max(0, (view - height) // 2)), animate=False)

    @property
    def selected(self) -> Entry | None:
        """What `copy` takes: the search's match, else the entry at the top of the view."""
        if self.match is not None and id(self.match) in self._index:
            return self.match
        return self._entry_at(int(self.scroll_y))

    def _entry_at(self, line: int) -> Entry | None:
        if not self._shown:
            return None
        index = max(0, bisect_right(self._starts, line) - 1)
        return self._shown[self._first + index]

    def render_lines(self, crop: Region) -> list[Strip]:
        self._queue_older()  # painted: the older entries may be drawn now
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        entry, look = self.match, "match"
        if entry is None and self.has_focus and not self._following:
            entry, look = self.selected, "selected"  # what `copy` would take
        index = self._index.get(id(entry), -1) if entry is not None else -1
        if index < self._first or entry is None or entry.strips is None:
            return strip
        start = self._starts[index - self._first]
        if start <= int(self.scroll_y) + y < start + len(entry.strips):
            return strip.apply_style(self._style(look))
        return strip

    # -- laying out ------------------------------------------------------------------------------

    def _entry(self, payload: TranscriptPayload) -> Entry:
        if isinstance(payload, DebateOpened):
            self._debate_task[payload.debate_id] = payload.task_id
        new_round = False
        if isinstance(payload, DebateTurnTaken):
            new_round = self._rounds.get(payload.debate_id) != payload.round
            self._rounds[payload.debate_id] = payload.round
        return Entry(payload, self._task_of(payload), new_round)

    def _ready(self) -> bool:
        return self._width > 0 and self.is_mounted

    def _content_width(self) -> int:
        return max(self.min_width, self.scrollable_content_region.width)

    def _assemble(self) -> None:
        """Lay out the shown entries from their kept lines, newest first: entries never
        drawn (or drawn at another width) are drawn until the pane is full, and those
        older than that wait for `_draw_older`."""
        if not self._ready():
            return
        self._at_width(width := self._content_width())
        # The layout left is kept: a filter set then cleared (a search for an id, then esc)
        # lays out 2,000 entries' kept lines once, not on each change (~8 ms a change).
        left: Layout = (self._shown, self.lines, self._starts, self._first, self._index)
        memo, self._memo = self._memo, (self._laid_kept, self._wanted, left)
        self._wanted = wanted = self.filter_text.strip().lower()
        if memo is not None and memo[:2] == (self._kept, wanted):
            self._shown, self.lines, self._starts, self._first, self._index = memo[2]
        else:
            self._lay_out(width, wanted)
        self._laid_kept = self._kept
        if self.match is not None and id(self.match) not in self._index:
            self.match = None
        self._start_line = 0
        self._laid_out(rewound=True)

    def _lay_out(self, width: int, wanted: str) -> None:
        shown = [entry for entry in self._entries if self._matches(entry, wanted)]
        room = max(1, self.scrollable_content_region.height)
        tail: list[list[Strip]] = []
        height = 0
        first = len(shown)
        while first:
            entry = shown[first - 1]
            strips = entry.strips
            if strips is None:
                if height >= room:
                    break  # the pane is full: the rest after the first paint
                strips = self._strips(entry, width)
            tail.append(strips)
            height += len(strips)
            first -= 1
        lines: list[Strip] = []
        starts: list[int] = []
        for strips in reversed(tail):
            starts.append(len(lines))
            lines.extend(strips)
        self.lines, self._shown, self._starts, self._first = lines, shown, starts, first
        self._index = {id(entry): i for i, entry in enumerate(shown)}

    def _queue_older(self) -> None:
        if self._first and not self._older_queued:
            self._older_queued = True
            self.call_later(self._draw_older)

    def _draw_older(self) -> None:
        """Draw older entries for a few milliseconds and put them above the others; again
        until none wait (a key or a paint gets its turn between slices)."""
        self._older_queued = False
        if not self._first or not self._ready():
            return
        if self.app.animator.is_being_animated(self, "scroll_y"):
            self.set_timer(0.05, self._queue_older)  # lines put above would move its goal
            return
        deadline = time.perf_counter() + SLICE_S
        index = self._first
        while index:
            index -= 1
            self._strips(self._shown[index], self._drawn_width)
            if time.perf_counter() >= deadline:
                break
        self._lay_out_back_to(index)
        if self._first:  # the next slice once the loop has run what waits (keys, a paint)
            self._older_queued = True
            asyncio.get_running_loop().call_soon(self.call_later, self._draw_older)
        elif not self._drawn_once:
            self._drawn_once = True
            self.post_message(self.HistoryDrawn())

    def _lay_out_back_to(self, index: int) -> None:
        """Draw the shown entries from `index` up to the first laid out, and put their
        lines above the others: what the pane shows stays where it is."""
        if index >= self._first or not self._ready():
            return
        added: list[Strip] = []
        starts: list[int] = []
        for entry in self._shown[index : self._first]:
            starts.append(len(added))
            added.extend(self._strips(entry, self._drawn_width))
        count = len(added)
        self._starts = starts + [start + count for start in self._starts]
        self.lines = added + self.lines
        self._first = index
        self._start_line -= count  # a line's key in the line cache stays its own
        following, y = self._following, self.scroll_y
        set_virtual_size(self, Size(self._drawn_width, len(self.lines)))
        self.scroll_to(
            y=self.max_scroll_y if following else y + count, animate=False, immediate=True
        )

    def _laid_out(self, *, rewound: bool = False) -> None:
        self._line_cache.clear()
        self._widest_line_width = self._drawn_width
        set_virtual_size(self, Size(self._drawn_width, len(self.lines)))  # no screen layout
        if rewound:
            self.refresh()
        if self._following:  # the size is known now: the end in this frame, not the next
            self.scroll_end(animate=False, immediate=bool(self.size), x_axis=False)

    def _at_width(self, width: int) -> None:
        """Lines drawn at another width are drawn again."""
        if width != self._drawn_width:
            for kept in self._entries:
                kept.strips = None
            self._drawn_width = width
            self._kept += 1

    def _strips(self, entry: Entry, width: int) -> list[Strip]:
        """The entry's lines at this width, drawn once and kept."""
        self._at_width(width)
        if entry.strips is not None:
            return entry.strips
        renderables = self._lines_for(entry)
        if not entry.plain:
            entry.plain = "\n".join(_plain(r) for r in renderables)
            entry.lower = entry.plain.lower()
        console = self.app.console
        options = console.options.update_width(width)
        segments = console.render(Group(*renderables), options)
        strips = Strip.from_lines(list(Segment.split_lines(segments)))
        for strip in strips:
            strip.adjust_cell_length(width)
        entry.strips = strips or [Strip.blank(width)]
        return entry.strips

    # -- rendering -----------------------------------------------------------------------------

    def _task_of(self, payload: TranscriptPayload) -> str:
        if isinstance(payload, ReviewGiven | DebateOpened):
            return payload.task_id
        return self._debate_task.get(payload.debate_id, "")

    def _matches(self, entry: Entry, wanted: str | None = None) -> bool:
        wanted = self.filter_text.strip().lower() if wanted is None else wanted
        return not wanted or wanted in entry.task_id.lower() or wanted in entry.debate_id

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"debate-transcript--{name}", partial=True)

    def _role(self, role: str) -> Style:
        return self._style(f"role-{role_class(role)}")

    def _lines_for(self, entry: Entry) -> list[RenderableType]:
        p = entry.payload
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
            if entry.new_round:
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
