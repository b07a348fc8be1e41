"""Bad input everywhere: fuzzed command lines and damaged databases give a clear message and
an exit code, never a traceback; a damaged database is left as it was."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.cli import main

from .test_headless_cli import FAST, TWO, explicit, podium, production

COMMANDS = [
    "validate",
    "run",
    "resume",
    "status",
    "inbox",
    "decide",
    "vision",
    "constraints",
    "export",
    "ps",
    "stop",
    "attach",
    "serve",
    "nonsense",
    "",
]
FLAGS = [
    "--db",
    "--json",
    "--headless",
    "--auto-approve",
    "--model",
    "--seed",
    "--out",
    "--option",
    "--task",
    "--replace",
    "--count",
    "--id",
    "--rerun",
    "--theme",
    "--help",
    "--version",
    "-h",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A completed production, a waiting one, junk files and a folder to aim the fuzz at."""
    root = tmp_path_factory.mktemp("fuzz")
    done = root / "done.db"
    path = production(root, explicit(TWO, FAST))
    assert (
        podium(
            "run", str(path), "--headless", "--auto-approve", "all", "--db", str(done)
        ).returncode
        == 0
    )
    waiting = root / "waiting.db"
    assert podium("run", str(path), "--headless", "--db", str(waiting)).returncode == 3
    (root / "junk.db").write_bytes(os.urandom(4096))
    (root / "empty.toml").write_text("")
    (root / "text.db").write_text("hello\n")
    (root / "folder").mkdir()
    return {
        "done": done,
        "waiting": waiting,
        "toml": path,
        "junk": root / "junk.db",
        "empty": root / "empty.toml",
        "text": root / "text.db",
        "folder": root / "folder",
        "missing": root / "missing.db",
    }


def argument(files: dict[str, Path]) -> st.SearchStrategy[str]:
    paths = st.sampled_from([str(p) for k, p in files.items() if k != "toml"])
    words = st.sampled_from(
        [
            "approve",
            "override",
            "retry",
            "skip",
            "e1",
            "e99",
            "-",
            "premise",
            "max_concurrency=0",
            "max_concurrency=4",
            "budget_usd=-1",
            "x=",
            "=",
            "none",
            "all",
            "gates",
            "0",
            "-5",
            "1e309",
            "nan",
        ]
    )
    return st.one_of(paths, words, st.sampled_from(FLAGS), st.text(max_size=300))


