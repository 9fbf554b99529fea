"""Benchmark: the reference agency consumer storing and folding N messages of one
recipient's topic, against a bare kafka-python consumer reading the same
messages from the same broker in the same run (no checks, no store). Usage:
python bench/consumer.py [N] [ROUNDS]

Half the messages register a period (T), a quarter end one of those (U) and a
quarter amend one (A), as the extracts publish them. The demo runs fifteen of
these consumers beside the play: their CPU per message is part of the demo's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from figures import record
from kafka import KafkaConsumer, KafkaProducer
from scratch import scratch_database

from consumers.agency import AgencyConsumer
from consumers.contract import dead_letter_topic
from registry.config import Settings
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.infrastructure.embedded_postgres import EmbeddedPostgres
from registry.publishing.admin import ensure_topics, write_broker_schemas
from registry.publishing.relay import Row

GROUP_TIMEOUTS = (2000, 500)  # the embedded broker's group joins in about a second
KIND = "inschrijvingen"
AT = "2026-08-20T10:00:00.000000+00:00"  # the relay's ce_time


def payload(n: int, mutatie: str) -> dict[str, Any]:
    return {
        "pseudoniem": f"{n:032x}",
        "mutatie": mutatie,
        "brin": f"{n % 100:02d}OE",
        "vestiging": "00",
        "elementcode": "0300",
        "leerjaar": 1 + n % 4,
        "ingangsdatum": "2026-08-01",
        "einddatum": "2027-07-31" if mutatie == "U" else None,
        "geregistreerd_op": "2026-08-20T10:00:00+00:00",
    }


def messages(topic: str, n: int) -> list[tuple[bytes, bytes, list[Any]]]:
    """(key, value, headers), the headers those the relay sends."""
    half = n // 2
    kinds = [(i, "T") for i in range(half)]
    kinds += [(i % half, "U" if i % 2 else "A") for i in range(n - half)]
    out = []
    for seq, (person, mutatie) in enumerate(kinds, 1):
        key = f"{person:032x}"
        value = json.dumps(payload(person, mutatie)).encode()
        row = Row(seq, uuid.uuid4(), "cbs", topic, key, KIND, seq, AT, value)
        out.append((key.encode(), value, row.headers()))
    return out


def fill(bootstrap: str, topic: str, n: int) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024
    )
    for key, value, headers in messages(topic, n):
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def raw_rate(bootstrap: str, topic: str, n: int) -> float:
    """A bare consumer: read every record, commit once a poll, nothing else."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=GROUP_TIMEOUTS[0],
        heartbeat_interval_ms=GROUP_TIMEOUTS[1],
    )
    seen, start = 0, None
    while seen < n:
        polled = consumer.poll(timeout_ms=500)
        if polled and start is None:
            start = time.perf_counter()  # from the first records: not the join
        seen += sum(len(r) for r in polled.values())
        if polled:
            consumer.commit()
    assert start is not None
    rate = n / (time.perf_counter() - start)
    consumer.close()
    return rate


def agency_rate(url: str, bootstrap: str, recipient: str, topic: str, n: int) -> float:
    consumer = AgencyConsumer(
        url, bootstrap, recipient, topics=[topic], group_timeouts=GROUP_TIMEOUTS
    )
    began: list[tuple[float, int]] = []

    def done(stats: Any) -> bool:
        if stats.stored and not began:
            began.append((time.perf_counter(), stats.stored))
        return bool(stats.stored + stats.duplicates + stats.parked >= n)

    stats = consumer.run(until=done, poll_ms=500)
    assert stats.parked == 0 and stats.stored == n, stats
    # From the end of the first stored poll: the group's join is not counted,
    # nor the messages of that poll.
    start, first = began[0]
    return (n - first) / (time.perf_counter() - start)


def one_round(server: str, bootstrap: str, n: int) -> tuple[float, float]:
    recipient = f"cbsx{uuid.uuid4().hex[:8]}"
    topic = f"bron.vo.cbs.{KIND}.v1.{recipient}"
    with scratch_database(server) as url:
        ensure_topics(bootstrap, [topic, dead_letter_topic(recipient)])
        fill(bootstrap, topic, n)
        raw = raw_rate(bootstrap, topic, n)
        return agency_rate(url, bootstrap, recipient, topic, n), raw


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=50_000)
    parser.add_argument("rounds", nargs="?", type=int, default=3)
    args = parser.parse_args()
    settings = Settings()
    embedded = None if settings.database_url else EmbeddedPostgres(settings.state_dir)
    server = embedded.start() if embedded else settings.database_url.get_secret_value()  # type: ignore[union-attr]
    state = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    broker = None
    bootstrap = settings.kafka_bootstrap
    if bootstrap is None:
        broker = EmbeddedKafka(state, schema_dir=write_broker_schemas(state / "s"))
        bootstrap = broker.start()
    try:
        results = [one_round(server, bootstrap, args.n) for _ in range(args.rounds)]
    finally:
        if broker is not None:
            broker.stop()
        shutil.rmtree(state, ignore_errors=True)
        if embedded:
            embedded.stop()
    agency = statistics.median(r[0] for r in results)
    raw = statistics.median(r[1] for r in results)
    print(f"agency consumer, {args.n} messages, median of {args.rounds} rounds")
    runs = ", ".join(f"{r[0]:,.0f}" for r in results)
    print(f"  stored and folded : {agency:10,.0f} msgs/s (each run: {runs})")
    print(f"  bare consumer     : {raw:10,.0f} msgs/s (same messages, same broker)")
    print(f"  ratio             : {agency / raw:.3f}")
    record("agency_consumer_msgs_per_s", agency, "msgs/s", raw)


if __name__ == "__main__":
    main()
