"""A generated year published on the embedded broker: every agency's consumer
holds exactly what its recipient is entitled to, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from registry.generator import generate
from registry.projections.catalog import projections
from registry.projections.extracts.base import ExtractProjection
from registry.projections.extracts.municipalities import municipality
from registry.projections.timeline import Timeline
from registry.publishing.topics import all_topics, ensure_topics
from registry.publishing.worker import Consumers, Publisher
from registry.runtime.bootstrap import Runtime
from registry.year import play


def _publish_year(runtime: Runtime, kafka_bootstrap: str, year: Path) -> None:
    play(runtime, year)
    ensure_topics(kafka_bootstrap, all_topics())
    with psycopg.connect(runtime.database_url) as conn:
        conn.execute("TRUNCATE outbox")  # the session's broker may hold others' topics
    extracts = [
        p for p in projections(runtime.settings) if isinstance(p, ExtractProjection)
    ]
    publisher = Publisher(runtime, kafka_bootstrap, extracts)
    publisher.round()
    with psycopg.connect(runtime.database_url) as conn:
        recipients = [
            r[0] for r in conn.execute("SELECT DISTINCT recipient FROM outbox")
        ]
    consumers = Consumers(runtime.database_url, kafka_bootstrap, recipients).start()
    consumers.stop(settle_seconds=4)
    _check(runtime, recipients)


def residence(conn: psycopg.Connection, number: str, position: int) -> str | None:  # type: ignore[type-arg]
    """The student's municipality by the postcode last delivered at or before the
    log position, folded from the raw events (independent of the projections)."""
    postcode = None
    for state, _ in conn.execute(
        "SELECT state, notification_id FROM registry_events WHERE originator_id = "
        "(SELECT originator_id FROM registry_events WHERE topic LIKE %s AND "
        "convert_from(state, 'UTF8')::jsonb ->> 'number' = %s) AND notification_id <= %s "
        "ORDER BY notification_id",
        ("%Student.Registered", number, position),
    ):
        data = json.loads(bytes(state))
        changed = data.get("key") or data.get("new") or {}
        if "postcode" in changed or changed.get("landcode"):
            postcode = changed.get("postcode")
    return municipality(postcode)


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
                    assert residence(conn, number, position) == r, (r, number)
            if r in ("cbs", "inspectie"):
                text = json.dumps(list(stored.values()))
                assert "geboortedatum" not in text and '"bsn"' not in text
                leaked = [
                    n
                    for n, (k, born, _) in students.items()
                    if n in text or born in text
                ]
                assert leaked == [], r


def test_the_tiny_year_reaches_each_agency_minimised(
    runtime: Runtime, kafka_bootstrap: str, tmp_path: Path
) -> None:
    generate(1, "tiny", tmp_path)
    _publish_year(runtime, kafka_bootstrap, tmp_path)


@pytest.mark.slow
def test_the_small_year_reaches_each_agency_minimised(
    runtime: Runtime, kafka_bootstrap: str, tmp_path: Path
) -> None:
    generate(1, "small", tmp_path)
    _publish_year(runtime, kafka_bootstrap, tmp_path)
