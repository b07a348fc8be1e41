"""Override a task: a binding direction for its re-run, or text that replaces its output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, RadioButton, RadioSet, Static, TextArea

from podium.tui.format import flatten
from podium.tui.screens.dialog import DialogBox, FormDialog
from podium.tui.widgets.toggles import MarkedRadioButton

if TYPE_CHECKING:
    from podium.domain.artifacts import Artifact, Content

DIRECTION_HINT = "What the agent must do differently when the task runs again, e.g. cut the speech"
REPLACE_HINT = "The text that becomes the task's output, as it should read"


def human_text(content: Content) -> str:
    """The output as a person edits it (Fountain, Markdown or CSV), as `podium edit` shows it."""
    from podium.export.human import render  # pure, no I/O; imported when first needed

    return render(content).text


def content_of(artifact: Artifact | None) -> Content | None:
    """The artifact's content, or None when there is none or it cannot be read (then the
    replacement starts empty rather than the dialog failing)."""
    if artifact is None:
        return None
    try:
        return artifact.parsed()
    except ValueError:  # pydantic's ValidationError is one
        return None


@dataclass(frozen=True)
class OverrideDecision:
    text: str
    replace: bool


class OverrideScreen(FormDialog[OverrideDecision]):
    """`ctrl+s` confirms; `escape` leaves everything as it was."""

    ERROR_ID = "override-error"

    def __init__(
        self,
        *,
        task_id: str,
        title: str,
        excerpt: str = "",
        about: str = "",
        content: Content | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__()
        self.task_id = task_id
        self.task_title = title
        self.excerpt = excerpt
        self.about = about
        self.content = content
        # What the task delivers ("Screenplay", "Prose", …): a replacement is written in its
        # human format and read back here, so a mistake is shown in the dialog, text kept.
        self.content_type = content_type or (type(content).__name__ if content else None)
        self._direction = ""  # what was typed as a direction, kept while the mode is switched

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="override-dialog") as box:
            box.border_title = "Override"
            head = Text()
            head.append(f"{self.task_id}: ", style="bold")
            head.append(flatten(self.task_title), style="bold")
            if self.about:
                head.append("\nfrom the inbox: ")
                head.append(flatten(self.about))
            yield Static(head, id="override-head")
            if self.excerpt:
                yield Label("Current output", classes="field-label")
                with VerticalScroll(id="override-excerpt", classes="labelled"):
                    # as it reads, without its blank lines: more of it in a short box
                    lines = [line for line in self.excerpt.splitlines() if line.strip()]
                    yield Static(Text("\n".join(lines)), classes="muted")
            yield Label("How it applies", classes="field-label")
            with RadioSet(id="override-mode", classes="labelled"):
                yield MarkedRadioButton(
                    "Direction: the task re-runs under it", value=True, id="mode-direction"
                )
                yield MarkedRadioButton(
                    "Replacement: this text becomes the output", id="mode-replace"
                )
            yield Label("Direction", classes="field-label", id="override-label")
            yield TextArea(
                id="override-text",
                classes="labelled",
                soft_wrap=True,
                show_line_numbers=False,
                placeholder=DIRECTION_HINT,
            )
            yield from self.foot("Override (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#override-text", TextArea).focus(scroll_visible=False)
        self.call_after_refresh(self.query_one(DialogBox).scroll_home, animate=False)

    @on(RadioSet.Changed, "#override-mode")
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        """A replacement starts from the current output in its human format; switching back
        to a direction gives back what was typed there."""
        area = self.query_one("#override-text", TextArea)
        label = self.query_one("#override-label", Label)
        if event.pressed.id == "mode-replace":
            self._direction = area.text
            label.update(f"Replacement text ({self._format_name()}: the current output, to edit)")
            area.placeholder = REPLACE_HINT
            if self.content is not None:
                area.text = human_text(self.content)
        else:
            label.update("Direction")
            area.placeholder = DIRECTION_HINT
            area.text = self._direction

    def action_confirm(self) -> None:
        text = self.query_one("#override-text", TextArea).text.strip()
        if not text:
            self.show_error("Write the direction (or the replacement text) first.")
            return
        replace = self.query_one("#mode-replace", RadioButton).value
        if replace:
            read = self._replacement(text)
            if read is None:
                return
            text = read
        self.dismiss(OverrideDecision(text=text, replace=replace))

    def _format_name(self) -> str:
        from podium.export.human import human_format

        try:
            return human_format(self.content_type or "Prose").name.capitalize()
        except ValueError:
            return "text"

    def _replacement(self, text: str) -> str | None:
        """The replacement as the engine takes it: prose as written; anything else read from
        its human format (Fountain, Markdown, CSV) and sent as the content's JSON. None (the
        error shown, the text kept) when it cannot be read."""
        from podium.export.human import ParseError, parse

        kind = self.content_type
        if kind is None or kind == "Prose":
            return text
        try:
            content = parse(kind, text)
        except ParseError as exc:
            self.show_error(f"The replacement's line {exc.line}: {exc.message}")
            return None
        except ValueError:  # no human format for this content: the engine reads it as JSON
            return text
        return content.model_dump_json()
