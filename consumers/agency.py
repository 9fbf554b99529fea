"""A reference consumer for one recipient: loads its topics into its own store
(a PostgreSQL schema per recipient, consumers/store.py), exactly once in effect,
and folds them into who is enrolled now (consumers/fold.py).

- Stands alone: its own settings (AGENCY_*), its own tables, made by itself;
  it needs Read and Describe on its topics and its group, Write on its
  dead-letter topic, and no right to create anything. A topic that does not
  exist yet is waited for, and logged, not created.
- Deduplicates by message id (the CloudEvents `ce_id` header): a retried or
  republished message is stored, and folded, once.
- Commits offsets only after the batch's database transaction has committed,
  and on a rebalance commits what it has stored before its partitions go: a
  crash or a lost partition re-reads messages, which deduplication absorbs.
- Parks what it cannot read (a header missing or malformed, a value that is
  not JSON or breaks the topic's schema, one the database refuses): into the
  `parked` table with the reason, in the batch's transaction, and onto the
  recipient's dead-letter topic; then goes on. It never stops for a message.
- Stops cleanly on SIGTERM: finishes the batch in hand, commits, closes.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from consumers import fold
from consumers.contract import Schemas, TopicContract, dead_letter_topic
from consumers.records import Message, Unreadable, read
from consumers.settings import FETCH_MIN_BYTES, FETCH_WAIT_MS, AgencySettings
from consumers.store import Outcome, create_tables, park, store

log = logging.getLogger(__name__)


@dataclass
class Stats:
    stored: int = 0
    duplicates: int = 0
    parked: int = 0
    dropped: int = 0  # about a person already forgotten: not kept
    assigned: bool = False  # the group gave this consumer its partitions
    waiting_for: list[str] = field(default_factory=list)  # topics not there yet

    @property
    def handled(self) -> int:
        """Messages dealt with one way or another: stored, seen before, parked
        or dropped (what a wait for quiet watches)."""
        return self.stored + self.duplicates + self.parked + self.dropped


class AgencyConsumer:
    def __init__(
        self,
        url: str,
        bootstrap: str,
        recipient: str,
        *,
        topics: list[str] | None = None,
        schemas: Schemas | None = None,
        group_timeouts: tuple[int, int] = (6_000, 2_000),
        group: str | None = None,
        offset_reset: str = "earliest",
        security: dict[str, Any] | None = None,
        topic_wait_seconds: float = 30.0,
        fetch_wait_ms: int = FETCH_WAIT_MS,
        fetch_min_bytes: int = FETCH_MIN_BYTES,
    ) -> None:
        """`topics`: the recipient's by default (a test may give its own, named
        `bron.vo.<recipient>.<kind>.<version>.<anything>`); `security`:
        kafka-python's TLS/SASL settings, for both clients."""
        self.url = url
        self.recipient = recipient
        self.schema = f"agency_{recipient}"
        schemas = schemas or Schemas()
        self.topics = topics or schemas.topics_of(recipient)
        self.contracts = {t: schemas.contract(t) for t in self.topics}
        self.dead_letters = dead_letter_topic(recipient)
        self.stats = Stats()
        self._stop = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._done: dict[TopicPartition, OffsetAndMetadata] = {}
        # Each partition's next offset once what came before it is stored (or
        # parked): whoever waits for the consumer to catch up reads it.
        self.positions: dict[TopicPartition, int] = {}
        self._wait_s = topic_wait_seconds
        self._security = dict(security or {})
        session, heartbeat = group_timeouts
        self._kafka_settings: dict[str, Any] = {
            "bootstrap_servers": bootstrap,
            "group_id": group or f"agency-{recipient}",
            "enable_auto_commit": False,
            "auto_offset_reset": offset_reset,
            "session_timeout_ms": session,
            "heartbeat_interval_ms": heartbeat,
            "allow_auto_create_topics": False,  # it has no right to
            "fetch_max_wait_ms": fetch_wait_ms,  # AgencySettings.fetch_wait_ms
            "fetch_min_bytes": fetch_min_bytes,  # AgencySettings.fetch_min_bytes
            **self._security,
        }
        self._producer: KafkaProducer | None = None
        self._dlq_exists = False

    @classmethod
    def from_settings(
        cls, settings: AgencySettings, recipient: str | None = None
    ) -> AgencyConsumer:
        name = recipient or settings.recipient
        if not name:
            raise ValueError("no recipient: give one, or set AGENCY_RECIPIENT")
        return cls(
            settings.database(),
            settings.bootstrap(),
            name,
            schemas=Schemas(settings.schema_dir),
            group_timeouts=(
                settings.session_timeout_ms,
                settings.heartbeat_interval_ms,
            ),
            group=settings.group,
            offset_reset=settings.offset_reset,
            security=settings.security(),
            topic_wait_seconds=settings.topic_wait_seconds,
            fetch_wait_ms=settings.fetch_wait_ms,
            fetch_min_bytes=settings.fetch_min_bytes,
        )

    def create_tables(self) -> None:
        groups = {c.group for c in self.contracts.values()}
        create_tables(self._connection(), self.schema, groups)

    def stop(self, *_: Any) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(
        self, until: Callable[[Stats], bool] | None = None, poll_ms: int = 500
    ) -> Stats:
        self._stop.clear()
        self.create_tables()
        self.kafka = KafkaConsumer(**self._kafka_settings)
        try:
            next_look = 0.0
            while not self._stop.is_set():
                looking = self.stats.waiting_for or not self._subscribed()
                if looking and time.monotonic() >= next_look:
                    self._subscribe()
                    next_look = time.monotonic() + self._wait_s
                if self._subscribed():
                    self._poll_once(poll_ms)
                else:
                    self._stop.wait(poll_ms / 1000)
                if until is not None and until(self.stats):
                    break
        finally:
            self.kafka.close(autocommit=False)
            if self._producer is not None:
                self._producer.close()
            if self._conn is not None:
                self._conn.close()
        return self.stats

    def _subscribe(self) -> None:
        """Subscribe to those of its topics that exist; log the others, which
        are looked for again later (the registry creates them)."""
        present = set(self.kafka.topics())
        self._dlq_exists = self.dead_letters in present
        found = [t for t in self.topics if t in present]
        missing = [t for t in self.topics if t not in present]
        if missing != self.stats.waiting_for and missing:
            log.warning(
                "%s: waiting for topic(s) %s: not there, or not described to this "
                "consumer (it needs Describe and Read on them)",
                self.recipient,
                ", ".join(missing),
            )
        self.stats.waiting_for = missing
        if found and set(found) != self._subscribed():
            self.kafka.subscribe(found, listener=_Listener(self))

    def _subscribed(self) -> set[str]:
        return set(self.kafka.subscription() or ())

    def _poll_once(self, poll_ms: int) -> None:
        polled = self.kafka.poll(timeout_ms=poll_ms)
        batch = [r for records in polled.values() for r in records]
        self.stats.assigned = bool(self.kafka.assignment())
        if batch:
            self._handle(batch)
            self._commit()

    def _handle(self, batch: list[Any]) -> None:
        good: list[Message] = []
        bad: list[Unreadable] = []
        for record in batch:
            found = _read(record, self.contracts.get(record.topic))
            if isinstance(found, Message):
                good.append(found)
            else:
                bad.append(found)
        conn = self._connection()
        try:
            outcome, refused = self._store(conn, good, bad)
        except psycopg.OperationalError:
            conn.close()  # not committed to Kafka: read again after a restart
            raise
        bad += refused
        self._dead_letter(bad)
        self.stats.stored += outcome.stored
        self.stats.duplicates += outcome.duplicates
        self.stats.dropped += outcome.dropped
        self.stats.parked += len(bad)
        for record in batch:
            tp = TopicPartition(record.topic, record.partition)
            self._done[tp] = OffsetAndMetadata(record.offset + 1, "", -1)
            self.positions[tp] = record.offset + 1

    def _store(
        self,
        conn: psycopg.Connection[Any],
        good: list[Message],
        bad: list[Unreadable],
    ) -> tuple[Outcome, list[Unreadable]]:
        """The batch in one transaction; when the database refuses a value in
        it, message by message, parking those it refuses."""
        try:
            with conn.transaction():
                park(conn, self.schema, bad)
                return store(conn, self.schema, good), []
        except psycopg.DataError:
            pass
        total, refused = Outcome(), []
        with conn.transaction():
            park(conn, self.schema, bad)
            for message in good:
                try:
                    with conn.transaction():
                        one = store(conn, self.schema, [message])
                except psycopg.DataError as e:
                    why = f"the store refused it ({type(e).__name__})"
                    refused.append(Unreadable(message.record, why))
                    continue
                total.stored += one.stored
                total.duplicates += one.duplicates
                total.dropped += one.dropped
            park(conn, self.schema, refused)
        return total, refused

    def _commit(self) -> None:
        """Commit the offsets of what is stored. A commit that fails (the group
        is rebalancing, the coordinator moved) is let go: whoever reads the
        partition next reads those messages again, and deduplication absorbs
        them."""
        if not self._done:
            return
        done, self._done = self._done, {}
        try:
            self.kafka.commit(offsets=done)
        except KafkaError as e:
            log.warning("%s: offsets not committed (%s)", self.recipient, e)

    def _connection(self) -> psycopg.Connection[Any]:
        """One connection kept for the consumer's life: a new one per polled
        batch would cost the server a process each."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn

    def _dead_letter(self, bad: list[Unreadable]) -> None:
        """Onto the dead-letter topic, after the park table has them: a copy
        for the operator's tools. Without the topic, or the right to write to
        it, the park table alone holds them."""
        if not bad:
            return
        reasons = sorted({u.reason for u in bad})
        log.warning(
            "%s: parked %d message(s): %s", self.recipient, len(bad), "; ".join(reasons)
        )
        if not self._dlq_exists:
            return
        try:
            producer = self._dead_letter_producer()
            futures = [producer.send(self.dead_letters, **_letter(u)) for u in bad]
            for future in futures:
                future.get(timeout=30)
        except KafkaError as e:
            log.error(
                "%s: dead-letter topic %s not written (%s); the parked table has them",
                self.recipient,
                self.dead_letters,
                type(e).__name__,
            )

    def _dead_letter_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self._kafka_settings["bootstrap_servers"],
                acks="all",
                max_block_ms=30_000,
                **self._security,
            )
        return self._producer


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions go to another member, commit what is stored of them."""

    def __init__(self, consumer: AgencyConsumer) -> None:
        self.consumer = consumer

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.consumer._commit()
        self.consumer.stats.assigned = False

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("%s: assigned %d partition(s)", self.consumer.recipient, len(assigned))


def _read(record: Any, contract: TopicContract | None) -> Message | Unreadable:
    if contract is None:
        return Unreadable(record, f"not a topic of this consumer: {record.topic}")
    found = read(record, contract)
    if isinstance(found, Message):
        problem = fold.problem(found)
        if problem is not None:
            return Unreadable(record, problem)
    return found


def _letter(u: Unreadable) -> dict[str, Any]:
    r = u.record
    where = f"{r.topic}/{r.partition}/{r.offset}"
    return {
        "key": r.key,
        "value": r.value if isinstance(r.value, bytes) else b"",
        "headers": [
            *(r.headers or []),
            ("dlq_reason", u.reason.encode()),
            ("dlq_source", where.encode()),
        ],
    }
