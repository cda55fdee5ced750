"""The parts import one way only (docs/architecture.md, issue 14): a forbidden import fails here.

Every import of the source is read from its syntax tree, those inside functions too, so a
circle cannot be "broken" by hiding an import in a function body, and the stand-in cannot
reach the tool that measures it at run time either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

RULES: dict[str, tuple[str, ...]] = {
    "fwload.standin": ("fwload.cli", "fwload.plugin", "fwload.users", "fwload.recording", "fwload.scenario",
                       "fwload.collectors", "fwload.launch", "analysis"),
    "analysis": ("fwload.plugin", "fwload.users", "fwload.collectors"),
    "fwload.scenario": ("fwload.plugin",),
    "fwload.common": ("fwload.cli", "fwload.plugin", "fwload.users", "fwload.recording", "fwload.collectors",
                      "fwload.scenario", "fwload.standin", "analysis"),
    **{f"fwload.{leaf}": ("fwload.cli", "fwload.plugin", "fwload.users", "fwload.recording", "fwload.collectors",
                          "fwload.scenario", "fwload.standin", "fwload.common", "analysis")
       for leaf in ("errors", "status", "units", "quantity", "limits", "lifeline")},
}
"""Importer package -> packages it must not import (the one-way arrows of docs/architecture.md)."""


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Full names a statement imports: ``from a import b`` imports ``a`` and perhaps ``a.b``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def forbidden_imports(root: Path, packages: Iterable[str], rules: dict[str, tuple[str, ...]]) -> list[str]:
    """Each import under ``root`` that breaks a rule, as ``file:line: importer -> imported (not allowed: X)``."""
    found = []
    for package in packages:
        for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
            module = _module_name(path, root)
            banned = [b for importer, bans in rules.items() if _within(module, importer) for b in bans]
            if not banned:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                names = _imported(node, module, path.name == "__init__.py")
                for bad in banned:
                    if any(_within(name, bad) for name in names):
                        found.append(f"{path.relative_to(root)}:{node.lineno}: {module} -> "
                                     f"{next(n for n in names if _within(n, bad))} (not allowed: {bad})")
                        break
    return found


def _runtime_imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import that runs, at module level or in a function; not those under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _runtime_imports(child))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def import_circles(root: Path, packages: Iterable[str]) -> list[list[str]]:
    """Groups of modules that import each other at run time, directly or round a circle."""
    paths = {_module_name(p, root): p for package in packages for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {module: set() for module in paths}
    for module, path in paths.items():
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported(node, module, path.name == "__init__.py"):
                while name and name not in paths:
                    name = name.rpartition(".")[0]
                if name and name != module and not module.startswith(name + "."):
                    graph[module].add(name)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in graph[module]:
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return sorted(circles)


def _report(found: Sequence[str]) -> str:
    return ("imports against the one-way arrows of docs/architecture.md (move the shared piece down into "
            "fwload.common instead):\n  " + "\n  ".join(found))


def test_the_parts_import_one_way_only():
    found = forbidden_imports(REPO, ["fwload", "analysis"], RULES)
    assert not found, _report(found)


def test_no_module_imports_itself_round_a_circle():
    circles = import_circles(REPO, ["fwload", "analysis"])
    assert not circles, ("modules that import each other (move the shared piece into a lower module; an "
                         "import inside a function does not count as a break):\n  "
                         + "\n  ".join(" <-> ".join(group) for group in circles))


def test_a_circle_through_a_function_is_a_circle(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "from pkg.b import x\n",
        "pkg/b.py": "def f():\n    from pkg import a\n",
        "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.d import y\n",
        "pkg/d.py": "from pkg.c import z\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert import_circles(tmp_path, ["pkg"]) == [["pkg.a", "pkg.b"]]


def test_the_scanner_finds_forbidden_imports_anywhere(tmp_path):
    """A tiny tree with each kind of import the scanner must see: the check above can fail."""
    files = {
        "fwload/__init__.py": "",
        "fwload/cli/__init__.py": "",
        "fwload/cli/standin.py": "from fwload.standin import server\n",
        "fwload/standin/__init__.py": "",
        "fwload/standin/server.py": "import json\nfrom fwload.errors import UsageError\n",
        "fwload/standin/top.py": "import fwload.cli.standin\n",
        "fwload/standin/inner.py": "def f():\n    from fwload.recording.rundir import write_atomic\n",
        "fwload/standin/sub/__init__.py": "from ...cli import standin\n",
        "fwload/standin/sub/name.py": "from fwload import plugin\n",
        "analysis/report.py": "from fwload.collectors import host\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = forbidden_imports(tmp_path, ["fwload", "analysis"], RULES)
    assert found == [
        "fwload/standin/inner.py:2: fwload.standin.inner -> fwload.recording.rundir (not allowed: fwload.recording)",
        "fwload/standin/sub/__init__.py:1: fwload.standin.sub -> fwload.cli (not allowed: fwload.cli)",
        "fwload/standin/sub/name.py:1: fwload.standin.sub.name -> fwload.plugin (not allowed: fwload.plugin)",
        "fwload/standin/top.py:1: fwload.standin.top -> fwload.cli.standin (not allowed: fwload.cli)",
        "analysis/report.py:1: analysis.report -> fwload.collectors (not allowed: fwload.collectors)",
    ], _report(found)
