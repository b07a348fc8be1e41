"""Clarify the vision: edit one section, see which tasks become stale, then confirm."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from podium.domain.production import VISION_SECTIONS, Vision
from podium.domain.state import ProductionView
from podium.seam.validators import Rejected, amended_vision, stale_after
from podium.tui.format import TASK_WORDS, clip
from podium.tui.screens.dialog import DialogBox, FormDialog
from podium.tui.widgets.toggles import MarkedCheckbox

_LISTS = {"themes", "locations"}


@dataclass(frozen=True)
class VisionChange:
    section: str
    value: Any
    rerun: bool
    reason: str


def section_text(vision: Vision, section: str) -> str:
    """A section as the user edits it: lists one item a line, characters as JSON."""
    value = getattr(vision, section)
    if section == "characters":
        return json.dumps([c.model_dump() for c in vision.characters], indent=2)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


class ClarifyVisionScreen(FormDialog[VisionChange]):
    """Shows the tasks a change makes stale before anything is applied."""

    ERROR_ID = "vision-error"

    def __init__(self, view: ProductionView, *, section: str = "tone") -> None:
        super().__init__()
        self.view = view
        self.section = section if section in VISION_SECTIONS else "premise"

    def compose(self) -> ComposeResult:
        vision = self.view.vision
        version = vision.version if vision else 1
        with DialogBox(classes="dialog", id="vision-dialog") as box:
            box.border_title = f"Clarify the vision (now version {version})"
            with Horizontal(classes="field-row"):
                yield Label("Section", classes="field-name")
                yield Select(
                    [(s, s) for s in VISION_SECTIONS],
                    value=self.section,
                    allow_blank=False,
                    id="vision-section",
                    compact=True,
                )
            # What the change makes stale comes first: it is what this dialog is for.
            yield Static("", id="vision-stale")
            yield Label("", id="vision-hint", classes="field-label")
            yield TextArea(
                id="vision-text", classes="labelled", soft_wrap=True, show_line_numbers=False
            )
            yield MarkedCheckbox(
                "Re-run the stale tasks at once (else the inbox asks)",
                id="vision-rerun",
                compact=True,
            )
            with Horizontal(classes="field-row"):
                yield Label("Reason", classes="field-name")
                yield Input(
                    placeholder="why, in a line (kept in the decision log)",
                    id="vision-reason",
                    compact=True,
                )
            yield from self.foot("Amend the vision (ctrl+s)")

    def on_mount(self) -> None:
        self._load(self.section)
        self.query_one("#vision-text", TextArea).focus(scroll_visible=False)
        self.call_after_refresh(self.query_one(DialogBox).scroll_home, animate=False)

    @on(Select.Changed, "#vision-section")
    def _section_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.section:
            self.section = event.value
            self._load(event.value)

    def _load(self, section: str) -> None:
        vision = self.view.vision
        self.query_one("#vision-text", TextArea).text = (
            section_text(vision, section) if vision else ""
        )
        hints = {
            "characters": "a JSON list of {name, description, arc, voice}",
            "themes": "one theme a line",
            "locations": "one location a line",
        }
        self.query_one("#vision-hint", Label).update(
            Text(f"The new {section} ({hints.get(section, 'free text')})")
        )
        self.query_one("#vision-stale", Static).update(self._stale_text(section))
        self.show_error("")

    def _stale_text(self, section: str) -> Text:
        stale = stale_after(self.view, section)
        if not stale:
            return Text(f"No task becomes stale: nothing done so far used {section}.")
        text = Text(f"{len(stale)} task(s) become stale (not approved yet, and used {section}):")
        shown = 4 if self.app.size.height < 32 else 12  # a 24-line terminal keeps the rest
        if len(stale) == shown + 1:
            shown += 1
        for task_id in stale[:shown]:
            record = self.view.tasks[task_id]
            text.append(f"\n  ↺ {task_id}: {clip(record.spec.title, 50)} ")
            text.append(f"({TASK_WORDS[record.state]})")
        if len(stale) > shown:
            text.append(
                f"\n  … and {len(stale) - shown} more (after the change: ↺ in the task tree)"
            )
        return text

    def action_confirm(self) -> None:
        vision = self.view.vision
        if vision is None:
            self.show_error("This production has no vision yet.")
            return
        raw = self.query_one("#vision-text", TextArea).text
        value: Any = raw.strip()
        if self.section == "characters":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                self.show_error(f"characters: not JSON (line {exc.lineno}: {exc.msg})")
                return
        if raw.strip() == section_text(vision, self.section).strip():
            self.show_error(f"{self.section} is unchanged; edit it, or press escape.")
            return
        try:
            stored, _ = amended_vision(vision, self.section, value)
        except Rejected as why:
            self.show_error(str(why))
            return
        self.dismiss(
            VisionChange(
                section=self.section,
                value=stored,
                rerun=self.query_one("#vision-rerun", Checkbox).value,
                reason=self.query_one("#vision-reason", Input).value.strip(),
            )
        )
