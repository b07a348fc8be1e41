"""The palette's Screenshot: an SVG of the screen, and in one line where it went or why not.

Textual's own command saves in a thread and says only "Failed to save screenshot"; this one
writes the file itself (an SVG of one screen is small) and names the path, and the reason
when it cannot (a missing folder, no permission). In a browser the browser downloads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from platformdirs import user_downloads_path  # Textual's own choice of folder
from textual._files import generate_datetime_filename
from textual.app import App, SystemCommand
from textual.timer import Timer

from podium.tui.format import clip, flatten

TITLE = "Screenshot"


def screenshot_folder() -> Path:
    """Where a screenshot goes: the Downloads folder when there is one, else here."""
    downloads = user_downloads_path()
    return downloads if downloads.is_dir() else Path.cwd()


def save_screenshot(app: App[Any], folder: Path | None = None) -> Path | None:
    """Save the screen as SVG in `folder` and say where; say why not, in one line."""
    if app.is_web:  # the browser downloads it, and says so itself
        app.deliver_screenshot()
        return None
    path = (folder or screenshot_folder()) / generate_datetime_filename(app.title, ".svg")
    try:
        path.write_text(app.export_screenshot(), encoding="utf-8")
    except OSError as error:
        why = error.strerror or type(error).__name__
        app.notify(
            f"Screenshot not saved: cannot write {clip(flatten(str(path)), 160)} ({why}).",
            severity="error",
            markup=False,
        )
        return None
    app.notify(f"Screenshot saved to {clip(flatten(str(path)), 160)}", markup=False)
    return path


def with_screenshot(app: App[Any], commands: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """The system commands, Textual's Screenshot replaced by `save_screenshot`."""

    def later() -> Timer:  # once the palette has closed, so it is not in the picture
        return app.set_timer(0.1, lambda: save_screenshot(app))

    for command in commands:
        if command.title == TITLE:
            yield SystemCommand(TITLE, "Save an SVG picture of the screen; says where", later)
        else:
            yield command
