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
