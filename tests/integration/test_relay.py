"""The relay on a real Kafka-protocol broker: in order, every message once per
run, CloudEvents headers, schema refusals parked, republish with original ids."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from psycopg.conninfo import make_conninfo

from registry.bootstrap import Runtime, projection
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.projections.extracts import outbox
from registry.projections.extracts.cbs import Cbs
from registry.projections.extracts.inspectorate import Inspectorate
from registry.projections.extracts.municipalities import Municipalities
from registry.projections.extracts.svb import Svb
from registry.publishing.admin import ensure_topics, write_broker_schemas
from registry.publishing.contract import MissingSchema, TopicSchemas, topics_of
from registry.publishing.contract import topic as topic_name
from registry.publishing.relay import Relay, producer
from tests.conftest import utc
from tests.intake_helpers import ANNA, OLD, PIET, batch, period, prepare, rec, student


def read_all(bootstrap: str, topics: list[str]) -> list[Any]:
    """Every record of the topics, from the beginning. Polls until two polls in a
    row bring nothing: the embedded broker's end offsets can lag the last record
    of a batch, so they are not a reliable stop condition."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    parts = [
        TopicPartition(t, p)
        for t in topics
        for p in sorted(consumer.partitions_for_topic(t) or ())
    ]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    out: list[Any] = []
    empty = 0
    while empty < 2:
        batch = [r for rs in consumer.poll(timeout_ms=500).values() for r in rs]
        out += batch
        empty = 0 if batch else empty + 1
    consumer.close()
    return out


def test_relay_publishes_the_outbox(runtime: Runtime, kafka_bootstrap: str) -> None:
    rt = runtime
    prepare(rt)
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET)), rec(3, student(OLD))),
        utc(2026, 8, 20),
    )
    rt.intake.submit(
        batch(rec(1, student(ANNA), "A", inschrijving=period(leerjaar=2)), number=2),
        utc(2026, 9, 1),
    )
    for e in (
        Cbs(b"c", topic_name),
        Inspectorate(b"i", topic_name),
        Municipalities(b"", topic_name),
        Svb(b"", topic_name),
    ):
        rt.projector.fresh(e)
    topic = f"bron.vo.cbs.inschrijvingen.t{uuid.uuid4().hex[:6]}"
    with psycopg.connect(rt.database_url) as conn:
        # Test topics of their own (the broker is shared by the session), and one
        # message that breaks its schema: a leaked BSN.
        conn.execute(
            "UPDATE outbox SET topic = topic || %s", ("." + topic.rsplit(".", 1)[1],)
        )
        topics = sorted(r[0] for r in conn.execute("SELECT DISTINCT topic FROM outbox"))
        conn.execute(
            'UPDATE outbox SET payload = payload || \'{"bsn": "800000481"}\' '
            "WHERE seq = (SELECT max(seq) FROM outbox WHERE recipient = 'cbs')"
        )
        expected = {
            str(r[0])
            for r in conn.execute(
                "SELECT message_id FROM outbox WHERE NOT payload ? 'bsn' "
                "OR recipient <> 'cbs'"
            )
        }
    ensure_topics(kafka_bootstrap, topics)
    schemas = _SuffixSchemas()
    # The relay's sessions speak Amsterdam time.
    amsterdam = make_conninfo(rt.database_url, options="-c TimeZone=Europe/Amsterdam")
    relay = Relay(amsterdam, producer(kafka_bootstrap), schemas, window=3)
    sent = relay.run_once()
    assert sent == len(expected) and relay.lag() == 0
    assert relay.run_once() == 0

    records = read_all(kafka_bootstrap, topics)
    ids = [dict(r.headers)["ce_id"].decode() for r in records]
    assert sorted(ids) == sorted(expected)  # each message once, the refused one not
    cloudevent = {"ce_id", "ce_type", "ce_source", "ce_time", "ce_specversion"}
    assert all(cloudevent <= set(dict(r.headers)) for r in records)
    # When the fact was recorded, in UTC whatever the server's time zone.
    times = [
        datetime.fromisoformat(dict(r.headers)["ce_time"].decode()) for r in records
    ]
    assert all(t.utcoffset() == timedelta(0) for t in times)
    assert {t.date() for t in times} == {date(2026, 8, 20), date(2026, 9, 1)}
    # The log position is the same at every recipient: it would link the
    # pseudonymised recipients' messages to the others', so they do not get it.
    pseudonymised = [
        r for r in records if ".cbs." in r.topic or ".inspectie." in r.topic
    ]
    assert pseudonymised
    assert all("source_position" not in dict(r.headers) for r in pseudonymised)
    by_key: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for r in records:
        if r not in pseudonymised:
            by_key[(r.topic, r.key)].append(int(dict(r.headers)["source_position"]))
    assert by_key
    assert all(
        v == sorted(v) for v in by_key.values()
    )  # one person's messages in order
    assert all(b"800000481" not in r.value for r in records if "cbs" in r.topic)
    with psycopg.connect(rt.database_url) as conn:
        (reason,) = conn.execute("SELECT reason FROM outbox_refused").fetchone()  # type: ignore[misc]
    assert "bsn" in reason

    again = relay.republish("cbs")
    records = read_all(kafka_bootstrap, topics)
    cbs_ids = [dict(r.headers)["ce_id"].decode() for r in records if ".cbs." in r.topic]
    assert again > 0 and len(cbs_ids) == 2 * len(set(cbs_ids))  # same ids again


