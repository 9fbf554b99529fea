"""The AsyncAPI document is made from the contract: every topic the registry
publishes and every recipient's dead-letter topic has a channel, every schema
is its message's payload, and the headers say what the relay sends."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from registry.publishing.asyncapi import SCHEMA_FORMAT, document
from registry.publishing.contract import (
    all_topics,
    dataschema,
    dead_letter_topics,
    schema,
    schema_name,
    schema_names,
)


def addresses(doc: dict[str, Any]) -> dict[str, str]:
    """Every address a channel stands for (its parameters' enumerations filled
    in) → the channel's id."""
    out = {}
    parameters = doc["components"]["parameters"]
    for cid, channel in doc["channels"].items():
        address = channel["address"]
        names = re.findall(r"{(\w+)}", address)
        assert len(names) <= 1, address
        if not names:
            out[address] = cid
            continue
        for value in parameters[names[0]]["enum"]:
            out[address.replace(f"{{{names[0]}}}", value)] = cid
    return out


def resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_topic_has_its_channel_and_no_other() -> None:
    doc = document()
    found = addresses(doc)
    assert set(found) == set(all_topics()) | set(dead_letter_topics())
    assert doc["asyncapi"] == "3.0.0"


def test_each_channel_carries_its_schema_and_the_relay_s_headers() -> None:
    doc = document()
    found = addresses(doc)
    for topic in all_topics():
        channel = doc["channels"][found[topic]]
        (ref,) = [m["$ref"] for m in channel["messages"].values()]
        message = resolve(doc, ref)
        payload = resolve(doc, message["payload"]["$ref"])
        assert payload == {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": schema(schema_name(topic)),
        }
        headers = message["headers"]["properties"]
        assert headers["ce_dataschema"]["const"] == dataschema(topic)
        assert headers["ce_type"]["const"] == f"nl.bron.vo.{topic.split('.')[3]}"
        pseudonymised = topic.split(".")[2] in ("cbs", "inspectie")
        assert ("source_position" in headers) is not pseudonymised
    used = {
        resolve(doc, m["payload"]["$ref"])["schema"]["$id"]
        for m in doc["components"]["messages"].values()
        if "$ref" in m["payload"]
    }
    assert used == {schema(n)["$id"] for n in schema_names()}


def test_every_reference_resolves_and_every_operation_sends() -> None:
    doc = document()
    text = json.dumps(doc)
    for ref in re.findall(r'"\$ref": "(#/[^"]+)"', text):
        assert isinstance(resolve(doc, ref), dict), ref
    assert {op["action"] for op in doc["operations"].values()} == {"send"}


def test_the_official_schema_accepts_it_when_given() -> None:
    """ASYNCAPI_SPEC_SCHEMA: a copy of the AsyncAPI 3.0.0 JSON Schema (the npm
    package @asyncapi/specs, schemas/3.0.0-without-$id.json)."""
    path = os.environ.get("ASYNCAPI_SPEC_SCHEMA")
    if not path:
        pytest.skip("ASYNCAPI_SPEC_SCHEMA is not set")
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    errors = [
        e.message for e in jsonschema_rs.validator_for(spec).iter_errors(document())
    ]
    assert errors == []
