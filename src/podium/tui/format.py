"""Small, pure formatting shared by the panes: glyphs, ages, money, agent text.

Agent text is always turned into `rich.text.Text` here or in the panes, never into markup.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from podium.domain.agents import Role
from podium.domain.escalation import Priority
from podium.domain.events import AgentState
from podium.domain.tasks import TaskState
from podium.domain.text import clip as clip  # re-exported: the panes format with these
from podium.domain.text import flatten as flatten

TASK_GLYPH: dict[TaskState, str] = {
    TaskState.PENDING: "·",
    TaskState.READY: "○",
    TaskState.RUNNING: "▶",
    TaskState.AWAITING_APPROVAL: "◆",
    TaskState.DONE: "✓",
    TaskState.FAILED: "✗",
    TaskState.SKIPPED: "↷",
    TaskState.STALE: "↺",
}

TASK_WORDS: dict[TaskState, str] = {
    TaskState.PENDING: "pending",
    TaskState.READY: "ready",
    TaskState.RUNNING: "running",
    TaskState.AWAITING_APPROVAL: "awaiting approval",
    TaskState.DONE: "done",
    TaskState.FAILED: "failed",
    TaskState.SKIPPED: "skipped",
    TaskState.STALE: "stale",
}

AGENT_GLYPH: dict[AgentState, str] = {
    AgentState.IDLE: "·",
    AgentState.THINKING: "…",
    AgentState.STREAMING: "▶",
    AgentState.WAITING: "◆",
    AgentState.FAILED: "✗",
}

PRIORITY_MARK: dict[Priority, str] = {
    Priority.CRITICAL: "!!!",
    Priority.HIGH: "!! ",
    Priority.NORMAL: "!  ",
    Priority.LOW: "·  ",
}

# Speakers are coloured by department; the colours come from the theme's role-* variables.
ROLE_CLASS: dict[str, str] = {
    Role.PRODUCER.value: "lead",
    Role.SHOWRUNNER.value: "lead",
    Role.DIRECTOR.value: "director",
    Role.WRITER.value: "writer",
    Role.DIRECTOR_OF_PHOTOGRAPHY.value: "camera",
    Role.ILLUSTRATOR.value: "camera",
    Role.EDITOR.value: "post",
    Role.COMPOSER.value: "post",
    Role.CHARACTER.value: "cast",
    Role.CUSTOM.value: "other",
}
ROLE_CLASSES = sorted(set(ROLE_CLASS.values()))


def said_once(label: str, summary: str) -> tuple[str, str]:
    """An option's label and summary, flattened; a summary that repeats its label (or what
    the label was cut from) is said once, whole, as the label, and the summary is empty."""
    label, summary = flatten(label), flatten(summary)
    if summary and (summary == label or summary.startswith(label.removesuffix("…"))):
        return summary, ""
    return label, summary


def role_class(role: str) -> str:
    return ROLE_CLASS.get(role, "other")


def age(seconds: float) -> str:
    """A short, coarse age: coarse on purpose, so a screen does not flicker every second."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def clock_time(seconds: float) -> str:
    """Elapsed time as h:mm:ss (or m:ss)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def money(value: float | None) -> str:
    if value is None:
        return "$?"
    if value and value < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def tokens(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return str(value)


def label_row(text: Text, label: str, value: str) -> None:
    """One `label  value` line of a detail dialog; the value is literal text."""
    text.append(f"{label:<12}", style="bold")
    text.append(value + "\n")


def tail(text: str, width: int) -> str:
    """The end of what an agent is writing, on one line, at most `width` characters."""
    flat = flatten(text)
    if width <= 1 or len(flat) <= width:
        return flat
    return "…" + flat[-(width - 1) :]


Part = tuple[int, Text, Text | None]
"""(how soon it gives way when the line is too narrow, higher first; its text; a shorter text
it gives way to, or None when it is left out)."""


def fit(parts: list[Part], width: int) -> Text:
    """Join the parts; while the line is too wide, the most expendable part gives way (to its
    short form, else it is left out). What still does not fit is cut with an ellipsis."""
    kept = list(parts)
    while kept and sum(t.cell_len for _, t, _ in kept) > width:
        worst = max(rank for rank, _, _ in kept)
        if worst == 0:
            break
        index = max(i for i, (rank, _, _) in enumerate(kept) if rank == worst)
        short = kept[index][2]
        if short is None:
            del kept[index]
        else:
            kept[index] = (0, short, None)
    line = Text(no_wrap=True, overflow="ellipsis")
    for _, text, _ in kept:
        line.append_text(text)
    if width > 0 and line.cell_len > width:
        line.truncate(width, overflow="ellipsis")
    return line


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
