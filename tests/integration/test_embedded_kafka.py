"""The Kafka broker the demo and tests use (embedded Tansu unless
REGISTRY_KAFKA_BOOTSTRAP names a cluster), spoken to with kafka-python."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import InvalidRecordError

from registry.infrastructure.embedded_kafka import BrokerStartError, EmbeddedKafka

PARTITIONS = 4
MESSAGES = 1000
KEYS = 20


def group_timeouts() -> dict[str, int]:
    # The embedded broker assigns a new group after session_timeout_ms / 2;
    # Apache Kafka refuses sessions under 6 s by default.
    if os.environ.get("REGISTRY_KAFKA_BOOTSTRAP"):
        return {"session_timeout_ms": 6000, "heartbeat_interval_ms": 2000}
    return {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


def idempotent_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )


def produce_all(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    producer = idempotent_producer(bootstrap)
    sent: list[dict[str, Any]] = []
    futures = []
    seq_per_key: dict[str, int] = defaultdict(int)
    for n in range(MESSAGES):
        key = f"student-{n % KEYS}"
        msg = {"id": uuid.uuid4().hex, "key": key, "seq": seq_per_key[key], "n": n}
        seq_per_key[key] += 1
        headers = [("message-id", msg["id"].encode()), ("schema", b"v1")]
        futures.append(
            producer.send(
                topic, json.dumps(msg).encode(), key=key.encode(), headers=headers
            )
        )
        sent.append(msg)
    producer.flush(timeout=30)
    for future in futures:
        future.get(timeout=10)
    producer.close()
    return sent


def consume_all(bootstrap: str, topic: str, expected: int) -> list[Any]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **group_timeouts(),
    )
    records: list[Any] = []
    deadline = time.monotonic() + 60
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        # a last poll: anything more would be a duplicate
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
        consumer.commit()
    finally:
        consumer.close()
    return records


def test_every_message_arrives_once_with_headers_in_key_order(
    kafka_bootstrap: str,
) -> None:
    topic = f"it-{uuid.uuid4().hex[:10]}"
    create_topic(kafka_bootstrap, topic, PARTITIONS)

    sent = produce_all(kafka_bootstrap, topic)
    records = consume_all(kafka_bootstrap, topic, MESSAGES)

    assert {r.partition for r in records} <= set(range(PARTITIONS))
    got = [json.loads(r.value) for r in records]
    assert sorted(m["id"] for m in got) == sorted(m["id"] for m in sent)
    for record, msg in zip(records, got, strict=True):
        assert record.key.decode() == msg["key"]
        assert record.headers == [
            ("message-id", msg["id"].encode()),
            ("schema", b"v1"),
        ]
    per_key: dict[str, list[int]] = defaultdict(list)
    partition_of_key: dict[str, set[int]] = defaultdict(set)
    for record, msg in zip(records, got, strict=True):
        per_key[msg["key"]].append(msg["seq"])
        partition_of_key[msg["key"]].add(record.partition)
    assert len(per_key) == KEYS
    for key, seqs in per_key.items():
        assert seqs == list(range(len(seqs))), key
        assert len(partition_of_key[key]) == 1, key


STRICT_VALUE = {
    "type": "object",
    "properties": {
        "value": {
            "type": "object",
            "properties": {
                "student": {"type": "string"},
                "brin": {"type": "string"},
            },
            "required": ["student", "brin"],
            "additionalProperties": False,
        }
    },
}


@pytest.fixture
def strict_broker(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """An embedded broker validating topic `strict-...` against a JSON schema."""
    topic = f"strict-{uuid.uuid4().hex[:8]}"
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / f"{topic}.json").write_text(json.dumps(STRICT_VALUE))
    broker = EmbeddedKafka(tmp_path / "state", schemas)
    bootstrap = broker.start()
    pid = broker.pid
    yield bootstrap, topic
    broker.stop()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_broker_refuses_a_record_that_breaks_the_topic_schema(
    strict_broker: tuple[str, str],
) -> None:
    bootstrap, topic = strict_broker
    create_topic(bootstrap, topic, 1)
    good = {"student": "s-1", "brin": "00AA"}
    bad = {**good, "bsn": "123456782"}  # a field the schema does not allow

    producer = idempotent_producer(bootstrap)
    try:
        producer.send(topic, json.dumps(good).encode()).get(timeout=10)
        with pytest.raises(InvalidRecordError):
            producer.send(topic, json.dumps(bad).encode()).get(timeout=10)
    finally:
        producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        assert consumer.end_offsets([partition])[partition] == 1
        consumer.seek_to_beginning(partition)
        values = [
            json.loads(r.value)
            for batch in consumer.poll(timeout_ms=5000).values()
            for r in batch
        ]
    finally:
        consumer.close()
    assert values == [good]


def test_a_broker_that_cannot_start_fails_clearly_with_its_log(
    tmp_path: Path,
) -> None:
    broker = EmbeddedKafka(tmp_path / "state", tmp_path / "no-such-schema-dir")
    with pytest.raises(BrokerStartError, match="no-such-schema-dir"):
        broker.start()
    assert broker.pid is None
