"""Help: every key, as the user's keymap has it now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from podium.tui.screens.dialog import Dialog, DialogBox

Section = tuple[str, Sequence[BindingType]]


def bindings_of(items: Sequence[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


class HelpScreen(Dialog[None]):
    """Scroll with the arrows; `escape` closes."""

    def __init__(self, sections: Sequence[Section], keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.sections = sections
        self.keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog wide", id="help-dialog", can_focus=True) as box:
            box.border_title = Text("Keys: rebind any of them by id in the config file's [keymap]")
            yield Static(self._intro())
            for title, items in self.sections:
                yield Static(self._table(title, bindings_of(items)))
            yield Static(Text("arrows scroll · esc closes"), classes="muted dialog-foot")

    def on_mount(self) -> None:
        self.query_one(DialogBox).focus()

    def _intro(self) -> Text:
        text = Text()
        text.append("The conductor's screen. ", style="bold")
        text.append(
            "Tab moves between the panes; the footer shows the keys of the focused one. Only a "
            "key press decides anything: nothing an agent writes does. Every decision is saved "
            "before it takes effect, so quitting loses nothing; `podium resume DB` goes on. "
            "`e` exports the deliverables to a folder beside the database."
        )
        return text

    def _key(self, binding: Binding) -> str:
        keys = self.keymap.get(binding.id or "", binding.key)
        shown = [self.app.get_key_display(replace(binding, key=k)) for k in keys.split(",")]
        return " ".join(dict.fromkeys(shown))

    def _table(self, title: str, items: list[Binding]) -> Table:
        table = Table(
            title=title,
            title_justify="left",
            title_style="bold",
            expand=True,
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("keys", no_wrap=True, ratio=1)
        table.add_column("does", ratio=4)
        table.add_column("id", style="dim", no_wrap=True, ratio=1)
        seen: set[str] = set()
        for binding in items:
            key = binding.id or binding.action
            if key in seen:
                continue
            seen.add(key)
            table.add_row(
                Text(self._key(binding)),
                Text(binding.tooltip or binding.description),
                Text(binding.id or ""),
            )
        return table
