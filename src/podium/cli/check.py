"""`podium check DB`: what of a production database is damaged, read without writing a byte.

Exit 0 when the file is whole, 1 when something is damaged (the report says what), 2 when it is
no production database to check (missing, a folder, another program's file, a newer podium's).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from podium.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, say, warn
from podium.store import StoreError
from podium.store.salvage import Damage, Report
from podium.store.salvage import check as check_file

_LISTED = 20  # damaged rows named one by one; the rest are counted


def check(args: argparse.Namespace) -> int:
    path = Path(args.db_path)
    try:
        report = check_file(path)
    except StoreError as exc:
        warn(f"podium: {exc}")
        return EXIT_BAD_INPUT
    if args.json:
        say(json.dumps(as_json(report), ensure_ascii=False))
    else:
        for line in describe(report):
            say(line)
    return EXIT_OK if report.whole else EXIT_FAILED


def describe(report: Report) -> list[str]:
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
        return [f"{path}: whole. SQLite's integrity check: ok; {events}; {extra} read.", *gaps]
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
    lines.append(
        f"Nothing was written. Save what can be read with `podium export {path} --out DIR "
        "--salvage`; the rest is only in a backup."
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


def as_json(report: Report) -> dict[str, Any]:
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
        "whole": report.whole,
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
    }
