"""The published contract as an AsyncAPI 3.0 document, made from the contract
itself (topics, kinds, the JSON Schemas, the CloudEvents headers), so it cannot
drift from what the relay sends. Served at `GET /v1/asyncapi`.

One channel per schema: a municipality's topics share one, its address has the
municipality as a parameter (`bron.vo.{gemeente}.vsv.v2`), with every code as
the parameter's enumeration. The payloads are the JSON Schemas as they are
(`schemaFormat` JSON Schema 2020-12), in `components.schemas`.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import Any

from registry.publishing.contract import (
    CE_SOURCE,
    DEAD_LETTERS,
    KINDS,
    MUNICIPALITY,
    PREFIX,
    PSEUDONYMISED,
    VERSION,
    ce_type,
    municipalities,
    schema,
    schema_id,
    version,
)

SCHEMA_FORMAT = "application/schema+json;version=draft-2020-12"
KAFKA_BINDING = "0.5.0"
# What each topic's messages are keyed by (one key's messages stay in order).
KEYS = {
    ("cbs", "fotos"): "the school's BRIN",
    ("inspectie", "inschrijvingen"): "the school's BRIN",
    ("inspectie", "fotos"): "the school's BRIN",
}
KEY_OF_GROUP = {
    "cbs": "the person's pseudonym",
    "inspectie": "the person's pseudonym",
    MUNICIPALITY: "the person's first number (BSN, or the onderwijsnummer issued first)",
    "svb": "the person's BSN",
}


@cache
def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for group_name, kinds in KINDS.items():
        for kind in kinds:
            name = f"{group_name}.{kind}.{version(group_name, kind)}"
            channels[name] = _channel(group_name, kind, name)
            operations[name] = {
                "action": "send",
                "title": f"The registry publishes {kind}",
                "channel": {"$ref": f"#/channels/{name}"},
                "messages": [{"$ref": f"#/channels/{name}/messages/{kind}"}],
            }
            messages[name] = _message(group_name, kind, name)
            schemas[name] = {"schemaFormat": SCHEMA_FORMAT, "schema": schema(name)}
    channels[DEAD_LETTERS] = _dead_letters()
    messages[DEAD_LETTERS] = {
        "name": "parked",
        "title": "A record a consumer could not read",
        "summary": "The record as it came, its headers, and two more: `dlq_reason` "
        "(why) and `dlq_source` (topic/partition/offset).",
        "payload": {"description": "the record's value as it came (any bytes)"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "BRON-VO registry: publications to the agencies",
            "version": _version(),
            "description": "Each recipient reads its own topics, with what it is "
            "entitled to only (docs/publication.md); docs/agency-kit.md shows how "
            "to load and fold them. Evolution: a published topic version accepts "
            "what it accepts for good; a change goes out on a new topic version.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
            "parameters": _parameters(),
        },
    }


def _channel(group_name: str, kind: str, name: str) -> dict[str, Any]:
    suffix = f"{kind}.{version(group_name, kind)}"
    channel: dict[str, Any] = {
        "address": f"{PREFIX}.{group_name}.{suffix}",
        "title": schema(name)["title"],
        "description": schema(name)["description"],
        "messages": {kind: {"$ref": f"#/components/messages/{name}"}},
    }
    if group_name == MUNICIPALITY:
        channel["address"] = f"{PREFIX}.{{gemeente}}.{suffix}"
        channel["parameters"] = {
            "gemeente": {"$ref": "#/components/parameters/gemeente"}
        }
    return channel


def _message(group_name: str, kind: str, name: str) -> dict[str, Any]:
    key = KEYS.get((group_name, kind), KEY_OF_GROUP[group_name])
    return {
        "name": kind,
        "title": schema(name)["title"],
        "contentType": "application/json",
        "headers": _headers(group_name, kind, name),
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": key},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }


def _headers(group_name: str, kind: str, name: str) -> dict[str, Any]:
    """The CloudEvents Kafka binding's headers, as the relay sends them."""
    properties: dict[str, Any] = {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "the message id: the same on every resend; deduplicate by it",
        },
        "ce_type": {"const": ce_type(kind)},
        "ce_source": {"const": CE_SOURCE},
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "when the registry recorded the fact",
        },
        "ce_dataschema": {
            "const": schema_id(name),
            "description": "the payload's JSON Schema (its `$id`)",
        },
        "content-type": {"const": "application/json"},
    }
    if group_name not in PSEUDONYMISED:
        properties["source_position"] = {
            "type": "string",
            "pattern": "^[0-9]+$",
            "description": "the registry's log position of the fact (not sent to "
            "pseudonymised recipients: it would link their messages)",
        }
    required = [p for p in properties if p != "source_position"]
    return {"type": "object", "properties": properties, "required": required}


def _dead_letters() -> dict[str, Any]:
    return {
        "address": f"{PREFIX}.{{recipient}}.{DEAD_LETTERS}.{VERSION}",
        "title": "Each recipient's dead-letter topic",
        "description": "Made by the registry with the other topics; written by the "
        "recipient's own consumer, which parks there what it could not read.",
        "parameters": {"recipient": {"$ref": "#/components/parameters/recipient"}},
        "messages": {"parked": {"$ref": f"#/components/messages/{DEAD_LETTERS}"}},
    }


def _parameters() -> dict[str, Any]:
    codes = list(municipalities())
    national = [g for g in KINDS if g != MUNICIPALITY]
    return {
        "gemeente": {
            "description": "The municipality's code, lower case (gm0363)",
            "enum": codes,
        },
        "recipient": {
            "description": "cbs, inspectie, svb or a municipality's code",
            "enum": national + codes,
        },
    }


def _version() -> str:
    try:
        return metadata.version("registry")
    except metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "0"
