"""The relay: produces the outbox to Kafka, each partition in `seq` order, at
least once.

- acks=all, retries, one request in flight per connection (so a retried batch
  is never overtaken: each partition keeps `seq` order), linger for batching;
  the message id travels as the CloudEvents `ce_id` header, so consumers
  deduplicate what a retry or a republish sends again. Kafka transactions and
  the idempotent producer are not used (see `producer`).
- A window of the outbox is sent topic by topic, each topic's records in
  `seq` order (so each partition's are). The larger the window, the more of a
  partition's records share a batch, so a catch-up sends faster; a window is
  held in memory as the bytes it sends (docs/benchmarks-notes.md).
- Bounded in flight: up to `in_flight` sends are outstanding, their futures
  settled in `seq` order; the recorded position never passes an unchecked send,
  so a failed send is sent again after a restart rather than skipped. There is
  no flush barrier per window (flush() returning would not prove delivery).
- A message that breaks its topic's JSON Schema is not sent: it is parked in
  `outbox_refused` with the reason, and the relay goes on. The relay checks
  each message its writer did not mark `schema_checked` (the extracts check
  theirs as they write them; a later change to a payload clears the mark).
- A message redacted because its person was forgotten (`redacted_at`, payload
  `{}`) is passed over, by a round and by a republish alike: never sent, never
  parked (an empty payload is not a broken one). `Relay.skipped` counts them.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple

import psycopg
from kafka import KafkaProducer
from kafka.errors import MessageSizeTooLargeError
from kafka.producer.future import FutureRecordMetadata

from registry.infrastructure.pools import connect
from registry.publishing.contract import (
    CE_SOURCE,
    PSEUDONYMISED,
    TopicSchemas,
    all_topics,
    ce_type,
    dataschema,
    group,
    parse_topic,
)
from registry.publishing.partitioner import KeyedProducer, KeyPartitioner

log = logging.getLogger(__name__)
# The CloudEvents `ce_time`, made by the server as it reads the row: RFC 3339
# in UTC, whatever the session's time zone.
CE_TIME = (
    "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
)
_SELECT = (
    "SELECT seq, message_id::text, recipient, topic, key, kind, payload::text, "  # noqa: S608 - constants
    f"source_position, {CE_TIME}, redacted_at IS NOT NULL, schema_checked "
    "FROM outbox WHERE seq > %s AND (%s::text IS NULL OR recipient LIKE %s) "
    "ORDER BY seq LIMIT %s"
)


class Row(NamedTuple):
    """An outbox row as the relay sends it. A named tuple: immutable, and made
    for every message at a third of a frozen dataclass's cost."""

    seq: int
    message_id: Any  # its text (the relay's read), or a UUID
    recipient: str
    topic: str
    key: str
    kind: str
    source_position: int
    ce_time: str  # when the registry recorded the fact (CE_TIME)
    value: bytes  # the payload's JSON as stored: sent as it is, not encoded again
    redacted: bool = False  # its person was forgotten: not to be sent
    checked: bool = False  # its writer checked it against its topic's schema

    @classmethod
    def of(cls, record: tuple[Any, ...]) -> Row:
        """A row of _SELECT."""
        seq, message_id, recipient, topic, key, kind, text, position, at, gone, ok = (
            record
        )
        return cls(
            seq,
            message_id,
            recipient,
            topic,
            key,
            kind,
            position,
            at,
            text.encode(),
            gone,
            ok,
        )

    def headers(self) -> list[tuple[str, bytes]]:
        kind, schema, positioned = _fixed_headers(self.topic, self.kind, self.recipient)
        headers = [
            _SPECVERSION,
            ("ce_id", str(self.message_id).encode()),
            kind,
            _SOURCE,
            ("ce_time", self.ce_time.encode()),
            _CONTENT_TYPE,
            schema,
        ]
        if positioned:
            headers.append(("source_position", str(self.source_position).encode()))
        return headers


_SPECVERSION = ("ce_specversion", b"1.0")
_SOURCE = ("ce_source", CE_SOURCE.encode())
_CONTENT_TYPE = ("content-type", b"application/json")


@cache
def _fixed_headers(
    topic: str, kind: str, recipient: str
) -> tuple[tuple[str, bytes], tuple[str, bytes], bool]:
    """The headers a topic's messages share, made once: `ce_type`,
    `ce_dataschema`, and whether the log position goes along (not for the
    pseudonymised recipients, where the same position at each would link their
    pseudonyms to each other)."""
    return (
        ("ce_type", ce_type(kind).encode()),
        ("ce_dataschema", dataschema(topic).encode()),
        group(recipient) not in PSEUDONYMISED,
    )


MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def producer(bootstrap: str, **overrides: Any) -> KafkaProducer:
    """Not idempotent: what idempotence adds (no duplicate from a retry, order
    kept with several requests in flight) the relay has already, through the
    consumers' deduplication by `ce_id` and one request in flight, and it cost
    half the publication's CPU (docs/benchmarks-notes.md)."""
    settings: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "max_in_flight_requests_per_connection": 1,
        "retries": 10,
        # A foto of one school goes as one message: the largest schools' run to
        # ~2 MB, above Kafka's 1 MB default (a configured broker needs
        # max.message.bytes raised to match on the fotos topics).
        "max_request_size": MAX_MESSAGE_BYTES,
        "partitioner": KeyPartitioner(),
    }
    return KeyedProducer(**(settings | overrides))


class Relay:
    def __init__(
        self,
        url: str,
        kafka: KafkaProducer,
        schemas: TopicSchemas,
        *,
        name: str = "relay",
        window: int = 50_000,
        recipients: str | None = None,
        in_flight: int = 5000,
    ) -> None:
        """`recipients`: a LIKE pattern ('cbs', 'gm%'), so several relays, one per
        recipient group, each with its own position (`name`), share the work.
        Refuses to start when a topic it serves has no schema."""
        schemas.require(
            [t for t in all_topics() if matches(parse_topic(t)[0], recipients)]
        )
        self.recipients = recipients
        self.in_flight = in_flight
        self.url = url
        self.kafka = kafka
        self.schemas = schemas
        self.name = name
        self.window = window
        self.skipped = 0  # redacted messages passed over, since it was made
        self._carried: _Pending | None = None  # a round's unsettled sends

    def position(self) -> int:
        with connect(self.url) as conn:
            return self._position(conn)

    def _position(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT seq FROM relay_positions WHERE name = %s", (self.name,)
        ).fetchone()
        conn.commit()
        return int(row[0]) if row else 0

    def lag(self) -> int:
        with connect(self.url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM outbox WHERE seq > %s "
                "AND (%s::text IS NULL OR recipient LIKE %s)",
                (self._position(conn), self.recipients, self.recipients),
            ).fetchone()
        return int(row[0]) if row else 0

    def run_once(
        self, on_window: Callable[[int], None] | None = None, *, settle: bool = True
    ) -> int:
        """Relay everything in the outbox now; the number of messages sent.

        Sends stream without a flush barrier: at most `in_flight` futures are
        outstanding, settled oldest first, so every message up to the recorded
        position has been checked as landed. One connection serves the round
        (its reads, refusals and positions, each committed at once), not one
        a statement.

        `settle=False` (a long-lived publication): the round does not wait for
        the broker to acknowledge its last sends. It records the position up
        to the sends already acknowledged and leaves the rest to the next
        round (or `finish`), which reads on from where this one read; the
        next round's work then overlaps that wait. A round that fails drops
        what it carried: the next starts from the recorded position and
        sends those messages again."""
        carried, self._carried = self._carried, None
        with connect(self.url) as conn:
            pending = carried or _Pending.at(self._position(conn))
            sent = self._round(conn, pending, on_window)
            if settle:
                pending.settle(len(pending.in_flight))
            else:
                pending.settle_done()
            if pending.acked > pending.recorded:
                pending.recorded = self._acknowledge(conn, pending.acked)
        if not settle:
            self._carried = pending
        return sent

    @property
    def carrying(self) -> bool:
        """Whether the last round left sends to settle (`finish`)."""
        return self._carried is not None and bool(self._carried.in_flight)

    def finish(self) -> int:
        """Wait for what the last round left in flight and record it (and
        relay what has come meanwhile); the number of messages sent."""
        return self.run_once(settle=True) if self._carried is not None else 0

    def _round(
        self,
        conn: psycopg.Connection[Any],
        pending: _Pending,
        on_window: Callable[[int], None] | None,
    ) -> int:
        sent = 0
        while True:
            rows = self._read(conn, pending.read_to, self.recipients, self.window)
            if not rows:
                return sent
            refused: list[tuple[Row, str]] = []
            # A window goes topic by topic (stably: each partition keeps seq
            # order), so a partition's records fill one batch rather than a
            # new one, and a wakeup of the producer's sender, for nearly each.
            futures = {r.seq: self._send(r, refused) for r in sorted(rows, key=_TOPIC)}
            for row in rows:  # settled in seq order, whatever order they went in
                future = futures[row.seq]
                sent += future is not None
                pending.in_flight.append((row.seq, future))
            pending.settle(len(pending.in_flight) - self.in_flight)
            if refused:
                self._park(conn, refused)
            pending.read_to = rows[-1].seq
            if pending.acked > pending.recorded:
                pending.recorded = self._acknowledge(conn, pending.acked)
            if on_window:
                on_window(sent)

    def _send(
        self, row: Row, refused: list[tuple[Row, str]]
    ) -> FutureRecordMetadata | None:
        if row.redacted:
            self.skipped += 1
            return None
        if not row.checked:
            problem = self.schemas.problem_in(row.topic, row.value)
            if problem is not None:
                refused.append((row, problem))
                return None
        try:
            return self.kafka.send(
                row.topic,
                key=row.key.encode(),
                value=row.value,
                headers=row.headers(),
            )
        except MessageSizeTooLargeError as e:
            # It can never be sent: park it, like a schema refusal, rather than
            # stop every message behind it.
            refused.append((row, f"too large for the producer: {e}"))
            return None

    def republish(
        self,
        recipient: str,
        from_position: int = 0,
        on_window: Callable[[int], None] | None = None,
    ) -> int:
        """Send a recipient's messages again, from a log position on, with their
        original ids (a consumer that lost its store rebuilds it from these).
        The same send path as a relay round: a message that breaks its schema
        or is too large is parked, not sent."""
        with connect(self.url) as conn:
            return self._republish(conn, recipient, from_position, on_window)

    def _republish(
        self,
        conn: psycopg.Connection[Any],
        recipient: str,
        from_position: int,
        on_window: Callable[[int], None] | None,
    ) -> int:
        sent, seq = 0, 0
        while True:
            batch = self._read(conn, seq, recipient, self.window)
            if not batch:
                return sent
            refused: list[tuple[Row, str]] = []
            futures = [
                future
                for row in batch
                if row.source_position >= from_position
                and (future := self._send(row, refused)) is not None
            ]
            self.kafka.flush()
            # flush() returning does not mean every record landed: check each.
            for future in futures:
                future.get(timeout=30)
            if refused:
                self._park(conn, refused)
            sent += len(futures)
            seq = batch[-1].seq
            if on_window:
                on_window(sent)

    def _read(
        self,
        conn: psycopg.Connection[Any],
        after: int,
        recipient: str | None,
        limit: int,
    ) -> list[Row]:
        rows = conn.execute(_SELECT, (after, recipient, recipient, limit)).fetchall()
        conn.commit()  # not idle in a transaction while the window is sent
        return [Row.of(r) for r in rows]

    def _park(
        self, conn: psycopg.Connection[Any], refused: list[tuple[Row, str]]
    ) -> None:
        for row, reason in refused:
            log.error("outbox seq %d refused for %s: %s", row.seq, row.topic, reason)
        with conn.transaction():
            conn.cursor().executemany(
                "INSERT INTO outbox_refused (seq, message_id, topic, reason) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(r.seq, r.message_id, r.topic, reason) for r, reason in refused],
            )

    def _acknowledge(self, conn: psycopg.Connection[Any], seq: int) -> int:
        """Record that every send up to `seq` landed; `seq`."""
        with conn.transaction():
            conn.execute(
                "INSERT INTO relay_positions (name, seq, recipients) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = now(), "
                "recipients = excluded.recipients",
                (self.name, seq, self.recipients),
            )
        return seq


