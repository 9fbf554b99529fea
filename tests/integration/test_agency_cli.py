"""`python -m consumers RECIPIENT`: the reference consumer run as an agency runs
it, on AGENCY_* settings alone, in a database of its own that holds nothing of
the registry afterwards."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import uuid

import psycopg
import pytest

from consumers.cli import main
from registry.publishing.admin import ensure_topics
from tests.agency_helpers import cloud_event, send
from tests.integration.test_agency_fold import gemeente


def test_the_kit_runs_standalone_on_its_own_settings(
    database_url: str, kafka_bootstrap: str
) -> None:
    # A municipality code of no real one: its topics are this test's alone.
    recipient = f"gm{random.randrange(9000, 10000)}"
    kinds = ("inschrijvingen", "koppelingen", "verhuizingen", "vergeten", "vsv")
    versions = {"vsv": "v2"}
    topics = [f"bron.vo.{recipient}.{k}.{versions.get(k, 'v1')}" for k in kinds]
    ensure_topics(kafka_bootstrap, [*topics, f"bron.vo.{recipient}.dlq.v1"])
    name = topics[0]
    bsn = "800000481"
    records = [
        (
            bsn.encode(),
            json.dumps(gemeente("T", bsn, None)).encode(),
            cloud_event(name, str(uuid.uuid4())),
        ),
        (bsn.encode(), b"{}", [("ce_id", b"?")]),
    ]
    send(kafka_bootstrap, name, records)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REGISTRY_", "AGENCY_"))
    }
    env |= {
        "AGENCY_DATABASE_URL": database_url,
        "AGENCY_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "AGENCY_GROUP": f"agency-{uuid.uuid4().hex[:8]}",
        "AGENCY_SESSION_TIMEOUT_MS": "2000",
        "AGENCY_HEARTBEAT_INTERVAL_MS": "500",
    }
    done = subprocess.run(
        [sys.executable, "-m", "consumers", recipient, "--idle-exit", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert (stats["stored"], stats["parked"], stats["waiting_for"]) == (1, 1, [])
    with psycopg.connect(database_url) as conn:
        schemas = {
            r[0]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
                "AND nspname NOT IN ('information_schema', 'public')"
            )
        }
        extensions = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s",
                (f"agency_{recipient}",),
            )
        }
        public = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        held = conn.execute(
            f"SELECT persoon, brin FROM agency_{recipient}.enrolled_now"
        ).fetchall()
    assert schemas == {f"agency_{recipient}"}
    assert extensions == {"plpgsql"}  # no btree_gist, nothing of the registry
    assert tables == {"messages", "parked", "forgotten", "enrolments", "enrolled_now"}
    assert public == (0,)
    assert held == [(bsn, "01OE")]


def test_a_missing_setting_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("AGENCY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AGENCY_KAFKA_BOOTSTRAP", "127.0.0.1:9")
    assert main(["cbs"]) == 2
    assert "AGENCY_DATABASE_URL is not set" in capsys.readouterr().err
    monkeypatch.setenv("AGENCY_DATABASE_URL", "dbname=x")
    assert main(["duo"]) == 2
    assert "unknown recipient 'duo'" in capsys.readouterr().err


def test_the_health_check_says_which_server_does_not_answer(
    database_url: str,
    kafka_bootstrap: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AGENCY_DATABASE_URL", database_url)
    monkeypatch.setenv("AGENCY_KAFKA_BOOTSTRAP", kafka_bootstrap)
    assert main(["--check"]) == 0
    assert json.loads(capsys.readouterr().out) == {"database": "ok", "broker": "ok"}
    monkeypatch.setenv("AGENCY_DATABASE_URL", "host=127.0.0.1 port=9 dbname=x")
    assert main(["--check"]) == 1
    assert "database" in capsys.readouterr().err
