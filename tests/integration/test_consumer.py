"""The reference consumer: stores each message once, parks what it cannot read
and goes on, commits offsets only after its store, resumes where it stopped,
waits for topics it may not create, and keeps going through rebalances."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from kafka.admin import KafkaAdminClient

from consumers.agency import AgencyConsumer, Stats
from registry.publishing.admin import ensure_topics
from registry.publishing.contract import dataschema
from tests.agency_helpers import FAST_GROUP, Agency, cloud_event, send
from tests.integration.test_relay import read_all


def payload(n: int) -> dict[str, Any]:
    return {
        "pseudoniem": f"{n:032x}",
        "mutatie": "T",
        "brin": "01OE",
        "vestiging": "00",
        "elementcode": "0300",
        "leerjaar": 1,
        "ingangsdatum": "2026-08-01",
        "einddatum": None,
        "geregistreerd_op": "2026-08-20T10:00:00+00:00",
    }


def wait_for(condition: Callable[[], bool], what: str, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def in_thread(consumer: AgencyConsumer) -> threading.Thread:
    worker = threading.Thread(target=consumer.run, kwargs={"poll_ms": 100})
    worker.start()
    return worker


def test_consumer_dedupes_parks_what_it_cannot_read_and_resumes(
    database_url: str, kafka_bootstrap: str
) -> None:
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("inschrijvingen",))
    name = agency.topics["inschrijvingen"]
    ids = [str(uuid.uuid4()) for _ in range(20)]
    good = [
        (b"k", json.dumps(payload(n)).encode(), cloud_event(name, i))
        for n, i in enumerate(ids)
    ]
    value = json.dumps(payload(99)).encode()
    ok = cloud_event(name, str(uuid.uuid4()))

    def but(header: str, raw: bytes | None) -> list[tuple[str, bytes | None]]:
        return [(k, raw if k == header else v) for k, v in ok]

    poison = [
        (b"k", value, [h for h in ok if h[0] != "ce_id"]),
        (b"k", value, but("ce_id", b"42")),
        # PostgreSQL takes no NUL: the park row must still be written.
        (b"k", value, [*but("ce_id", b"43"), ("x-note", b"a\x00b")]),
        (b"k", value, [h for h in ok if h[0] != "ce_type"]),
        (b"k", value, but("ce_type", b"nl.bron.vo.fotos")),
        (b"k", value, but("ce_source", b"\xc3\x28")),
        (b"k", value, but("ce_dataschema", b"bron.vo.cbs.inschrijvingen#v1")),
        (b"k", b"not json", ok),
        (b"k", json.dumps({**payload(99), "bsn": "800000481"}).encode(), ok),
    ]
    agency.raw("inschrijvingen", good + good[:5] + poison)
    stats = agency.consume()
    assert (stats.stored, stats.duplicates, stats.parked) == (20, 5, 9)
    stored = agency.rows("SELECT message_id::text FROM {s}.messages")
    assert {r[0] for r in stored} == set(ids)
    parked = read_all(kafka_bootstrap, [agency.dead_letters])
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in parked)
    assert reasons == sorted(r for (r,) in agency.rows("SELECT reason FROM {s}.parked"))
    assert reasons == [
        "breaks its schema: (message): data must not contain {'bsn'} properties",
        f"header ce_dataschema is not {dataschema(name)}",
        "header ce_id is not a UUID",
        "header ce_id is not a UUID",
        "header ce_source is not UTF-8",
        "header ce_type is not nl.bron.vo.inschrijvingen, the type of this topic",
        "no ce_id header",
        "no ce_type header",
        "the value is not JSON",
    ]
    assert all(b"800000481" not in str(r.headers).encode() for r in parked)

    # A new instance of the same group resumes after the committed offsets:
    # only the new message arrives; a clean stop ends the loop.
    agency.publish("inschrijvingen", payload(100), key="k")
    again = agency.consumer()

    def until(s: Stats) -> bool:
        if s.stored >= 1:
            again.stop()
        return False

    worker = threading.Thread(target=again.run, kwargs={"until": until})
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert (again.stats.stored, again.stats.duplicates, again.stats.parked) == (1, 0, 0)


def test_a_value_the_database_refuses_is_parked_not_a_crash(
    database_url: str, kafka_bootstrap: str
) -> None:
    """Valid JSON, within the schema, yet PostgreSQL's jsonb takes no NUL
    character: that message is parked, the rest of its batch is stored."""
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("fotos",))
    agency.publish("fotos", foto("2026-2027"), key="01OE")
    agency.publish("fotos", foto("2026\u00002027"), key="01OE")
    agency.publish("fotos", foto("2027-2028"), key="01OE")
    stats = agency.consume()
    assert (stats.stored, stats.parked) == (2, 1)
    assert agency.rows("SELECT reason FROM {s}.parked") == [
        ("the store refused it (UntranslatableCharacter)",)
    ]
    assert len(read_all(kafka_bootstrap, [agency.dead_letters])) == 1
    years = agency.rows("SELECT payload->>'schooljaar' FROM {s}.messages ORDER BY 1")
    assert years == [("2026-2027",), ("2027-2028",)]


def foto(schooljaar: str) -> dict[str, Any]:
    return {
        "brin": "01OE",
        "schooljaar": schooljaar,
        "soort": "voorlopig",
        "versie": 1,
        "peildatum": "2026-10-01",
        "controletotaal": 0,
        "bekostigd": 0,
        "inschrijvingen": [],
    }


def test_a_consumer_waits_for_topics_it_may_not_create(
    database_url: str, kafka_bootstrap: str
) -> None:
    """It needs no right to create topics: it creates none, says what it waits
    for, and reads them once the registry has made them. Without its
    dead-letter topic, what it parks is in its park table alone."""
    suffix = uuid.uuid4().hex[:8]
    name = f"bron.vo.cbs.inschrijvingen.v1.{suffix}"
    consumer = AgencyConsumer(
        database_url,
        kafka_bootstrap,
        f"cbsx{suffix}",
        topics=[name],
        group_timeouts=FAST_GROUP,
        topic_wait_seconds=0.2,
    )
    worker = in_thread(consumer)
    try:
        wait_for(lambda: consumer.stats.waiting_for == [name], "the wait to show")
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            assert name not in admin.list_topics()
        finally:
            admin.close()
        ensure_topics(kafka_bootstrap, [name])
        send(
            kafka_bootstrap,
            name,
            [
                (
                    b"k",
                    json.dumps(payload(1)).encode(),
                    cloud_event(name, str(uuid.uuid4())),
                ),
                (b"k", b"[]", cloud_event(name, str(uuid.uuid4()))),
            ],
        )
        wait_for(lambda: consumer.stats.stored + consumer.stats.parked == 2, "both")
        assert consumer.stats.waiting_for == []
    finally:
        consumer.stop()
        worker.join(timeout=60)
    assert not worker.is_alive()
    assert consumer.stats.parked == 1


def test_a_group_that_rebalances_mid_stream_stores_each_message_once(
    database_url: str, kafka_bootstrap: str
) -> None:
    """A second consumer joins while messages arrive, then the first leaves.
    Each person's T, A and U land in one partition, in order: each is stored
    once, by one of them, and folded once, in order."""
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("inschrijvingen",))
    people = [f"{n:032x}" for n in range(30)]
    sent: list[str] = []

    def wave(mutatie: str, **change: Any) -> None:
        for who in people:
            body = {**payload(0), "pseudoniem": who, "mutatie": mutatie, **change}
            sent.append(agency.publish("inschrijvingen", body, key=who))

    first, second = agency.consumer(), agency.consumer()

    def stored() -> int:
        return first.stats.stored + second.stats.stored

    one = in_thread(first)
    try:
        wave("T")
        wait_for(lambda: stored() == 30, "the first wave")
        two = in_thread(second)  # joins: the partitions are shared out again
        try:
            wave("A", leerjaar=2)
            wait_for(lambda: second.stats.assigned and stored() == 60, "the join")
            first.stop()  # leaves: the second gets every partition
            one.join(timeout=60)
            wave("U", leerjaar=2, einddatum="2027-07-31")
            wait_for(lambda: stored() == 90, "the last wave")
        finally:
            second.stop()
            two.join(timeout=60)
    finally:
        first.stop()
        one.join(timeout=60)
    assert second.stats.stored > 0
    held = agency.rows("SELECT message_id::text FROM {s}.messages")
    assert sorted(r[0] for r in held) == sorted(sent)
    folded = agency.rows("SELECT leerjaar, einddatum::text FROM {s}.enrolments")
    assert folded == [(2, "2027-07-31")] * len(people)


def test_a_large_fetch_size_never_holds_a_message_past_the_wait(
    database_url: str, kafka_bootstrap: str
) -> None:
    """Asking the broker to gather a megabyte first must not strand a lone
    message: it is stored once the fetch wait runs out."""
    agency = Agency(database_url, kafka_bootstrap, "cbs", ("inschrijvingen",))
    consumer = agency.consumer(fetch_min_bytes=1 << 20, fetch_wait_ms=200)
    worker = in_thread(consumer)
    try:
        wait_for(lambda: consumer.stats.assigned, "the group's assignment")
        ce_id = agency.publish("inschrijvingen", payload(7), key="k")
        wait_for(lambda: consumer.stats.stored == 1, "the lone message", limit_s=20)
    finally:
        consumer.stop()
        worker.join(timeout=30)
    stored = agency.rows("SELECT message_id::text FROM {s}.messages")
    assert stored == [(ce_id,)]
