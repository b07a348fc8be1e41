"""The footer: the keys that always matter first, then the focused pane's.

Textual's `Footer` lists the focused widget's keys first and the app's last, so in a narrow
terminal help, quit and the command palette were the ones cut off. This one puts them first,
always; the per-pane keys give way at the right edge.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Binding ids (a keymap rebinds the keys, never the ids), in the order they are shown.
FIRST: tuple[str, ...] = ("help", "quit", "command_palette")


def footer_bindings(active: list[tuple[Binding, bool, str]]) -> list[tuple[Binding, bool, str]]:
    """One entry per action, the global ones first (in FIRST's order), the rest as they came."""
    by_action: dict[str, tuple[Binding, bool, str]] = {}
    for binding, enabled, tooltip in active:
        if binding.show or binding.id in FIRST:
            by_action.setdefault(binding.action, (binding, enabled, tooltip))
    entries = list(by_action.values())

    def rank(entry: tuple[Binding, bool, str]) -> int:
        ident = entry[0].id
        return FIRST.index(ident) if ident in FIRST else len(FIRST)

    return sorted(entries, key=rank)  # stable: the rest keep their order


class PodiumFooter(Footer):
    """`? help  q quit  : commands` first, then the focused pane's keys."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True, show_command_palette=False)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = [(b, e, t) for (_, b, e, t) in self.screen.active_bindings.values()]
        for binding, enabled, tooltip in footer_bindings(active):
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip or binding.tooltip,
            ).data_bind(compact=Footer.compact)
