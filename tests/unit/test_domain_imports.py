"""registry/domain imports only the standard library, eventsourcing.domain and
python-stdnum (pure check-digit code, no I/O; the issue asks for it)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).parents[2] / "registry" / "domain"
ALLOWED = {"eventsourcing.domain", "stdnum"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def allowed(module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    return (
        top in sys.stdlib_module_names
        or module.startswith("registry.domain")
        or any(module == a or module.startswith(a + ".") for a in ALLOWED)
    )


def test_the_domain_imports_no_infrastructure() -> None:
    files = list(DOMAIN.glob("*.py"))
    assert len(files) >= 8
    bad = {
        f"{f.name}: {m}" for f in files for m in imported_modules(f) if not allowed(m)
    }
    assert not bad


def test_the_check_itself_catches_infrastructure() -> None:
    assert not allowed("psycopg") and not allowed("eventsourcing.postgres")
    assert not allowed("registry.api") and allowed("eventsourcing.domain")
