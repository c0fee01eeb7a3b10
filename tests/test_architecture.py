"""The structure of the code, as ARCHITECTURE.md lays it out: imports flow one way (lazy ones
included), functions and scripts stay short, and only activations.py and costs.py know the names
of activations and costs. Read from the source with ``ast``: nothing is imported or run."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "digitnet"

# The layers of ARCHITECTURE.md, lowest first. A module may import modules of lower layers, and
# modules of its own group (a package: data, cli, web) as long as no circle forms; never upwards.
LAYERS: list[set[str]] = [
    {"errors", "version", "netlike", "words"},
    {"files"},
    {"activations", "_kernels", "preprocess", "data"},
    {"costs"},
    {"checks"},
    {"settings"},
    {"optimizer"},
    {"engine"},
    {"evaluation"},
    {"training", "model_file", "onnx_export", "page_export"},
    {"network"},
    {"checkpoint", "inspect", "sklearn", "digitnet", "stepper", "surface", "run"},
    {"plots", "nudges", "replay", "sweep"},
    {"web"},
    {"cli"},
    {"__main__"},
]
NAMES = {"sigmoid", "relu", "softmax", "quadratic", "cross-entropy"}  # of activations and costs
MAX_FUNCTION_LINES = 80
MAX_JS_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}
# Compiled modules (C sources, built at install) import nothing of digitnet, and have their layer too.
COMPILED = {module_name(p): p for p in sorted(SRC.rglob("*.c"))}
KNOWN = MODULES.keys() | COMPILED.keys()


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_of(name: str) -> set[str]:
    """The digitnet modules that module ``name`` imports anywhere (inside functions too), except
    under ``if TYPE_CHECKING:``, which never runs."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_only(node):
            return
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in KNOWN else module for a in node.names]
        found.update(t for t in targets if t in KNOWN and t != name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


GRAPH = {name: imports_of(name) for name in MODULES} | {name: set() for name in COMPILED}


def group(name: str) -> str:
    """The layer entry a module belongs to: its package for data, cli, web; else its own name."""
    parts = name.split(".")
    return "digitnet" if len(parts) == 1 else parts[1]


def layer(name: str) -> int:
    g = group(name)
    for i, members in enumerate(LAYERS):
        if g in members:
            return i
    raise AssertionError(f"{name} is in no layer of ARCHITECTURE.md: add it to LAYERS and to the map")


def test_the_graph_is_read_from_the_source_lazy_imports_included() -> None:
    # Imports inside functions count; those only for type checkers do not.
    assert "digitnet.training" in GRAPH["digitnet.network"]  # Network.fit's lazy import
    assert "digitnet._kernels" in GRAPH["digitnet.engine"]  # imported inside a function, and compiled from C
    assert "digitnet.data.idx" in GRAPH["digitnet.data.cache"]  # absolute imports too
    assert len(GRAPH) > 30


def test_every_module_is_on_the_map() -> None:
    for name in GRAPH:
        layer(name)


def test_imports_run_one_way() -> None:
    wrong = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
             for a, targets in GRAPH.items() for b in targets
             if layer(b) > layer(a) or (layer(b) == layer(a) and group(a) != group(b))]
    assert not wrong, "imports against the layers of ARCHITECTURE.md:\n" + "\n".join(sorted(wrong))


def test_no_import_circle() -> None:
    done: set[str] = set()

    def walk(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        for target in sorted(GRAPH[name]):
            walk(target, path + [name])
        done.add(name)

    for name in sorted(GRAPH):
        walk(name, [])


def test_the_circle_check_finds_a_circle() -> None:
    GRAPH["digitnet.errors"].add("digitnet.network")
    try:
        with pytest.raises(AssertionError, match="import circle"):
            test_no_import_circle()
    finally:
        GRAPH["digitnet.errors"].discard("digitnet.network")


def test_no_function_is_longer_than_80_lines() -> None:
    long = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {node.name}: {lines} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_no_javascript_file_is_longer_than_400_lines() -> None:
    scripts = sorted(SRC.rglob("*.js"))
    assert scripts, "the page's scripts are not where this test looks"
    long = [f"{p.relative_to(SRC.parent)}: {n} lines" for p in scripts
            if (n := len(p.read_text().splitlines())) > MAX_JS_LINES]
    assert not long, f"JavaScript files over {MAX_JS_LINES} lines:\n" + "\n".join(long)


def test_only_activations_and_costs_compare_their_names() -> None:
    """Elsewhere, what differs between activations or costs is asked of them, not switched on by name."""
    found = []
    for name, path in MODULES.items():
        if name in ("digitnet.activations", "digitnet.costs"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            operands: list[ast.expr] = []
            if isinstance(node, ast.Compare):
                operands = [node.left, *node.comparators]
            elif isinstance(node, ast.match_case) and isinstance(node.pattern, ast.MatchValue):
                operands = [node.pattern.value]
            for op in operands:
                values = op.elts if isinstance(op, (ast.Tuple, ast.List, ast.Set)) else [op]
                for v in values:
                    if isinstance(v, ast.Constant) and v.value in NAMES:
                        found.append(f"{path.relative_to(SRC.parent)}:{node.lineno} compares {v.value!r}")  # type: ignore[attr-defined]
    assert not found, "\n".join(found)


def test_the_page_does_not_switch_on_activation_or_cost_names() -> None:
    """The page's scripts ask the model info for a's symbol, the cost's formula, whether the hidden
    activations are bounded: they never compare a name, so a new activation needs no JavaScript."""
    compare = re.compile(r"""(===?|!==?)\s*['"]([\w-]+)['"]|['"]([\w-]+)['"]\s*(===?|!==?)""")
    found = [f"{p.relative_to(SRC.parent)}:{i} compares {m.group(2) or m.group(3)!r}"
             for p in sorted(SRC.rglob("*.js")) for i, line in enumerate(p.read_text().splitlines(), 1)
             for m in compare.finditer(line) if (m.group(2) or m.group(3)) in NAMES]
    assert not found, "\n".join(found)
