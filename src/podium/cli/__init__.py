"""The `podium` command. Fast to start: heavy packages are imported inside the commands."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from podium import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_WAITING = 3
EXIT_RECORDED = 4  # a command recorded durably, applied when an engine runs
EXIT_INTERRUPTED = 130


def say(text: str) -> None:
    sys.stdout.write(text + "\n")


def warn(text: str) -> None:
    sys.stderr.write(text + "\n")


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one clear line (its own default), never a traceback."""

    intermixed = False
    """For commands that end in free TEXT: options and the words of TEXT mix in any order
    (`decide DB - feedback --task t1 more light`), as people type them."""
    _intermixing = False

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if not self.intermixed or self._intermixing:  # the intermixed parse calls back in here
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


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

    run = commands.add_parser("run", help="make a production from a production file")
    run.add_argument("file", metavar="FILE", help="production file (.toml)")
    run.add_argument("--db", metavar="PATH", help="database (default: one per production)")
    run.add_argument("--model", metavar="MODEL", help="model for every agent (litellm string)")
    run.add_argument("--seed", type=int, metavar="N", help="seed of the rehearsal model")
    run.add_argument("--theme", metavar="NAME", help="TUI theme")
    _run_options(run)
    run.set_defaults(handler=_lazy("run", module="remote"))

    resume = commands.add_parser("resume", help="continue a production where it stopped")
    resume.add_argument("db_path", metavar="DB")
    resume.add_argument("--theme", metavar="NAME", help="TUI theme")
    _run_options(resume)
    resume.set_defaults(handler=_lazy("resume", module="remote"))

    status = commands.add_parser("status", help="where a production stands")
    status.add_argument("db_path", metavar="DB")
    status.add_argument("--json", action="store_true", help="one JSON object on stdout")
    status.set_defaults(handler=_lazy("status"))

    inbox = commands.add_parser("inbox", help="the open escalations")
    inbox.add_argument("db_path", metavar="DB")
    inbox.add_argument("--json", action="store_true", help="a JSON array on stdout")
    inbox.add_argument(
        "--all", action="store_true", help="the decided escalations too, with their resolution"
    )
    inbox.set_defaults(handler=_lazy("inbox", module="decide"))

    decide = commands.add_parser(
        "decide",
        help="decide an escalation: approve, override, retry, skip, reassign, …",
        description="Record the Orchestrator's decision. ID is an escalation id from "
        "`podium inbox`, or - with --task for commands on a task (feedback, pause, resume).",
    )
    decide.intermixed = True
    decide.add_argument("db_path", metavar="DB")
    decide.add_argument("escalation_id", metavar="ID")
    decide.add_argument("action", metavar="ACTION")
    decide.add_argument(
        "text",
        nargs="*",
        default=[],
        metavar="TEXT",
        help="direction, text or agent id; KEY=VALUE pairs for adjust_constraints",
    )
    decide.add_argument("--option", metavar="OPTION", help="the option chosen (approve)")
    decide.add_argument("--task", metavar="TASK", help="the task, when ID is -")
    decide.add_argument("--replace", action="store_true", help="override: TEXT replaces output")
    decide.add_argument("--count", type=int, help="request_alternatives: how many (2-6)")
    decide.add_argument(
        "--file", metavar="FILE", help="edit (a plan escalation): the plan as TOML; else $EDITOR"
    )
    decide.add_argument("--id", metavar="CMD_ID", help="command id, for idempotent scripts")
    decide.set_defaults(handler=_lazy("decide", module="deciding"))  # edit: the plan's

    vision = commands.add_parser("vision", help="clarify a section of the vision")
    vision.intermixed = True
    vision.add_argument("db_path", metavar="DB")
    vision.add_argument("section", metavar="SECTION", help="premise, themes, tone, …")
    vision.add_argument("text", nargs="+", metavar="TEXT")
    vision.add_argument(
        "--reason", metavar="WHY", help="why it changes (the production bible's Why: line)"
    )
    vision.add_argument("--rerun", action="store_true", help="re-run stale tasks at once")
    vision.add_argument("--id", metavar="CMD_ID", help="command id, for idempotent scripts")
    vision.set_defaults(handler=_lazy("vision", module="decide"))

    constraints = commands.add_parser("constraints", help="adjust constraints live")
    constraints.add_argument("db_path", metavar="DB")
    constraints.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    constraints.add_argument("--id", metavar="CMD_ID", help="command id, for idempotent scripts")
    constraints.set_defaults(handler=_lazy("constraints", module="decide"))

    attach = commands.add_parser(
        "attach", help="open the conductor's screen on a production running in the background"
    )
    attach.add_argument("db_path", metavar="DB")
    attach.add_argument("--theme", metavar="NAME", help="TUI theme")
    attach.set_defaults(handler=_lazy("attach", module="remote"))

    ps = commands.add_parser("ps", help="the productions on this machine and their state")
    ps.add_argument("--json", action="store_true", help="a JSON array on stdout")
    ps.set_defaults(handler=_lazy("ps", module="remote"))

    serve = commands.add_parser(
        "serve", help="serve the attached conductor's screen in a browser (127.0.0.1 by default)"
    )
    serve.add_argument("db_path", metavar="DB")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--max-clients",
        type=int,
        default=4,
        metavar="N",
        help="browser tabs served at once, each one `podium attach` (default 4)",
    )
    serve.add_argument(
        "--token-file",
        metavar="F",
        help="read the token from F instead of making one (or set PODIUM_SERVE_TOKEN)",
    )
    serve.set_defaults(handler=_lazy("serve", module="serve"))

    stop = commands.add_parser("stop", help="stop a production running in the background")
    stop.add_argument("db_path", metavar="DB")
    stop.set_defaults(handler=_lazy("stop", module="remote"))

    export = commands.add_parser("export", help="write the deliverables and the decision log")
    export.add_argument("db_path", metavar="DB")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    export.add_argument(
        "--salvage",
        action="store_true",
        help="from a damaged database: export what can be read, and name what was skipped",
    )
    export.add_argument(
        "--force",
        action="store_true",
        help="replace files in DIR that an earlier export did not write (or that were changed)",
    )
    export.add_argument(
        "--allow-stale",
        "--draft",
        dest="allow_stale",
        action="store_true",
        help="export a production that is stale or not finished, marked so on every page",
    )
    export.add_argument(
        "--no-animatic",
        dest="no_animatic",
        action="store_true",
        help="leave the animatic out: with ffmpeg installed it is most of an export's time",
    )
    export.set_defaults(handler=_lazy("export", module="export"))

    check = commands.add_parser(
        "check",
        help="what of a production database is damaged (reads it; never writes)",
        description="Run SQLite's integrity check and decode every event, command and meta "
        "fact; with a whole log, compare each state snapshot with the fold of the log up to "
        "its seq. Exit 0 when the file is whole, 1 when something is damaged, 2 when it is no "
        "production database.",
    )
    check.add_argument("db_path", metavar="DB")
    check.add_argument("--json", action="store_true", help="one JSON object on stdout")
    check.set_defaults(handler=_lazy("check", module="check"))
    _version_commands(commands)
    return parser


