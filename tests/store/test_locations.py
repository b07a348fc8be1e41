"""Default database locations: one file per production in the user data folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.locations import DATA_DIR_ENV, MAX_SLUG, default_db_path, slugify


def test_default_path_uses_the_data_dir_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))

    assert default_db_path("The Lighthouse") == tmp_path / "productions" / "the-lighthouse.db"


def test_default_path_without_override_is_under_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)

    path = default_db_path("Pilot")

    assert path.name == "pilot.db"
    assert path.parent.name == "productions"
    assert "podium" in str(path.parent.parent).lower()


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("The Lighthouse", "the-lighthouse"),
        ("  Arcadian Summers: Season 2!  ", "arcadian-summers-season-2"),
        ("Amélie à Noël", "amelie-a-noel"),
        ("../../etc/passwd", "etc-passwd"),
        ("a" * 100, "a" * MAX_SLUG),
        ("", "production"),
        ("   ", "production"),
    ],
)
def test_slugs(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_titles_without_latin_letters_get_distinct_slugs() -> None:
    first, second = slugify("東京物語"), slugify("羅生門")

    assert first.startswith("production-")
    assert first != second


@settings(deadline=None)
@given(st.text())
def test_every_slug_is_a_safe_file_name(title: str) -> None:
    slug = slugify(title)

    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= MAX_SLUG
