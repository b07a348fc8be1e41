"""`podium check DB`: what of a production database is damaged, read without writing a byte.

Exit 0 when the file is whole, 1 when something is damaged (the report says what), 2 when it is
no production database to check (missing, a folder, another program's file, a newer podium's).
With a whole log, the state snapshots are checked too (`podium.store.snapshot_check`): one that
is damaged, or does not hold the view the log gives up to its seq, is damage (exit 1); one made
by another podium's fold is said and left (a reload ignores it).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import Any

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, say, warn
from podium.store import StoreError
from podium.store.salvage import Damage, Report
from podium.store.salvage import check as check_file
from podium.store.snapshot_check import SnapshotReport, check_snapshots

_LISTED = 20  # damaged rows named one by one; the rest are counted


def check(args: argparse.Namespace) -> int:
    path = Path(args.db_path)
    try:
        report = check_file(path)
    except StoreError as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    snapshots = _snapshots(report)
    if args.json:
        say(json.dumps(as_json(report, snapshots), ensure_ascii=False))
    else:
        for line in describe(report, snapshots):
            say(line)
    return EXIT_OK if _whole(report, snapshots) else EXIT_FAILED


def _snapshots(report: Report) -> SnapshotReport | None:
    """The state snapshots checked against the log; None when the log is not whole (a damaged
    log is folded by nothing, so there is no view to compare them with)."""
    if not report.whole:
        return None
    try:
        return check_snapshots(report.path)
    except StoreError as exc:  # the fold met what the row-by-row read did not
        return SnapshotReport(damaged=[Damage("the log, folded", str(exc), kind="snapshot")])
    except sqlite3.Error as exc:
        detail = f"cannot be read ({str(exc)[:160]})"
        return SnapshotReport(damaged=[Damage("the snapshots", detail, kind="snapshot")])


def _whole(report: Report, snapshots: SnapshotReport | None) -> bool:
    return report.whole and not (snapshots is not None and snapshots.damaged)


def describe(report: Report, snapshots: SnapshotReport | None = None) -> list[str]:
    """The report in words: a verdict line, then what is damaged and what to do."""
    path = report.path
    if report.unreadable is not None:
        return [
            report.unreadable.removesuffix(" Restore it from a backup."),
            f"{path}: damaged, and nothing of it can be read: restore it from a backup.",
        ]
    events = _events_line(report)
    extra = f"{report.commands_read} commands and {report.meta_read} meta facts"
    gaps = [
        f"  {item.where}: never written (a command that could not be recorded leaves its seq "
        "unused)"
        for item in report.gaps[:_LISTED]
    ]
    if report.whole:
        verdict = "whole" if _whole(report, snapshots) else "damaged: a state snapshot, not the log"
        return [
            f"{path}: {verdict}. SQLite's integrity check: ok; {events}; {extra} read.",
            *gaps,
            *_snapshot_lines(path, snapshots),
        ]
    lines = [f"{path}: damaged."]
    if report.integrity:
        where = []
        if report.pages:
            where.append("pages " + ", ".join(str(p) for p in report.pages[:_LISTED]))
        if report.tables:
            where.append("in " + ", ".join(report.tables))
        lines.append(
            f"SQLite's integrity check: {_plural(len(report.integrity), 'problem')}"
            + (f" ({'; '.join(where)})" if where else "")
            + ":"
        )
        lines += [f"  {text}" for text in report.integrity[:_LISTED]]
        if len(report.integrity) > _LISTED:
            lines.append(f"  … and {len(report.integrity) - _LISTED} more")
    else:
        lines.append("SQLite's integrity check: ok (the damage is inside rows).")
    lines.append(f"Events: {events}.")
    lines += _listed(report.events)
    lines += gaps
    lines.append(f"Commands: {report.commands_read} read" + _count(report.commands) + ".")
    lines += _listed(report.commands)
    lines.append(f"Meta: {report.meta_read} facts read" + _count(report.meta) + ".")
    lines += _listed(report.meta)
    lines.append("State snapshots: not checked (a damaged log gives no view to compare them with).")
    lines.append(
        f"Nothing was written. Save what can be read with `podium export {path} --out DIR "
        "--salvage`; the rest is only in a backup."
    )
    return lines


def _snapshot_lines(path: Path, snapshots: SnapshotReport | None) -> list[str]:
    """What the state snapshots (a cache of the log, `podium.store.snapshots`) hold."""
    if snapshots is None:
        return []
    lines = [
        f"State snapshot #{seq}: holds the view the log gives up to it."
        for seq in snapshots.verified
    ]
    lines += [
        f"State snapshot #{seq}: made by another podium's fold, so not compared; a reload folds "
        "the log instead, and the engine's next stop stores this podium's."
        for seq in snapshots.others
    ]
    for item in snapshots.damaged:
        lines.append(f"State {item}.")
        if "a reload would start from it" in item.detail:
            lines.append(
                "  The log is whole and is what counts: with no engine running, drop the snapshot "
                f'with `sqlite3 {path} "DELETE FROM snapshots"` (a cache of the log: the next '
                "reload folds the whole log and stores a new one)."
            )
        else:
            lines.append(
                "  A reload ignores it and folds the whole log (slower, nothing is lost); the "
                f"engine's next stop (`podium resume {path}`) stores a new one."
            )
    return lines


def _events_line(report: Report) -> str:
    span = ""
    if report.first_seq is not None:
        span = f" (seq {report.first_seq}–{report.last_seq})"
    text = f"{report.events_read} events read{span}"
    if report.events:
        text += f", {report.events_damaged} cannot be read"
    return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _count(items: list[Damage]) -> str:
    return f", {len(items)} cannot be" if items else ""


def _listed(items: list[Damage]) -> list[str]:
    lines = [f"  {item}" for item in items[:_LISTED]]
    if len(items) > _LISTED:
        lines.append(f"  … and {len(items) - _LISTED} more")
    return lines


def as_json(report: Report, snapshots: SnapshotReport | None = None) -> dict[str, Any]:
    def damage(item: Damage) -> dict[str, Any]:
        return {
            "where": item.where,
            "detail": item.detail,
            "first_seq": item.first_seq,
            "last_seq": item.last_seq,
            "kind": item.kind,
        }

    return {
        "path": str(report.path),
        "whole": _whole(report, snapshots),
        "unreadable": report.unreadable,
        "integrity": report.integrity,
        "pages": report.pages,
        "tables": report.tables,
        "events": {
            "read": report.events_read,
            "first_seq": report.first_seq,
            "last_seq": report.last_seq,
            "damaged": [damage(d) for d in report.events],
        },
        "commands": {"read": report.commands_read, "damaged": [damage(d) for d in report.commands]},
        "meta": {"read": report.meta_read, "damaged": [damage(d) for d in report.meta]},
        "snapshots": None  # not checked: the log is damaged
        if snapshots is None
        else {
            "read": snapshots.read,
            "verified": snapshots.verified,
            "other_fold": snapshots.others,
            "damaged": [damage(d) for d in snapshots.damaged],
        },
    }
