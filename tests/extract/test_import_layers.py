"""No module of newsarchive.extract imports one that imports it back (type-checking imports included)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

PACKAGE = "newsarchive.extract"
# newsarchive.extract as an attribute is the extract() function: the module comes from importlib
ROOT = Path(importlib.import_module(PACKAGE).__file__ or "").parent


def imports_of(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, by their short name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(alias.name for alias in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module.removeprefix(PACKAGE + ".").split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.removeprefix(PACKAGE + ".").split(".")[0])
    return found


def test_extract_modules_import_without_cycles() -> None:
    graph = {p.stem: imports_of(p) for p in ROOT.glob("*.py") if p.stem != "__init__"}
    graph = {name: {m for m in deps if m in graph and m != name} for name, deps in graph.items()}
    # the dates split: parsing text knows nothing of pages, finding the page's date uses both
    assert "pagedate" in graph
    assert "dates" in graph["pagedate"]
    assert not graph["dates"] & {"pagedate", "structured"}

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for dep in graph[node]:
                if dep == start:
                    return [*path, start]
                if dep not in path:
                    stack.append((dep, [*path, dep]))
        return None

    cycles = [c for name in graph if (c := cycle_from(name))]
    assert cycles == [], " ; ".join(" -> ".join(c) for c in cycles)