def _version_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`show`, `diff`, `log` and `fork`: the Orchestrator's read tools on versions; `edit` and
    `restore`, the two that write one."""
    show = commands.add_parser(
        "show",
        help="a task's version in its human format (Fountain, Markdown or CSV) on stdout",
        description="Print a version of TASK (default: its current one) in its human format; "
        "what it is (version N of M, author, status) goes to stderr, so `> FILE` is clean.",
    )
    show.add_argument("db_path", metavar="DB")
    show.add_argument("task", metavar="TASK")
    show.add_argument("--version", type=int, metavar="N", help="version N (1 is the first)")
    show.add_argument("--json", action="store_true", help="one JSON object on stdout")
    show.set_defaults(handler=_lazy("show", module="versions"))

    diff = commands.add_parser(
        "diff",
        help="a unified diff of two versions of a task (default: the previous and the current)",
    )
    diff.add_argument("db_path", metavar="DB")
    diff.add_argument("task", metavar="TASK")
    diff.add_argument("a", type=int, nargs="?", metavar="A", help="the older version")
    diff.add_argument("b", type=int, nargs="?", metavar="B", help="the newer (default: current)")
    diff.set_defaults(handler=_lazy("diff", module="versions"))

    log = commands.add_parser(
        "log", help="the production's history (decisions, versions, vision), with each seq"
    )
    log.add_argument("db_path", metavar="DB")
    log.add_argument("--json", action="store_true", help="a JSON array on stdout")
    log.set_defaults(handler=_lazy("log", module="versions"))

    fork = commands.add_parser(
        "fork",
        help="a new, independent production from the log up to a seq (resume it to diverge)",
    )
    fork.add_argument("db_path", metavar="DB")
    fork.add_argument("--at", type=int, required=True, metavar="SEQ", help="the last event kept")
    fork.add_argument("--db", dest="new", required=True, metavar="NEW", help="the new database")
    fork.set_defaults(handler=_lazy("fork", module="fork"))

    edit = commands.add_parser(
        "edit",
        help="write a new version of a task by hand, in its human format ($EDITOR or --file)",
        description="Record a version of TASK written by hand: without --file, $EDITOR (then "
        "$VISUAL, then vi) opens on the current version in its human format (Fountain, "
        "Markdown or CSV). It becomes current as written; what was made from the old one goes "
        "stale and is made again. A line that cannot be read is named (FILE:LINE: message) and "
        "nothing is recorded. Exit codes as `decide`.",
    )
    edit.add_argument("db_path", metavar="DB")
    edit.add_argument("task", metavar="TASK")
    edit.add_argument("--file", metavar="F", help="read the version from F instead of an editor")
    edit.add_argument("--id", metavar="CMD_ID", help="command id, for idempotent scripts")
    edit.set_defaults(handler=_lazy("edit", module="edit"))

    restore = commands.add_parser(
        "restore",
        help="make version N of a task current again (what was made from it is made again)",
    )
    restore.add_argument("db_path", metavar="DB")
    restore.add_argument("task", metavar="TASK")
    restore.add_argument("version", type=int, metavar="N", help="the version (1 is the first)")
    restore.add_argument("--id", metavar="CMD_ID", help="command id, for idempotent scripts")
    restore.set_defaults(handler=_lazy("restore", module="edit"))


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help="no TUI; progress on stderr")
    parser.add_argument(
        "--detach",
        action="store_true",
        help="run in the background, independent of this terminal; attach with `podium attach`",
    )
    # The detached engine itself: headless, and it stays up while it waits on the Orchestrator.
    parser.add_argument("--stay", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--auto-approve",
        choices=("none", "gates", "all"),
        default="none",
        help="headless: approve gates (or everything but budgets) automatically",
    )


def _lazy(name: str, module: str = "production") -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from importlib import import_module

        command: Callable[[argparse.Namespace], int] = getattr(
            import_module(f"podium.cli.{module}"), name
        )
        return command(args)

    return handler


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


YOUNG_THRESHOLD = 10_000
_policy_set = False


def collector_policy() -> None:
    """The cyclic garbage collector's pace for this process: set once, here, never elsewhere.

    A run keeps thousands of young objects alive at once (each task's coroutine frames, request,
    stream and events) and a reload makes models by the hundred thousand, nearly all long-lived.
    At CPython's default pace, a young collection every 700 new objects, the collector scans
    those survivors again and again for nothing: reference counting frees nearly everything
    podium makes, and it makes few cycles. So the young generation grows to YOUNG_THRESHOLD
    objects before it is collected; the collector is off only while a run starts
    (`hold_collector`). Figures: docs/performance.md.
    """
    global _policy_set
    if _policy_set:  # `main` called again in one process (tests): the policy stands
        return
    _policy_set = True
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


_start_held: bool | None = None  # None: no run's start held in this process; True: held now


def hold_collector() -> None:
    """A run's start: collection is off while its command imports podium, the screen or the
    headless reporter, and opens the production (imports make objects and free next to none);
    `release_collector` turns it on again. Once a process: `main` again (tests) holds nothing."""
    global _start_held
    if _start_held is None:
        _start_held = True
        gc.disable()


def release_collector() -> None:
    """The run starts: what its start made is frozen (`gc.freeze`: no collection walks the
    modules, the models' validators and the production opened again, the last one as the
    process ends included) and collection is on again, for the run's life."""
    global _start_held
    if _start_held:
        _start_held = False
        gc.freeze()
        gc.enable()


