"""The apps' layers (docs/architecture.md), checked on every run: import-linter's contracts (pyproject.toml,
[tool.importlinter]) and, on its own, no cycle between the apps, counting every import: at module level,
inside functions, under TYPE_CHECKING.

`python -m tests.test_architecture` prints how many imports each app makes of each other app, and any cycle.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "apps"


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module imported) for every import statement of the source, wherever it stands."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            # The name imported may be a module: `from apps import inbox`, `from . import services`.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def app_imports() -> dict[tuple[str, str], list[str]]:
    """{(app, other app): ["path:line module", ...]} over apps/**.py."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(APPS.rglob("*.py")):
        relative = path.relative_to(ROOT)
        parts = relative.with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        app = parts[1]
        for line, target in imported_modules(path.read_text(), module, is_package):
            target_parts = target.split(".")
            if target_parts[0] == "apps" and len(target_parts) > 1 and target_parts[1] != app:
                edges[(app, target_parts[1])].append(f"{relative}:{line} {target}")
    return edges


def cycles(edges) -> list[list[str]]:
    """The groups of apps that import each other, directly or not (strongly connected components)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
        graph[target]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_imports_inside_functions_are_counted():
    source = "def later():\n    from apps.inbox.consumers import inbox_send\n\nfrom .models import Message\n"
    assert sorted(imported_modules(source, "apps.conversations.services")) == [
        (2, "apps.inbox.consumers.inbox_send"),
        (4, "apps.conversations.models.Message"),
    ]
    assert imported_modules("from apps import inbox", "apps.core.health") == [(1, "apps.inbox")]
    assert cycles({("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): []}) == [["a", "b", "c"]]


def test_no_cycle_between_apps():
    edges = app_imports()
    found = cycles(edges)
    where = [
        f"{source} -> {target}: {', '.join(edges[(source, target)][:3])}"
        for group in found
        for source, target in sorted(edges)
        if source in group and target in group
    ]
    assert not found, "apps that import each other:\n" + "\n".join(where)


def test_layer_contracts_are_kept():
    """The layers and the independent apps of pyproject.toml; its output names each import that breaks one."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0


if __name__ == "__main__":
    edges = app_imports()
    for (source, target), imports in sorted(edges.items()):
        print(f"{source} -> {target}: {len(imports)}")
        if "-v" in sys.argv:
            for found in imports:
                print(f"    {found}")
    found = cycles(edges)
    print("\n".join(f"cycle: {' '.join(group)}" for group in found) or "no cycle between apps")
    sys.exit(1 if found else 0)
