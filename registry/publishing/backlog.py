"""What waits on the publishing side, read cheaply enough to be asked on every
scrape (`/metrics`) and by `registry status`: each relay's position and the
messages after it per recipient, the refused messages, and the messages the
agencies' consumers parked on their dead-letter topics.

The outbox grows with every message ever published; what waits for a relay
is counted from its position along the primary key, and at most `LAG_CAP`
messages are counted (a relay that never ran, or is far behind, reads as
"at least the cap").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from registry.infrastructure.pools import connect
from registry.publishing.contract import dead_letter_topic, parse_topic, recipients
from registry.publishing.relay import matches

LAG_CAP = 100_000
DEFAULT_RELAY = "relay"  # `registry publish relay`'s name, before its first round
_WAITING = (
    "SELECT recipient, count(*) FROM (SELECT recipient FROM outbox WHERE seq > %s "
    "AND (%s::text IS NULL OR recipient LIKE %s) ORDER BY seq LIMIT %s) w "
    "GROUP BY recipient"
)


@dataclass(frozen=True)
class RelayBacklog:
    name: str
    recipients: str | None  # the LIKE pattern it serves; None: every recipient
    position: int  # the outbox seq it has relayed up to
    updated_at: datetime | None
    waiting: dict[str, int] = field(default_factory=dict)  # by recipient, > 0 only

    @property
    def lag(self) -> int:
        return sum(self.waiting.values())

    @property
    def capped(self) -> bool:
        """More may wait than was counted."""
        return self.lag >= LAG_CAP

    def served(self) -> list[str]:
        """Every recipient of the contract this relay serves."""
        return [r for r in recipients() if matches(r, self.recipients)]


def relays(url: str, cap: int = LAG_CAP) -> list[RelayBacklog]:
    """Every relay that has recorded a position (`registry publish relay`'s
    own at position 0 before its first round), with what waits for it."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT name, recipients, seq, updated_at FROM relay_positions ORDER BY name"
        ).fetchall()
        found = [(str(r[0]), r[1], int(r[2]), r[3]) for r in rows] or [
            (DEFAULT_RELAY, None, 0, None)
        ]
        out = []
        for name, pattern, seq, at in found:
            waiting = conn.execute(_WAITING, (seq, pattern, pattern, cap)).fetchall()
            counts = {str(r): int(n) for r, n in waiting}
            out.append(RelayBacklog(name, pattern, seq, at, counts))
    return out


def outbox_head(url: str) -> int:
    """The last message's seq (0: none yet)."""
    with connect(url) as conn:
        row = conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
    return int(row[0]) if row else 0


def refused(url: str) -> dict[str, int]:
    """Messages refused for their topic (schema, size) and not yet redriven."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT topic, count(*) FROM outbox_refused GROUP BY topic ORDER BY topic"
        ).fetchall()
    return {str(t): int(n) for t, n in rows}


def refused_by_recipient(url: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for topic, n in refused(url).items():
        counts[parse_topic(topic)[0]] += n
    return dict(counts)


def parked(
    bootstrap: str, security: dict[str, Any], timeout_s: float = 5.0
) -> dict[str, int]:
    """Messages on the recipients' dead-letter topics (what their consumers
    could not store), by recipient; only those that hold any. The partitions
    whose offsets say they hold something are read and counted: some brokers
    (the embedded one) report an end offset short of the last record of a
    batch. What a retention policy deleted is not counted."""
    from kafka import KafkaConsumer, TopicPartition

    wanted = {dead_letter_topic(r): r for r in recipients()}
    timeout_ms = int(timeout_s * 1000)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        request_timeout_ms=timeout_ms + 1000,
        bootstrap_timeout_ms=timeout_ms,
        **security,
    )
    try:
        topics = sorted(set(consumer.topics()) & set(wanted))
        parts = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        if not parts:
            return {}
        first = consumer.beginning_offsets(parts, timeout_ms)
        last = consumer.end_offsets(parts, timeout_ms)
        held = [p for p in parts if last[p] > first[p]]
        counts = _count(consumer, held) if held else {}
    finally:
        consumer.close()
    return {wanted[t]: n for t, n in sorted(counts.items())}


def _count(consumer: Any, parts: list[Any]) -> dict[str, int]:
    """Records of the partitions, by topic: read until two polls bring none."""
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    counts: Counter[str] = Counter()
    empty = 0
    while empty < 2:
        polled = consumer.poll(timeout_ms=500)
        for part, records in polled.items():
            counts[part.topic] += len(records)
        empty = 0 if polled else empty + 1
    return dict(counts)
