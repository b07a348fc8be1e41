"""`podium validate`, run as a user runs it: the installed command, in a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "sample_productions").glob("*.toml"))


def _podium() -> list[str]:
    """The console script next to this interpreter, else on PATH, else `python -m podium`."""
    beside = Path(sys.executable).with_name("podium")
    if beside.exists():
        return [str(beside)]
    if found := shutil.which("podium"):
        return [found]
    return [sys.executable, "-m", "podium"]


def podium(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*_podium(), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_each_sample_validates(sample: Path) -> None:
    result = podium("validate", str(sample.relative_to(ROOT)))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{sample.relative_to(ROOT)}: ok: ")
    assert result.stderr == ""


def test_all_samples_at_once() -> None:
    result = podium("validate", *(str(p) for p in SAMPLES))

    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(SAMPLES)


def test_a_broken_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    sample = (ROOT / "sample_productions" / "last_light.toml").read_text(encoding="utf-8")
    broken = sample.replace('format = "short_film"', 'format = "short-film"', 1)
    broken = broken.replace("max_concurrency = 8", "max_concurrency = 0", 1)
    path = tmp_path / "broken.toml"
    path.write_text(broken, encoding="utf-8")
    format_line = 1 + broken.splitlines().index('format = "short-film"')
    limit_line = 1 + next(
        i for i, line in enumerate(broken.splitlines()) if line.startswith("max_concurrency = 0")
    )

    result = podium("validate", str(path))

    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:{format_line}: production.format: ")
    assert "did you mean 'short_film'?" in lines[0]
    assert lines[1].startswith(f"{path}:{limit_line}: constraints.max_concurrency: ")


def test_a_toml_syntax_error_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "syntax.toml"
    path.write_text('[production]\ntitle = "unclosed\n', encoding="utf-8")

    result = podium("validate", str(path))

    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}:2: toml: TOML syntax:")
    assert "Traceback" not in result.stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    result = podium("validate", str(path))

    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}:1: file: no such file"


def test_help_and_version_exit_0() -> None:
    helped = podium("--help")
    assert helped.returncode == 0
    assert "validate" in helped.stdout

    version = podium("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("podium ")


def test_validate_without_a_file_is_a_usage_error() -> None:
    result = podium("validate")

    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def _refused(result: subprocess.CompletedProcess[str], path: Path, message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip() == f"{path}:1: file: {message}"


def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "pipe.toml"
    os.mkfifo(path)

    result = podium("validate", str(path), timeout=30)

    _refused(
        result, path, "is a named pipe (FIFO), not a regular file; give a production file (.toml)"
    )


def test_a_device_and_a_socket_are_refused(tmp_path: Path) -> None:
    zero = Path("/dev/zero")
    _refused(
        podium("validate", str(zero), timeout=30),
        zero,
        "is a character device, not a regular file; give a production file (.toml)",
    )
    path = tmp_path / "sock.toml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        result = podium("validate", str(path), timeout=30)
    _refused(result, path, "is a socket, not a regular file; give a production file (.toml)")


def test_a_huge_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    with path.open("wb") as handle:
        handle.truncate(11 * 1024 * 1024)  # sparse: nothing is written

    result = podium("validate", str(path), timeout=30)

    _refused(
        result, path, "is 11.0 MiB; a production file is at most 1 MiB (is this the right file?)"
    )


def test_nesting_too_deep_for_the_toml_parser_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a=" + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")

    result = podium("validate", str(path))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"{path}:1: toml: arrays or tables nested too deeply (at most 32 levels)"
    )


def test_a_model_name_without_a_provider_fails_validation_without_litellm(
    tmp_path: Path,
) -> None:
    """`run` would refuse "gpt4"; `validate` says so first, with the line, and stays fast."""
    sample = (ROOT / "sample_productions" / "last_light.toml").read_text(encoding="utf-8")
    text = sample.replace('default = "rehearsal/last-light"', 'default = "gpt4"', 1)
    path = tmp_path / "gpt4.toml"
    path.write_text(text, encoding="utf-8")
    line = 1 + text.splitlines().index('default = "gpt4"')

    result = podium("validate", str(path))

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{path}:{line}: models.default: 'gpt4' names no provider")
    probe = (
        "import sys\nfrom podium.cli import main\n"
        f"code = main(['validate', {str(path)!r}])\n"
        "print(code, 'litellm' in sys.modules)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert imported.stdout.split() == ["2", "False"]


def test_a_file_with_terminal_escapes_is_refused_by_validate_and_run(tmp_path: Path) -> None:
    """Issue 14 §2: every string carrying an escape refused at its line; nothing echoed raw."""
    from tests.unit.test_production_file import HOSTILE, _inject

    text, lines = _inject((ROOT / "sample_productions" / "last_light.toml").read_text(), HOSTILE)
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    db = tmp_path / "hostile.db"

    for args in (["validate", str(path)], ["run", str(path), "--headless", "--db", str(db)]):
        result = podium(*args)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        control = {
            int(line.split(":")[1])
            for line in result.stderr.splitlines()
            if line.endswith("a terminal control character; remove it")
            or line.endswith("a bidirectional control, which reorders text on screen; remove it")
        }
        assert control == set(lines), args
        for byte in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
            assert byte not in result.stdout + result.stderr
    assert not db.exists()


def _peak_rss_mb(*args: str) -> tuple[int, str]:
    """`podium ARGS`'s peak resident memory, measured by a fresh parent that runs nothing else."""
    probe = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
        "print(peak, done.returncode, done.stderr.splitlines()[0] if done.stderr else '')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *_podium(), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.split(" ", 2)
    assert out[1] == "2", out
    return int(out[0]), out[2]


def test_validate_stays_under_200_mb_on_any_input(tmp_path: Path) -> None:
    """Issue 14 §5: a 10 MB line cost 1.25 GB; a file of 100,000 wrong values 124 MB."""
    sample = (ROOT / "sample_productions" / "arctic_journey.toml").read_text(encoding="utf-8")
    room = 1024 * 1024 - len(sample) - 100
    cases = {
        "ten_mb_line.toml": 'x = "' + "a" * 10_000_000 + '"\n',
        "one_mib_line.toml": 'x = "' + "a" * (1024 * 1024 - 10) + '"\n',
        "wrong_values.toml": sample.replace("themes = [", "themes = [" + "1," * 99_000, 1),
        "too_many_values.toml": sample.replace("themes = [", "themes = [" + "1," * (room // 2), 1),
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert path.stat().st_size <= 10_000_100
        peak, first = _peak_rss_mb("validate", str(path))
        assert peak < 200, (name, peak, first)
