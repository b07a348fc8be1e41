"""Help: every key, as the user's keymap has it now, and where the config file is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

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
    """Scroll with the arrows; `escape` closes. One table: each section is a heading row."""

    def __init__(
        self,
        sections: Sequence[Section],
        keymap: Mapping[str, str],
        config_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.sections = sections
        self.keymap = dict(keymap)
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog wide", id="help-dialog", can_focus=True) as box:
            box.border_title = Text("Keys: rebind any of them by id in the config file's [keymap]")
            yield Static(self._intro())
            yield Static(self._table(), id="help-keys")
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
        if self.config_path is not None:
            text.append("\nThe config file: ", style="bold")
            text.append(str(self.config_path))
            text.append(
                '\nRebind a key there by its id, e.g.\n  [keymap]\n  request_alternatives = "N"'
            )
        return text

    def _key(self, binding: Binding) -> str:
        keys = self.keymap.get(binding.id or "", binding.key)
        shown = [self.app.get_key_display(replace(binding, key=k)) for k in keys.split(",")]
        return " ".join(dict.fromkeys(shown))

    def _table(self) -> Table:
        """Every section in one table, so it scrolls as one; ids are never cut (they are what
        a keymap is written with): their column is as wide as the longest one."""
        rows: list[tuple[str, list[Binding]]] = []
        for title, items in self.sections:
            seen: set[str] = set()
            unique: list[Binding] = []
            for binding in bindings_of(items):
                key = binding.id or binding.action
                if key not in seen:
                    seen.add(key)
                    unique.append(binding)
            rows.append((title, unique))
        widest_id = max((len(b.id or "") for _, items in rows for b in items), default=2)
        table = Table(expand=True, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
        table.add_column("keys", no_wrap=True, max_width=12)
        table.add_column("does", ratio=1, overflow="fold")
        table.add_column("id", style="dim", no_wrap=True, min_width=widest_id)
        for number, (title, items) in enumerate(rows):
            table.add_row(Text(title, style="bold"), end_section=False)
            for binding in items:
                table.add_row(
                    Text(self._key(binding)),
                    Text(binding.tooltip or binding.description),
                    Text(binding.id or ""),
                    end_section=binding is items[-1] and number < len(rows) - 1,
                )
        return table
