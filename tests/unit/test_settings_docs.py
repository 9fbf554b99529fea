"""The operators' tables of settings (docs/operations.md, docs/agency-kit.md)
name every setting there is, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from consumers.settings import AgencySettings
from registry.config import Settings

DOCS = Path(__file__).parents[2] / "docs"


def documented(doc: str, prefix: str) -> set[str]:
    """Variables named in the first cell of a table row, with the doc's
    shorthand `PREFIX_A`, `_B` for settings that share a stem."""
    names: set[str] = set()
    for line in (DOCS / doc).read_text(encoding="utf-8").splitlines():
        if not line.startswith(f"| `{prefix}"):
            continue
        cell = line.split("|")[1]
        stem = ""
        for name in re.findall(r"`([A-Z_]+)`", cell):
            if name.startswith("_"):
                names.add(stem + name)
            else:
                names.add(name)
                stem = name.rsplit("_", 2)[0] if name.count("_") > 2 else name
    return names


def fields(settings: type[BaseSettings], prefix: str) -> set[str]:
    return {prefix + name.upper() for name in settings.model_fields}


def test_every_registry_setting_is_in_the_operations_table() -> None:
    assert documented("operations.md", "REGISTRY_") == fields(Settings, "REGISTRY_")


def test_every_agency_setting_is_in_the_kit_table() -> None:
    assert documented("agency-kit.md", "AGENCY_") == fields(AgencySettings, "AGENCY_")
