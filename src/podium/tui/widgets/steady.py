"""Scrollbars drawn in the frame of the key that changed them, not in one after it (issue 20).

Textual refreshes a scrolling widget's scrollbars on every restyle (its scrollbar colour rules
refresh them whatever the value) and on every layout of the screen (a `ScrollView` is told its
size again, and refreshes its scrollbars whether or not they changed). Each scrollbar then
asks for its repaint from its own message loop, which runs after the screen has drawn the
key's frame: on the big production `/`, enter and esc each drew a second frame 20-40 ms later
for the scrollbars alone. So:

* `SteadyBars` (a mixin, first among the bases of a `ScrollView`) forgets a layout's refresh of
  a scrollbar that shows the same thing as before, and draws one that changed in the layout's
  own frame;
* `set_virtual_size` gives a `ScrollView` its new scrollable size and its scrollbars their new
  length at once, without laying the whole screen out again;
* `settle` puts the repaints still pending (a scrollbar's, the search line's count) and those
  of the focus a key moved in the screen's update being started.

And two kinds of styling a key's frame did again for nothing:

* `FrameStyle`: a widget's `rich_style` worked out once a frame, not for each line drawn;
* `KeptComponentStyles`: on every restyle (each move of the focus restyles the widget that
  gains it and the one that loses it) Textual works out each of a widget's component classes
  again, a virtual node matched against the whole stylesheet per class (18 for the task
  tree, 15 for the transcript: 1.4-1.8 ms a restyle on the big production). They depend only
  on the stylesheet and on the type, id, classes and pseudo-classes of the widget and its
  ancestors (what a selector can match), so they are kept for each such state and taken
  again when the widget comes back to it; a new stylesheet (a theme) forgets them.
* `lines_for_styles`: the task tree draws all its lines again when the focus comes or goes
  (its guides and cursor change colour), and its line cache was emptied on every restyle.
  It now keeps a line cache for each of its last few styles (its component styles, kept as
  above, and its own): the focus moving back finds the lines drawn in those styles, and only
  the lines that changed since (their keys hold the tree's and each node's updates, as
  Textual's do) are drawn again.

Textual's private parts used here (`_size_updated`, `_scroll_update`, `_repaint_required`,
`_check_refresh`, `_message_queue`, the screen's `_compositor`, `_get_component_classes` as
the stylesheet asks for it before working the component styles out, `_component_styles`)
are those of textual 8.2, so pyproject.toml holds textual below 8.3; tests/tui's snapshots
would show a scrollbar that is not drawn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

from rich.style import Style
from textual._compositor import Compositor
from textual.cache import LRUCache
from textual.css.styles import RenderStyles
from textual.dom import DOMNode
from textual.geometry import Region, Size
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

KEPT_LOOKS = 8  # a pane's looks whose lines are kept (`KeptLines`)
SETTLE_ROUNDS = 4  # loop rounds the screen's update may wait for the widgets' messages
BarState = tuple[tuple[bool, int, int, float, bool], ...]

if TYPE_CHECKING:
    _Mixin = Widget
else:  # not a DOMNode: Textual takes a widget's CSS from its first DOMNode base
    _Mixin = object


def _bars(widget: Widget) -> list[ScrollBar]:
    bars = []
    if widget.show_vertical_scrollbar:
        bars.append(widget.vertical_scrollbar)
    if widget.show_horizontal_scrollbar:
        bars.append(widget.horizontal_scrollbar)
    return bars


def _state(widget: Widget) -> BarState:
    return tuple(
        (
            bar.vertical,
            bar.window_virtual_size,
            bar.window_size,
            bar.position,
            bar._repaint_required,  # noqa: SLF001 - a repaint asked for before
        )
        for bar in _bars(widget)
    )


class SteadyBars(_Mixin):
    """The scrollbars a layout refreshes are drawn in the layout's own frame: a refresh that
    changed nothing is dropped, and a changed scrollbar (a tree grown by `enter`) is put in
    the frame being made rather than asked for after it."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = _start_bar(self, vertical=True)
        return self._vertical_scrollbar

    @property
    def horizontal_scrollbar(self) -> ScrollBar:
        if self._horizontal_scrollbar is None:
            self._horizontal_scrollbar = _start_bar(self, vertical=False)
        return self._horizontal_scrollbar

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        before = _state(self)
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        bars = _bars(self)
        if [s[:4] for s in _state(self)] == [s[:4] for s in before]:
            for bar, state in zip(bars, before, strict=True):
                bar._repaint_required = state[4]  # noqa: SLF001 - the same bar as drawn
        _draw_now(self, {bar for bar in bars if bar._repaint_required})  # noqa: SLF001
        return resized


