"""Sample productions, each made once per test session, and their exports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from podium.export.exporter import export_production_sync, load
from podium.export.sources import ExportSource

from .samples import make_sync

Made = Callable[..., Path]


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    """`sample_db(name, auto="all")`: the database of a sample run, made on first use."""
    made: dict[tuple[str, str], Path] = {}

    def get(name: str, auto: str = "all") -> Path:
        key = (name, auto)
        if key not in made:
            db = tmp_path_factory.mktemp(f"{name}-{auto}") / f"{name}.db"
            make_sync(name, db, auto)
            made[key] = db
        return made[key]

    yield get


@pytest.fixture(scope="session")
def sample_export(sample_db: Made, tmp_path_factory: pytest.TempPathFactory) -> Made:
    """`sample_export(name, auto="all")`: the folder its export was written to."""
    made: dict[tuple[str, str], Path] = {}

    def get(name: str, auto: str = "all") -> Path:
        key = (name, auto)
        if key not in made:
            out = tmp_path_factory.mktemp(f"{name}-{auto}-export") / "out"
            export_production_sync(sample_db(name, auto), out)
            made[key] = out
        return made[key]

    return get


def load_source(db: Path) -> ExportSource:
    return asyncio.run(load(db))