@settings(
    max_examples=int(os.environ.get("PODIUM_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzzed_command_lines_never_raise(files: dict[str, Path], data: st.DataObject) -> None:
    command = data.draw(st.sampled_from(COMMANDS))
    rest = data.draw(st.lists(argument(files), max_size=6))
    argv = [c for c in [command, *rest] if c != ""] if command else rest
    if argv[:1] == ["run"] and str(files["toml"]) in argv:
        return  # a valid file would start a real production; covered elsewhere
    err = io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    assert code in (0, 1, 2, 3), (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue() + out.getvalue()
    if code == 2:
        assert err.getvalue().strip(), (argv, "refused without saying why")


def _refused(db: Path, *commands: list[str]) -> None:
    """Each command exits 2 naming the file, and leaves it as it was, with no DB.lock or DB.log
    beside it that was not there before."""
    before = db.read_bytes()
    listing = set(db.parent.iterdir())
    for args in commands:
        result = podium(*[a.replace("DB", str(db)) for a in args])
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert str(db) in result.stderr, result.stderr
        made = {p.name for p in set(db.parent.iterdir()) - listing}
        assert not {n for n in made if n.endswith((".lock", ".log"))}, (args, made)
    assert db.read_bytes() == before


def _completed(tmp_path: Path) -> Path:
    db = tmp_path / "p.db"
    path = production(tmp_path, explicit(TWO, FAST))
    assert (
        podium("run", str(path), "--headless", "--auto-approve", "all", "--db", str(db)).returncode
        == 0
    )
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    return db


ALL_READERS = (
    ["status", "DB"],
    ["inbox", "DB", "--json"],
    ["resume", "DB", "--headless"],
    ["decide", "DB", "e1", "approve"],
    ["export", "DB", "--out", "OUT"],
)


def test_a_truncated_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = _completed(tmp_path)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    _refused(db, *[[a.replace("OUT", str(tmp_path / "out")) for a in c] for c in ALL_READERS])


def test_a_corrupt_database_is_refused(tmp_path: Path) -> None:
    db = _completed(tmp_path)
    data = bytearray(db.read_bytes())
    data[4096:8192] = os.urandom(4096)
    db.write_bytes(bytes(data))
    _refused(db, ["status", "DB"], ["resume", "DB", "--headless"])


def test_a_database_from_a_newer_podium_is_refused(tmp_path: Path) -> None:
    db = _completed(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    _refused(
        db,
        ["status", "DB"],
        ["resume", "DB", "--headless"],
        ["resume", "DB", "--detach"],
        ["decide", "DB", "e1", "approve"],
    )


def test_a_locked_database_says_so(tmp_path: Path) -> None:
    db = _completed(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\nprint('locked', flush=True)\ntime.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = podium("decide", str(db), "-", "pause", timeout=60)
    finally:
        holder.kill()
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr
    assert "locked" in result.stderr
    assert podium("status", str(db)).returncode == 0  # fine once the lock is gone


def test_a_production_file_path_that_is_a_database_is_explained(tmp_path: Path) -> None:
    db = _completed(tmp_path)
    result = podium("run", str(db), "--headless")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def test_a_production_file_given_for_a_database_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = production(tmp_path, explicit(TWO, FAST))
    _refused(
        path,
        ["resume", "DB"],
        ["resume", "DB", "--headless"],
        ["resume", "DB", "--detach"],
        ["stop", "DB"],
        ["serve", "DB"],
        ["attach", "DB"],
    )
    result = podium("resume", str(path), "--headless")
    assert f"start it with `podium run {path}`" in result.stderr


def test_run_into_a_database_it_must_refuse_leaves_nothing_beside_it(tmp_path: Path) -> None:
    source = tmp_path / "files"
    source.mkdir()
    toml = production(source, explicit(TWO, FAST))
    foreign = tmp_path / "dbs" / "other.db"
    foreign.parent.mkdir()
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    newer = _completed(tmp_path / "dbs")
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    junk = tmp_path / "dbs" / "junk.db"
    junk.write_bytes(os.urandom(4096))
    for db in (foreign, newer, junk):
        _refused(
            db,
            ["run", str(toml), "--headless", "--db", "DB"],
            ["run", str(toml), "--detach", "--db", "DB"],
        )
    folder = tmp_path / "dbs" / "folder.db"
    folder.mkdir()
    before = sorted((tmp_path / "dbs").iterdir())
    result = podium("run", str(toml), "--headless", "--db", str(folder))
    assert result.returncode == 2 and "is a folder" in result.stderr
    assert sorted((tmp_path / "dbs").iterdir()) == before
    assert not any(folder.iterdir())


def test_a_named_pipe_given_for_a_database_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = tmp_path / "p.db"
    os.mkfifo(pipe)
    for args in (["status", "DB"], ["resume", "DB", "--headless"], ["decide", "DB", "-", "pause"]):
        result = podium(*[a.replace("DB", str(pipe)) for a in args], timeout=30)
        assert result.returncode == 2, (args, result.stderr)
        assert f"{pipe} is not a regular file" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.db"]


def test_a_deeply_nested_constraint_is_refused_and_the_log_stays_readable(tmp_path: Path) -> None:
    """Stored, a 200-deep value would be an event the log's JSON reader can never read back."""
    db = _completed(tmp_path)
    for depth, message in (
        (200, "nested more than 32 levels deep"),
        (5000, "Input should be a valid number"),
    ):
        nested = "[" * depth + "]" * depth
        result = podium("constraints", str(db), f"budget_usd={nested}")
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert f"budget_usd: {message}" in result.stderr
    assert podium("status", str(db), "--json").returncode == 0


# -- arguments that are not text, or that carry terminal controls (issue 14 §2, §3) -----------

NOT_UTF8 = b"\xff\xfe"
LONE_SURROGATE = "\ud800".encode("utf-8", "surrogatepass")  # what a CESU-8 tool would pass


def _rows(db: Path) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        commands = conn.execute("SELECT count(*) FROM commands").fetchone()[0]
    return events, commands


def _run_bytes(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    argv = [a.encode() if isinstance(a, str) else a for a in args]
    return subprocess.run(
        [sys.executable.encode(), b"-m", b"podium", *argv],
        capture_output=True,
        timeout=60,
        env={**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
        check=False,
    )


@pytest.fixture(scope="module")
def waiting_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("args")
    db = root / "p.db"
    path = production(root, explicit(TWO, FAST))
    assert podium("run", str(path), "--headless", "--db", str(db)).returncode == 3
    return db


def _argument_cases(bad: bytes) -> list[tuple[list[str | bytes], str]]:
    return [
        (["decide", "DB", "-", "feedback", "--task", "treat", bad], "TEXT"),
        (["decide", "DB", "-", "feedback", "--task", bad, "more"], "--task"),
        (["decide", "DB", bad, "approve"], "ID"),
        (["decide", "DB", "E1", "approve", "--option", bad], "--option"),
        (["decide", "DB", "-", "feedback", "--task", "treat", "--id", bad, "x"], "--id"),
        (["decide", "DB", "-", "override", "--task", "treat", b"darker " + bad], "TEXT"),
        (["vision", "DB", "tone", b"warm" + bad], "TEXT"),
        (["vision", "DB", "tone", "warm", "--reason", bad], "--reason"),
        (["vision", "DB", bad, "warm"], "SECTION"),
        (["constraints", "DB", b"max_concurrency=" + bad], "KEY=VALUE"),
        (["constraints", "DB", "retries=2", "--id", bad], "--id"),
    ]


@pytest.mark.parametrize("bad", [NOT_UTF8, LONE_SURROGATE], ids=["xff-xfe", "lone-surrogate"])
def test_an_argument_that_is_not_text_is_refused_by_name(waiting_db: Path, bad: bytes) -> None:
    before = _rows(waiting_db)
    for args, name in _argument_cases(bad):
        result = _run_bytes(*[str(waiting_db) if a == "DB" else a for a in args])
        err = result.stderr.decode("utf-8", "replace")
        assert result.returncode == 2, (args, err)
        assert "Traceback" not in err, err
        [line] = err.splitlines()
        assert line == (
            f"podium {args[0]}: {name} is not valid text: it holds bytes that are not UTF-8 "
            "(nothing was done)"
        ), args
    assert _rows(waiting_db) == before


def test_a_path_that_is_not_text_is_refused_too(tmp_path: Path) -> None:
    result = _run_bytes("status", bytes(tmp_path).rstrip(b"/") + b"/" + NOT_UTF8 + b".db")
    assert result.returncode == 2
    assert result.stderr.decode() == (
        "podium status: DB is not valid text: it holds bytes that are not UTF-8 "
        "(nothing was done)\n"
    )


CONTROLS = {
    "OSC 52": "\x1b]52;c;SGVsbG8=\x07",
    "OSC 0": "\x1b]0;pwned\x07",
    "clear": "\x1b[2J",
    "C1 CSI": "\x9b2J",
    "lone CR": "over\rwrite",
    "bidi": "abc\u202edef",
}


@pytest.mark.parametrize("payload", CONTROLS.values(), ids=CONTROLS.keys())
def test_terminal_controls_in_arguments_are_refused_and_nothing_is_recorded(
    waiting_db: Path, payload: str
) -> None:
    before = _rows(waiting_db)
    for args, name in _argument_cases(payload.encode()):
        result = _run_bytes(*[str(waiting_db) if a == "DB" else a for a in args])
        err = result.stderr.decode()
        assert result.returncode == 2, (args, err)
        [line] = err.splitlines()
        assert line.startswith(f"podium {args[0]}: {name} holds "), (args, line)
        assert line.endswith("; remove it (nothing was done)"), line
        assert "\x1b" not in err and "\x9b" not in err
    assert _rows(waiting_db) == before


# -- limits and strict values at the command line (issue 14 §5) ------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["decide", "DB", "-", "request_alternatives", "--task", "treat", "--count", "0"],
            "podium: --count 0: ask for 2 to 6 alternatives; nothing was recorded",
        ),
        (
            ["decide", "DB", "-", "request_alternatives", "--task", "treat", "--count", "7"],
            "podium: --count 7: ask for 2 to 6 alternatives; nothing was recorded",
        ),
        (
            ["decide", "DB", "-", "feedback", "--task", "treat", "x" * 20_001],
            "podium: feedback is 20,001 characters; at most 20,000",
        ),
        (
            ["decide", "DB", "-", "override", "--task", "treat", "y" * 20_001],
            "podium: the direction is 20,001 characters; at most 20,000",
        ),
        (
            ["constraints", "DB", 'max_per_model={"gpt4":2}'],
            "podium: max_per_model.gpt4: 'gpt4' names no provider",
        ),
        (
            ["constraints", "DB", "max_concurrency=true"],
            "podium: max_concurrency: Input should be a valid integer; nothing was recorded",
        ),
        (
            ["constraints", "DB", 'retries="3"'],
            "podium: retries: Input should be a valid integer; nothing was recorded",
        ),
        (
            ["constraints", "DB", 'max_per_model={"rehearsal/\\u001b]0;x\\u0007":2}'],
            "podium: max_per_model.rehearsal/",
        ),
    ],
)
def test_values_a_file_would_refuse_are_refused_at_once(
    waiting_db: Path, args: list[str], message: str
) -> None:
    before = _rows(waiting_db)
    result = podium(*[str(waiting_db) if a == "DB" else a for a in args])
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(message), line
    assert line.endswith("nothing was recorded"), line
    assert "\x1b" not in line
    assert _rows(waiting_db) == before
