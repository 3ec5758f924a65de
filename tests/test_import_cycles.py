"""No import cycles inside our packages (issue 11).

:func:`import_cycles` reads every module of the given packages with ``ast`` (nothing is
imported), builds the module-level import graph from every ``import`` statement anywhere in
a module (inside functions and ``if TYPE_CHECKING:`` blocks too: a cycle there is still a
cycle in the design), and returns each cycle as the list of modules around it. Dynamic
imports (``importlib.import_module`` of a computed name) are not seen. Extend the checked
packages by adding names to ``CHECKED``.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pytest

CHECKED = ("sims", "questions", "quizapp")


def package_modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` (found on ``sys.path``, not imported) by dotted name."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{package!r} is not a package on sys.path")
    modules: dict[str, Path] = {}
    for location in spec.submodule_search_locations:
        root = Path(location)
        for path in sorted(root.rglob("*.py")):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> set[str]:
    """Dotted names ``module`` imports (absolute, with relative imports resolved); for
    ``from X import Y`` both ``X`` and ``X.Y`` (Y may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph(packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` it imports."""
    modules: dict[str, Path] = {}
    for package in packages:
        modules.update(package_modules(package))
    return {
        name: {target for target in imported_names(name, path) if target in modules} - {name}
        for name, path in modules.items()
    }


def import_cycles(packages: Iterable[str]) -> list[list[str]]:
    """Each import cycle among the modules of ``packages``, as ``[a, b, ..., a]`` (one per
    strongly connected group of modules, through its first module in sorted order)."""
    graph = import_graph(packages)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return [_cycle_through(min(group), group, graph) for group in groups]


def _cycle_through(start: str, group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from ``start`` back to itself inside ``group`` (breadth first)."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & group):
                if target == start:
                    return [*paths[node], start]
                if target not in paths:
                    paths[target] = [*paths[node], target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is in a cycle but no path leads back to it")


def test_our_packages_have_no_import_cycles() -> None:
    cycles = import_cycles(CHECKED)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_checker_finds_and_names_a_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cyclepkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclepkg.sub import b\n")
    # Inside a function and relative: still an edge.
    (package / "sub" / "b.py").write_text("def f():\n    from ..c import thing\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyclepkg import a\n"
        "thing = 1\n"
    )
    (package / "d.py").write_text("import cyclepkg.a\n")  # depends on the cycle, not in it
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(["cyclepkg"]) == [
        ["cyclepkg.a", "cyclepkg.sub.b", "cyclepkg.c", "cyclepkg.a"]
    ]
    (package / "c.py").write_text("thing = 1\n")
    assert import_cycles(["cyclepkg"]) == []
