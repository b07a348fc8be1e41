"""Where podium keeps its files: one SQLite database per production in the user data folder."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "PODIUM_DATA_DIR"
"""Overrides the user data folder (tests, portable installs)."""

MAX_SLUG = 60


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("podium", appauthor=False))


def slugify(title: str) -> str:
    """A file name from a title: lower case [a-z0-9-], at most MAX_SLUG characters, never empty.

    Titles with no Latin letters or digits get a short hash, so two such productions do not
    share a database.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    slug = slug[:MAX_SLUG].rstrip("-")
    if slug:
        return slug
    if not title.strip():
        return "production"
    return "production-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]


def default_db_path(title: str) -> Path:
    """The database a production with this title uses when no --db is given."""
    return data_dir() / "productions" / f"{slugify(title)}.db"
