"""A generated year published on the embedded broker: every agency's consumer
holds exactly what its recipient is entitled to, and nothing else."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from registry.bootstrap import Runtime, projections
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.infrastructure.secrets import pseudonym_key
from registry.projections.extracts.base import ExtractProjection, pseudonym
from registry.projections.extracts.municipalities import municipality
from registry.projections.timeline import Timeline
from registry.publishing.admin import ensure_topics, write_broker_schemas
from registry.publishing.contract import all_topics
from registry.simulation.agencies import Consumers
from registry.simulation.generator import generate
from registry.simulation.year import play


def _publish_year(runtime: Runtime, kafka_bootstrap: str, year: Path) -> None:
    play(runtime, year)
    ensure_topics(kafka_bootstrap, all_topics())
    extracts = [
        p for p in projections(runtime.settings) if isinstance(p, ExtractProjection)
    ]
    for e in extracts:
        runtime.projector.fresh(e)
    with psycopg.connect(runtime.database_url) as conn:
        recipients = [
            r[0] for r in conn.execute("SELECT DISTINCT recipient FROM outbox")
        ]
    # Groups of their own, positioned at the end before anything is published:
    # the session's broker holds other tests' messages on the same topics.
    consumers = Consumers(
        runtime.database_url,
        kafka_bootstrap,
        recipients,
        group_suffix=f"-{uuid.uuid4().hex[:8]}",
        offset_reset="latest",
        group_timeouts=(2000, 500),  # joined, and positioned, before publishing
        fetch_wait_ms=500,
    ).start()
    assert consumers.wait_assigned()
    publication = runtime.publication(kafka_bootstrap)
    try:
        publication.round()
    finally:
        publication.close()
    consumers.stop(settle_seconds=4)
    _check(runtime, recipients)
    _check_fold(runtime)


def residence(
    runtime: Runtime,
    conn: psycopg.Connection,  # type: ignore[type-arg]
    number: str,
    position: int,
) -> str | None:
    """The student's municipality at or before the log position: the population
    register's as the log recorded it, else the last delivered postcode's
    (docs/publication.md). Folded from the log's events (independent of the
    projections), opened by the registry's mapper: the raw rows hold the
    postcode sealed."""
    postcode = gemeente = None
    (sid,) = conn.execute(
        "SELECT student_id FROM student_numbers WHERE number = %s", (number,)
    ).fetchone() or (None,)
    for topic, state, version in conn.execute(
        "SELECT topic, state, originator_version FROM registry_events "
        "WHERE originator_id = %s AND notification_id <= %s ORDER BY notification_id",
        (sid, position),
    ):
        stored = StoredEvent(sid, version, topic, bytes(state))
        data = vars(runtime.registry.mapper.to_domain_event(stored))
        if topic.endswith("Student.ResidenceRecorded"):
            gemeente = data["gemeente"]
        changed = data.get("key") or data.get("new") or {}
        if "postcode" in changed or changed.get("landcode"):
            postcode = changed.get("postcode")
    return gemeente or municipality(postcode)


def _check(runtime: Runtime, recipients: list[str]) -> None:
    schema = runtime.projector.fresh(Timeline())
    with psycopg.connect(runtime.database_url) as conn:
        students = {
            n: (k, str(b), p)
            for n, k, b, p in conn.execute(
                f"SELECT number, kind, geboortedatum, postcode FROM {schema}.students"
            )
        }
        for r in recipients:
            sent = {
                str(i)
                for (i,) in conn.execute(
                    "SELECT message_id FROM outbox WHERE recipient = %s", (r,)
                )
            }
            rows = conn.execute(
                f"SELECT message_id::text, payload, source_position FROM agency_{r}.messages"
            ).fetchall()
            stored = {i: payload for i, payload, _ in rows}
            assert set(stored) == sent, r  # exactly its messages, each once
            if r.startswith("gm"):
                for _, payload, position in rows:
                    number = payload["bsn"] or payload["onderwijsnummer"]
                    # a resident when the message's event happened (students move)
                    assert residence(runtime, conn, number, position) == r, (r, number)
            if r in ("cbs", "inspectie"):
                text = json.dumps(list(stored.values()))
                assert "geboortedatum" not in text and '"bsn"' not in text
                leaked = [
                    n
                    for n, (k, born, _) in students.items()
                    if n in text or born in text
                ]
                assert leaked == [], r


def _check_fold(runtime: Runtime) -> None:
    """CBS's fold of its messages (consumers/fold.py) is the registry's own
    view of every period as it stands, under CBS's pseudonyms."""
    schema = runtime.projector.fresh(Timeline())
    key = pseudonym_key(runtime.settings, "cbs")
    with psycopg.connect(runtime.database_url) as conn:
        truth = {
            (pseudonym(key, number), *rest)
            for number, *rest in conn.execute(
                "SELECT s.number, p.brin, p.ingangsdatum, p.vestiging, "
                f"p.elementcode, p.leerjaar, p.einddatum FROM {schema}.periods p "
                f"JOIN {schema}.students s USING (student_id) "
                "WHERE p.closed_by IS NULL"
            )
        }
        folded = set(
            conn.execute(
                "SELECT persoon, brin, ingangsdatum, vestiging, elementcode, "
                "leerjaar, einddatum FROM agency_cbs.enrolments"
            ).fetchall()
        )
    assert truth and folded == truth


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own (it starts in ~0.1 s) with every topic's schema:
    the session's broker holds other tests' messages on the same topics."""
    configured = os.environ.get("REGISTRY_KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    broker = EmbeddedKafka(
        tmp_path / "kafka", write_broker_schemas(tmp_path / "schemas")
    )
    try:
        yield broker.start()
    finally:
        broker.stop()


def test_the_tiny_year_reaches_each_agency_minimised(
    runtime: Runtime, own_broker: str, tmp_path: Path
) -> None:
    generate(1, "tiny", tmp_path / "year")
    _publish_year(runtime, own_broker, tmp_path / "year")


@pytest.mark.slow
def test_the_small_year_reaches_each_agency_minimised(
    runtime: Runtime, own_broker: str, tmp_path: Path
) -> None:
    generate(1, "small", tmp_path / "year")
    _publish_year(runtime, own_broker, tmp_path / "year")
