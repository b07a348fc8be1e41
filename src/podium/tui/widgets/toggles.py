"""Radio buttons and checkboxes whose mark says whether they are on, not only its colour.

Textual draws the same glyph for on and off and tells them apart by colour alone, which a
16-colour terminal, a screenshot or a colour-blind eye may not show. These draw `●`/`✓` when
on and a blank when off.
"""

from __future__ import annotations

from textual.widgets import Checkbox, RadioButton

ON_RADIO = "●"
ON_CHECK = "✓"
OFF = " "


class MarkedRadioButton(RadioButton):
    """A radio button marked `●` only when chosen."""

    BUTTON_INNER = OFF

    def on_mount(self) -> None:
        self.BUTTON_INNER = ON_RADIO if self.value else OFF

    def watch_value(self) -> None:
        self.BUTTON_INNER = ON_RADIO if self.value else OFF
        super().watch_value()
        self.refresh()


class MarkedCheckbox(Checkbox):
    """A checkbox ticked `✓` only when on."""

    BUTTON_INNER = OFF

    def on_mount(self) -> None:
        self.BUTTON_INNER = ON_CHECK if self.value else OFF

    def watch_value(self) -> None:
        self.BUTTON_INNER = ON_CHECK if self.value else OFF
        super().watch_value()
        self.refresh()
