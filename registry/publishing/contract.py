"""The published contract with the agencies: topic names, message kinds and the
JSON Schemas of their payloads (package data in `schemas/`).

One topic per recipient and kind, `bron.vo.<recipient>.<kind>.vN`, and one per
municipality (`bron.vo.gm0363.<kind>.vN`), so broker ACLs can enforce who reads
what. N is the kind's schema version: a change consumers must read differently
goes out on a new topic, never into the old one. This module is the one part of the registry the agencies' consumers import:
it imports nothing else of the registry.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import orjson

PREFIX = "bron.vo"
VERSION = "v1"  # a kind's first version
# Kinds whose payload changed in meaning: the VSV signal is per person and can be
# withdrawn (v2); SVB gets a monthly enrolled status, not every mutation (v2).
VERSIONS = {("gemeente", "vsv"): "v2", ("svb", "kinderbijslag"): "v2"}
# Where the schemas' `$id`s live: `<base><group>.<kind>/<version>.json`, and
# what the relay sends as `ce_dataschema` (one absolute URI per topic schema).
SCHEMA_BASE = "https://schemas.bron-vo-registry.nl/topics/"
CE_SOURCE = "urn:nl:bron-vo:registry"
MUNICIPALITY = "gemeente"
# "vergeten": the registry forgot a person (retention); delete what you hold.
KINDS = {
    "cbs": ("inschrijvingen", "fotos", "vergeten"),
    "inspectie": ("inschrijvingen", "fotos", "vergeten"),
    "svb": ("kinderbijslag", "vergeten"),
    MUNICIPALITY: ("inschrijvingen", "vsv", "koppelingen", "verhuizingen", "vergeten"),
}
DEAD_LETTERS = "dlq"
# Recipients that see a pseudonym, never a number: every identifier they get is
# keyed with their own key, and no registry-wide one (the log position) travels.
PSEUDONYMISED = frozenset({"cbs", "inspectie"})


def version(group_name: str, kind: str) -> str:
    return VERSIONS.get((group_name, kind), VERSION)


def topic(recipient: str, kind: str) -> str:
    """'cbs', 'fotos' → 'bron.vo.cbs.fotos.v1'; 'gm0363', 'vsv' likewise."""
    return f"{PREFIX}.{recipient}.{kind}.{version(group(recipient), kind)}"


def parse_topic(name: str) -> tuple[str, str]:
    """'bron.vo.gm0363.vsv.v1' → ('gm0363', 'vsv')."""
    parts = name.split(".")
    return parts[2], parts[3]


def group(recipient: str) -> str:
    """A municipality's topics share one schema per kind: 'gm0363' → 'gemeente'."""
    return MUNICIPALITY if recipient.startswith("gm") else recipient


def schema_name(name: str) -> str:
    """'bron.vo.gm0363.vsv.v2' → 'gemeente.vsv.v2' (the file in `schemas/`)."""
    recipient, kind = parse_topic(name)
    return f"{group(recipient)}.{kind}.{version(group(recipient), kind)}"


def schema_id(name: str) -> str:
    """'gemeente.vsv.v2' → its `$id`, which the relay sends as `ce_dataschema`."""
    group_name, kind, kind_version = name.split(".")
    return f"{SCHEMA_BASE}{group_name}.{kind}/{kind_version}.json"


@cache
def dataschema(name: str) -> str:
    """A topic's `ce_dataschema` header: its schema's `$id` (cached: the relay
    asks once a message)."""
    return schema_id(schema_name(name))


def ce_type(kind: str) -> str:
    return f"nl.{PREFIX}.{kind}"


def topics_of(recipient: str) -> list[str]:
    return [topic(recipient, kind) for kind in KINDS[group(recipient)]]


def dead_letter_topic(recipient: str) -> str:
    return topic(recipient, DEAD_LETTERS)


@cache
def municipalities() -> tuple[str, ...]:
    """Every municipality code (lower case) that has topics of its own."""
    data = resources.files("registry.domain").joinpath("data/municipalities.csv")
    with data.open(encoding="utf-8") as f:
        return tuple(sorted(r["code"].lower() for r in csv.DictReader(f)))


def recipients() -> list[str]:
    return [r for r in KINDS if r != MUNICIPALITY] + list(municipalities())


def all_topics() -> list[str]:
    """Every topic messages are published on (each has a schema)."""
    return [t for r in recipients() for t in topics_of(r)]


def dead_letter_topics() -> list[str]:
    """Each recipient's topic for the messages its consumer could not store."""
    return [dead_letter_topic(r) for r in recipients()]


class MissingSchema(LookupError):
    """A topic has no JSON Schema in the contract."""


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a schema name ('cbs.fotos.v1') from the package data."""
    path = resources.files(__package__).joinpath(f"schemas/{name}.json")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MissingSchema(f"the contract's schema {name} is not installed") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema_names() -> list[str]:
    return sorted(
        f"{r}.{k}.{version(r, k)}" for r, kinds in KINDS.items() for k in kinds
    )


def _is_date(value: str) -> bool:
    """JSON Schema's `date`: a real calendar date (2027-02-30 is not)."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def parsed(value: bytes) -> Any:
    """A payload's JSON as json parses it, by orjson (several times faster);
    json for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


class TopicSchemas:
    """Every topic's schema, compiled to Python (fastjsonschema): the relay and
    every consumer check each message, and compiled is an order of magnitude
    cheaper than interpreted. The schemas use only keywords that mean the same
    in draft 7 and 2020-12."""

    def __init__(self) -> None:
        self._validators: dict[str, Callable[[Any], Any]] = {
            name: fastjsonschema.compile(schema(name), formats={"date": _is_date})
            for name in schema_names()
        }
        self._by_topic: dict[str, Callable[[Any], Any]] = {}

    def require(self, topics: list[str]) -> None:
        """Refuse to serve topics the contract has no schema for."""
        missing = sorted({schema_name(t) for t in topics} - set(self._validators))
        if missing:
            raise MissingSchema(f"no JSON Schema for {', '.join(missing)}")

    def problem(self, name: str, payload: Any) -> str | None:
        """Why the payload may not go to the topic, or None."""
        validate = self._by_topic.get(name)
        if validate is None:
            # Each topic's schema looked up once: the relay asks a message.
            validate = self._validators.get(schema_name(name))
            if validate is not None:
                self._by_topic[name] = validate
        if validate is None:
            return f"no schema for topic {name}"
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException as e:
            where = "/".join(str(p) for p in e.path[1:]) or "(message)"
            return f"{where}: {e.message}"
        return None

    def problem_in(self, name: str, value: bytes) -> str | None:
        """`problem` of a payload's JSON text, as it is stored and sent."""
        return self.problem(name, parsed(value))
