"""The package's layers: every import points down, no cycle, no product module imports the simulators.

The import graph is read from the source (every ``import`` and ``from … import``, function-local and
``TYPE_CHECKING`` ones included), so a lazy import cannot hide an upward dependency.
docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "station"

# Lower number = lower layer. A module may import its own layer's packages (no cycle) and any lower one.
LAYERS: dict[str, int] = {
    "station": 0,  # the package's own __init__ (version only)
    "station.core": 0,
    "station.devices": 1,
    "station.fixtures": 2,
    "station.factory": 2,
    "station.records": 2,
    "station.access": 3,
    "station.labels": 3,
    "station.pipeline": 4,
    "station.app": 5,
    "station.cli": 6,
    "station.gui": 6,
    # the line dashboard: above records/ like app/, but beside gui/ as it says failures in the window's
    # words (station.gui.model.words, Qt-free); cli/line.py starts it
    "station.dashboard": 6,
    "station.sim": 7,
}
# The entry points that may switch simulation on (the demo, `station sim`, the window's demo printer).
SIMULATION_ENTRY_POINTS = ("station.cli", "station.gui.app", "station.gui.screenshot")
MAX_MODULES_PER_FOLDER = 16


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """Every station module ``name`` imports, resolved to a module of the package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from station.x import y``: y is a module of its own, or a name station.x defines
            targets = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.startswith("station") and target in MODULES and target != name:
                yield target


GRAPH = {name: sorted(set(_imports(name, path))) for name, path in MODULES.items()}


def _layer(module: str) -> tuple[str, int]:
    best = max((prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")), key=len)
    return best, LAYERS[best]


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        prefix, _ = _layer(module)
        assert prefix != "station" or module == "station", f"{module} sits in no layer of LAYERS"


def test_imports_point_down_or_sideways_within_a_layer() -> None:
    upward = []
    for module, targets in GRAPH.items():
        _, own = _layer(module)
        for target in targets:
            if target.startswith("station.sim") and not module.startswith("station.sim"):
                continue  # checked on its own below
            if _layer(target)[1] > own:
                upward.append(f"{module} → {target}")
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)


def test_no_product_module_imports_the_simulators() -> None:
    offenders = [
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if not module.startswith("station.sim") and not module.startswith(SIMULATION_ENTRY_POINTS)
        for target in targets
        if target.startswith("station.sim")
    ]
    assert not offenders, "product modules importing sim/:\n" + "\n".join(offenders)


def _cycle() -> list[str] | None:
    """One import cycle as a list of modules, or None (iterative DFS over the graph)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start, children_of_start in GRAPH.items():
        if start in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(children_of_start))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(GRAPH[child])))
                path.append(child)
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


@pytest.mark.parametrize(
    "folder", sorted({path.parent for path in MODULES.values()}), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_folder_is_a_list(folder: Path) -> None:
    modules = [path for path in folder.glob("*.py") if path.name != "__init__.py"]
    assert len(modules) <= MAX_MODULES_PER_FOLDER, f"{folder} holds {len(modules)} modules"


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The checks above would pass on an empty graph: prove the finder sees a planted cycle."""
    saved = dict(GRAPH)
    try:
        GRAPH.clear()
        GRAPH.update({"a": ["b"], "b": ["c"], "c": ["a"], "d": []})
        assert _cycle() == ["a", "b", "c", "a"]
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
