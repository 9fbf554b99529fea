"""`registry status`: the projections' lag, what waits for the relay per
recipient, refused and parked messages and the last batch's time, as JSON,
exit 0 whatever it finds."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
import pytest
from kafka import KafkaProducer
from typer.testing import CliRunner

from registry.bootstrap import Runtime
from registry.cli.main import app
from registry.config import Settings
from registry.projections.engine.multi import fresh_together
from registry.projections.extracts.base import ExtractProjection
from registry.publishing.admin import ensure_topics
from registry.publishing.contract import dead_letter_topic
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student

# A municipality no other test publishes to: the session's broker is shared.
QUIET = "gm0088"


@pytest.fixture
def cli(settings: Settings, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert settings.database_url is not None
    monkeypatch.setenv(
        "REGISTRY_DATABASE_URL", settings.database_url.get_secret_value()
    )
    monkeypatch.setenv("REGISTRY_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("REGISTRY_STATE_DIR", str(settings.state_dir))
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run


def park(bootstrap: str, count: int) -> None:
    """What a consumer of QUIET could not store, on its dead-letter topic."""
    topic = dead_letter_topic(QUIET)
    ensure_topics(bootstrap, [topic])
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for i in range(count):
        producer.send(topic, key=b"k", value=b"not json", headers=[("n", bytes([i]))])
    producer.flush()
    producer.close()


def test_status_of_the_daemons(  # type: ignore[no-untyped-def]
    cli, runtime: Runtime, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = runtime
    prepare(rt)
    timeline = rt.catch_up()
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    fresh_together(
        rt.projector, [p for p in rt.projections if isinstance(p, ExtractProjection)]
    )
    with psycopg.connect(rt.database_url) as conn:
        waiting = dict(
            conn.execute("SELECT recipient, count(*) FROM outbox GROUP BY recipient")
        )
        (head,) = conn.execute("SELECT max(seq) FROM outbox").fetchone()  # type: ignore[misc]
    before = cli("status", "--no-broker")
    (tl,) = [p for p in before["projections"] if p["schema"] == timeline]
    assert tl["live"] and tl["lag"] == tl["head"] - tl["position"] > 0
    (relay,) = before["relays"]
    assert (relay["name"], relay["position"], relay["capped"]) == ("relay", 0, False)
    assert relay["waiting"] == waiting and relay["lag"] == head
    assert before["outbox_head"] == head
    assert before["refused"] == {}
    assert datetime.fromisoformat(before["last_batch_received"]) == utc(2026, 8, 20)
    assert (before["parked"], before["broker"]) == (None, "not asked")

    cli("publish", "relay", "--once")
    park(kafka_bootstrap, 3)
    after = cli("status")
    (relay,) = after["relays"]
    assert (relay["position"], relay["lag"], relay["waiting"]) == (head, 0, {})
    assert relay["updated_at"] is not None
    assert after["broker"] == "ok" and after["parked"][QUIET] == 3

    monkeypatch.setenv("REGISTRY_KAFKA_BOOTSTRAP", "127.0.0.1:1")  # nobody there
    down = cli("status")
    assert down["parked"] is None and down["broker"].startswith("unavailable (")
    assert down["relays"] == after["relays"]
