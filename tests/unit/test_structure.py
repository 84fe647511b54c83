"""The shape of the package: layers import downwards only, and no module imports itself back.

Imports are read from the source (every `import` statement, function-level and
TYPE_CHECKING ones included), so a cycle hidden inside a function still counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "xunshi"
# Front ends and file writers: they use services and the read side, never storage.
FRONT_ENDS = ("xunshi.cli", "xunshi.demo", "xunshi.reports", "xunshi.scheduler", "xunshi.web")
FORBIDDEN_IN_FRONT_ENDS = ("xunshi.storage", "sqlalchemy")


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement of a module."""

    module: str  # the module that imports
    target: str  # what it imports (a module, resolved to the submodule where one is named)
    line: int
    nested: bool  # inside a function (or method)
    commented: bool  # a comment on its line or on the line just before


def module_name(path: Path) -> str:
    """`xunshi/cli/root.py` → `xunshi.cli.root`; a package's `__init__` is the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> Iterator[Import]:
    """Every import statement of module `name`."""
    path = MODULES[name]
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def commented(node: ast.stmt) -> bool:
        """A comment on the import's line, or above the group of imports it belongs to."""
        if "#" in lines[node.lineno - 1]:
            return True
        above = node.lineno - 2
        while above >= 0 and (
            not lines[above].strip() or lines[above].lstrip().startswith(("import ", "from "))
        ):
            above -= 1
        return above >= 0 and lines[above].lstrip().startswith("#")

    def visit(node: ast.AST, nested: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(name, alias.name, child.lineno, nested, commented(child))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    target = candidate if candidate in MODULES else base
                    yield Import(name, target, child.lineno, nested, commented(child))
            yield from visit(child, inner)

    yield from visit(tree, False)


IMPORTS = [found for name in MODULES for found in imports_of(name)]


def graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports."""
    edges: dict[str, set[str]] = {name: set() for name in MODULES}
    for found in IMPORTS:
        if found.target in MODULES:
            edges[found.module].add(found.target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_the_walk_sees_the_whole_package() -> None:
    assert {"xunshi.cli.root", "xunshi.services.lifecycle", "xunshi.read.cases"} <= set(MODULES)
    assert len(IMPORTS) > 300


def test_no_module_imports_a_module_that_imports_it() -> None:
    assert cycles(graph()) == []


def test_a_cycle_would_be_found() -> None:
    edges = graph()
    edges["xunshi.storage.db"].add("xunshi.cli.root")  # storage reaching up to the CLI
    assert any("xunshi.storage.db" in component for component in cycles(edges))


def test_front_ends_never_import_storage_or_sqlalchemy() -> None:
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in IMPORTS
        if found.module.startswith(FRONT_ENDS) and found.target.startswith(FORBIDDEN_IN_FRONT_ENDS)
    ]
    assert offending == []


def test_front_ends_never_see_the_wiring_beyond_services() -> None:
    # The CLI may build the services (bootstrap) but uses nothing of the engine itself.
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in IMPORTS
        if found.module.startswith(("xunshi.cli", "xunshi.scheduler", "xunshi.web"))
        and found.target.startswith(("xunshi.workflow.engine", "xunshi.storage"))
    ]
    assert offending == []


def test_the_definition_language_imports_nothing_else_of_the_project() -> None:
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in IMPORTS
        if found.module.startswith("xunshi.definitions")
        and found.target.startswith("xunshi.")
        and not found.target.startswith("xunshi.definitions")
    ]
    assert offending == []


def test_storage_never_imports_the_layers_above_it() -> None:
    above = ("xunshi.workflow", "xunshi.services", "xunshi.read", "xunshi.cli", "xunshi.bootstrap")
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in IMPORTS
        if found.module.startswith("xunshi.storage") and found.target.startswith(above)
    ]
    assert offending == []


def test_the_read_side_and_the_engine_never_import_services_or_front_ends() -> None:
    above = ("xunshi.services", "xunshi.cli", "xunshi.bootstrap", "xunshi.demo")
    offending = [
        f"{found.module}:{found.line} imports {found.target}"
        for found in IMPORTS
        if found.module.startswith(("xunshi.read", "xunshi.workflow"))
        and found.target.startswith(above)
    ]
    assert offending == []


def test_every_function_level_import_says_why() -> None:
    # Imports inside functions are for start-up time (`xunshi --help`); each carries a
    # comment saying so, on its line or the line before.
    silent = [
        f"{found.module}:{found.line} ({found.target})"
        for found in IMPORTS
        if found.nested and not found.commented
    ]
    assert silent == []
