"""Which module may import which (docs/architecture.md), read from the source with ``ast``.

Every ``import app...`` / ``from app... import`` is counted, at module level and inside functions:
the module graph has no cycle, the engine (app/filings/) imports nothing from app/blueprints/,
core modules import no blueprint, and a function-level import of an app module appears only in
FUNCTION_LEVEL_ALLOWED, of a library only in LIBRARY_LAZY_ALLOWED, each with its reason.
"""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

# (importing module, imported module): why the import must wait until the function runs
FUNCTION_LEVEL_ALLOWED = {}

# (importing module, library): why a library's import waits until the function runs
LIBRARY_LAZY_ALLOWED = {
    ("app.blueprints.portal.importer", "openpyxl"): "about 60 ms at every worker's start, for 名单导入 alone",
}
# function-level library imports with no reason, still to be hoisted to module level
KNOWN_LAZY = set()

# core modules that sit above the blueprints: the factory, the model registry and the CLI
CORE_ABOVE_BLUEPRINTS = {"app", "app.models", "app.cli", "app.demo", "app.demo_province", "app.scale"}
# core modules that still reach up into one blueprint, with the reason (to be moved down or in);
# none today (the server-side sessions moved into auth: app/blueprints/auth/sessions.py)
KNOWN_UPWARD = {}


def _modules():
    found = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name):
    """The deepest app module ``name`` refers to (``app.x.y.Name`` -> ``app.x.y``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports():
    """[(importing module, imported module, inside a function, line)] for every import of app.*."""
    edges = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node, in_function, module=module):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Import):
                    targets = [alias.name for alias in child.names]
                elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                    targets = [f"{child.module}.{alias.name}" for alias in child.names]
                else:
                    targets = []
                for target in targets:
                    if target.split(".")[0] == "app":
                        resolved = _resolve(target)
                        if resolved and resolved != module:
                            edges.append((module, resolved, in_function, child.lineno))
                visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(tree, False)
    return edges


EDGES = _imports()


def _library_imports_inside_functions():
    """{(importing module, top-level library)} for every import of a non-app module inside a function."""
    found = set()
    for module, path in MODULES.items():
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    names = []
                found.update((module, name.split(".")[0]) for name in names if name.split(".")[0] != "app")
    return found


def _cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {}
    for source, target, _, _ in edges:
        graph.setdefault(source, set()).add(target)
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in graph.get(node, ()):
            if following not in index:
                connect(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def test_the_source_is_read():
    assert len(MODULES) > 100 and len(EDGES) > 500


def test_no_import_cycles_counting_imports_inside_functions():
    assert _cycles(EDGES) == []


def test_a_cycle_is_found():
    assert _cycles([("a", "b", False, 1), ("b", "c", True, 1), ("c", "a", False, 1)]) == [["a", "b", "c"]]


def test_the_engine_imports_nothing_from_the_blueprints():
    upward = [(s, t, line) for s, t, _, line in EDGES if s.startswith("app.filings") and t.startswith("app.blueprints")]
    assert upward == []


def test_core_modules_import_no_blueprint():
    upward = [
        (s, t, line)
        for s, t, _, line in EDGES
        if not s.startswith(("app.blueprints", "app.filings"))
        and s not in CORE_ABOVE_BLUEPRINTS
        and t.startswith("app.blueprints")
        and (s, t) not in KNOWN_UPWARD
    ]
    assert upward == []


def test_function_level_imports_only_where_a_lazy_import_is_needed():
    lazy = sorted({(s, t) for s, t, inside, _ in EDGES if inside})
    assert [edge for edge in lazy if edge not in FUNCTION_LEVEL_ALLOWED] == []
    assert len(FUNCTION_LEVEL_ALLOWED) <= 5


def test_libraries_are_imported_at_module_level_unless_a_reason_is_given():
    lazy = _library_imports_inside_functions()
    assert sorted(lazy - set(LIBRARY_LAZY_ALLOWED) - KNOWN_LAZY) == []
    assert len(LIBRARY_LAZY_ALLOWED) + len(KNOWN_LAZY) <= 5
