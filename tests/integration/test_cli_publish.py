"""Publication on the command line: relay the outbox, consume it as CBS, and
republish with the original ids (the consumer stores nothing twice)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from registry.bootstrap import bootstrap
from registry.cli.main import app
from registry.config import Settings
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student


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


def test_relay_consume_and_replay(cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    with bootstrap(settings) as rt:
        prepare(rt)
        rt.intake.submit(
            batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
        )
    sent = cli("publish", "relay", "--once")["sent"]
    assert sent >= 4  # CBS, Inspectorate and the municipality: 2 students each
    first = cli("consume", "cbs", "--idle-exit", "2")
    assert (first["stored"], first["parked"]) == (2, 0)
    assert cli("publish", "replay", "--recipient", "cbs")["resent"] == 2
    again = cli("consume", "cbs", "--idle-exit", "2")
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        (n,) = conn.execute("SELECT count(*) FROM agency_cbs.messages").fetchone()  # type: ignore[misc]
    assert n == 2


def test_relays_sharded_by_recipient_send_each_message_once(cli, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    with bootstrap(settings) as rt:
        prepare(rt)
        rt.intake.submit(
            batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
        )
    cbs = cli("publish", "relay", "--once", "--recipients", "cbs")["sent"]
    assert cbs == 2  # CBS's two students, nobody else's
    rest = cli("publish", "relay", "--once", "--recipients", "gm%")["sent"]
    assert rest >= 2  # the municipality's, on a relay of its own
    assert cli("publish", "relay", "--once", "--recipients", "cbs")["sent"] == 0
    stored = cli("consume", "cbs", "--idle-exit", "2")
    assert (stored["stored"], stored["duplicates"]) == (2, 0)


def test_topics_are_made_once_with_the_configured_shape(cli, kafka_bootstrap: str) -> None:  # type: ignore[no-untyped-def]
    from kafka.admin import KafkaAdminClient

    from registry.publishing.contract import all_topics, dead_letter_topics

    cli("publish", "topics")
    again = cli("publish", "topics")
    assert again["topics_created"] == 0
    assert again["configs"]["retention.ms"] == "-1"  # agency topics keep history
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        present = set(admin.list_topics())
    finally:
        admin.close()
    assert set(all_topics() + dead_letter_topics()) <= present
