"""Boundaries from STYLE.md: only tui imports Textual; `podium --help` imports neither Textual
nor litellm; the rehearsal model never imports litellm.

Every module of the package is loaded, found by walking it (not listed by hand): a module the
engine imports lazily, or an export writer nothing imports at package level, is checked too.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import podium

FORBIDDEN = ("textual", "litellm")
SCREEN = "podium.tui"  # the one package that may import Textual


def _modules() -> list[str]:
    """Every module and package of podium outside the screen, found by walking it."""
    names = [info.name for info in pkgutil.walk_packages(podium.__path__, prefix="podium.")]
    return sorted(name for name in names if name != SCREEN and not name.startswith(SCREEN + "."))


def _imported(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = code + "\nimport sys\nprint('\\nMODULES', *sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    last = out.stdout.splitlines()[-1].split()  # after anything `code` printed (--help)
    assert last[0] == "MODULES", out.stdout[-500:]
    return set(last[1:])


def _forbidden_in(modules: set[str]) -> list[str]:
    """The forbidden top-level packages among `modules`."""
    return sorted({m.split(".")[0] for m in modules} & set(FORBIDDEN))


def test_the_walk_finds_every_module_file() -> None:
    """The walk is not blind: each .py file outside the screen is one module it checks."""
    root = Path(podium.__file__).parent
    files = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[0] == "tui":
            continue
        files.add(".".join(("podium", *parts)))
    files.discard("podium.__main__")  # running it starts the CLI; `main` is checked below
    assert files <= set(_modules()) | {"podium"}
    # Loaded only lazily (from a function) or by nothing at package level: the old blind spots.
    assert {"podium.engine.debate", "podium.engine.planner", "podium.export.fountain"} <= files


def test_no_module_outside_the_screen_imports_textual_or_litellm() -> None:
    """Import every non-screen module into one fresh interpreter, then name any culprit alone."""
    modules = [m for m in _modules() if m != "podium.__main__"]
    loaded = _imported(
        "import importlib\n" + "".join(f"importlib.import_module({name!r})\n" for name in modules)
    )
    assert set(modules) <= loaded
    if not _forbidden_in(loaded):
        return
    # Whichever module pulled one in does so when imported alone too: name each.
    culprits = {
        name: found for name in modules if (found := _forbidden_in(_imported(f"import {name}")))
    }
    raise AssertionError(f"modules outside podium.tui import {FORBIDDEN}: {culprits}")


def test_help_imports_neither_textual_nor_litellm() -> None:
    code = (
        "import sys\nfrom podium.cli import main\nsys.argv=['podium','--help']\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    modules = _imported(code)
    assert not _forbidden_in(modules)
    assert "podium.engine.engine" not in modules


def test_export_writers_do_not_import_textual() -> None:
    """Every writer, loaded: the export package's __init__ alone imports none of them."""
    writers = [m for m in _modules() if m.startswith("podium.export.")]
    assert "podium.export.fountain" in writers
    modules = _imported("".join(f"import {name}\n" for name in writers))
    assert set(writers) <= modules
    assert not _forbidden_in(modules)


def test_rehearsal_model_never_imports_litellm() -> None:
    rehearsal = [m for m in _modules() if m.startswith("podium.llm.rehearsal")]
    modules = _imported("".join(f"import {name}\n" for name in rehearsal))
    assert "litellm" not in {m.split(".")[0] for m in modules}


def test_only_the_entry_sets_garbage_collector_policy() -> None:
    """Library modules never import gc: its policy is the process's, set once by each process's
    entry: `podium`'s `main`, and the provider worker's (`podium.cli.provider_worker`)."""
    root = Path(podium.__file__).parent
    setters = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if "gc" in names:
                setters.append(str(path.relative_to(root)))
    assert setters == ["cli/__init__.py", "cli/provider_worker.py"]


def test_the_entry_sets_the_collector_policy_once(tmp_path: Path) -> None:
    """A command run through `main` raises the young threshold; a second `main` in the same
    process leaves the policy as it stands."""
    code = (
        "import gc\nfrom podium.cli import main, YOUNG_THRESHOLD\n"
        "before = gc.get_threshold()\n"
        f"main(['validate', {str(tmp_path / 'missing.toml')!r}])\n"
        "first = gc.get_threshold()\n"
        "gc.set_threshold(1234, 5, 6)\n"
        f"main(['validate', {str(tmp_path / 'missing.toml')!r}])\n"
        "assert before[0] < YOUNG_THRESHOLD, before\n"
        "assert first == (YOUNG_THRESHOLD, *before[1:]), first\n"
        "assert gc.get_threshold() == (1234, 5, 6), gc.get_threshold()\n"
        "assert gc.isenabled()"
    )
    _imported(code)


def _import_graph() -> dict[str, set[str]]:
    """Each podium module and the podium modules it imports, read from every import statement
    (function-local ones too; `if TYPE_CHECKING:` blocks left out, they never run)."""
    root = Path(podium.__file__).parent
    files = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def typing_only(node: ast.If) -> bool:
        test = node.test
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found: set[str] = set()
        pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
        while pending:
            for node in ast.iter_child_nodes(pending.pop()):
                if isinstance(node, ast.If) and typing_only(node):
                    pending.extend(node.orelse)
                    continue
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = package[: len(package) - node.level + 1] if node.level else []
                    module = ".".join([*base, *([node.module] if node.module else [])])
                    found.add(module)
                    found.update(f"{module}.{alias.name}" for alias in node.names)
                pending.append(node)
        graph[name] = {
            m
            for m in found
            if m in files
            and m != name
            and not name.startswith(m + ".")  # its own package
            and not m.startswith(name + ".")
        }
    return graph


def test_no_import_cycle_between_modules() -> None:
    """No module imports itself back through others, not even from inside a function: each
    layer can be read (and changed) without the ones that use it."""
    graph = _import_graph()
    assert "podium.engine.agent_runner" in graph and graph["podium.engine.debate"]
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append(path[path.index(module) :] + [module])
            return
        if module in done:
            return
        for dependency in sorted(graph[module]):
            visit(dependency, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == [], " ; ".join(" -> ".join(cycle) for cycle in cycles[:5])
