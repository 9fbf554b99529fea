"""The reference consumer: stores each message once, parks poison, commits
offsets only after its store, resumes where it stopped."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import psycopg
from kafka import KafkaProducer

from consumers.agency import AgencyConsumer, Stats, dead_letter_topic
from registry.bootstrap import Runtime
from registry.publishing.admin import ensure_topics
from registry.publishing.contract import TopicSchemas
from tests.integration.test_relay import read_all

FAST_GROUP = (2000, 500)  # the embedded broker only (Apache Kafka's floor is 6000)


class _SuffixSchemas(TopicSchemas):
    def problem(self, topic: str, payload: dict[str, Any]) -> str | None:
        return super().problem(topic.rsplit(".", 1)[0], payload)

    def require(self, topics: list[str]) -> None:
        super().require([t.rsplit(".", 1)[0] for t in topics])


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


def send(bootstrap: str, topic: str, messages: list[tuple[str | None, bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for ce_id, value in messages:
        headers = [("ce_id", ce_id.encode())] if ce_id else []
        producer.send(topic, key=b"k", value=value, headers=headers)
    producer.flush()
    producer.close()


def test_consumer_dedupes_parks_poison_and_resumes(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    recipient = f"cbs{uuid.uuid4().hex[:6]}"
    topic = f"bron.vo.cbs.inschrijvingen.v1.{recipient}"
    ensure_topics(kafka_bootstrap, [topic, dead_letter_topic(recipient)])
    ids = [str(uuid.uuid4()) for _ in range(20)]
    good = [(i, json.dumps(payload(n)).encode()) for n, i in enumerate(ids)]
    poison = [
        (None, b"{}"),
        (str(uuid.uuid4()), b"not json"),
        (str(uuid.uuid4()), json.dumps({**payload(99), "bsn": "800000481"}).encode()),
    ]
    send(kafka_bootstrap, topic, good + good[:5] + poison)

    def consumer() -> AgencyConsumer:
        return AgencyConsumer(
            runtime.database_url,
            kafka_bootstrap,
            recipient,
            topics=[topic],
            schemas=_SuffixSchemas(),
            group_timeouts=FAST_GROUP,
        )

    stats = consumer().run(until=lambda s: s.stored + s.duplicates + s.parked >= 28)
    assert (stats.stored, stats.duplicates, stats.parked) == (20, 5, 3)
    with psycopg.connect(runtime.database_url) as conn:
        stored = {
            str(r[0])
            for r in conn.execute(f"SELECT message_id FROM agency_{recipient}.messages")
        }
    assert stored == set(ids)
    parked = read_all(kafka_bootstrap, [dead_letter_topic(recipient)])
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in parked)
    assert len(reasons) == 3 and reasons[1:] == ["no ce_id header", "value is not JSON"]
    assert "must not contain {'bsn'}" in reasons[0]

    # A new instance of the same group resumes after the committed offsets:
    # only the new message arrives; a clean stop ends the loop.
    new_id = str(uuid.uuid4())
    send(kafka_bootstrap, topic, [(new_id, json.dumps(payload(100)).encode())])
    again = consumer()
    seen: list[Stats] = []

    def until(s: Stats) -> bool:
        seen.append(s)
        if s.stored >= 1:
            again.stop()
        return False

    worker = threading.Thread(target=again.run, kwargs={"until": until})
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert (again.stats.stored, again.stats.duplicates, again.stats.parked) == (1, 0, 0)


def test_a_forget_message_deletes_what_the_store_holds_of_the_person(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    recipient = f"cbs{uuid.uuid4().hex[:6]}"
    kinds = ("inschrijvingen", "fotos", "vergeten")
    topics = {k: f"bron.vo.cbs.{k}.v1.{recipient}" for k in kinds}
    ensure_topics(kafka_bootstrap, [*topics.values(), dead_letter_topic(recipient)])
    gone, kept = payload(1), payload(2)
    foto = {
        "brin": "01OE",
        "schooljaar": "2026-2027",
        "soort": "voorlopig",
        "versie": 1,
        "peildatum": "2026-10-01",
        "controletotaal": 2,
        "bekostigd": 2,
        "inschrijvingen": [
            {
                "pseudoniem": p["pseudoniem"],
                "vestiging": "00",
                "elementcode": "0300",
                "leerjaar": 1,
                "bekostigd": True,
                "redenen": [],
            }
            for p in (gone, kept)
        ],
    }
    forget = {"pseudoniem": gone["pseudoniem"], "datum": "2032-02-01"}

    def one(value: dict[str, Any]) -> list[tuple[str | None, bytes]]:
        return [(str(uuid.uuid4()), json.dumps(value).encode())]

    send(kafka_bootstrap, topics["inschrijvingen"], one(gone) + one(kept))
    send(kafka_bootstrap, topics["fotos"], one(foto))
    send(kafka_bootstrap, topics["vergeten"], one(forget))
    consumer = AgencyConsumer(
        runtime.database_url,
        kafka_bootstrap,
        recipient,
        topics=list(topics.values()),
        schemas=_SuffixSchemas(),
        group_timeouts=FAST_GROUP,
    )
    consumer.run(until=lambda s: s.stored + s.parked >= 4)
    assert consumer.stats.parked == 0
    # One about them arriving after the forget message is not kept either.
    send(kafka_bootstrap, topics["inschrijvingen"], one({**gone, "mutatie": "U"}))
    consumer.run(until=lambda s: s.stored + s.parked >= 5)
    with psycopg.connect(runtime.database_url) as conn:
        rows = conn.execute(
            f"SELECT kind, payload FROM agency_{recipient}.messages ORDER BY kind"
        ).fetchall()
    text = json.dumps([p for k, p in rows if k != "vergeten"])
    assert gone["pseudoniem"] not in text and kept["pseudoniem"] in text
    assert sorted(k for k, _ in rows) == ["fotos", "inschrijvingen", "vergeten"]
