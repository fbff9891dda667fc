"""The import graph of labopt and labopt_api has no cycle, and the core never imports the top.

Every ``import`` and ``from ... import`` statement of every module is read with ``ast`` (at
the top of the file and inside functions alike: a function-local import is still a
dependency), relative imports are resolved, and only modules of the two packages are kept.
``from pkg import name`` is an import of ``pkg.name`` when that is a module, else of ``pkg``
(its ``__init__``): so a package ``__init__`` re-exporting its submodules has edges to them,
and a submodule importing a name from its own package's ``__init__`` closes a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("labopt", "labopt_api")
# the library's layers; the CLI and the service sit on top of them
CORE = (
    "labopt.pooling",
    "labopt.lab",
    "labopt.scenario",
    "labopt.schedule",
    "labopt.capacity",
    "labopt.daily",
    "labopt.screening",
)
TOP = ("labopt_api", "labopt.cli")


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line`` of the source's file."""

    source: str
    target: str
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` refers to, or its nearest enclosing module of ours (``None`` when
    outside the two packages, as for the compiled kernels ``labopt._array``...)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def _parse(path: Path) -> ast.Module:
    """The file's syntax tree. CPython 3.11's parser state is not thread-safe: a traceback
    formatted by another thread at the same moment (it parses the source line) can make one
    parse fail with SystemError; the same parse again succeeds."""
    source = path.read_text(encoding="utf-8")
    for _ in range(5):
        try:
            return ast.parse(source, str(path))
        except SystemError:
            continue
    return ast.parse(source, str(path))


def _imports(module: str, path: Path, modules: dict[str, Path]) -> Iterator[Edge]:
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name, modules)
                if target is not None:
                    yield Edge(module, target, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in modules else _resolve(base, modules)
                if target is not None:
                    yield Edge(module, target, node.lineno)


def import_graph() -> dict[str, list[Edge]]:
    """Each module of the two packages and the edges out of it (self-imports included)."""
    modules = _modules()
    graph: dict[str, list[Edge]] = {}
    for module, path in modules.items():
        edges = {(e.target, e.line): e for e in _imports(module, path, modules)}
        graph[module] = sorted(edges.values(), key=lambda e: (e.target, e.line))
    return graph


def strongly_connected(graph: dict[str, list[Edge]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for e in graph[v]:
            if e.target not in index:
                visit(e.target)
                low[v] = min(low[v], low[e.target])
            elif e.target in on_stack:
                low[v] = min(low[v], index[e.target])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or any(e.target == v for e in graph[v]):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def shortest_path(graph: dict[str, list[Edge]], start: str, goals: set[str]) -> list[Edge]:
    """The fewest edges from ``start`` to any of ``goals`` (at least one edge), or []."""
    previous: dict[str, Edge] = {}
    frontier = [start]
    seen: set[str] = set()
    while frontier:
        following = []
        for v in frontier:
            for e in graph[v]:
                if e.target in goals:
                    path = [e]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                if e.target not in seen:
                    seen.add(e.target)
                    previous[e.target] = e
                    following.append(e.target)
        frontier = following
    return []


def describe(path: list[Edge], modules: dict[str, Path]) -> str:
    steps = [path[0].source] + [
        f"{e.target} ({modules[e.source].relative_to(ROOT)}:{e.line})" for e in path
    ]
    return " -> ".join(steps)


def test_graph_sees_the_packages():
    graph = import_graph()
    assert "labopt.pooling.search" in graph and "labopt_api.main" in graph
    targets = {e.target for e in graph["labopt_api.main"]}
    assert any(_within(t, "labopt_api.routers") for t in targets)


def test_no_import_cycle():
    graph, modules = import_graph(), _modules()
    cycles = []
    for component in strongly_connected(graph):
        first = component[0]
        members = set(component)
        # the shortest cycle through the component's first module, inside the component
        sub = {v: [e for e in graph[v] if e.target in members] for v in component}
        cycle = describe(shortest_path(sub, first, {first}), modules)
        cycles.append(f"{len(component)} modules {', '.join(component)}\n    e.g. {cycle}")
    assert not cycles, "import cycles:\n  " + "\n  ".join(cycles)


def test_core_never_imports_cli_or_service():
    graph, modules = import_graph(), _modules()
    top = {m for m in graph if any(_within(m, t) for t in TOP)}
    found = []
    for module in sorted(graph):
        if any(_within(module, c) for c in CORE):
            path = shortest_path(graph, module, top)
            if path:
                found.append(describe(path, modules))
    assert not found, "the core reaches the CLI or the service:\n  " + "\n  ".join(found)


# the schedule's layers, top to bottom, as its package docstring states them: a module may
# import only modules of lower layers (the solvers, one layer, never import each other)
SCHEDULE_LAYERS = [
    ("page",),
    ("compare", "output", "summary"),
    ("pipeline",),
    ("report", "screening"),
    ("labels", "check"),
    ("rounding", "result"),
    ("lp", "columns", "network", "greedy"),
    ("ortools_lp", "mincostflow"),
    ("flow",),
    ("model",),
    ("data",),
    ("supply",),
    ("notes",),
]


def test_the_schedule_imports_only_downwards():
    graph = import_graph()
    rank = {f"labopt.schedule.{m}": i for i, layer in enumerate(SCHEDULE_LAYERS) for m in layer}
    assert set(rank) == {m for m in graph if m.startswith("labopt.schedule.")}, (
        "a schedule module without a layer: add it to the docstring and to SCHEDULE_LAYERS"
    )
    wrong = [
        f"{e.source} -> {e.target} (line {e.line})"
        for source in rank
        for e in graph[source]
        if e.target in rank and rank[e.target] <= rank[source] and e.target != source
    ]
    assert not wrong, "imports against the schedule's layers:\n  " + "\n  ".join(wrong)


def test_routers_call_the_data_layer_and_never_each_other():
    graph = import_graph()
    wrong = []
    for module, edges in graph.items():
        for e in edges:
            if module.startswith("labopt_api.routers.") and e.target.startswith(
                "labopt_api.routers."
            ):
                wrong.append(f"{module} -> {e.target} (line {e.line})")
            if module.startswith("labopt_api.store") and any(
                e.target == t or e.target.startswith(t + ".")
                for t in (
                    "labopt_api.routers",
                    "labopt_api.main",
                    "labopt_api.jobs",
                    "labopt_api.planrun",
                    "labopt_api.schemas",
                )
            ):
                wrong.append(f"{module} -> {e.target} (line {e.line}): the store is below them")
    assert not wrong, "\n  ".join(wrong)