class SteadyScrollBar(ScrollBar):
    """A scrollbar that draws its lines again only when what it shows changed. Every restyle
    of its widget refreshes it (each of the 7 scrollbar colour rules is set again, whatever
    its value) and every layout tells it its size again, so each move of the focus drew the
    tree's and the transcript's scrollbars again, unchanged (~1 ms of each `/`, enter and esc
    on the big production). Its lines depend on what `_look` holds and on the stylesheet."""

    _drawn: tuple[Any, dict[Any, list[Strip]]] | None = None  # stylesheet rules, looks

    def _look(self, crop: Region) -> tuple[Any, ...]:
        parent = self.parent
        assert isinstance(parent, Widget)
        styles = parent.styles
        return (
            crop,
            self.size,
            self.vertical,
            self.thickness,
            self.window_virtual_size,
            self.window_size,
            self.position,
            bool(self.grabbed),
            self.mouse_over,
            styles.scrollbar_color,
            styles.scrollbar_color_hover,
            styles.scrollbar_color_active,
            styles.scrollbar_background,
            styles.scrollbar_background_hover,
            styles.scrollbar_background_active,
            parent.background_colors,
            self.background_colors,
            self.screen.styles.scrollbar_color.a,
            self.app.ansi_theme,
            self.app.native_ansi_color,
            tuple(self.app.get_line_filters()),
            frozenset(self.classes),
            self.pseudo_classes,
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        rules = self.app.stylesheet.rules_map
        look = self._look(crop)
        drawn = self._drawn
        if drawn is None or drawn[0] is not rules:
            drawn = self._drawn = (rules, {})
        kept = drawn[1]
        lines = kept.get(look)
        if lines is None:  # several looks: a filter set and cleared goes back to the last
            lines = kept[look] = super().render_lines(crop)
            while len(kept) > KEPT_LOOKS:
                del kept[next(iter(kept))]
        return lines


def _start_bar(widget: Widget, vertical: bool) -> ScrollBar:
    """Textual's own `vertical_scrollbar` / `horizontal_scrollbar`, with a `SteadyScrollBar`."""
    name = "vertical" if vertical else "horizontal"
    thickness = widget.scrollbar_size_vertical if vertical else widget.scrollbar_size_horizontal
    bar = SteadyScrollBar(vertical=vertical, name=name, thickness=thickness)
    bar.display = False
    widget.app._start_widget(widget, bar)  # noqa: SLF001 - as Textual starts its scrollbars
    return bar


class SteadySize(_Mixin):
    """A widget of a fixed size shown for the first time (the search line) is drawn in the
    layout's frame: the repaint its first size asks for is not asked for after it."""

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if self._repaint_required:  # noqa: SLF001
            _draw_now(self, {self})
        return resized


class FrameStyle(_Mixin):
    """`rich_style` worked out once a frame, not for each line drawn: it walks the styles of
    every ancestor, and a `RichLog` asks for it twice a line (most of the transcript's
    repaint when the focus moves, on each `/`, enter and esc)."""

    _frame_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame_style = DOMNode.rich_style.fget(self)  # type: ignore[attr-defined]
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = None

    @property
    def rich_style(self) -> Style:
        style = self._frame_style
        if style is None:
            return DOMNode.rich_style.fget(self)  # type: ignore[attr-defined, no-any-return]
        return style


class KeptLines(_Mixin):
    """A container's lines (its border, titles and background: a pane) kept for each of its
    last few looks. A move of the focus between panes sets the focused pane's border on one
    and takes it off the other, and Textual draws all of a pane's lines again (0.8-1.8 ms of
    each `/`, enter and esc on the big production) in one of the two looks it drew before.
    A look is what the lines are drawn from: the rules the stylesheet gave the widget and its
    component classes (by identity: `KeptComponentStyles` keeps them), its inline rules (the
    focused border), pseudo-classes, size, titles and background, and the stylesheet by
    identity (a theme forgets them). Not `place_key`: the pseudo-classes of every ancestor
    cost more to work out (~0.1 ms) than a pane's lines saved. A look is worked out only when
    Textual's own lines are gone (a whole repaint: a restyle, a scroll), not for a line or
    two drawn again (`j`), where Textual keeps the others itself."""

    _kept_lines: dict[tuple[Any, ...], list[Strip]] | None = None
    _lines_for: Any = None  # the stylesheet's rules the kept lines were drawn with

    def _lines_key(self) -> Hashable:
        """What else the lines are drawn from (a container's: nothing)."""
        return None

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._styles_cache._cache:  # noqa: SLF001 - Textual's lines are there: it draws
            return super().render_lines(crop)  # only those changed (`j`), no look worked out
        app = self.app
        rules = app.stylesheet.rules_map
        try:
            look = (
                crop,
                self.size,
                app.theme,
                self.get_pseudo_class_state(),
                frozenset(self.styles.base.get_rules().items()),  # what the stylesheet gave it
                frozenset(self.styles.inline.get_rules().items()),
                tuple(map(id, self._component_styles.values())),  # noqa: SLF001 - kept ones
                self._border_title,
                self._border_subtitle,
                self.background_colors,
                app.ansi_theme,
                app.native_ansi_color,
                tuple(self.get_line_filters()),
                self._lines_key(),
            )
            hash(look)
        except TypeError:  # an inline rule of a kind that cannot be a key: drawn as Textual does
            return super().render_lines(crop)
        kept = self._kept_lines
        if kept is None or self._lines_for is not rules:
            kept = self._kept_lines = {}
            self._lines_for = rules
        lines = kept.get(look)
        if lines is None:
            lines = kept[look] = super().render_lines(crop)
            while len(kept) > KEPT_LOOKS:
                del kept[next(iter(kept))]
        return lines


class KeptTree(KeptLines):
    """A `Tree`'s lines kept likewise: `/` and esc take the focus from the task tree and enter
    gives it back, and the tree was drawn again each time (0.7-1.2 ms) in a look it had a
    key or two before. Its lines also depend on what it shows: the lines in view, each node
    on their paths as Textual keys its own line cache (each node's updates count its label,
    cursor, hover and expansion changing; the tree's count a new set of lines)."""

    def _lines_key(self) -> Hashable:
        tree: Any = self
        scroll_x, scroll_y = tree.scroll_offset
        lines = tree._tree_lines  # noqa: SLF001 - what Tree draws from
        shown = lines[scroll_y : scroll_y + tree.size.height]
        return (
            scroll_x,
            scroll_y,
            len(lines),
            tree._updates,  # noqa: SLF001
            tree.cursor_line,
            tree.hover_line,
            getattr(tree, "_line_style", None),  # its rich style (TaskTree's, once a frame)
            tuple(tuple((node._id, node._updates) for node in line.path) for line in shown),  # noqa: SLF001
        )


class SteadyCompositor(Compositor):
    """Textual's compositor, but an update draws only the widgets under what changed.

    An update crops to the box around every changed region, and draws each widget under that
    box (all its lines, from its line caches) and cuts each of their lines at the widgets'
    edges. A move of the focus changes two panes' borders and the footer far apart, so that
    box was the whole screen and every pane was drawn and cut for each `/`, enter and esc. The
    update then writes only the changed regions' spans; the part of a line it writes is the
    frontmost widget's there, and that widget is under a changed region. So a widget under
    none of them adds nothing written, and is not drawn: the same update, for less."""

    _changed: list[Region] | None = None  # the regions the partial update being made writes

    def render_partial_update(self) -> Any:
        self._changed = list(self._dirty_regions)
        try:
            return super().render_partial_update()
        finally:
            self._changed = None

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        changed = self._changed
        if changed is None or crop is None or len(changed) < 2:
            yield from super()._get_renders(crop)
            return
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            if not shown or not any(shown.overlaps(part) for part in changed):
                continue
            if clip.contains_region(region):  # as Textual's: the whole widget, or its part
                yield region, clip, widget.render_lines(Region(0, 0, region.width, region.height))
            else:
                x, y, width, height = shown
                yield (
                    region,
                    clip,
                    widget.render_lines(Region(x - region.x, y - region.y, width, height)),
                )


def _draw_now(widget: Widget, pending: set[Widget]) -> None:
    """Called by the screen's layout before it draws: `pending` is drawn in this frame."""
    if pending and widget.is_on_screen:
        widget.screen._compositor.update_widgets(pending)  # noqa: SLF001 - its dirty regions
        for drawn in pending:
            drawn._repaint_required = False  # noqa: SLF001 - drawn in this frame


def set_virtual_size(widget: Widget, size: Size) -> None:
    """`widget.virtual_size = size` without the layout of the whole screen it asks for: a
    `ScrollView`'s virtual size is its own (the layout keeps it), so only its scrollbars and
    scroll bounds follow it, now, in the frame being made."""
    if size == widget.virtual_size:
        return
    if not widget.size:  # not laid out yet: the first layout takes it
        widget.virtual_size = size
        return
    widget.set_reactive(Widget.virtual_size, size)
    widget._scroll_update(size)  # noqa: SLF001 - what a layout would do for this widget
    widget.refresh()


def flush_repaints(widgets: Iterable[Widget]) -> bool:
    """The repaints these widgets still wait to ask for from their own message loops, asked
    for now; True if one of them has messages left to handle."""
    busy = False
    for widget in widgets:
        if widget._repaint_required:  # noqa: SLF001
            widget._check_refresh()  # noqa: SLF001 - posts its Update to the screen now
        busy = busy or not widget._message_queue.empty()  # noqa: SLF001
    return busy


async def settle(groups: Iterable[Iterable[Widget]], rounds: int = SETTLE_ROUNDS) -> None:
    """Called as the screen goes idle, before Textual's own idle handler starts the screen's
    update: the widgets' pending repaints are asked for now, and while some of them still
    have messages (the focus a key moved, a restyle), the loop runs them first, a few
    rounds at most, so that the update draws what the key changed."""
    widgets = [widget for group in groups for widget in group]
    for _ in range(rounds):
        if not flush_repaints(widgets):
            return
        await asyncio.sleep(0)
    flush_repaints(widgets)


PlaceKey = tuple[tuple[type, str | None, frozenset[str], frozenset[str]], ...]


def place_key(widget: Widget) -> PlaceKey:
    """What the stylesheet's selectors can tell of the widget's place: each node from the app
    down to it, by type, id, classes and pseudo-classes."""
    return tuple(
        (type(node), node.id, frozenset(node.classes), node.pseudo_classes)
        for node in widget.css_path_nodes
    )


class KeptComponentStyles(_Mixin):
    """The component styles worked out once for each state of the widget's place."""

    _kept_for: Any = None  # the stylesheet's rules the kept styles were worked out with
    _kept_styles: dict[PlaceKey, dict[str, RenderStyles]] | None = None
    _working: PlaceKey | None = None  # the state Textual is working the styles out for

    def _get_component_classes(self) -> frozenset[str]:  # type: ignore[override]
        classes: frozenset[str] = super()._get_component_classes()
        if not classes or not self.is_attached:
            return classes
        rules = self.app.stylesheet.rules_map
        kept = self._kept_styles
        if kept is None or self._kept_for is not rules:
            kept = self._kept_styles = {}
            self._kept_for = rules
            self._working = None
        elif self._working is not None and set(self._component_styles) == classes:
            kept[self._working] = dict(self._component_styles)  # Textual's, the last restyle
        self._working = None
        key = place_key(self)
        styles = kept.get(key)
        if styles is None:
            self._working = key
            return classes  # Textual works them out (kept on the next restyle)
        current = self._component_styles
        if any(current.get(name) is not value for name, value in styles.items()):
            current.clear()
            current.update(styles)
            self.refresh()
        return frozenset()  # nothing left for Textual to work out


KEPT_LINE_CACHES = 4  # the tree's line caches kept, one for each of its last styles


def lines_for_styles(tree: Widget) -> None:
    """After a restyle of a `Tree`: its line cache becomes the one its lines were drawn in
    with these same styles (focused or not), or an empty one. Lines stay keyed as Textual
    keys them (line, hover, width, the tree's updates, pseudo-classes, each node's updates),
    so a line changed since it was drawn in these styles is drawn again."""
    styles = tuple(tree._component_styles.values())  # noqa: SLF001 - kept ones, by identity
    base = tree.rich_style
    kept: list[tuple[tuple[RenderStyles, ...], Style, LRUCache[Any, Any]]]
    kept = tree.__dict__.setdefault("_kept_line_caches", [])
    current: LRUCache[Any, Any] = tree._line_cache  # type: ignore[attr-defined]  # noqa: SLF001
    same = [
        index
        for index, (were, was_base, _) in enumerate(kept)
        if was_base == base
        and len(were) == len(styles)
        and all(a is b for a, b in zip(were, styles, strict=True))
    ]
    if same:
        kept.append(kept.pop(same[0]))  # the most recent last
    else:
        kept.append((styles, base, LRUCache(current.maxsize)))
        del kept[:-KEPT_LINE_CACHES]
    cache = kept[-1][2]
    if cache.maxsize < current.maxsize:
        cache.grow(current.maxsize)
    tree._line_cache = cache  # type: ignore[attr-defined]  # noqa: SLF001
