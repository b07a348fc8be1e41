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
        self._drawn: tuple[tuple[str, str, str, str, bool, str], ...] | None = None

    def _entries(self) -> list[tuple[Binding, bool, str]]:
        active = [(b, e, t) for (_, b, e, t) in self.screen.active_bindings.values()]
        return footer_bindings(active)

    def _signature(self) -> tuple[tuple[str, str, str, str, bool, str], ...] | None:
        if not self._bindings_ready:
            return None
        return tuple(
            (b.key, self.app.get_key_display(b), b.description, b.action, e, t or b.tooltip)
            for b, e, t in self._entries()
        )

    async def recompose(self) -> None:
        """Only when what the footer shows changed: Textual recomposes it on every change of
        focus or bindings (several a key press), and each time mounts and styles every key
        again (a third of a search's time on a 2,000-task production)."""
        signature = self._signature()
        if signature is not None and signature == self._drawn:
            return
        self._drawn = signature
        await super().recompose()

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        for binding, enabled, tooltip in self._entries():
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip or binding.tooltip,
            ).data_bind(compact=Footer.compact)
