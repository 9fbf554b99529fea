"""Reading one Kafka record: its CloudEvents headers checked, its payload parsed
and checked against the topic's schema. A record that cannot be read is not an
error to stop for: it comes back with the reason, to be parked.

Reasons name the header or field and the rule, never the value: a value may be
personal data, and reasons go to logs, the park table and the dead-letter topic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from consumers.contract import TopicContract

SPEC_VERSION = "1.0"
# Before the schemas had an `$id`, the relay sent `<topic>#v1`: what is still
# on the topics from then is read as the same schema.
LEGACY_DATASCHEMA = "{topic}#v1"


@dataclass(frozen=True)
class Message:
    """A record that passed every check."""

    message_id: str  # the `ce_id`, as a canonical UUID
    topic: str
    group: str
    kind: str
    key: str | None
    payload: dict[str, Any]
    value: str  # the payload's JSON as it came
    source_position: int | None
    partition: int
    offset: int
    record: Any = field(repr=False, compare=False)  # as it came: to park


@dataclass(frozen=True)
class Unreadable:
    """A record to park, and why."""

    record: Any
    reason: str


def read(record: Any, contract: TopicContract) -> Message | Unreadable:
    headers, problem = _headers(record)
    message_id = ""
    if problem is None:
        message_id, problem = _cloud_event(headers, contract, record.topic)
    key: str | None = None
    if problem is None and record.key is not None:
        key, problem = _utf8(record.key, "the key")
    payload: Any = None
    text = ""
    if problem is None:
        text, problem = _utf8(record.value, "the value")
    if problem is None:
        try:
            # Strict JSON (RFC 8259): NaN, Infinity and a lone surrogate are
            # refused. An integer past 64 bits comes back as a float, which
            # the store's integer columns refuse as they did the integer.
            payload = orjson.loads(text)
        except orjson.JSONDecodeError:
            problem = "the value is not JSON"
    if problem is None:
        problem = contract.problem(payload)
    position: int | None = None
    if problem is None:
        position, problem = _position(headers)
    if problem is not None:
        return Unreadable(record, problem)
    return Message(
        message_id,
        record.topic,
        contract.group,
        contract.kind,
        key,
        payload,
        text,
        position,
        record.partition,
        record.offset,
        record,
    )


def _headers(record: Any) -> tuple[dict[str, str], str | None]:
    out: dict[str, str] = {}
    for name, raw in record.headers or []:
        if raw is None:
            return out, f"header {name} has no value"
        text, problem = _utf8(raw, f"header {name}")
        if problem is not None:
            return out, problem
        out[name] = text
    return out, None


def _cloud_event(
    headers: dict[str, str], contract: TopicContract, topic: str
) -> tuple[str, str | None]:
    """The message id (`ce_id` as a canonical UUID), or why the headers fail."""
    for name in ("ce_id", "ce_type", "ce_specversion", "ce_dataschema"):
        if name not in headers:
            return "", f"no {name} header"
    try:
        message_id = str(uuid.UUID(headers["ce_id"]))
    except ValueError:
        return "", "header ce_id is not a UUID"
    if headers["ce_specversion"] != SPEC_VERSION:
        return "", f"header ce_specversion is not {SPEC_VERSION}"
    if headers["ce_type"] != contract.ce_type:
        return "", f"header ce_type is not {contract.ce_type}, the type of this topic"
    if headers["ce_dataschema"] not in (
        contract.schema_id,
        LEGACY_DATASCHEMA.format(topic=topic),
    ):
        return "", f"header ce_dataschema is not {contract.schema_id}"
    return message_id, None


def _position(headers: dict[str, str]) -> tuple[int | None, str | None]:
    text = headers.get("source_position")
    if text is None:
        return None, None
    if not text.isascii() or not text.isdigit():
        return None, "header source_position is not a whole number"
    return int(text), None


def _utf8(raw: Any, what: str) -> tuple[str, str | None]:
    if raw is None:
        return "", f"{what} is missing"
    if isinstance(raw, str):
        return raw, None
    try:
        if isinstance(raw, bytes):  # as kafka-python gives them: no copy
            return raw.decode("utf-8"), None
        return bytes(raw).decode("utf-8"), None
    except UnicodeDecodeError:
        return "", f"{what} is not UTF-8"
