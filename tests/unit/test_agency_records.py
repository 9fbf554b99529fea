"""Reading one record (consumers/records.py): what the CloudEvents binding and
the topic's schema require, and a reason for each record that falls short,
naming the header or field but never its value."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from consumers.contract import Schemas
from consumers.records import Message, Unreadable, read

TOPIC = "bron.vo.cbs.inschrijvingen.v1"
SCHEMA_ID = "https://schemas.bron-vo-registry.nl/topics/cbs.inschrijvingen/v1.json"
PAYLOAD = {
    "pseudoniem": "a" * 32,
    "mutatie": "T",
    "brin": "01OE",
    "vestiging": "00",
    "elementcode": "0300",
    "leerjaar": 1,
    "ingangsdatum": "2026-08-01",
    "einddatum": None,
    "geregistreerd_op": "2026-08-20T10:00:00+00:00",
}
ID = "0b7e3b5e-8a38-4a57-9f59-0d4c6a0b6f5e"


@dataclass
class Record:
    """The fields of kafka-python's ConsumerRecord that a consumer reads."""

    value: Any = field(default_factory=lambda: json.dumps(PAYLOAD).encode())
    headers: list[tuple[str, Any]] = field(
        default_factory=lambda: [
            ("ce_specversion", b"1.0"),
            ("ce_id", ID.encode()),
            ("ce_type", b"nl.bron.vo.inschrijvingen"),
            ("ce_source", b"urn:nl:bron-vo:registry"),
            ("ce_dataschema", SCHEMA_ID.encode()),
            ("content-type", b"application/json"),
        ]
    )
    key: bytes | None = b"a" * 32
    topic: str = TOPIC
    partition: int = 0
    offset: int = 7


def with_header(name: str, value: bytes | None) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in Record().headers if k != name] + [(name, value)]


def without(name: str) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in Record().headers if k != name]


@pytest.fixture(scope="module")
def contract() -> Any:
    return Schemas().contract(TOPIC)


def test_a_good_record_is_read_as_it_came(contract: Any) -> None:
    found = read(Record(), contract)
    assert isinstance(found, Message)
    assert (found.message_id, found.kind, found.group) == (ID, "inschrijvingen", "cbs")
    assert found.payload == PAYLOAD and found.source_position is None
    assert (found.partition, found.offset, found.key) == (0, 7, "a" * 32)


def test_what_was_sent_before_the_schema_uri_is_read_too(contract: Any) -> None:
    """Messages already on the topics carry the old `<topic>#v1`."""
    old = Record(headers=with_header("ce_dataschema", f"{TOPIC}#v1".encode()))
    assert isinstance(read(old, contract), Message)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (Record(headers=without("ce_id")), "no ce_id header"),
        (
            Record(headers=with_header("ce_id", b"800000481")),
            "header ce_id is not a UUID",
        ),
        (Record(headers=without("ce_type")), "no ce_type header"),
        (
            Record(headers=with_header("ce_type", b"nl.bron.vo.fotos")),
            "header ce_type is not nl.bron.vo.inschrijvingen, the type of this topic",
        ),
        (
            Record(headers=with_header("ce_id", b"\xff\xfe" + ID.encode())),
            "header ce_id is not UTF-8",
        ),
        (Record(headers=with_header("ce_id", None)), "header ce_id has no value"),
        (Record(headers=without("ce_dataschema")), "no ce_dataschema header"),
        (
            Record(headers=with_header("ce_dataschema", b"bron.vo.cbs#v2")),
            f"header ce_dataschema is not {SCHEMA_ID}",
        ),
        (
            Record(headers=with_header("ce_specversion", b"0.3")),
            "header ce_specversion is not 1.0",
        ),
        (
            Record(headers=with_header("source_position", b"12a")),
            "header source_position is not a whole number",
        ),
        (Record(headers=[]), "no ce_id header"),
        (Record(value=None), "the value is missing"),
        (Record(value=b"\xff{}"), "the value is not UTF-8"),
        (Record(value=b"not json"), "the value is not JSON"),
        # Not JSON by RFC 8259, though Python's json module reads them.
        (Record(value=b'{"leerjaar": NaN}'), "the value is not JSON"),
        (Record(value=b'{"leerjaar": Infinity}'), "the value is not JSON"),
        (Record(value=b'{"brin": "\\ud800"}'), "the value is not JSON"),
        (Record(key=b"\xff"), "the key is not UTF-8"),
        (
            Record(value=json.dumps({**PAYLOAD, "bsn": "800000481"}).encode()),
            "breaks its schema: (message): data must not contain {'bsn'} properties",
        ),
        (
            Record(value=json.dumps({**PAYLOAD, "mutatie": "X"}).encode()),
            "breaks its schema: mutatie: data.mutatie must be one of",
        ),
    ],
)
def test_what_cannot_be_read_comes_back_with_the_reason(
    contract: Any, record: Record, reason: str
) -> None:
    found = read(record, contract)
    assert isinstance(found, Unreadable)
    assert found.reason.startswith(reason), found.reason
    assert found.record is record
    assert "800000481" not in found.reason


def test_the_log_position_is_read_where_it_is_sent() -> None:
    topic = "bron.vo.gm0363.koppelingen.v1"
    contract = Schemas().contract(topic)
    payload = {
        "onderwijsnummer": "101234567",
        "bsn": "800000481",
        "geboortedatum": None,
    }
    record = Record(
        topic=topic,
        value=json.dumps(payload).encode(),
        headers=[
            ("ce_specversion", b"1.0"),
            ("ce_id", str(uuid.UUID(ID)).upper().encode()),
            ("ce_type", b"nl.bron.vo.koppelingen"),
            ("ce_dataschema", contract.schema_id.encode()),
            ("source_position", b"4711"),
        ],
    )
    found = read(record, contract)
    assert isinstance(found, Message)
    assert found.source_position == 4711
    assert found.message_id == ID  # the canonical form of the UUID
