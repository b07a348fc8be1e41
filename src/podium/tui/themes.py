"""Themes are data: `themes/*.toml` → `ThemeFile` → `textual.theme.Theme`.

The built-in files ship inside the package (and the wheel); a user may add more in the config
folder's `themes/`. A broken user theme is a warning, never a crash.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "podium-dark"

# Variables every podium theme gives (no alpha: they colour text drawn outside Textual's
# own blending); Textual's built-in themes get these defaults.
THEME_VARIABLES: dict[str, str] = {
    "muted": "#8A909C",
    "pane-border": "#5C6370",  # an unfocused pane's border: seen on light and dark alike
    "role-lead": "#E0A458",
    "role-director": "#C678DD",
    "role-writer": "#98C379",
    "role-camera": "#6C9BD2",
    "role-post": "#56B6C2",
    "role-cast": "#E5C07B",
    "role-other": "#ABB2BF",
}


class ThemeError(ValueError):
    """A theme that does not exist or cannot be read; the message names it and what to do."""


def _colour(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(
            f"{value!r} is not a colour; use #RRGGBB, rgb(…), a colour name or ansi_*"
        ) from None
    return value


class ThemeFile(BaseModel):
    """One theme file. The colour names are Textual's (see its design guide)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=60)
    dark: bool = True
    ansi: bool = Field(default=False, description="Use the terminal's own 16 colours.")
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    luminosity_spread: float = Field(default=0.15, ge=0, le=1)
    text_alpha: float = Field(default=0.95, ge=0, le=1)
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator(
        "primary",
        "secondary",
        "accent",
        "warning",
        "error",
        "success",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
    )
    @classmethod
    def _is_colour(cls, value: str | None) -> str | None:
        return _colour(value)

    def to_theme(self) -> Theme:
        return Theme(
            name=self.name,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            warning=self.warning,
            error=self.error,
            success=self.success,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            boost=self.boost,
            dark=self.dark,
            luminosity_spread=self.luminosity_spread,
            text_alpha=self.text_alpha,
            variables=THEME_VARIABLES | self.variables,
            ansi=self.ansi,
        )


@dataclass
class ThemeSet:
    """The themes found, in cycling order (built-in first), and what could not be read."""

    themes: list[Theme] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.themes]


def read_theme(source: Traversable | Path, label: str) -> Theme:
    """Parse one theme file; raises ThemeError naming the file, the line or the field."""
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(f"{label}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{label}: {exc}") from None
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "theme"
        raise ThemeError(f"{label}: {where}: {first['msg']}") from None


def builtin_theme_files() -> list[Traversable]:
    folder = resources.files("podium") / "themes"
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith(".toml")),
        key=lambda f: (f.name != f"{DEFAULT_THEME}.toml", f.name),
    )


def load_themes(user_dir: Path | None = None) -> ThemeSet:
    """The built-in themes, then the user's (which may replace a built-in by name)."""
    found = ThemeSet()
    by_name: dict[str, Theme] = {}
    for item in builtin_theme_files():
        theme = read_theme(item, f"podium/themes/{item.name}")  # a broken one is a bug
        by_name[theme.name] = theme
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                theme = read_theme(path, str(path))
            except ThemeError as exc:
                found.warnings.append(f"{exc}; theme skipped")
                continue
            by_name[theme.name] = theme
    found.themes = list(by_name.values())
    return found


ANSI_THEME = "podium-ansi"
_FEW_COLOURS = ("screen", "linux", "ansi", "cons25", "vt100", "vt102", "vt220", "xterm-color")


def terminal_theme(environ: Mapping[str, str]) -> str:
    """The default theme for this terminal: the 16-colour one where TERM says the terminal
    has 16 colours or fewer (`xterm-16color`, `screen`, `linux`), where a downsampled default
    would lose the focus and state colours; else the default."""
    if environ.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return DEFAULT_THEME
    term = environ.get("TERM", "").lower()
    if term in _FEW_COLOURS or term.endswith(("-16color", "-8color", "-mono")):
        return ANSI_THEME
    return DEFAULT_THEME


def choose_theme(
    requested: str | None,
    configured: str | None,
    available: list[str],
    default: str = DEFAULT_THEME,
) -> str:
    """The theme to start with: --theme, else the config file, else the default (the
    terminal's: `terminal_theme`).

    An unknown --theme is an error (the user typed it just now); an unknown configured theme
    falls back to the default, because the file may name a theme that was since removed.
    """
    if requested is not None:
        if requested not in available:
            raise ThemeError(
                f"unknown theme {requested!r}; one of {', '.join(available)}"
                " (or add a file to the themes folder of the config directory)"
            )
        return requested
    if configured is not None and configured in available:
        return configured
    if default in available:
        return default
    return DEFAULT_THEME if DEFAULT_THEME in available else available[0]
