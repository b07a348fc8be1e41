"""Export the deliverables: where to, with a folder beside the database as the default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from podium.tui.screens.dialog import DialogBox, FormDialog


@dataclass(frozen=True)
class ExportRequest:
    folder: Path


def default_folder(db: Path) -> Path:
    """`last-light.db` exports into `last-light-export/` next to it."""
    return db.with_name(f"{db.stem}-export")


def folder_from(text: str, db: Path) -> Path:
    """What was typed, as a folder; a relative one is taken beside the database."""
    folder = Path(text.strip()).expanduser()
    return folder if folder.is_absolute() else db.parent / folder


class ExportScreen(FormDialog[ExportRequest]):
    """`enter` (or `ctrl+s`) exports; `escape` writes nothing."""

    ERROR_ID = "export-error"

    def __init__(self, db: Path, folder: Path) -> None:
        super().__init__()
        self.db = db
        self.folder = folder

    def compose(self) -> ComposeResult:
        with DialogBox(classes="dialog", id="export-dialog") as box:
            box.border_title = "Export the deliverables"
            yield Static(
                Text(
                    "Screenplay (Fountain, Final Draft), manuscript, shot list, cue sheet, "
                    "edit plan, documents, the production bible and the decision log, as the "
                    "production stands now; drafts are marked. Files of the same name in the "
                    "folder are replaced."
                )
            )
            yield Input(str(self.folder), placeholder="a folder", id="export-folder")
            yield Static(
                Text(f"A relative folder is taken beside {self.db.name}."), classes="muted"
            )
            yield from self.foot("Export (enter)")

    def on_mount(self) -> None:
        self.query_one("#export-folder", Input).focus()

    @on(Input.Submitted, "#export-folder")
    def _submitted(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        text = self.query_one("#export-folder", Input).value
        if not text.strip():
            self.show_error("Give a folder to write into.")
            return
        folder = folder_from(text, self.db)
        if folder.exists() and not folder.is_dir():
            self.show_error(f"{folder} is a file, not a folder; choose another name.")
            return
        self.dismiss(ExportRequest(folder))
