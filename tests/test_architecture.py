"""The import graph: no lower layer imports a higher one, and no two modules import each other in a cycle.

Layers, lowest first: portfolio < scenarios, interop < optimize, simulate < report < runs < cli. Imports are read with
``ast`` (function-level ones included), so a lazy import cannot hide an upward dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"portfolio": 0, "scenarios": 1, "interop": 1, "optimize": 2, "simulate": 2, "report": 3, "runs": 4, "cli": 5}
# Narrower than "any lower layer": the report reads run folders and renders them, so it needs the model and the
# run-folder format (portfolio) and nothing that plans or simulates.
MAY_IMPORT = {"report": {"portfolio"}}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> set:
    """Every module ``module`` imports, relative imports resolved, anywhere in its body.

    ``from X import y`` is returned as the pair (X, y): y may be a submodule or a name defined in X.
    """
    found = set()
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.update((target, alias.name) for alias in node.names)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    files = [root / "cli.py"] if (root / "cli.py").exists() else []
    for top in LAYERS:
        if (root / top).is_dir():
            files += sorted((root / top).rglob("*.py"))
    modules = {module_name(f, root): f for f in files}
    graph = {}
    for name, path in modules.items():
        raw = imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py")
        targets = set()
        for m in raw:
            if isinstance(m, tuple):
                package, item = m
                m = f"{package}.{item}" if f"{package}.{item}" in modules else package
            targets.add(m)
        graph[name] = {m for m in targets if m in modules and m != name}
    return graph


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = LAYERS[module.split(".")[0]], LAYERS[target.split(".")[0]]
            if high > low:
                bad.append(f"{module} imports {target}")
    return bad


def narrower_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        top = module.split(".")[0]
        if top in MAY_IMPORT:
            bad += [f"{module} imports {t}" for t in sorted(targets)
                    if t.split(".")[0] != top and t.split(".")[0] not in MAY_IMPORT[top]]
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_checker_finds_an_upward_import_inside_a_function(tmp_path):
    write_tree(tmp_path, {
        "portfolio/__init__.py": "",
        "portfolio/model.py": "def f():\n    from report.charts import draw\n",
        "report/__init__.py": "",
        "report/charts.py": "from portfolio import model\n",
    })
    assert layer_violations(import_graph(tmp_path)) == ["portfolio.model imports report.charts"]


def test_checker_finds_a_cycle_through_relative_imports(tmp_path):
    write_tree(tmp_path, {
        "simulate/__init__.py": "",
        "simulate/a.py": "from .b import x\n",
        "simulate/b.py": "def g():\n    from . import a\n",
    })
    assert cycles(import_graph(tmp_path)) == [["simulate.a", "simulate.b"]]


def test_checker_finds_a_report_module_that_runs_a_stage(tmp_path):
    write_tree(tmp_path, {
        "simulate/__init__.py": "",
        "report/__init__.py": "",
        "report/charts.py": "def f():\n    import simulate\n",
    })
    graph = import_graph(tmp_path)
    assert layer_violations(graph) == [] and narrower_violations(graph) == ["report.charts imports simulate"]


def test_checker_accepts_a_clean_tree(tmp_path):
    write_tree(tmp_path, {
        "portfolio/__init__.py": "",
        "portfolio/model.py": "import json\n",
        "report/__init__.py": "from portfolio.model import *\n",
    })
    graph = import_graph(tmp_path)
    assert layer_violations(graph) == [] and cycles(graph) == []


def test_no_lower_layer_imports_a_higher_one():
    assert layer_violations(import_graph(ROOT)) == []


def test_the_report_imports_only_the_model_and_itself():
    assert narrower_violations(import_graph(ROOT)) == []


def test_no_import_cycle():
    assert cycles(import_graph(ROOT)) == []
