"""The `podium` command. Fast to start: heavy packages are imported inside the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from podium import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_WAITING = 3


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(text + "\n")


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one clear line (its own default), never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="podium",
        description=(
            "Conduct a crew of LLM agents making a film, a series or an illustrated story. "
            "Works offline with the rehearsal model; real providers through litellm."
        ),
    )
    parser.add_argument("--version", action="version", version=f"podium {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = commands.add_parser(
        "validate",
        help="check production files; exit 2 with FILE:LINE: field: message when one is wrong",
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(handler=_validate)
    return parser


def _validate(args: argparse.Namespace) -> int:
    from podium.domain.loading import ProductionFileError
    from podium.loader import read_production

    status = EXIT_OK
    for path in args.files:
        try:
            spec = read_production(path)
        except ProductionFileError as exc:
            for issue in exc.issues:
                warn(str(issue))
            status = EXIT_BAD_INPUT
        else:
            say(
                f"{path}: ok: {spec.production.title!r} ({spec.production.format.value}), "
                f"{len(spec.crew)} agents, {len(spec.tasks)} tasks in the file"
            )
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_OK
    try:
        code: int = handler(args)
    except KeyboardInterrupt:
        warn("podium: interrupted")
        return 130
    return code
