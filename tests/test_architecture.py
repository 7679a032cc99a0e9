"""The house rules the import-linter contract (pyproject.toml, `make lint`) does not check:
no import cycle anywhere in src/bcm_local, modules of about 400 lines at most, folders of
about 15 modules at most, and no catch-all module names."""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "bcm_local"
MAX_LINES = 440  # "about 400"
MAX_MODULES = 15
CATCH_ALL = ("utils", "helpers", "misc", "common", "_more", "_other")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.find_modules_directly_imported_by(node):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("bcm_local")
    assert len(graph.modules) > 100
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_one() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    assert _cycles(graph) == [["a.b", "a.c"]]


def test_modules_and_folders_stay_small() -> None:
    modules = sorted(SRC.rglob("*.py"))
    long = {
        str(m.relative_to(SRC)): n
        for m in modules
        if (n := len(m.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
    crowded = {}
    for folder in {m.parent for m in modules}:
        count = len([p for p in folder.glob("*.py") if p.name != "__init__.py"])
        if count > MAX_MODULES:
            crowded[str(folder.relative_to(SRC))] = count
    assert crowded == {}


def test_no_catch_all_names() -> None:
    names = [m.stem for m in SRC.rglob("*.py")]
    assert [n for n in names if n in CATCH_ALL or n.endswith(("_more", "_other"))] == []
