"""A reference consumer for one recipient: loads its topics into its own store
(a PostgreSQL schema per recipient), exactly once in effect.

- Deduplicates by message id (the CloudEvents `ce_id` header): a retried or
  republished message is stored once.
- Commits offsets only after the batch's database transaction has committed: a
  crash in between re-reads messages, which deduplication absorbs.
- Parks poison messages (not JSON, no id, breaking the topic's schema) in the
  recipient's dead-letter topic, acknowledged, before committing their offsets.
- Stops cleanly on SIGTERM: finishes the batch in hand, commits, closes.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from kafka import KafkaConsumer, KafkaProducer
from psycopg.sql import SQL, Identifier

from registry.publishing.contract import (
    TopicSchemas,
    dead_letter_topic,
    parse_topic,
    topics_of,
)

log = logging.getLogger(__name__)
TABLE_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.messages (
  message_id uuid PRIMARY KEY, topic text NOT NULL, kind text NOT NULL,
  key text, payload jsonb NOT NULL, source_position bigint,
  kafka_partition int NOT NULL, kafka_offset bigint NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now());
"""


@dataclass
class Stats:
    stored: int = 0
    duplicates: int = 0
    parked: int = 0
    assigned: bool = False  # the group gave this consumer its partitions


class AgencyConsumer:
    def __init__(
        self,
        url: str,
        bootstrap: str,
        recipient: str,
        *,
        schemas: TopicSchemas | None = None,
        topics: list[str] | None = None,
        group_timeouts: tuple[int, int] = (6000, 2000),
        group: str | None = None,
        offset_reset: str = "earliest",
        security: dict[str, Any] | None = None,
    ) -> None:
        """`security`: kafka-python's TLS/SASL settings for both clients."""
        self.url = url
        self.recipient = recipient
        self.schema = f"agency_{recipient}"
        self.schemas = schemas or TopicSchemas()
        self.topics = topics or topics_of(recipient)
        self.stats = Stats()
        self._stop = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self.schemas.require(self.topics)
        session, heartbeat = group_timeouts
        self._kafka_settings: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "group_id": group or f"agency-{recipient}",
            "enable_auto_commit": False,
            "auto_offset_reset": offset_reset,
            "session_timeout_ms": session,
            "heartbeat_interval_ms": heartbeat,
            **(security or {}),
        }
        self._security = dict(security or {})
        self._bootstrap = bootstrap

    def create_tables(self) -> None:
        """The recipient's store: its own schema, made if missing."""
        with psycopg.connect(self.url) as conn:
            conn.execute(
                SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(self.schema))
            )
            conn.execute(SQL(TABLE_DDL).format(schema=Identifier(self.schema)))

    def stop(self, *_: Any) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(
        self, until: Callable[[Stats], bool] | None = None, poll_ms: int = 500
    ) -> Stats:
        self.create_tables()
        self.kafka = KafkaConsumer(*self.topics, **self._kafka_settings)
        self.dead_letters = KafkaProducer(
            bootstrap_servers=self._bootstrap,
            acks="all",
            enable_idempotence=True,
            **self._security,
        )
        try:
            while not self._stop.is_set():
                batch = [
                    r for rs in self.kafka.poll(timeout_ms=poll_ms).values() for r in rs
                ]
                self.stats.assigned = bool(self.kafka.assignment())
                if batch:
                    self._handle(batch)
                    self.kafka.commit()  # only after the store committed
                if until is not None and until(self.stats):
                    break
        finally:
            self.kafka.close()
            self.dead_letters.close()
            if self._conn is not None:
                self._conn.close()
        return self.stats

    def _handle(self, batch: list[Any]) -> None:
        good, poison = [], []
        for record in batch:
            row, problem = self._decode(record)
            if problem is None:
                good.append(row)
            else:
                poison.append((record, problem))
        self._park(poison)
        conn = self._connection()
        try:
            with conn.transaction():
                stored = self._insert(conn, good)
        except psycopg.OperationalError:
            conn.close()  # not committed to Kafka: read again after a restart
            raise
        self.stats.stored += max(stored, 0)
        self.stats.duplicates += len(good) - max(stored, 0)

    def _connection(self) -> psycopg.Connection[Any]:
        """One connection kept for the consumer's life: a new one per polled
        batch would cost the server a process each."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def _insert(self, conn: psycopg.Connection[Any], good: list[Any]) -> int:
        cur = conn.cursor()
        cur.executemany(
            SQL(
                "INSERT INTO {}.messages (message_id, topic, kind, key, payload, "
                "source_position, kafka_partition, kafka_offset) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
            ).format(Identifier(self.schema)),
            good,
        )
        stored = cur.rowcount if good else 0
        self._forget(cur, [json.loads(row[4]) for row in good if row[2] == "vergeten"])
        self._late(cur, [row[0] for row in good if row[2] != "vergeten"])
        return stored

    def _late(self, cur: psycopg.Cursor[Any], message_ids: list[str]) -> None:
        """Topics are not ordered with each other: a message about a person
        whose forget message came first is not kept either."""
        if not message_ids:
            return
        cur.execute(
            SQL(
                "DELETE FROM {m} m WHERE m.message_id = ANY(%s::uuid[]) AND EXISTS "
                "(SELECT 1 FROM {m} v WHERE v.kind = 'vergeten' AND ("
                "m.payload->>'bsn' = v.payload->>'bsn' OR "
                "m.payload->>'onderwijsnummer' = v.payload->>'onderwijsnummer' OR "
                "m.payload->>'pseudoniem' = v.payload->>'pseudoniem'))"
            ).format(m=Identifier(self.schema, "messages")),
            (message_ids,),
        )

    def _forget(
        self, cur: psycopg.Cursor[Any], forgotten: list[dict[str, Any]]
    ) -> None:
        """The registry forgot these people: delete what this store holds of
        them, in the transaction that stores the forget message (which is kept,
        as the record that it was done). A foto keeps its other pupils."""
        names = [
            v
            for p in forgotten
            for k in ("bsn", "onderwijsnummer", "pseudoniem")
            if (v := p.get(k)) is not None
        ]
        if not names:
            return
        table = Identifier(self.schema, "messages")
        cur.execute(
            SQL(
                "DELETE FROM {} WHERE kind <> 'vergeten' AND (payload->>'bsn' = ANY(%s) "
                "OR payload->>'onderwijsnummer' = ANY(%s) "
                "OR payload->>'pseudoniem' = ANY(%s))"
            ).format(table),
            (names, names, names),
        )
        cur.execute(
            SQL(
                "UPDATE {} SET payload = jsonb_set(payload, '{{inschrijvingen}}', "
                "(SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM "
                "jsonb_array_elements(payload->'inschrijvingen') e "
                "WHERE NOT (e->>'pseudoniem' = ANY(%s)))) "
                "WHERE jsonb_typeof(payload->'inschrijvingen') = 'array' AND EXISTS "
                "(SELECT 1 FROM jsonb_array_elements(payload->'inschrijvingen') e "
                "WHERE e->>'pseudoniem' = ANY(%s))"
            ).format(table),
            (names, names),
        )

    def _decode(self, record: Any) -> tuple[tuple[Any, ...], str | None]:
        headers = {k: v for k, v in (record.headers or [])}
        message_id = headers.get("ce_id")
        if message_id is None:
            return (), "no ce_id header"
        try:
            payload = json.loads(record.value)
        except (TypeError, ValueError):
            return (), "value is not JSON"
        problem = self.schemas.problem(record.topic, payload)
        if problem is not None:
            return (), problem
        kind = parse_topic(record.topic)[1]
        position = headers.get("source_position")
        row = (
            message_id.decode(),
            record.topic,
            kind,
            record.key.decode() if record.key else None,
            _text(record.value),  # checked JSON: stored as it came
            int(position) if position else None,
            record.partition,
            record.offset,
        )
        return row, None

    def _park(self, poison: list[tuple[Any, str]]) -> None:
        futures = [
            self.dead_letters.send(
                dead_letter_topic(self.recipient),
                key=record.key,
                value=record.value if isinstance(record.value, bytes) else b"",
                headers=[
                    *(record.headers or []),
                    ("dlq_reason", reason.encode()),
                    (
                        "dlq_source",
                        f"{record.topic}/{record.partition}/{record.offset}".encode(),
                    ),
                ],
            )
            for record, reason in poison
        ]
        for future in futures:
            future.get(timeout=30)
        if poison:
            self.stats.parked += len(poison)
            log.warning("%s: parked %d poison message(s)", self.recipient, len(poison))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
