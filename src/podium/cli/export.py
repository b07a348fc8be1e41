"""`podium export DB --out DIR`: write a production's deliverables and its decision log.

Exit 0 with one line per file written, 2 when the database cannot be exported (missing, not a
podium production, empty, damaged, or stale or unfinished without `--allow-stale`), 1 when a
file cannot be written. A damaged database is
refused unless `--salvage` asks for what can still be read; that export's README names what was
skipped, and so does stderr.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from podium.cli import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    hold_collector,
    release_collector,
    say,
    warn,
)
from podium.export.exporter import ExportInputError, ExportWriteError, export_production_sync
from podium.store import CorruptDatabase, StoreError
from podium.store.errors import ENVIRONMENT_ERRORS
from podium.store.salvage import Salvage

_NAMED = 10  # skipped seqs named on stderr; the README names more


def export(args: argparse.Namespace) -> int:
    db = Path(args.db_path)
    salvage = Salvage() if getattr(args, "salvage", False) else None
    # No collection while the production is read (it makes objects by the hundred thousand,
    # all kept); then what it made is frozen, never walked again by the collector.
    hold_collector()
    try:
        written = export_production_sync(
            db,
            Path(args.out),
            salvage=salvage,
            force=getattr(args, "force", False),
            allow_stale=getattr(args, "allow_stale", False),
            animatic=not getattr(args, "no_animatic", False),
            loaded=release_collector,
        )
    except CorruptDatabase as exc:
        if salvage is not None:  # even a salvaging read found nothing to read
            warn(f"podium: {str(exc).rstrip('.')}; nothing of it can be exported.")
            return EXIT_BAD_INPUT
        warn(
            f"podium: {db} is damaged, so it is not exported as it is: `podium check {db}` "
            f"shows what is damaged, and `podium export {db} --out {args.out} --salvage` "
            "exports what can still be read."
        )
        return EXIT_BAD_INPUT
    except ENVIRONMENT_ERRORS as exc:  # locked, read-only, full: as every command says them
        warn(f"podium: {exc}")
        return EXIT_FAILED
    except (StoreError, ExportInputError) as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    except ExportWriteError as exc:
        warn(f"podium: {exc}")
        return EXIT_FAILED
    for path in written:
        say(str(path))
    if salvage is not None and (salvage.skipped or salvage.missing or salvage.unapplied):
        lost = [*salvage.skipped, *salvage.missing, *salvage.unapplied]
        named = ", ".join(d.where for d in sorted(lost, key=lambda d: d.first_seq or 0)[:_NAMED])
        more = ", …" if len(lost) > _NAMED else ""
        count = salvage.skipped_seqs + sum(d.seqs for d in salvage.missing)
        warn(
            f"podium: {db} is damaged: exported {salvage.read} events, skipped {count} "
            f"({named}{more}); the export's README.md names them."
        )
    return EXIT_OK
