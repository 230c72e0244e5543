"""The house: no import circles, no imports hidden in functions, operations that never load views.

The graph is read from the source (every import statement of the package, wherever it stands,
except those under `if TYPE_CHECKING:`), so a circle cannot hide behind an in-function import.
Each operations module is then imported in a fresh interpreter, alone, to show what it loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "drafting"
OPERATIONS = sorted(f"drafting.{p.parent.name}.operations" for p in PACKAGE.glob("*/operations.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for child in node.body for n in ast.walk(child))
    return hidden


def imports_of(name: str) -> list[tuple[str, ast.stmt]]:
    """Every project module a module imports, with the statement that does it (`top` set on the
    statement when it stands at module level)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_nodes(tree)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in tree.body:
        node.top = True
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            for alias in node.names:
                target = f"{base}.{alias.name}"
                target = target if target in MODULES else base
                if target in MODULES:
                    found.append((target, node))
        elif isinstance(node, ast.Import):
            found.extend((a.name, node) for a in node.names if a.name in MODULES)
    return found


def graph() -> dict[str, set[str]]:
    return {name: {t for t, _ in imports_of(name) if t != name} for name in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_circle():
    assert len(MODULES) > 60  # the whole package was read
    assert cycles(graph()) == []


def test_no_project_import_is_hidden_in_a_function():
    hidden = [f"{name}:{node.lineno} imports {target}"
              for name in MODULES for target, node in imports_of(name) if not getattr(node, "top", False)]
    assert len(hidden) == 0, hidden


def test_package_files_only_describe_their_area():
    """An area's package file holds no code: importing drafting.x.operations must not run views."""
    for path in PACKAGE.rglob("__init__.py"):
        if path.parent.name == "models":
            continue  # the models package re-exports its model classes, which import nothing above them
        tree = ast.parse(path.read_text(encoding="utf-8"))
        code = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        assert code == [], f"{path} holds code"


@pytest.mark.parametrize("module", OPERATIONS)
def test_an_operations_module_imports_alone_without_views(module):
    script = (f"import sys, {module}\n"
              "loaded = sorted(m for m in sys.modules if m.startswith('drafting'))\n"
              "print('\\n'.join(loaded))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert module in loaded
    views = sorted(m for m in loaded if m.endswith((".routes", ".blueprint")) or m.startswith("drafting.api")
                   or m in ("drafting.app", "drafting.views", "drafting.events", "drafting.fragments"))
    assert views == [], f"importing {module} loads {views}"


def test_operations_modules_were_found():
    assert {"drafting.clauses.operations", "drafting.documents.operations", "drafting.signoff.operations",
            "drafting.consultation.operations", "drafting.history.operations"} <= set(OPERATIONS)
