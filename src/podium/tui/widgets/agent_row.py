"""One agent in the activity pane: who, doing what, the tail of its writing, and a sparkline.

Pure drawing, no widget: `AgentActivity` draws every row itself (Textual's line API), so a
row is two cached lines of segments that are rebuilt only when that agent changed.
Agent text goes in as `rich.text.Text` (never markup).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.color import Color as RichColor
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.renderables.sparkline import Sparkline
from textual.strip import Strip

from podium.domain.state import AgentRecord
from podium.tui.format import AGENT_GLYPH, Part, fit, money, tail, tokens

ROW_HEIGHT = 2
SPARK_WIDTH = 18
PAD = 1  # left and right padding of a row
SPARK_MARGIN = 1  # either side of the sparkline
FIXED = 2 * PAD + 2 * SPARK_MARGIN + SPARK_WIDTH  # cells beside the text
SPARK_MIN_ROW = 64  # a narrower row gives its sparkline's cells to the text

StyleOf = Callable[[str], Style]


def has_spark(row_width: int) -> bool:
    return row_width >= SPARK_MIN_ROW


def text_width(row_width: int) -> int:
    """Cells for the two lines of text in a row this wide."""
    return max(0, row_width - (FIXED if has_spark(row_width) else 2 * PAD))


_ESCAPES = {"n": " ", "t": " ", "r": " ", '"': '"', "\\": "\\", "/": "/"}
# Keys whose values are the reply's form, not its words: a screenplay element's type, a
# claimed territory, an id.
_FORM_KEYS = frozenset({"type", "claim", "territory", "kind", "id", "format", "content_type"})


def prose_of(raw: str) -> str:
    """What an agent is writing, as text: a reply streams as JSON (`"dual": false } ] }`),
    and a person wants the words in it: the string values, not the keys, quotes and brackets.
    The tail may begin inside a string (its first quote then closes one). Plain text comes
    back as it is."""
    if '"' not in raw or not any(c in raw for c in "{}[]:"):
        return raw
    first = raw.index('"')
    inside = raw[first + 1 :].lstrip()[:1] in (",", "}", "]", ":", "")
    pieces: list[str] = []
    current: list[str] = []
    key = ""  # the key the string being read is the value of
    index = 0
    while index < len(raw):
        char = raw[index]
        if not inside:
            inside = char == '"'
            index += 1
            continue
        if char == "\\" and index + 1 < len(raw):
            current.append(_ESCAPES.get(raw[index + 1], raw[index + 1]))
            index += 2
            continue
        if char == '"':
            rest = raw[index + 1 :].lstrip()
            if rest.startswith(":"):  # a key is not what the agent says
                key = "".join(current)
            elif key not in _FORM_KEYS:  # nor is a form's word (`"type": "dialogue"`)
                pieces.append("".join(current).strip())
            current, inside = [], False
        else:
            current.append(char)
        index += 1
    if key not in _FORM_KEYS:
        pieces.append("".join(current).strip())  # a string still being written
    return " · ".join(p for p in pieces if p)


def row_lines(record: AgentRecord, width: int, style: StyleOf) -> tuple[Text, Text]:
    """The two lines of a row: who and what, then the tail of what it writes. When the first
    line is too narrow the role goes first, then the cost, then the state's word (its glyph
    still says it), so the task and the tokens stay."""
    spec = record.spec
    dim = style("dim")
    parts: list[Part] = [
        (0, Text(f"{AGENT_GLYPH[record.state]} ", style=style(record.state.value)), None),
        (0, Text(spec.name, style=style("name")), None),
    ]
    role = spec.role.value.replace("_", " ")
    if spec.character:
        role = f"as {spec.character}"
    if role not in spec.name.lower():
        parts.append((4, Text(f"  {role}", style=dim), None))
    parts.append((2, Text(f"  {record.state.value}", style=style(record.state.value)), None))
    if record.task_id:
        parts.append((1, Text(f"  {record.task_id}"), None))
    used = tokens(record.input_tokens + record.output_tokens)
    cost = "$?" if record.cost_unknown and not record.cost_usd else money(record.cost_usd)
    parts.append((3, Text(f"  {used} tok · {cost}", style=dim), Text(f"  {used} tok", style=dim)))
    if record.failures:
        parts.append((1, Text(f" · {record.failures} failed", style=style("failed")), None))
    first = fit(parts, width)
    second = Text(no_wrap=True, overflow="ellipsis")
    second.append("  ↳ ", style=style("dim"))
    if record.tail:
        second.append(tail(prose_of(record.tail), max(10, width - 5)), style=style("tail"))
    elif record.last_report:
        second.append(tail(prose_of(record.last_report), max(10, width - 5)), style=style("dim"))
    else:
        second.append("—", style=style("dim"))
    return first, second


def text_strip(line: Text, width: int, base: Style, console: Console) -> Strip:
    """One line of text on `base`, cut with an ellipsis (as a `nowrap` Static cuts it)."""
    if width <= 0:
        return Strip([], 0)
    if line.cell_len > width:
        line = line.copy()
        line.truncate(width, overflow="ellipsis")
    segments = [
        Segment(segment.text, base + segment.style if segment.style else base)
        for segment in line.render(console)
    ]
    return Strip(segments).adjust_cell_length(width, base)


def spark_strips(
    series: Sequence[float], base: Style, low: RichColor, high: RichColor, console: Console
) -> tuple[Strip, ...]:
    """The sparkline's two lines (as Textual's Sparkline widget draws them)."""
    data = list(series) or [0.0]
    renderable = Sparkline(
        data,
        width=SPARK_WIDTH,
        height=ROW_HEIGHT,
        min_color=low,
        max_color=high,
        summary_function=max,
    )
    options = console.options.update(width=SPARK_WIDTH, height=ROW_HEIGHT, highlight=False)
    segments = Segment.apply_style(console.render(renderable, options), base)
    lines = Segment.split_and_crop_lines(
        segments, SPARK_WIDTH, style=base, include_new_lines=False, pad=True
    )
    strips = [Strip(line, SPARK_WIDTH) for line in lines][:ROW_HEIGHT]
    while len(strips) < ROW_HEIGHT:
        strips.append(Strip.blank(SPARK_WIDTH, base))
    return tuple(strips)
