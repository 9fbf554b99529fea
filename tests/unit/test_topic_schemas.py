"""The topic schemas as an agency reads them: each names itself by an absolute
URI, the one the relay sends as `ce_dataschema`, says what every field means,
and states the rule by which it may change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from registry.publishing.contract import (
    SCHEMA_BASE,
    all_topics,
    group,
    parse_topic,
    schema,
    schema_name,
    schema_names,
)
from registry.publishing.relay import Row


def fields(node: dict[str, Any], at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property, those of objects in arrays and objects included."""
    for name, sub in node.get("properties", {}).items():
        yield f"{at}{name}", sub
        yield from fields(sub, f"{at}{name}.")
        items = sub.get("items")
        if isinstance(items, dict):
            yield from fields(items, f"{at}{name}[].")


@pytest.mark.parametrize("name", schema_names())
def test_a_schema_names_itself_and_describes_every_field(name: str) -> None:
    document = schema(name)
    group_name, kind, version = name.split(".")
    assert document["$id"] == f"{SCHEMA_BASE}{group_name}.{kind}/{version}.json"
    assert document["$id"].startswith("https://")
    assert "a new topic version" in document["description"]
    assert "ignores nothing silently" in document["description"]
    found = list(fields(document))
    assert found
    undescribed = [f for f, sub in found if not sub.get("description", "").strip()]
    assert undescribed == []
    # `$schema` belongs at a document's root only (JSON Schema 2020-12).
    assert all("$schema" not in sub.get("items", {}) for _, sub in found)


def test_the_relay_sends_each_topic_s_schema_uri() -> None:
    ids = {schema(n)["$id"] for n in schema_names()}
    assert len(ids) == len(schema_names())  # one URI per schema
    for topic in all_topics():
        recipient, kind = parse_topic(topic)
        row = Row(
            1,
            uuid.uuid4(),
            recipient,
            topic,
            "k",
            kind,
            1,
            "2026-08-20T00:00:00.000000+00:00",
            b"{}",
        )
        headers = dict(row.headers())
        assert headers["ce_dataschema"].decode() == schema(schema_name(topic))["$id"]
        assert headers["ce_type"].decode() == f"nl.bron.vo.{kind}"
        assert group(recipient) in headers["ce_dataschema"].decode()