def matches(value: str, pattern: str | None) -> bool:
    """SQL's LIKE, as the relay's outbox query applies `recipients`."""
    if pattern is None:
        return True
    regex = "".join(
        ".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, value) is not None


_TOPIC = attrgetter("topic")


@dataclass
class _Pending:
    """Where a relay has read to, what it has sent and not yet settled, and
    what it has recorded."""

    read_to: int
    acked: int
    recorded: int
    in_flight: deque[tuple[int, FutureRecordMetadata | None]]

    @classmethod
    def at(cls, position: int) -> _Pending:
        return cls(position, position, position, deque())

    def settle(self, count: int) -> None:
        """Wait for the `count` oldest sends to land."""
        for _ in range(max(count, 0)):
            self.acked = _settle(self.in_flight.popleft())

    def settle_done(self) -> None:
        """Settle the oldest sends as far as they have landed, without waiting."""
        while self.in_flight:
            future = self.in_flight[0][1]
            if future is not None and not future.is_done:
                return
            self.acked = _settle(self.in_flight.popleft())


def _settle(entry: tuple[int, FutureRecordMetadata | None]) -> int:
    """Wait for one send to land (a failure raises: nothing past it is recorded)."""
    seq, future = entry
    if future is not None and not future.succeeded():
        future.get(timeout=60)
    return seq
