"""No import cycles among the project's modules (the project rule), read with ``ast`` — nothing imported.

An edge is every import of a project module, at the top or inside a function (a lazy import hides a
cycle from the interpreter, not from the design); ``if TYPE_CHECKING:`` blocks are left out, and
``from pkg import sub`` depends on ``pkg.sub`` only (a package's ``__init__`` runs first for any of its
modules anyway).  Packages as a whole (bot ↔ scheduler, handlers ↔ ingest) are not checked here."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def modules(root: Path) -> dict[str, Path]:
    """Dotted name → file, for every module of the top-level packages under ``root``."""
    out = {}
    for package in sorted(p for p in root.iterdir() if (p / "__init__.py").exists()):
        for path in package.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING"


def import_graph(root: Path) -> dict[str, set[str]]:
    mods = modules(root)

    def project(name: str) -> str | None:  # the project module an imported name lives in
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        stack: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"), str(path))]
        while stack:
            for node in ast.iter_child_nodes(stack.pop()):
                if isinstance(node, ast.If) and _type_checking(node):
                    stack.append(ast.Module(body=node.orelse, type_ignores=[]))
                    continue
                stack.append(node)
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = package
                        for _ in range(node.level - 1):
                            anchor = anchor.rpartition(".")[0]
                        base = f"{anchor}.{base}" if base else anchor
                    names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
                else:
                    continue
                graph[mod].update(t for t in map(project, names) if t and t != mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
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


def test_the_project_has_no_import_cycles():
    graph = import_graph(ROOT)
    assert len(graph) > 100  # every package was read
    assert "services.rollups" in graph["services.rep_stats"]  # and its imports
    assert cycles(graph) == []


def test_a_cycle_through_a_lazy_import_is_found(tmp_path):
    (tmp_path / "pa").mkdir()
    (tmp_path / "pa" / "__init__.py").write_text("")
    (tmp_path / "pa" / "x.py").write_text("from pa.y import f\n")
    (tmp_path / "pa" / "y.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pa import z\n\n"
                                          "def f():\n    from pa import x\n")
    (tmp_path / "pa" / "z.py").write_text("from . import y\n")
    assert cycles(import_graph(tmp_path)) == [["pa.x", "pa.y"]]
