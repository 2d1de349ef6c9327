"""The import contract: which package may import which, read from every import statement.

Layers, highest first: drivers (`server`: the LSP server and the CLI) >
orchestration (`enrich_core.run`, `enrich_core.present`) > stages
(`enrich_core.source`, `enrich_core.llm`, `enrich_core.store`) > records
(`enrich_core.records`, `enrich_core.config`, and the language table
`enrich_core.source.languages`). A module imports its own
unit or a lower layer; units of one layer do not import each other, so the
store never imports the LLM layer. Each outside library with a job belongs to
the one unit that does that job: pygls and lsprotocol to the LSP server,
httpx to `llm`, SQLite to `store`, tree-sitter to `source`, watchfiles to
`run`. Benches and tests share `bench.support`, which imports neither.

Imports inside functions count: a lazy import is still an edge. The rules are
checked here over the real tree, and each rule is shown to catch a violation.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("enrich_core", "server", "bench", "tests")

# (unit, layer); a higher layer number sits above a lower one.
UNITS: dict[str, int] = {
    "server": 3,
    "enrich_core.run": 2,
    "enrich_core.present": 2,
    "enrich_core.source": 1,
    "enrich_core.llm": 1,
    "enrich_core.store": 1,
    "enrich_core.records": 0,
    "enrich_core.config": 0,
    # The language table is data every stage reads (prompts name the language,
    # hovers fence code with it); it sits in source/ beside its query files.
    "enrich_core.source.languages": 0,
}
LAYER_NAMES = {3: "driver", 2: "orchestration", 1: "stage", 0: "records"}

# Outside libraries that only one unit may import.
OWNED: dict[str, tuple[str, ...]] = {
    "pygls": ("server.lsp", "server.main", "server.positions", "server.features"),
    "lsprotocol": ("server.lsp", "server.main", "server.positions", "server.features"),
    "httpx": ("enrich_core.llm",),
    "sqlite3": ("enrich_core.store",),
    "aiosqlite": ("enrich_core.store",),
    "tree_sitter": ("enrich_core.source",),
    "tree_sitter_python": ("enrich_core.source",),
    "watchfiles": ("enrich_core.run",),
}
# Owners are checked in the product only: tests and benches may use any library.
PRODUCT = ("enrich_core", "server")


@dataclass(frozen=True, slots=True)
class Edge:
    importer: str  # dotted module name
    imported: str  # dotted name as written (a module, or a module's attribute)
    where: str  # path:line, for the message


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def edges_of(path: Path) -> Iterator[Edge]:
    importer = module_name(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT).as_posix()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Edge(importer, alias.name, f"{where}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = importer.split(".")[: -node.level or None]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                # `from enrich_core.source import spans` imports a module: name it whole.
                yield Edge(importer, f"{module}.{alias.name}", f"{where}:{node.lineno}")


def project_edges() -> list[Edge]:
    files: list[Path] = []
    for package in FIRST_PARTY:
        files += sorted((ROOT / package).rglob("*.py"))
    return [edge for path in files for edge in edges_of(path)]


def unit_of(name: str) -> str | None:
    """The longest unit `name` lies in, or None for a name outside the layers."""
    best = None
    for unit in UNITS:
        if (name == unit or name.startswith(unit + ".")) and (
            best is None or len(unit) > len(best)
        ):
            best = unit
    return best


def under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_violations(edges: Iterable[Edge]) -> list[str]:
    found = []
    for edge in edges:
        source, target = unit_of(edge.importer), unit_of(edge.imported)
        if source is None or target is None or source == target:
            continue
        s, t = UNITS[source], UNITS[target]
        if t > s:
            found.append(
                f"{edge.where}: {edge.importer} ({LAYER_NAMES[s]}) imports {edge.imported} "
                f"({LAYER_NAMES[t]}): a layer may only import layers below it"
            )
        elif t == s:
            found.append(
                f"{edge.where}: {edge.importer} imports {edge.imported}: {source} and {target} "
                f"are both {LAYER_NAMES[s]}s and must not import each other"
            )
    return found


def ownership_violations(edges: Iterable[Edge]) -> list[str]:
    found = []
    for edge in edges:
        if not under(edge.importer, PRODUCT):
            continue
        library = edge.imported.split(".")[0]
        owners = OWNED.get(library)
        if owners is not None and not under(edge.importer, owners):
            found.append(
                f"{edge.where}: {edge.importer} imports {library}, which only "
                f"{', '.join(owners)} may import"
            )
    return found


def product_reach_violations(edges: Iterable[Edge]) -> list[str]:
    """The product never imports tests or benches; benches never import tests; the
    support package imports no bench and no test."""
    found = []
    for edge in edges:
        if under(edge.importer, PRODUCT) and under(edge.imported, ("tests", "bench")):
            found.append(f"{edge.where}: the product imports {edge.imported}")
        elif under(edge.importer, ("bench",)) and under(edge.imported, ("tests",)):
            found.append(f"{edge.where}: a bench imports {edge.imported} (use bench.support)")
        elif (
            under(edge.importer, ("bench.support",))
            and under(edge.imported, ("bench",))
            and not under(edge.imported, ("bench.support",))
        ):
            found.append(f"{edge.where}: bench.support imports the bench {edge.imported}")
    return found


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """Import cycles between first-party modules (each reported once)."""
    modules = {module_name(p) for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        target = edge.imported if edge.imported in modules else edge.imported.rpartition(".")[0]
        # A package's __init__ is not a dependency of its own modules.
        if (
            target in modules
            and target != edge.importer
            and not edge.importer.startswith(target + ".")
        ):
            graph[edge.importer].add(target)
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


# The engine's parts: drivers and the watcher ask the engine, never its parts.
ENGINE_PARTS = frozenset(
    {"scheduler", "retries", "indexer", "config", "writer", "router", "pool", "store", "texts"}
)
# Who must go through the engine's own methods (the pool shares its scheduler by design).
ENGINE_CLIENTS = ("server", "enrich_core.run.watch")


def engine_reach_violations(source: str, where: str) -> list[str]:
    """`engine.scheduler...`, `self.engine.config...` and the like in one module."""
    found = []
    for node in ast.walk(ast.parse(source, filename=where)):
        if not isinstance(node, ast.Attribute) or node.attr not in ENGINE_PARTS:
            continue
        base = node.value
        named_engine = (isinstance(base, ast.Name) and base.id == "engine") or (
            isinstance(base, ast.Attribute) and base.attr == "engine"
        )
        if named_engine:
            found.append(
                f"{where}:{node.lineno}: reaches into Engine.{node.attr}; add an Engine method"
            )
    return found


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return project_edges()


def test_every_module_is_in_a_layer(edges: list[Edge]) -> None:
    stray = sorted(
        {e.importer for e in edges if under(e.importer, PRODUCT) and unit_of(e.importer) is None}
        - {"enrich_core"}
    )
    assert stray == [], "modules outside every layer (add them to a unit): " + ", ".join(stray)


def test_layers_only_import_downwards_and_siblings_are_independent(edges: list[Edge]) -> None:
    assert layer_violations(edges) == []


def test_each_outside_library_is_imported_by_its_owner_only(edges: list[Edge]) -> None:
    assert ownership_violations(edges) == []


def test_the_product_never_imports_tests_or_benches(edges: list[Edge]) -> None:
    assert product_reach_violations(edges) == []


def test_no_import_cycles(edges: list[Edge]) -> None:
    assert cycles(edges) == []


def test_drivers_and_the_watcher_use_only_the_engines_methods() -> None:
    files = [*(ROOT / "server").rglob("*.py"), ROOT / "enrich_core/run/watch.py"]
    assert [module_name(p) for p in files if under(module_name(p), ENGINE_CLIENTS)] != []
    found = [
        v
        for p in sorted(files)
        for v in engine_reach_violations(p.read_text(), p.relative_to(ROOT).as_posix())
    ]
    assert found == []


# --- each rule catches what it is for --------------------------------------------


def _edge(importer: str, imported: str) -> Edge:
    return Edge(importer, imported, "x.py:1")


def test_the_rules_catch_the_back_edges_this_tree_once_had() -> None:
    assert layer_violations([_edge("enrich_core.store.writer", "enrich_core.llm.router")])
    assert layer_violations([_edge("enrich_core.records.span", "enrich_core.source.spans")])
    assert layer_violations([_edge("enrich_core.run.engine", "server.main")])
    assert not layer_violations([_edge("enrich_core.run.engine", "enrich_core.store.writer")])
    assert ownership_violations([_edge("enrich_core.run.cli", "pygls.lsp.server")])
    assert ownership_violations([_edge("server.cli.main", "lsprotocol.types")])
    assert ownership_violations([_edge("enrich_core.run.engine", "sqlite3")])
    assert not ownership_violations([_edge("tests.test_lsp_e2e", "lsprotocol.types")])
    assert product_reach_violations([_edge("bench.rescan", "tests.llm_server")])
    assert product_reach_violations(
        [_edge("bench.support.server_process", "bench.pipeline_throughput")]
    )
    assert product_reach_violations([_edge("enrich_core.run.engine", "bench.support.llm_server")])


def test_cycles_are_found_through_lazy_imports(tmp_path: Path) -> None:
    path = ROOT / "enrich_core" / "llm" / "factory.py"
    lazy = [e for e in edges_of(path) if e.imported.startswith("enrich_core.llm.embedded")]
    assert lazy, "the factory's lazy import of the embedded kind is an edge"
    back = [*lazy, _edge("enrich_core.llm.embedded", "enrich_core.llm.factory.make_backend")]
    assert cycles(back)


def test_reaching_into_the_engine_is_caught() -> None:
    source = (
        "def f(engine, self):\n"
        "    engine.scheduler.queued\n"
        "    self.engine.retries.due_in('x')\n"
        "    engine.hover('a', 1)\n"
        "    other.config\n"
    )
    assert engine_reach_violations(source, "probe.py") == [
        "probe.py:2: reaches into Engine.scheduler; add an Engine method",
        "probe.py:3: reaches into Engine.retries; add an Engine method",
    ]
