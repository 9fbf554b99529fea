"""The layers of design.md §4: a module imports only its own layer and those below
it. Every import counts, the lazy ones inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
LAYERS = {
    "registry.domain": 0,
    "registry.config": 0,
    "registry.infrastructure": 1,
    "registry.application": 2,
    "registry.access": 2,
    "registry.intake": 3,
    "registry.projections": 3,
    "registry.publishing": 4,
    "registry.bootstrap": 5,
    "registry.api": 6,
    "registry.cli": 6,
    "registry.simulation": 6,
}
# Rooms of one layer that must not know each other.
APART = {("registry.intake", "registry.projections")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> set[str]:
    """Every module the source imports, at any depth of the code; relative
    imports resolved against `package`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def room(module: str) -> str | None:
    """The room (a key of LAYERS) a registry module belongs to."""
    for prefix in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return None


def violations(module: str, imported: set[str]) -> list[str]:
    mine = room(module)
    assert mine is not None, f"{module} belongs to no layer"
    bad = []
    for other in sorted(imported):
        theirs = room(other)
        if theirs is None or theirs == mine:
            continue
        if LAYERS[theirs] > LAYERS[mine]:
            bad.append(f"{module} imports {other} (layer {LAYERS[theirs]} above)")
        elif (mine, theirs) in APART or (theirs, mine) in APART:
            bad.append(f"{module} imports {other} ({mine} and {theirs} stay apart)")
    return bad


def registry_modules() -> list[Path]:
    return sorted(
        p
        for p in (ROOT / "registry").rglob("*.py")
        if p != ROOT / "registry/__init__.py"
    )


def test_every_module_belongs_to_a_layer() -> None:
    homeless = [
        module_name(p) for p in registry_modules() if room(module_name(p)) is None
    ]
    assert not homeless
    assert not (ROOT / "registry/__init__.py").read_text().strip()


def test_no_import_runs_upward() -> None:
    bad = [
        v for p in registry_modules() for v in violations(module_name(p), imports(p))
    ]
    assert not bad, "\n".join(bad)


def test_the_agency_kit_imports_nothing_of_the_registry() -> None:
    """It reads the topic schemas as data (consumers/contract.py): no code of
    the registry runs in an agency's consumer."""
    bad = [
        f"{module_name(p)} imports {m}"
        for p in sorted((ROOT / "consumers").rglob("*.py"))
        for m in imports(p)
        if m == "registry" or m.startswith("registry.")
    ]
    assert not bad, "\n".join(bad)


def test_the_check_sees_lazy_and_relative_imports() -> None:
    code = (
        "def f():\n    from registry.api.app import create_app\nfrom . import runner\n"
    )
    found = imports_in(code, "registry.projections.engine")
    assert {"registry.api.app", "registry.projections.engine.runner"} <= found
    assert violations("registry.projections.engine.probe", found)
    assert violations("registry.intake.probe", {"registry.projections.timeline"})
    assert not violations("registry.api.probe", {"registry.bootstrap"})
