"""The user's config file: the theme and a keymap, in TOML, in the user config folder.

A broken file never stops podium: it gives a warning that names the file and the setting, and
the defaults apply. A file that could not be read is never overwritten, so nothing the user
wrote is lost by remembering a theme.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_DIR_ENV = "PODIUM_CONFIG_DIR"
"""Overrides the user config folder (tests, portable installs)."""

FILE_NAME = "config.toml"


class Config(BaseModel):
    """What the config file holds. Unknown settings are kept (and written back) untouched."""

    model_config = ConfigDict(extra="allow")

    theme: str | None = Field(default=None, min_length=1, max_length=80)
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description='Binding id → keys, e.g. approve = "A" or retry = "R,ctrl+r".',
    )


@dataclass
class LoadedConfig:
    """A config as read, with what went wrong reading it and whether it may be rewritten."""

    config: Config
    path: Path
    warnings: list[str] = field(default_factory=list)
    writable: bool = True


class ConfigError(Exception):
    """The config file could not be written; the message says where and why."""


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("podium", appauthor=False))


def config_path() -> Path:
    return config_dir() / FILE_NAME


def load_config(path: Path | None = None) -> LoadedConfig:
    """Read the config file; a missing file is the defaults, a broken one is a warning."""
    path = path or config_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LoadedConfig(Config(), path)
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return LoadedConfig(
            Config(), path, [f"{path}: cannot read it ({why}); using the defaults"], False
        )
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        return LoadedConfig(
            Config(),
            path,
            [f"{path}: {exc}; fix the file or remove it. Using the defaults meanwhile"],
            False,
        )
    warnings: list[str] = []
    while True:
        try:
            config = Config.model_validate(data)
            break
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = first["loc"]
            key = str(loc[0]) if loc else ""
            where = ".".join(str(part) for part in loc) or "config"
            warnings.append(f"{path}: {where}: {first['msg']}; using the default")
            if key not in data:  # cannot happen for a top-level field; never loop forever
                config = Config()
                break
            data = {k: v for k, v in data.items() if k != key}
    return LoadedConfig(config, path, warnings)


def save_config(config: Config, path: Path | None = None) -> None:
    """Write the config atomically: a crash leaves the old file or the new one, never half."""
    path = path or config_path()
    text = dump_toml(config.model_dump(exclude_none=True))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot save the config ({exc.strerror or exc})") from None


# -- a small TOML writer for the values a config holds -------------------------------------


def dump_toml(data: dict[str, Any]) -> str:
    """TOML for plain data: scalars and arrays first, then one table per nested dict."""
    lines = ["# podium settings; see `podium --help` and docs/tui.md", ""]
    _table(lines, data, ())
    return "\n".join(lines).rstrip("\n") + "\n"


def _table(lines: list[str], data: dict[str, Any], prefix: tuple[str, ...]) -> None:
    tables = {k: v for k, v in data.items() if isinstance(v, dict) and v}
    for key, value in data.items():
        if key not in tables and value is not None and value != {}:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables.items():
        name = (*prefix, key)
        if lines and lines[-1] != "":
            lines.append("")
        lines.append("[" + ".".join(_key(part) for part in name) + "]")
        _table(lines, value, name)


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    return json.dumps(str(value))
