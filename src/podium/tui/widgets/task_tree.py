"""The task tree: phases → deliverables → tasks, each with a state glyph, assignee and progress.

Nodes are made lazily (a phase's children exist once it is expanded) and relabelled in place,
so a refresh costs the labels that changed and the cursor stays on the node it was on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding, BindingType
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from podium.domain.escalation import Action
from podium.domain.state import ProductionView, TaskRecord
from podium.domain.tasks import TaskState
from podium.tui.format import TASK_GLYPH, TASK_WORDS, Part, clip, fit
from podium.tui.messages import DetailsRequested, Intent, Selected
from podium.tui.widgets.steady import KeptComponentStyles, KeptTree, SteadyBars, lines_for_styles
from podium.tui.widgets.task_shape import ACTIVE, NodeRef, Shape, TaskSearch, shape


class TaskTree(KeptTree, KeptComponentStyles, SteadyBars, Tree[NodeRef]):
    """Phases → deliverables → tasks. The cursor moves only when the user moves it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "a",
            "intent('approve')",
            "approve",
            id="approve",
            tooltip="Approve the task's open escalation",
        ),
        Binding(
            "o",
            "intent('override')",
            "override",
            id="override",
            tooltip="Override the task with a direction or replacement text",
        ),
        Binding(
            "n",
            "intent('request_alternatives')",
            "alternatives",
            id="request_alternatives",
            tooltip="Ask the assignee for alternatives",
        ),
        Binding("r", "intent('retry')", "retry", id="retry", tooltip="Run the task again"),
        Binding(
            "s",
            "intent('skip')",
            "skip",
            id="skip",
            tooltip="Skip the task; its dependents go on without it",
        ),
        # While tasks are marked, r and s act on all of them (after one confirm).
        Binding(
            "r",
            "bulk('retry')",
            "retry marked",
            id="retry_marked",
            tooltip="Retry every marked task (asks once, listing them)",
        ),
        Binding(
            "s",
            "bulk('skip')",
            "skip marked",
            id="skip_marked",
            tooltip="Skip every marked task (asks once, listing them)",
        ),
        Binding(
            "space",
            "mark",
            "mark",
            show=False,
            id="mark",
            tooltip="Mark or unmark the task for a bulk retry or skip; a phase opens or closes",
        ),
        Binding(
            "M",
            "mark_failed",
            "mark failed",
            show=False,
            id="mark_failed",
            tooltip="Mark every failed task (again: unmark all)",
        ),
        Binding(
            "f",
            "intent('feedback')",
            "feedback",
            id="feedback",
            tooltip="Give the assignee feedback it keeps in mind",
        ),
        Binding(
            "E",
            "intent('edit')",
            "edit",
            id="edit",
            tooltip="Edit the task's current version in $EDITOR; on the plan, the plan",
        ),
        Binding(
            "enter",
            "select_cursor",
            "details",
            id="details",
            tooltip="Open or close a phase; show a task's details",
        ),
        Binding("j", "cursor_down", "down", show=False, id="down", tooltip="Next line"),
        Binding("k", "cursor_up", "up", show=False, id="up", tooltip="Previous line"),
        Binding("g", "scroll_home", "top", show=False, id="top", tooltip="First line"),
        Binding("G", "scroll_end", "bottom", show=False, id="bottom", tooltip="Last line"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-tree--phase",
        "task-tree--dim",
        "task-tree--marked",
        *(f"task-tree--{state.value}" for state in TaskState),
    }

    DEFAULT_CSS = """
    TaskTree > .task-tree--marked { color: $accent; text-style: bold reverse; }
    """

    class BulkIntent(Message):
        """r or s with tasks marked: the screen asks once, then sends one command each."""

        def __init__(self, tree: TaskTree, action: Action, task_ids: list[str]) -> None:
            super().__init__()
            self.tree = tree
            self.action = action
            self.task_ids = task_ids

        @property
        def control(self) -> TaskTree:
            return self.tree

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("tasks", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._view: ProductionView | None = None
        self._chars: Mapping[str, int] = {}
        self._shape = Shape({}, {}, {})
        self._node_for: dict[NodeRef, TreeNode[NodeRef]] = {}
        self._filled: set[NodeRef] = set()
        self._unlabelled: set[NodeRef] = set()  # tasks made, labelled when first drawn
        self._search = TaskSearch()
        self._line_style: Style | None = None
        self._component_memo: dict[tuple[str, ...], RenderStyles] = {}
        self._styles: dict[str, Style] = {}
        self._dependents: dict[str, list[str]] = {}  # task id → the tasks that depend on it
        self._states: dict[str, TaskState] = {}  # each task's state when last labelled
        self._labelled_width = 0
        self._resized_widths = (-1, -1)  # the widths Tree last laid the lines out at
        self.marked: dict[str, None] = {}  # marked task ids, in the order they were marked

    # -- updates from the screen -----------------------------------------------------------

    def sync(self, view: ProductionView, chars: Mapping[str, int]) -> None:
        """Follow the plan: add what is new, move what moved, relabel everything shown."""
        self._view, self._chars = view, chars
        first = not self._node_for
        cursor = self.cursor_node
        self._shape = shape(view)
        self._dependents = {}
        for task_id, record in view.tasks.items():
            for needed in record.spec.depends_on:
                self._dependents.setdefault(needed, []).append(task_id)
        self._states = {t: r.state for t, r in view.tasks.items()}
        for ref, node in list(self._node_for.items()):
            if ref.kind == "task" and self._shape.parent.get(ref.key) != self._parent_ref(node):
                node.remove()
                self._forget(node)
        for phase in self._shape.phases:
            ref = NodeRef("phase", phase)
            if ref not in self._node_for:
                node = self.root.add(self._label(ref), ref, expand=False)
                self._node_for[ref] = node
                if self._wants_open(ref):
                    node.expand()  # fills it through NodeExpanded
        for ref in list(self._filled):
            self._fill(ref)
        if first and not any(n.is_expanded for n in self.root.children):
            for node in self.root.children:
                if node.data is not None and self._has_open_work(node.data):
                    node.expand()
                    break
        self.relabel()
        self._keep_cursor(cursor)

    def refresh_tasks(self, task_ids: Iterable[str]) -> None:
        """Relabel these tasks (if shown), the phases and groups above them, and, when a
        task's state moved, the tasks that depend on it (their "waits on" hint)."""
        touched: set[NodeRef] = set()
        changed = set(task_ids)
        view = self._view
        if view is not None:
            for task_id in list(changed):
                record = view.tasks.get(task_id)
                if record is not None and self._states.get(task_id) is not record.state:
                    self._states[task_id] = record.state
                    changed.update(self._dependents.get(task_id, ()))
        for task_id in changed:
            ref = NodeRef("task", task_id)
            node = self._node_for.get(ref)
            if node is not None:
                self._set_label(node, ref)
            parent = self._shape.parent.get(task_id)
            if parent is not None:
                touched.add(parent)
                if parent.kind == "group":
                    touched.add(NodeRef("phase", parent.key.split("\x1f", 1)[0]))
        for ref in touched:
            node = self._node_for.get(ref)
            if node is not None:
                self._set_label(node, ref)

    def relabel(self) -> None:
        """Draw every shown label again (after a theme change, or a new plan)."""
        for ref, node in self._node_for.items():
            self._set_label(node, ref)

    def _set_label(self, node: TreeNode[NodeRef], ref: NodeRef) -> None:
        """Relabel a node only when its label changed: a new label redraws the node's line
        and every line under it, so an unchanged phase costs nothing."""
        if ref in self._unlabelled:
            return  # labelled as it is drawn, as things are then
        label = self._label(ref)
        if node.label != label:
            node.set_label(label)

    # -- building ----------------------------------------------------------------------------

    def _fill(self, ref: NodeRef) -> None:
        node = self._node_for.get(ref)
        if node is None:
            return
        self._filled.add(ref)
        if ref.kind == "phase":
            children = self._shape.phases.get(ref.key, [])
        else:
            children = [NodeRef("task", t) for t in self._shape.groups.get(ref.key, [])]
        for child in children:
            if child in self._node_for:
                continue
            if child.kind == "group":
                made = node.add(self._label(child), child, expand=False)
                self._node_for[child] = made
                if self._wants_open(child):
                    made.expand()
            else:  # its id until drawn: a group of 50 opened draws the ~20 it shows
                self._node_for[child] = node.add_leaf(Text(child.key), child)
                self._unlabelled.add(child)

    def _forget(self, node: TreeNode[NodeRef]) -> None:
        for child in list(node.children):
            self._forget(child)
        if node.data is not None:
            self._node_for.pop(node.data, None)
            self._filled.discard(node.data)
            self._unlabelled.discard(node.data)

    @staticmethod
    def _parent_ref(node: TreeNode[NodeRef]) -> NodeRef | None:
        return node.parent.data if node.parent is not None else None

    def _records(self, ref: NodeRef) -> list[TaskRecord]:
        view = self._view
        if view is None:
            return []
        return [view.tasks[t] for t in self._shape.tasks_under(ref) if t in view.tasks]

    def _wants_open(self, ref: NodeRef) -> bool:
        return any(r.state in ACTIVE for r in self._records(ref))

    def _has_open_work(self, ref: NodeRef) -> bool:
        return any(not r.state.settled for r in self._records(ref))

    def _keep_cursor(self, node: TreeNode[NodeRef] | None) -> None:
        if node is None or node.data is None or node.data not in self._node_for:
            return

        def restore() -> None:
            if node.line >= 0 and node.line != self.cursor_line:
                self.cursor_line = node.line

        self.call_after_refresh(restore)

    # -- drawing -----------------------------------------------------------------------------

    def _on_resize(self, event: events.Resize) -> None:
        """A new height alone (the search line opening) lays no line out again, as Tree's does."""
        if self.scrollable_content_region.width != self._labelled_width:
            self._labelled_width = self.scrollable_content_region.width
            self.relabel()
        widths = (event.size.width, self.scrollable_content_region.width)
        if widths == self._resized_widths:  # a scrollbar coming or going changes the second
            self._line_cache.grow(event.size.height)
            self.refresh()
            event.prevent_default()  # not Tree's
            return
        self._resized_widths = widths

    def render_lines(self, crop: Region) -> list[Strip]:
        self._line_style = self.rich_style  # once a frame: it walks every ancestor's styles
        try:
            return super().render_lines(crop)
        finally:
            self._line_style = None

    def render_line(self, y: int) -> Strip:
        style = self._line_style
        if style is None:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, style)

    def render_label(self, node: TreeNode[NodeRef], base_style: Style, style: Style) -> Text:
        """A label cut with an ellipsis where the pane ends (the tree never scrolls sideways)."""
        ref = node.data
        if ref is not None and ref in self._unlabelled:  # first drawn: its label now
            self._unlabelled.discard(ref)
            node._label = self._task_label(ref.key)  # noqa: SLF001 - this line shows it
        label = super().render_label(node, base_style, style)
        room = self._label_room(node)
        if room and label.cell_len > room:
            label.truncate(room, overflow="ellipsis")
        return label

    def get_component_styles(self, *names: str) -> RenderStyles:
        """As Tree asks for its guide styles on every line drawn, keep them until restyled."""
        memo: dict[tuple[str, ...], RenderStyles] | None = getattr(self, "_component_memo", None)
        if memo is None:
            return super().get_component_styles(*names)
        styles = memo.get(names)
        if styles is None:
            styles = memo[names] = super().get_component_styles(*names)
        return styles

    def get_label_width(self, node: TreeNode[NodeRef]) -> int:
        """`render_label`'s width, undrawn: Tree asks it of every line at each layout."""
        width = cell_len(node.label) if isinstance(node.label, str) else node.label.cell_len
        if node.allow_expand:
            width += cell_len(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE)
        room = self._label_room(node)
        return min(width, room) if room else width

    def _label_room(self, node: TreeNode[NodeRef]) -> int:  # 0: the pane has no width yet
        width = self.scrollable_content_region.width
        if width <= 0:
            return 0
        depth, parent = 0, node.parent
        while parent is not None and parent is not self.root:
            depth, parent = depth + 1, parent.parent
        return max(1, width - depth * self.guide_depth)

    def notify_style_update(self) -> None:
        """New styles (focus, a theme) redraw the lines but lay none out again (Tree's do)."""
        memo = getattr(self, "_component_memo", None)
        if memo is None:  # still in Tree's __init__: nothing is drawn yet
            return super().notify_style_update()
        memo.clear()
        self._styles.clear()
        Widget.notify_style_update(self)
        lines_for_styles(self)  # the lines drawn in these styles before (focused or not)
        self.refresh()

    # -- labels ------------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        # Kept until the styles change, as Textual forgets its own cache at every repaint.
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(
                f"task-tree--{name}", partial=True
            )
        return style

    def _label(self, ref: NodeRef) -> Text:
        if ref.kind == "task":
            return self._task_label(ref.key)
        records = self._records(ref)
        name = ref.key.split("\x1f", 1)[-1]
        label = Text(no_wrap=True, overflow="ellipsis")
        label.append(clip(name, 40), style=self._style("phase"))
        done = sum(1 for r in records if r.state.settled)
        label.append(f"  {done}/{len(records)}", style=self._style("dim"))
        for state in (
            TaskState.RUNNING,
            TaskState.AWAITING_APPROVAL,
            TaskState.FAILED,
            TaskState.STALE,
        ):
            count = sum(1 for r in records if r.state is state)
            if count:
                label.append(f"  {TASK_GLYPH[state]}{count}", style=self._style(state.value))
        return label

    def _task_label(self, task_id: str) -> Text:
        view = self._view
        record = view.tasks.get(task_id) if view else None
        if record is None:
            return Text(task_id, no_wrap=True, overflow="ellipsis")
        state = record.state
        look = self._style(state.value)
        dim = self._style("dim")
        parts: list[Part] = [
            (0, Text(f"{TASK_GLYPH[state]} ", style=look), None),
            (0, Text(task_id), None),
            (3, Text(f"  {clip(record.spec.title, 36)}", style=dim), None),
            (2, Text(f"  · {record.spec.assignee}"), None),
            (0, Text.assemble(" · ", (self._hint(record), look)), None),
        ]
        if record.direction:
            parts.append((4, Text("  ↪ directed", style=dim), None))
        if task_id in self.marked:
            parts.insert(0, (0, Text("●", style=self._style("marked")), None))
            parts.insert(1, (0, Text(" "), None))
        return fit(parts, self._room(task_id))

    def _room(self, task_id: str) -> int:
        """Cells for a task's label in the pane as wide as it is now (a large number before
        it is laid out), so what goes first when it is narrow is the title, not the state."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return 1 << 16
        parent = self._shape.parent.get(task_id)
        depth = 2 if parent is not None and parent.kind == "group" else 1
        return max(8, width - depth * self.guide_depth)

    def _hint(self, record: TaskRecord) -> str:
        state = record.state
        if state is TaskState.RUNNING:
            chars = self._chars.get(record.spec.id, 0)
            attempt = f"attempt {record.attempt}" if record.attempt > 1 else "running"
            return f"{attempt}, {chars / 1000:.1f}k chars" if chars else f"{attempt}, thinking"
        if state is TaskState.PENDING and self._view is not None:
            waiting = [
                d
                for d in record.spec.depends_on
                if d in self._view.tasks and not self._view.tasks[d].state.settled
            ]
            if waiting:
                more = f" +{len(waiting) - 1}" if len(waiting) > 1 else ""
                return f"waits on {waiting[0]}{more}"
        if state in (TaskState.DONE, TaskState.FAILED, TaskState.SKIPPED, TaskState.STALE):
            if record.reason:
                return f"{TASK_WORDS[state]}: {clip(record.reason, 40)}"
        return TASK_WORDS[state]

    # -- handlers ----------------------------------------------------------------------------

    async def _on_click(self, event: events.Click) -> None:
        """One click on a task moves the cursor to it (its details open on a double click or
        enter); on a phase or a group, Textual's click opens or closes it."""
        meta = event.style.meta
        line = meta.get("line")
        if line is None or meta.get("toggle", False) or event.chain >= 2:
            return
        node = self.get_node_at_line(line)
        if node is None or node.data is None or node.data.kind != "task":
            return
        event.prevent_default()  # Tree's own click selects, which opens the task
        self.cursor_line = line

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        event.stop()
        ref = event.node.data
        if ref is not None and ref.kind != "task" and ref not in self._filled:
            self._fill(ref)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        event.stop()
        ref = event.node.data
        self.post_message(Selected("task", ref.key if ref and ref.kind == "task" else None))

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[NodeRef]) -> None:
        event.stop()
        ref = event.node.data
        if ref is not None and ref.kind == "task":
            self.post_message(DetailsRequested(task_id=ref.key))

    # -- search and marks ----------------------------------------------------------------------

    def search(self, needle: str) -> list[str]:
        """The tasks whose id, title, assignee, state or its reason holds `needle` (lower
        case), in the tree's order."""
        if self._view is None or not needle:
            return []
        return self._search.find(self._view, self._shape, needle)

    def reveal(self, task_id: str) -> bool:
        """Open the phase (and group) above a task, and put the cursor on it."""
        parent = self._shape.parent.get(task_id)
        if parent is None:
            return False
        chain = [parent]
        if parent.kind == "group":
            chain.insert(0, NodeRef("phase", parent.key.split("\x1f", 1)[0]))
        for ref in chain:
            self._fill(ref)
            node = self._node_for.get(ref)
            if node is not None and not node.is_expanded:
                node.expand()
        target = self._node_for.get(NodeRef("task", task_id))
        if target is None:
            return False
        self._tree_lines  # noqa: B018 - lays the opened nodes out, so the target has a line
        self.move_cursor(target)
        return True

    def clear_marks(self) -> None:
        marked, self.marked = list(self.marked), {}
        self._relabel_tasks(marked)

    def _relabel_tasks(self, task_ids: Iterable[str]) -> None:
        for task_id in task_ids:
            ref = NodeRef("task", task_id)
            node = self._node_for.get(ref)
            if node is not None:
                self._set_label(node, ref)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """r and s act on the marked tasks while there are some, else on the cursor's."""
        if action == "bulk":
            return bool(self.marked)
        if action == "intent" and parameters in (("retry",), ("skip",)):
            return not self.marked
        return True

    # -- actions -----------------------------------------------------------------------------

    def action_mark(self) -> None:
        node = self.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind != "task":
            self.action_toggle_node()  # what space does on a phase, as in any tree
            return
        if ref.key in self.marked:
            del self.marked[ref.key]
        else:
            self.marked[ref.key] = None
        self._relabel_tasks([ref.key])

    def action_mark_failed(self) -> None:
        view = self._view
        failed = [t for t, r in (view.tasks.items() if view else ()) if r.state is TaskState.FAILED]
        if not failed:
            self.notify("No task has failed: nothing to mark.", markup=False)
            return
        if all(t in self.marked for t in failed):
            self.clear_marks()
            self.notify("Marks cleared.", markup=False)
            return
        for task_id in failed:
            self.marked[task_id] = None
            self._reveal_quietly(task_id)
        self._relabel_tasks(failed)
        self.notify(f"{len(failed)} failed task(s) marked: r retries, s skips them.", markup=False)

    def _reveal_quietly(self, task_id: str) -> None:
        """Make a task's node (so its mark shows) without moving the cursor."""
        parent = self._shape.parent.get(task_id)
        if parent is not None and parent.kind == "group":
            self._fill(NodeRef("phase", parent.key.split("\x1f", 1)[0]))
        if parent is not None:
            self._fill(parent)

    def action_bulk(self, action: str) -> None:
        if self.marked:
            self.post_message(self.BulkIntent(self, Action(action), list(self.marked)))

    def action_intent(self, action: str) -> None:
        node = self.cursor_node
        ref = node.data if node is not None else None
        if ref is None or ref.kind != "task":
            # A group row is no task: the key goes to the inbox item, as in the other panes.
            self.post_message(Intent(Action(action)))
            return
        record = self._view.tasks.get(ref.key) if self._view else None
        agent = record.spec.assignee if record else None
        self.post_message(Intent(Action(action), task_id=ref.key, agent_id=agent))
