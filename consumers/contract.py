"""What the kit knows of the published contract, read from the topic schemas
themselves: which topics a recipient has, the CloudEvents type and schema URI
each message must carry, and the compiled schema to check its payload by.

The schemas are JSON files, `<group>.<kind>.<version>.json`. By default they are
read as data from the registry's wheel (package data of `registry.publishing`,
whose `__init__` is empty: no registry code runs), or from a directory of
copies (AGENCY_SCHEMA_DIR, e.g. fetched from the registry's `GET /v1/schemas`).
Topic names follow the contract's rule, `bron.vo.<recipient>.<kind>.<version>`;
tests/unit/test_agency_contract.py holds this module to the registry's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema

PREFIX = "bron.vo"
SCHEMA_PACKAGE = "registry.publishing"  # read as data only: see the docstring
MUNICIPALITY = "gemeente"
DEAD_LETTERS = "dlq.v1"
RECIPIENT = re.compile(r"^(cbs|inspectie|svb|gm[0-9]{4})$")


class NotInContract(ValueError):
    """A recipient or topic the contract (as the schemas found say) lacks."""


def group(recipient: str) -> str:
    """A municipality's topics share one schema per kind: 'gm0363' → 'gemeente'."""
    return MUNICIPALITY if recipient.startswith("gm") else recipient


def ce_type(kind: str) -> str:
    return f"nl.{PREFIX}.{kind}"


def dead_letter_topic(recipient: str) -> str:
    return f"{PREFIX}.{recipient}.{DEAD_LETTERS}"


def _is_date(value: str) -> bool:
    """JSON Schema's `date`: a real calendar date (2027-02-30 is not)."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


@dataclass(frozen=True)
class TopicContract:
    """One topic as the consumer reads it."""

    topic: str
    group: str  # cbs, inspectie, svb, gemeente
    kind: str
    schema_id: str  # the `ce_dataschema` its messages carry
    validate: Callable[[Any], Any]

    @property
    def ce_type(self) -> str:
        return ce_type(self.kind)

    def problem(self, payload: Any) -> str | None:
        """Why the payload breaks the topic's schema, or None. fastjsonschema
        names the field and the rule, never the value (personal data)."""
        try:
            self.validate(payload)
        except fastjsonschema.JsonSchemaValueException as e:
            where = "/".join(str(p) for p in e.path[1:]) or "(message)"
            return f"breaks its schema: {where}: {e.message}"
        return None


class Schemas:
    """The topic schemas, compiled once (fastjsonschema)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.documents = _load(directory)
        self._compiled: dict[str, Callable[[Any], Any]] = {}

    def names(self, group_name: str) -> list[str]:
        return sorted(n for n in self.documents if n.split(".")[0] == group_name)

    def topics_of(self, recipient: str) -> list[str]:
        """'gm0363' → every topic of the municipality, one per schema of its group."""
        if not RECIPIENT.match(recipient):
            raise NotInContract(
                f"unknown recipient {recipient!r}: cbs, inspectie, svb or gmNNNN"
            )
        names = self.names(group(recipient))
        if not names:
            raise NotInContract(f"no topic schemas for recipient {recipient!r}")
        return [f"{PREFIX}.{recipient}.{n.split('.', 1)[1]}" for n in names]

    def contract(self, topic: str) -> TopicContract:
        """The contract of a topic, `bron.vo.<recipient>.<kind>.<version>` (a
        suffix after the version is allowed: tests keep their topics apart so)."""
        parts = topic.split(".")
        if len(parts) < 5 or ".".join(parts[:2]) != PREFIX:
            raise NotInContract(f"not a topic of the contract: {topic}")
        recipient, kind, version = parts[2:5]
        name = f"{group(recipient)}.{kind}.{version}"
        document = self.documents.get(name)
        if document is None:
            raise NotInContract(f"no schema {name} for topic {topic}")
        if name not in self._compiled:
            self._compiled[name] = fastjsonschema.compile(
                document, formats={"date": _is_date}
            )
        return TopicContract(
            topic, group(recipient), kind, document["$id"], self._compiled[name]
        )


def _load(directory: Path | None) -> dict[str, dict[str, Any]]:
    """Schema name ('cbs.fotos.v1') → the schema, from the directory or the
    registry's package data."""
    if directory is not None:
        files: list[Any] = sorted(directory.glob("*.json"))
    else:
        root = resources.files(SCHEMA_PACKAGE).joinpath("schemas")
        files = sorted(
            (f for f in root.iterdir() if f.name.endswith(".json")),
            key=lambda f: f.name,
        )
    out = {}
    for f in files:
        document = json.loads(f.read_text(encoding="utf-8"))
        if "$id" not in document:
            raise ValueError(f"topic schema {f.name} has no $id")
        out[f.name.removesuffix(".json")] = document
    if not out:
        raise ValueError(f"no topic schemas in {directory or SCHEMA_PACKAGE}")
    return out