def settle_collector() -> None:
    """The screen has drawn the history (the transcript's older entries, after the first
    frame): what it made for it, ~250,000 objects on a 2,000-task series, is frozen too, as
    the start was, so no middle or full collection walks it again while keys are pressed.
    Once a process, and only after `release_collector` (the screen's `settled` hook)."""
    global _settled
    if _start_held is False and not _settled:
        _settled = True
        gc.freeze()


_settled = False


def _collector_on() -> None:
    """A start held and not released (it failed): collection is on again, nothing frozen."""
    global _start_held
    if _start_held:
        _start_held = False
        gc.enable()


def _untyped_argument(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Why an argument cannot be taken, as one sentence naming it, or None: bytes that are not
    UTF-8 (they arrive as lone surrogates) could be neither stored nor shown, and a terminal
    control or bidi character would reach every terminal that shows the value."""
    from podium.domain.text import control_problem

    command = getattr(args, "command", None)
    for dest, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str | Path):
                continue
            text = str(item)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                problem = "is not valid text: it holds bytes that are not UTF-8"
            else:
                if (why := control_problem(text)) is None:
                    continue
                problem = why
            name = _argument_name(parser, command, dest)
            where = f"podium {command}" if command else "podium"
            return f"{where}: {name} {problem} (nothing was done)"
    return None


def _argument_name(parser: argparse.ArgumentParser, command: str | None, dest: str) -> str:
    """How the usage line names an argument: `--task`, or a positional's metavar (`TEXT`)."""
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            actions += action.choices[command]._actions
    for action in actions:
        if action.dest == dest:
            if action.option_strings:
                return max(action.option_strings, key=len)
            return str(action.metavar or dest.upper())
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        if any("\x00" in str(item) for item in values if isinstance(item, str | Path)):
            parser.error(
                f"{name.replace('_path', '')}: contains a NUL character, which no path or value may"
            )
    if (refusal := _untyped_argument(parser, args)) is not None:
        warn(refusal)
        return EXIT_BAD_INPUT
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_OK
    collector_policy()
    try:
        code: int = handler(args)
    except KeyboardInterrupt:
        warn("podium: interrupted")
        return EXIT_INTERRUPTED
    finally:
        _collector_on()
    return code
