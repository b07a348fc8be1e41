"""The config file and the themes: data in, clear warnings out, never a traceback."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from podium.config import Config, config_path, dump_toml, load_config, save_config
from podium.domain.events import ProductionOpened
from podium.domain.state import ProductionView
from podium.tui.source import StaticSource
from podium.tui.themes import (
    DEFAULT_THEME,
    ThemeError,
    builtin_theme_files,
    choose_theme,
    load_themes,
    read_theme,
)

from ..engine.harness import crew, production, tasks
from .conftest import SIZE, make_app, until, until_shown


def test_config_lives_where_the_environment_says(_private_config: Path) -> None:
    assert config_path() == _private_config / "config.toml"
    loaded = load_config()
    assert loaded.config == Config() and loaded.warnings == [] and loaded.writable


def test_config_round_trips_and_keeps_unknown_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "podium-light"\nfuture = [1, 2]\n[keymap]\napprove = "A"\n')
    loaded = load_config(path)
    assert loaded.config.theme == "podium-light"
    assert loaded.config.keymap == {"approve": "A"}
    save_config(loaded.config.model_copy(update={"theme": "podium-ansi"}), path)
    again = tomllib.loads(path.read_text())
    assert again == {"theme": "podium-ansi", "future": [1, 2], "keymap": {"approve": "A"}}
    assert not list(tmp_path.glob(".config-*"))  # the temporary file was renamed, not left


def test_a_broken_config_warns_names_the_file_and_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "podium-light\n')
    loaded = load_config(path)
    assert loaded.config == Config() and not loaded.writable
    assert str(path) in loaded.warnings[0] and "line 1" in loaded.warnings[0]


def test_a_wrong_setting_falls_back_to_its_default_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = 3\n[keymap]\napprove = "A"\n')
    loaded = load_config(path)
    assert loaded.config.theme is None and loaded.config.keymap == {"approve": "A"}
    assert loaded.warnings == [f"{path}: theme: Input should be a valid string; using the default"]


def test_toml_writer_quotes_what_needs_quoting() -> None:
    text = dump_toml({"theme": 'a "b"\n', "keymap": {"odd key": "ctrl+a", "plain": "x"}})
    assert tomllib.loads(text) == {
        "theme": 'a "b"\n',
        "keymap": {"odd key": "ctrl+a", "plain": "x"},
    }


def test_built_in_themes_load_and_include_a_light_and_a_16_colour_one() -> None:
    found = load_themes()
    assert found.names[0] == DEFAULT_THEME
    themes = {t.name: t for t in found.themes}
    assert not themes["podium-light"].dark
    assert themes["podium-ansi"].ansi
    assert {f.name for f in builtin_theme_files()} == {
        "podium-dark.toml",
        "podium-light.toml",
        "podium-ansi.toml",
    }
    for theme in found.themes:
        assert "role-writer" in theme.variables and "muted" in theme.variables


def test_a_broken_user_theme_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('name = "mine"\nprimary = "not a colour"\n')
    (tmp_path / "ok.toml").write_text('name = "ok"\nprimary = "#112233"\ndark = false\n')
    found = load_themes(tmp_path)
    assert "ok" in found.names and "mine" not in found.names
    assert "mine.toml: primary: Value error, 'not a colour' is not a colour" in found.warnings[0]
    with pytest.raises(ThemeError, match="line 1"):
        (tmp_path / "bad.toml").write_text("name = \n")
        read_theme(tmp_path / "bad.toml", "bad.toml")


def test_choosing_a_theme() -> None:
    names = ["podium-dark", "podium-light"]
    assert choose_theme(None, None, names) == "podium-dark"
    assert choose_theme(None, "podium-light", names) == "podium-light"
    assert choose_theme(None, "gone", names) == "podium-dark"  # a stale config is no error
    assert choose_theme("podium-light", "podium-dark", names) == "podium-light"
    with pytest.raises(ThemeError, match="unknown theme 'nope'; one of podium-dark, podium-light"):
        choose_theme("nope", None, names)


def _view() -> ProductionView:
    spec = production(
        crew(("w", "writer")) + tasks({"id": "t", "title": "T", "kind": "chapter", "assignee": "w"})
    )
    view = ProductionView()
    view.apply_payload(ProductionOpened(spec=spec.model_dump(mode="json")), 0.0)
    return view


async def test_t_cycles_the_theme_and_the_config_remembers_it(_private_config: Path) -> None:
    app = make_app(StaticSource(_view()))
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "podium-dark"
        await pilot.press("t")
        await until(pilot, lambda: config_path().exists(), "the config file")
        assert app.theme != "podium-dark"
        assert load_config().config.theme == app.theme


async def test_a_keymap_in_the_config_rebinds_keys_and_unknown_ids_warn(
    _private_config: Path,
) -> None:
    _private_config.mkdir(parents=True)
    config_path().write_text('[keymap]\nhelp = "h"\nnot_a_binding = "x"\n')
    app = make_app(StaticSource(_view()))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until_shown(pilot, "not_a_binding")
        await pilot.press("h")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "help on h")
        await until_shown(pilot, "Every key, and what it does")


async def test_the_command_palette_finds_actions_by_name() -> None:
    app = make_app(StaticSource(_view()))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("colon")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
        for key in "clarify":
            await pilot.press(key)
        await until_shown(pilot, "Clarify the vision")
        await pilot.press("enter")
        await until(
            pilot, lambda: type(app.screen).__name__ == "ClarifyVisionScreen", "the vision dialog"
        )
