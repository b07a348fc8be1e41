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


KNOWN_FILE = "known-productions.txt"
"""Databases kept outside the data folder (`--db`), one absolute path a line, for `podium ps`."""


def remember(db: Path) -> None:
    """Note a database outside the default folder, so `podium ps` lists it too.

    Best effort: `ps` is a listing, so a data folder that cannot be written costs only the
    line. One short appended line per new database, so two engines starting at once do not
    lose each other's.
    """
    path = db.resolve()
    folder = data_dir()
    if path.parent == (folder / "productions").resolve() or path in known_databases():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / KNOWN_FILE).open("a", encoding="utf-8") as out:
            out.write(f"{path}\n")
    except OSError:
        pass


def known_databases() -> list[Path]:
    """The databases `remember` noted, once each, in the order first seen."""
    try:
        text = (data_dir() / KNOWN_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    paths = (Path(line) for line in text.splitlines() if line.strip())
    return list(dict.fromkeys(p for p in paths if p.is_absolute()))
