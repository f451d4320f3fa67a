"""The house's structure, held as tests: modules import one another in one direction (no
cycle, counting imports inside functions too), each engine is loaded only when it is the one
used (the Sphinx engine never loads the Whoosh engine), and the records a search returns and
the rendering of them load no engine, so scripts and printers can use them alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "searchnews"


def _name(path: Path) -> str:
    """``searchnews/engines/whoosh/index.py`` → ``searchnews.engines.whoosh.index``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The package's modules that ``path`` imports, at the top or inside a function (not
    those for type checkers only, under ``if TYPE_CHECKING:``)."""
    name = _name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", None) == "TYPE_CHECKING"
                   for n in ast.walk(block)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] +
                            ([node.module] if node.module else [])) if node.level \
                else node.module or ""
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                         for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES} - {name}


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
    graph = {name: _imports(path) for name, path in MODULES.items()}
    assert "searchnews.engines.whoosh.index" in graph["searchnews.engines.whoosh"], \
        "the module graph was not read"                        # the test reads something
    assert "searchnews.pipeline" in graph["searchnews.engines.sphinx.engine"]
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def _loaded(imports: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules under ``prefixes`` that a fresh Python has loaded after ``imports``."""
    code = (f"import sys, {imports}; print(sorted(m for m in sys.modules "
            f"if m.startswith({prefixes!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return eval(out)


def test_records_and_rendering_load_no_engine():
    assert _loaded("searchnews.records, searchnews.output",
                   ("whoosh", "numpy", "pymysql", "searchnews.engines", "searchnews.query",
                    "searchnews.pipeline")) == []


def test_the_sphinx_engine_does_not_load_the_whoosh_engine():
    loaded = _loaded("searchnews.engines.sphinx", ("searchnews.engines",))
    assert "searchnews.engines.sphinx.engine" in loaded      # it did load something
    assert [m for m in loaded if m.startswith("searchnews.engines.whoosh")] == []


def test_the_whoosh_engine_does_not_load_the_sphinx_engine():
    loaded = _loaded("searchnews.engines.whoosh", ("searchnews.engines", "pymysql"))
    assert "searchnews.engines.whoosh.index" in loaded
    assert [m for m in loaded if "sphinx" in m or m == "pymysql"] == []
