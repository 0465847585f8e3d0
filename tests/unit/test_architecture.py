"""The shape of the package: imports run one way, by layer, with no cycles.

``docs/architecture.md`` draws the layers; this test keeps them true. It reads every module of
``src/landia`` with :mod:`ast` (every ``import``, at module level or inside a function) and
fails on an import from a higher layer, an import between two packages of the same layer, a
cycle of imports, or a heavy library outside the one place allowed to use it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "landia"

#: Lowest first. A module may import from its own package and from packages of lower layers.
LAYERS: list[set[str]] = [
    {"errors"},
    {"log", "config", "launch", "scores", "figures"},
    {"grid"},
    {"landmask"},
    {"columns", "operators"},
    {"io"},
    {"forcing", "exchange", "checkpoint", "observations"},
    {"landscape"},
    {"analysis"},
    {"verification", "diagnostics", "api"},
    {"cycling"},
    {"experiment", "service"},
    {"benchmarks"},
    {"commands"},
    {"cli"},
    {"__main__"},
]
LAYER = {unit: k for k, units in enumerate(LAYERS) for unit in units}

#: Third-party libraries with side effects or weight, and the only units that may import them.
RESTRICTED = {
    "petsc4py": {"analysis.minimisers.tao"},          # the TAO adapter alone
    "mpi4py": {"exchange", "analysis.minimisers.tao", "cli"},
    # the Agg backend is set in landia.figures; the figure modules draw with it
    "matplotlib": {"figures", "diagnostics.plots", "verification.plots", "experiment.report"},
    "global_land_mask": {"landmask"},                 # 0.9 GB: queried in a child process
    "tomllib": {"config"},                            # with the Python 3.10 fallback
}
#: Physics and operators know nothing of files, MPI, the CLI or the analysis.
PURE = {"columns", "operators"}
PURE_FORBIDDEN = ("netCDF4", "h5py", "mpi4py", "petsc4py", "argparse")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


MODULES = _modules()


def _unit(module: str) -> str:
    """The layer unit of a landia module: its top-level package or module name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import of ``module``; landia names resolved to the
    module they come from (a submodule when ``from package import submodule``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in MODULES else target, node.lineno))
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES} - {""}
    assert units <= set(LAYER), f"give these a layer in LAYERS: {sorted(units - set(LAYER))}"


def test_imports_run_down_the_layers():
    bad = []
    for module, imports in GRAPH.items():
        here = _unit(module)
        if not here:
            continue  # landia/__init__: imports nothing of landia
        for target, line in imports:
            if not target.startswith("landia.") or _unit(target) in ("", here):
                continue
            there = _unit(target)
            if LAYER[there] >= LAYER[here]:
                kind = "sideways" if LAYER[there] == LAYER[here] else "upward"
                bad.append(f"{MODULES[module].relative_to(SRC.parent)}:{line}: {module} -> "
                           f"{target} ({kind}: {here} is layer {LAYER[here]}, {there} is "
                           f"layer {LAYER[there]})")
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_no_import_cycles():
    edges = {m: sorted({t for t, _ in imports if t in MODULES and t != m})
             for m, imports in GRAPH.items()}
    # Tarjan's strongly connected components
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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
                cycles.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    assert not cycles, f"modules importing each other: {cycles}"


@pytest.mark.parametrize("library", sorted(RESTRICTED))
def test_heavy_libraries_stay_in_their_place(library):
    allowed = RESTRICTED[library]
    bad = [f"{m}:{line}" for m, imports in GRAPH.items() for t, line in imports
           if t.split(".")[0] == library
           and not any(m == f"landia.{a}" or m.startswith(f"landia.{a}.") for a in allowed)]
    assert not bad, f"{library} is imported outside {sorted(allowed)}: {bad}"


def test_physics_and_operators_know_nothing_of_files_mpi_or_the_cli():
    bad = [f"{m}:{line} imports {t}" for m, imports in GRAPH.items() if _unit(m) in PURE
           for t, line in imports if t.split(".")[0] in PURE_FORBIDDEN]
    assert not bad, bad


def test_the_world_communicator_is_taken_only_by_the_entry_point():
    def takes_world(path):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return any(isinstance(n, ast.Attribute) and n.attr == "COMM_WORLD"
                   or isinstance(n, ast.Name) and n.id == "COMM_WORLD"
                   or isinstance(n, ast.alias) and n.name == "COMM_WORLD" for n in ast.walk(tree))

    bad = [str(p.relative_to(SRC.parent)) for m, p in MODULES.items()
           if _unit(m) != "cli" and takes_world(p)]
    assert not bad, f"COMM_WORLD outside landia/cli.py (pass the communicator in): {bad}"
