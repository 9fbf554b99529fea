"""An agency of a test's own for the reference consumer: its own topics (the
contract's names with a suffix, so the session's broker keeps tests apart),
its own consumer group and its own schema in the test's database."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from kafka import KafkaProducer

from consumers.agency import AgencyConsumer, Stats
from consumers.contract import dead_letter_topic
from registry.publishing.admin import ensure_topics
from registry.publishing.contract import ce_type, dataschema, topic

FAST_GROUP = (2000, 500)  # the embedded broker only (Apache Kafka's floor is 6000)
Header = tuple[str, bytes | None]


def cloud_event(name: str, ce_id: str) -> list[Header]:
    """The headers the relay sends with a message on topic `name`."""
    kind = name.split(".")[3]
    return [
        ("ce_specversion", b"1.0"),
        ("ce_id", ce_id.encode()),
        ("ce_type", ce_type(kind).encode()),
        ("ce_source", b"urn:nl:bron-vo:registry"),
        ("ce_dataschema", dataschema(name).encode()),
        ("content-type", b"application/json"),
    ]


def send(
    bootstrap: str, name: str, records: list[tuple[bytes, bytes, list[Header]]]
) -> None:
    """(key, value, headers) onto the topic, in order."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for key, value, headers in records:
        producer.send(name, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


class Agency:
    """One recipient of a group (cbs, inspectie, svb, gemeente as gm0363)."""

    def __init__(
        self, url: str, bootstrap: str, group: str, kinds: tuple[str, ...]
    ) -> None:
        suffix = uuid.uuid4().hex[:8]
        on_topic = "gm0363" if group == "gemeente" else group
        self.url, self.bootstrap = url, bootstrap
        self.recipient = f"{on_topic}x{suffix}"
        self.topics = {k: f"{topic(on_topic, k)}.{suffix}" for k in kinds}
        self.dead_letters = dead_letter_topic(self.recipient)
        self.sent = 0  # messages sent so far
        self.read = 0  # of which a consumer has read
        ensure_topics(bootstrap, [*self.topics.values(), self.dead_letters])

    def publish(
        self, kind: str, payload: dict[str, Any], *, key: str, ce_id: str | None = None
    ) -> str:
        """One message as the relay sends it; its id."""
        ce_id = ce_id or str(uuid.uuid4())
        name = self.topics[kind]
        value = json.dumps(payload).encode()
        send(self.bootstrap, name, [(key.encode(), value, cloud_event(name, ce_id))])
        self.sent += 1
        return ce_id

    def raw(self, kind: str, records: list[tuple[bytes, bytes, list[Header]]]) -> None:
        send(self.bootstrap, self.topics[kind], records)
        self.sent += len(records)

    def consumer(self, **settings: Any) -> AgencyConsumer:
        return AgencyConsumer(
            self.url,
            self.bootstrap,
            self.recipient,
            topics=list(self.topics.values()),
            group_timeouts=FAST_GROUP,
            **settings,
        )

    def consume(self) -> Stats:
        """A consumer of the group, run until it has read every message sent
        since the last run (a new one resumes after the committed offsets)."""
        wanted = self.sent - self.read
        stats = self.consumer().run(until=lambda s: seen(s) >= wanted)
        self.read = self.sent
        return stats

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """A query on the agency's schema (`{s}` stands for it)."""
        with psycopg.connect(self.url) as conn:
            sql = query.format(s=f'"agency_{self.recipient}"')
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def seen(stats: Stats) -> int:
    return stats.stored + stats.duplicates + stats.parked + stats.dropped
