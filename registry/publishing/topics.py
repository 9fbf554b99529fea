"""Topics and their JSON Schemas (docs/topics/): one topic per recipient and
kind, `bron.vo.<recipient>.<kind>.v1`, and one per municipality
(`bron.vo.gm0363.<kind>.v1`), so broker ACLs can enforce who reads what."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "topics"
PARTITIONS = 3
KINDS = {
    "cbs": ("inschrijvingen", "fotos"),
    "inspectie": ("inschrijvingen", "fotos"),
    "svb": ("kinderbijslag",),
    "gemeente": ("inschrijvingen", "vsv"),
}


@cache
def municipalities() -> tuple[str, ...]:
    data = resources.files("registry.domain.data").joinpath("municipalities.csv")
    with data.open(encoding="utf-8") as f:
        return tuple(sorted(r["code"].lower() for r in csv.DictReader(f)))


def schema_name(topic: str) -> str:
    """'bron.vo.gm0363.vsv.v1' → 'gemeente.vsv.v1' (the file in docs/topics)."""
    _, _, recipient, kind, version = topic.split(".")
    group = "gemeente" if recipient.startswith("gm") else recipient
    return f"{group}.{kind}.{version}"


def all_topics() -> list[str]:
    topics = [
        f"bron.vo.{r}.{k}.v1"
        for r, kinds in KINDS.items()
        if r != "gemeente"
        for k in kinds
    ]
    topics += [
        f"bron.vo.{gm}.{k}.v1" for gm in municipalities() for k in KINDS["gemeente"]
    ]
    return topics


def _is_date(value: str) -> bool:
    """JSON Schema's `date`: a real calendar date (2027-02-30 is not)."""
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


class TopicSchemas:
    """Every topic's schema, compiled to Python (fastjsonschema): the relay and
    every consumer check each message, and an interpreting validator took
    ~300 µs a message, more than producing it; a compiled one ~20 µs. The
    schemas use only keywords that mean the same in draft 7 and 2020-12."""

    def __init__(self, directory: Path = SCHEMA_DIR) -> None:
        self.directory = directory
        self._validators: dict[str, Callable[[Any], Any]] = {}
        for path in sorted(directory.glob("*.json")):
            schema = json.loads(path.read_text(encoding="utf-8"))
            self._validators[path.stem] = fastjsonschema.compile(
                schema, formats={"date": _is_date}
            )

    def problem(self, topic: str, payload: dict[str, Any]) -> str | None:
        """Why the payload may not go to the topic, or None."""
        validate = self._validators.get(schema_name(topic))
        if validate is None:
            return f"no schema for topic {topic}"
        try:
            validate(payload)
        except fastjsonschema.JsonSchemaValueException as e:
            where = "/".join(str(p) for p in e.path[1:]) or "(message)"
            return f"{where}: {e.message}"
        return None


def ensure_topics(
    bootstrap: str, topics: list[str], partitions: int = PARTITIONS
) -> int:
    """Create the missing topics with a fixed partition count; the number made."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="registry-admin")
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        for start in range(0, len(missing), 100):
            chunk = [NewTopic(t, partitions, 1) for t in missing[start : start + 100]]
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(chunk)
        return len(missing)
    finally:
        admin.close()


def write_broker_schemas(directory: Path, topics: list[str] | None = None) -> Path:
    """The topics' schemas in the embedded broker's layout (`<topic>.json`, the
    value's schema under `properties.value`), so the broker itself refuses a
    record that breaks its topic's schema."""
    directory.mkdir(parents=True, exist_ok=True)
    for topic in topics or all_topics():
        source = SCHEMA_DIR / f"{schema_name(topic)}.json"
        value = json.loads(source.read_text(encoding="utf-8"))
        wrapper = {"type": "object", "properties": {"value": value}}
        (directory / f"{topic}.json").write_text(json.dumps(wrapper), encoding="utf-8")
    return directory
