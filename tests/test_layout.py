"""The house's structure, held as tests: modules import one another in one direction (no
cycle, counting imports inside functions too), and the records a search returns and the
rendering of them load no engine, so scripts and printers can use them alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "searchnews"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module.split(".")[0]] if node.module else
                         [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("searchnews"):
            parts = node.module.split(".")
            found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("searchnews."))
    return found & modules - {path.stem}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import path that comes back to where it started (depth-first search)."""
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                cycles.append(path[path.index(other):] + [other])
            elif other not in state:
                visit(other, path + [other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycles():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {p.stem: _imports(p, modules) for p in PACKAGE.glob("*.py")}
    assert graph["cli"], "the module graph was not read"      # the test reads something
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_records_and_rendering_load_no_engine():
    code = ("import sys, searchnews.records, searchnews.output; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('whoosh', 'numpy', 'pymysql') or m in ('searchnews.index', 'searchnews.query', 'searchnews.pipeline', "
            "'searchnews.sphinx')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
