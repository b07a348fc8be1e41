"""`podium export DB --out DIR`: write a production's deliverables and its decision log.

Exit 0 with one line per file written, 2 when the database cannot be exported (missing, not a
podium production, empty), 1 when a file cannot be written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, say, warn
from podium.export.exporter import ExportInputError, ExportWriteError, export_production_sync
from podium.store import StoreError


def export(args: argparse.Namespace) -> int:
    try:
        written = export_production_sync(Path(args.db_path), Path(args.out))
    except (StoreError, ExportInputError) as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    except ExportWriteError as exc:
        warn(f"podium: {exc}")
        return EXIT_FAILED
    for path in written:
        say(str(path))
    return EXIT_OK
