"""The package's areas depend one way: page and access use courier and platform, never the
reverse, and no module imports another that (through others) imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "prefcenter"
BASE_AREAS = {"courier", "platform"}  # what every other area stands on
UPPER_AREAS = {"page", "access", "services"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(module: str, *, anywhere: bool) -> set[str]:
    """The prefcenter modules `module` imports: at module level, or `anywhere` in it."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    tree = ast.parse(path.read_text())
    nodes = ast.walk(tree) if anywhere else tree.body
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join(package[: len(package) - node.level + 1] + [node.module or ""])
            base = base.rstrip(".")
            for alias in node.names:
                named = f"{base}.{alias.name}"
                found.add(named if named in MODULES else base)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("prefcenter"):
            found.add(node.module)
    return {name for name in found if name in MODULES and name != module}


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "prefcenter"


def test_no_module_imports_itself_back() -> None:
    graph = {module: imports_of(module, anywhere=False) for module in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                cycles.append(path[path.index(imported) :] + [imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, [" -> ".join(cycle) for cycle in cycles]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if area(m) in BASE_AREAS))
def test_courier_and_platform_never_reach_up(module: str) -> None:
    # Anywhere in the module, function-level imports included: a late import that dodges a
    # circle is the same dependency.
    upward = {name for name in imports_of(module, anywhere=True) if area(name) in UPPER_AREAS}
    assert not upward, f"{module} imports {sorted(upward)}"