class _SuffixSchemas(TopicSchemas):
    """The real schemas, for topics with a test suffix."""

    def problem(self, topic: str, payload: dict[str, Any]) -> str | None:
        return super().problem(topic.rsplit(".", 1)[0], payload)


class _RefuseEverything(TopicSchemas):
    def problem(self, topic: str, payload: dict[str, Any]) -> str | None:
        return "refused by the test"


def test_the_relay_checks_what_no_writer_checked(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    """The registry's extracts check each message against its topic's schema
    as they write it, and the relay does not check those again; it checks a
    message whose writer did not, or that changed after the check."""
    rt = runtime
    prepare(rt)
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    rt.projector.fresh(projection(rt.settings, "extracts"))
    suffix = "." + f"t{uuid.uuid4().hex[:6]}"
    with psycopg.connect(rt.database_url) as conn:
        (written, checked) = conn.execute(  # type: ignore[misc]
            "SELECT count(*), count(*) FILTER (WHERE schema_checked) FROM outbox"
        ).fetchone()
        assert written == checked > 0
        # Test topics of their own (the broker is shared by the session): a
        # new topic takes the mark away, until the writer checks it again.
        conn.execute("UPDATE outbox SET topic = topic || %s", (suffix,))
        assert conn.execute(
            "SELECT bool_or(schema_checked) FROM outbox"
        ).fetchone() == (False,)
        conn.execute("UPDATE outbox SET schema_checked = true")
        # A leak after the check: the mark goes with the change.
        (leaked,) = conn.execute(  # type: ignore[misc]
            'UPDATE outbox SET payload = payload || \'{"bsn": "800000481"}\' '
            "WHERE seq = (SELECT max(seq) FROM outbox WHERE recipient = 'cbs') "
            "RETURNING seq"
        ).fetchone()
        # A message that fails its writer's check is written unmarked.
        broken = outbox.Message(
            "cbs",
            "bron.vo.cbs.inschrijvingen.v1" + suffix,
            "k",
            "inschrijvingen",
            "broken",
            {"bsn": "800000481"},  # type: ignore[arg-type]
            1,
            utc(2026, 8, 20),
            id_key=b"test",
        )
        outbox.write(conn.cursor(), [broken], _SuffixSchemas().problem_in)
        marks = dict(conn.execute("SELECT seq, schema_checked FROM outbox").fetchall())
        topics = sorted(r[0] for r in conn.execute("SELECT DISTINCT topic FROM outbox"))
    unmarked = {seq for seq, mark in marks.items() if not mark}
    assert leaked in unmarked and len(unmarked) == 2
    ensure_topics(kafka_bootstrap, topics)
    relay = Relay(rt.database_url, producer(kafka_bootstrap), _RefuseEverything())
    assert relay.run_once() == written - 1  # all the marked ones, unchecked
    with psycopg.connect(rt.database_url) as conn:
        parked = dict(conn.execute("SELECT seq, reason FROM outbox_refused").fetchall())
    assert parked == dict.fromkeys(unmarked, "refused by the test")
    records = read_all(kafka_bootstrap, topics)
    assert len(records) == written - 1
    # The municipalities and SVB are sent the number: CBS never.
    assert all(b"800000481" not in r.value for r in records if ".cbs." in r.topic)


def test_the_broker_itself_refuses_a_leaked_field(tmp_path: Path) -> None:
    """On a broker of its own, configured as the tests' and `registry kafka
    start` configure theirs: the session's broker is shared, and a record
    without CloudEvents headers on a real topic would be parked by any agency
    consumer that later reads that topic from its beginning (the demo's)."""
    import os

    import pytest
    from kafka import KafkaProducer
    from kafka.errors import InvalidRecordError

    if os.environ.get("REGISTRY_KAFKA_BOOTSTRAP"):
        pytest.skip("schema validation at the broker is the embedded broker's")
    topic = "bron.vo.svb.kinderbijslag.v2"
    broker = EmbeddedKafka(
        tmp_path / "kafka", write_broker_schemas(tmp_path / "schemas", [topic])
    )
    kafka_bootstrap = broker.start()
    try:
        ensure_topics(kafka_bootstrap, [topic])
        good = {
            "bsn": "300000108",
            "peildatum": "2026-09-01",
            "ingeschreven": True,
            "soort": "eerste",
            "leeftijd": 16,
        }
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        producer.send(topic, key=b"300000108", value=json.dumps(good).encode()).get(
            timeout=30
        )
        leaked = producer.send(
            topic,
            key=b"300000108",
            value=json.dumps({**good, "achternaam": "de Vries"}).encode(),
        )
        with pytest.raises(InvalidRecordError):
            leaked.get(timeout=30)
        producer.close()
    finally:
        broker.stop()


def test_a_message_too_large_to_send_is_parked_not_a_stall(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    rt = runtime
    prepare(rt)
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    rt.projector.fresh(Cbs(b"c", topic_name))
    suffix = f"t{uuid.uuid4().hex[:6]}"
    with psycopg.connect(rt.database_url) as conn:
        conn.execute("UPDATE outbox SET topic = topic || %s", ("." + suffix,))
        topics = sorted(r[0] for r in conn.execute("SELECT DISTINCT topic FROM outbox"))
        (waiting,) = conn.execute("SELECT count(*) FROM outbox").fetchone()  # type: ignore[misc]
    ensure_topics(kafka_bootstrap, topics)
    # Every message is larger than this producer may send (as a national
    # school's foto was above Kafka's 1 MB default).
    kafka = producer(kafka_bootstrap, max_request_size=200)
    relay = Relay(rt.database_url, kafka, _SuffixSchemas(), window=1)
    assert relay.run_once() == 0
    assert relay.lag() == 0  # nothing behind it waits
    with psycopg.connect(rt.database_url) as conn:
        reasons = [r[0] for r in conn.execute("SELECT reason FROM outbox_refused")]
    assert len(reasons) == waiting > 0
    assert all("too large" in r for r in reasons)
    # Republishing takes the same send path: parked again, nothing raised.
    with psycopg.connect(rt.database_url) as conn:
        conn.execute("DELETE FROM outbox_refused")
    assert relay.republish("cbs") == 0
    with psycopg.connect(rt.database_url) as conn:
        (parked,) = conn.execute("SELECT count(*) FROM outbox_refused").fetchone()  # type: ignore[misc]
    assert parked == waiting
    kafka.close()


def test_a_relay_refuses_to_start_without_the_schemas_of_its_topics(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    class Without(TopicSchemas):
        def __init__(self) -> None:
            super().__init__()
            del self._validators["svb.kinderbijslag.v2"]

    kafka = producer(kafka_bootstrap)
    try:
        with pytest.raises(MissingSchema, match=r"svb\.kinderbijslag\.v2"):
            Relay(runtime.database_url, kafka, Without())
        with pytest.raises(MissingSchema):
            Relay(runtime.database_url, kafka, Without(), recipients="svb")
        Relay(runtime.database_url, kafka, Without(), recipients="cbs")  # not svb's
    finally:
        kafka.close()


def test_the_relay_producer_partitions_as_kafka_python_does(
    kafka_bootstrap: str,
) -> None:
    """The relay's producer chooses partitions its own way (partitioner.py):
    each key lands where a stock producer, default partitioner, puts it."""
    from kafka import KafkaProducer

    from registry.publishing.partitioner import KeyedProducer

    topics = [f"keyed-{uuid.uuid4().hex[:8]}", f"stock-{uuid.uuid4().hex[:8]}"]
    ensure_topics(kafka_bootstrap, topics)
    keys = [f"{i:032x}".encode() for i in range(60)]
    ours = producer(kafka_bootstrap)
    stock = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    assert isinstance(ours, KeyedProducer)
    assert not isinstance(stock, KeyedProducer)
    for kafka, topic in ((ours, topics[0]), (stock, topics[1])):
        for f in [kafka.send(topic, key=k, value=b"{}") for k in keys]:
            f.get(timeout=30)
        kafka.close()
    records = read_all(kafka_bootstrap, topics)
    placed = {t: {r.key: r.partition for r in records if r.topic == t} for t in topics}
    assert len(placed[topics[0]]) == len(keys)
    assert len(set(placed[topics[0]].values())) > 1  # more than one partition used
    assert placed[topics[0]] == placed[topics[1]]


def _cbs_outbox(rt: Runtime, suffix: str, at_day: int, number: int) -> list[str]:
    """A delivery's CBS messages in the outbox, on test topics ending in
    `suffix`; the ids of every message on them so far, in seq order."""
    people = (ANNA, PIET, OLD) if number == 1 else (ANNA,)
    mutatie = "T" if number == 1 else "A"
    records = [
        rec(i, student(p), mutatie, inschrijving=period(leerjaar=number))
        for i, p in enumerate(people, 1)
    ]
    rt.intake.submit(batch(*records, number=number), utc(2026, 8 + number, at_day))
    rt.projector.fresh(Cbs(b"c", topic_name))
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(
            "UPDATE outbox SET topic = topic || %s WHERE topic NOT LIKE %s",
            (suffix, "%" + suffix),
        )
        return [
            str(r[0])
            for r in conn.execute("SELECT message_id FROM outbox ORDER BY seq")
        ]


def test_rounds_that_leave_acknowledgements_to_the_next_send_each_once(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    """A long-lived publication does not wait at the end of a round for its
    last sends to be acknowledged: the next round reads on from where the
    last read to, so nothing is sent twice or skipped, and the position moves
    only over acknowledged sends. A round that fails drops what it carried:
    the next starts again from the recorded position."""
    prepare(runtime)
    suffix = f".t{uuid.uuid4().hex[:6]}"
    first = _cbs_outbox(runtime, suffix, 20, 1)
    topics = [t + suffix for t in topics_of("cbs")]
    ensure_topics(kafka_bootstrap, topics)
    url = runtime.database_url
    relay = Relay(url, producer(kafka_bootstrap), _SuffixSchemas(), window=2)
    assert relay.run_once(settle=False) == len(first)
    both = _cbs_outbox(runtime, suffix, 2, 2)
    assert relay.run_once(settle=False) == len(both) - len(first)
    relay.finish()
    assert relay.lag() == 0 and relay.run_once() == 0
    ids = [dict(r.headers)["ce_id"].decode() for r in read_all(kafka_bootstrap, topics)]
    assert sorted(ids) == sorted(both)

    again = Relay(url, producer(kafka_bootstrap), _SuffixSchemas(), name="again")
    assert again.run_once(settle=False) == len(both)
    recorded = again.position()
    again.url = "host=/nonexistent dbname=none"  # the database goes away
    with pytest.raises(psycopg.OperationalError):
        again.run_once(settle=False)
    again.url = url
    with psycopg.connect(url) as conn:
        owed = conn.execute("SELECT count(*) FROM outbox WHERE seq > %s", (recorded,))
        (unrecorded,) = owed.fetchone()  # type: ignore[misc]
    assert again.run_once() == unrecorded
    assert again.lag() == 0
