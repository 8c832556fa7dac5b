"""The architecture, checked: layers, private names, import circles, module sizes, one loop.

See docs/architecture.md. Imports are read with ``ast`` from the source files (nothing is
imported), so the checks are fast and see imports inside functions too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("s2b_env", "agents", "training", "s2b", "games")
MAX_LINES = 500
#: Modules over MAX_LINES that others are splitting; the lead shrinks this list. Each entry says
#: whose it is. Do not add to it: split the module instead.
TOO_LONG_ALLOWED: set[str] = set()
#: Imports against the layering that are known, (importer, imported module); the lead shrinks this.
LAYER_EXCEPTIONS: set[tuple[str, str]] = set()
#: Module-level import circles that are known and being removed (none left).
CIRCLES_ALLOWED: set[frozenset[str]] = set()


@dataclass(frozen=True)
class Import:
    """One imported name: ``from module import name`` (``name`` None for ``import module``)."""

    importer: str
    module: str
    name: str | None
    line: int
    top_level: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((REPO / package).rglob("*.py"))


def package_of(module: str, *, is_package: bool = False) -> str:
    """The package (family room) a module lives in: ``s2b_env.jericho`` for
    ``s2b_env.jericho.env``, ``s2b_env`` for ``s2b_env.values``."""
    return module if is_package else module.rpartition(".")[0] or module


def imports_of(path: Path) -> list[Import]:
    importer = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top = {id(node) for node in tree.body}
    # Imports under `if TYPE_CHECKING:` or try/except at module level count as top level too.
    for node in tree.body:
        if isinstance(node, ast.If | ast.Try):
            top.update(id(n) for n in ast.walk(node))
    out: list[Import] = []
    base = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parent = base.split(".")
                parent = parent[: len(parent) - node.level + 1]
                module = ".".join([*parent, node.module] if node.module else parent)
            else:
                module = node.module or ""
            for alias in node.names:
                out.append(Import(importer, module, alias.name, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                out.append(Import(importer, alias.name, None, node.lineno, id(node) in top))
    return out


def ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


ALL_IMPORTS = [imp for path in source_files() for imp in imports_of(path)]
MODULES = {module_name(p): p for p in source_files()}


def test_no_private_names_cross_a_package_boundary() -> None:
    """``from x.y import _z`` only inside the package of ``x.y``, and ``import a.b`` users do not
    reach ``a.b._z`` from another package."""
    offences = []
    for imp in ALL_IMPORTS:
        if not ours(imp.module):
            continue
        target_is_package = MODULES.get(imp.module, Path()).name == "__init__.py"
        target_room = package_of(imp.module, is_package=target_is_package)
        importer_path = MODULES[imp.importer]
        importer_room = package_of(imp.importer, is_package=importer_path.name == "__init__.py")
        name = imp.name or ""
        private = name.startswith("_") and not name.startswith("__")
        if private and target_room != importer_room:
            offences.append(f"{imp.importer}:{imp.line} imports {imp.module}.{name}")
    # Attribute access on imported modules: `module._private` from another package.
    for path in source_files():
        importer = module_name(path)
        room = package_of(importer, is_package=path.name == "__init__.py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if ours(alias.name):
                        aliases[alias.asname or alias.name.split(".")[0]] = (
                            alias.name if alias.asname else alias.name.split(".")[0]
                        )
            elif isinstance(node, ast.ImportFrom) and node.module and ours(node.module):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in MODULES:
                        aliases[alias.asname or alias.name] = full
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                target = aliases[node.value.id]
                target_room = package_of(
                    target, is_package=MODULES.get(target, Path()).name == "__init__.py"
                )
                if target_room != room:
                    offences.append(f"{importer}:{node.lineno} uses {target}.{node.attr}")
    assert not offences, "private names used across a package boundary:\n" + "\n".join(offences)


def test_no_module_is_over_500_lines() -> None:
    sizes = {
        str(p.relative_to(REPO)): len(p.read_text(encoding="utf-8").splitlines())
        for p in source_files()
    }
    too_long = {p: n for p, n in sizes.items() if n > MAX_LINES}
    unexpected = {p: n for p, n in too_long.items() if p not in TOO_LONG_ALLOWED}
    assert not unexpected, f"modules over {MAX_LINES} lines: {unexpected}"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _target_module(imp: Import) -> str | None:
    """The module an import loads: ``a.b`` for ``from a.b import c`` unless ``a.b.c`` is one."""
    if imp.name and f"{imp.module}.{imp.name}" in MODULES:
        return f"{imp.module}.{imp.name}"
    return imp.module if imp.module in MODULES else None


def test_no_import_circles_between_modules() -> None:
    """Counting imports inside functions too: a circle hidden in a function is still a seam
    drawn in the wrong place. Package ``__init__`` modules that re-export their contents are
    left out (they import their modules by design)."""
    edges: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        target = _target_module(imp)
        if target is None or target == imp.importer:
            continue
        if MODULES[target].name == "__init__.py" or MODULES[imp.importer].name == "__init__.py":
            continue
        edges.setdefault(imp.importer, set()).add(target)
    circles = [c for c in _cycles(edges) if frozenset(c) not in CIRCLES_ALLOWED]
    assert not circles, f"import circles: {circles}"


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("s2b_env", ("agents", "training", "s2b.cli", "torch", "transformers", "peft", "httpx")),
        ("agents", ("training", "s2b.cli")),
        ("training", ("s2b.cli",)),
    ],
)
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    """s2b_env knows no LLM and no agent; agents know no training; nothing imports the CLI."""
    offences = [
        f"{imp.importer}:{imp.line} imports {imp.module}"
        for imp in ALL_IMPORTS
        if imp.importer.split(".")[0] == layer
        and any(imp.module == f or imp.module.startswith(f + ".") for f in forbidden)
        and (imp.importer, imp.module) not in LAYER_EXCEPTIONS
    ]
    assert not offences, "\n".join(offences)


def test_one_episode_loop() -> None:
    """Only the engine calls ``env.step`` for agents: no other module in agents/ or s2b/ runs an
    episode loop of its own."""
    offenders = []
    for path in source_files():
        rel = str(path.relative_to(REPO))
        if not rel.startswith(("agents/", "s2b/")) or rel == "agents/engine.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "step"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "env"
            ):
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, f"env.step outside the engine: {offenders}"
