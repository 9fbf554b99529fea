"""Redrive: refused messages sent after a fix with their original ids, those
still failing kept with the reason, a dry run changing nothing; on the
command line too, with the relay's refusal logged as a JSON line."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from registry.bootstrap import Runtime
from registry.cli.main import app
from registry.config import Settings
from registry.projections.engine.multi import fresh_together
from registry.projections.extracts.base import ExtractProjection
from registry.publishing.admin import ensure_topics
from registry.publishing.contract import topic as topic_name
from registry.publishing.redrive import redrive
from registry.publishing.relay import Relay, producer
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student
from tests.integration.test_relay import _SuffixSchemas, read_all

LEAK = '{"bsn": "800000481"}'  # a field no pseudonymised topic may carry


def delivered(rt: Runtime) -> None:
    prepare(rt)
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    fresh_together(
        rt.projector, [p for p in rt.projections if isinstance(p, ExtractProjection)]
    )


def refused(url: str) -> dict[int, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT seq, reason FROM outbox_refused"))


def break_one(conn: psycopg.Connection[Any], recipient: str) -> tuple[int, str]:
    """The first message of `recipient` made to break its schema; seq and id."""
    seq, message_id = conn.execute(
        "UPDATE outbox SET payload = payload || %s::jsonb WHERE seq = "
        "(SELECT min(seq) FROM outbox WHERE recipient = %s) RETURNING seq, message_id",
        (LEAK if recipient == "cbs" else '{"extra": 1}', recipient),
    ).fetchone()  # type: ignore[misc]
    return seq, str(message_id)


def ids_on(bootstrap: str, topics: list[str]) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in read_all(bootstrap, topics)]


def test_refused_messages_go_out_after_a_fix(
    runtime: Runtime, kafka_bootstrap: str
) -> None:
    rt, url = runtime, runtime.database_url
    delivered(rt)
    suffix = f"r{uuid.uuid4().hex[:6]}"
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE outbox SET topic = topic || %s", ("." + suffix,))
        topics = sorted(r[0] for r in conn.execute("SELECT DISTINCT topic FROM outbox"))
        cbs, cbs_id = break_one(conn, "cbs")
        gm, gm_id = break_one(conn, "gm0014")
    ensure_topics(kafka_bootstrap, topics)
    schemas = _SuffixSchemas()
    kafka = producer(kafka_bootstrap)
    try:
        Relay(url, kafka, schemas).run_once()
        assert set(refused(url)) == {cbs, gm}
        assert not {cbs_id, gm_id} & set(ids_on(kafka_bootstrap, topics))

        # The fix of the CBS message; the municipality's still breaks.
        with psycopg.connect(url) as conn:
            conn.execute(
                "UPDATE outbox SET payload = payload - 'bsn' WHERE seq = %s", (cbs,)
            )
        before = refused(url)
        dry = redrive(url, schemas, None)
        assert dry.sent == 1 and [r["seq"] for r in dry.still_refused] == [gm]
        assert "extra" in dry.still_refused[0]["reason"]
        assert refused(url) == before  # nothing changed, nothing sent
        assert cbs_id not in ids_on(kafka_bootstrap, topics)

        only_gm = redrive(url, schemas, kafka, "gm%")
        assert (only_gm.sent, len(only_gm.still_refused)) == (0, 1)
        assert set(refused(url)) == {cbs, gm}  # --recipient: CBS's is left

        done = redrive(url, schemas, kafka, "cbs")
        assert (done.sent, done.still_refused) == (1, [])
        assert set(refused(url)) == {gm}
        # Sent once, with its original id.
        assert ids_on(kafka_bootstrap, topics).count(cbs_id) == 1

        # Its person forgotten meanwhile: redacted, never sent, off the list.
        with psycopg.connect(url) as conn:
            conn.execute(
                "UPDATE outbox SET payload = '{}', key = 'vergeten', "
                "redacted_at = now() WHERE seq = %s",
                (gm,),
            )
        last = redrive(url, schemas, kafka)
        assert (last.sent, last.redacted, last.still_refused) == (0, 1, [])
        assert refused(url) == {}
        assert gm_id not in ids_on(kafka_bootstrap, topics)
    finally:
        kafka.close()


@pytest.fixture
def cli(settings: Settings, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    assert settings.database_url is not None
    monkeypatch.setenv(
        "REGISTRY_DATABASE_URL", settings.database_url.get_secret_value()
    )
    monkeypatch.setenv("REGISTRY_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("REGISTRY_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("REGISTRY_LOG_FORMAT", "json")
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result

    return run


def test_redrive_on_the_command_line(  # type: ignore[no-untyped-def]
    cli, runtime: Runtime, kafka_bootstrap: str
) -> None:
    rt, url = runtime, runtime.database_url
    delivered(rt)
    with psycopg.connect(url) as conn:
        seq, message_id = break_one(conn, "cbs")
    relayed = cli("publish", "relay", "--once")
    # The relay's refusal is a log line like any other: JSON here, and masked.
    logged = [json.loads(line) for line in relayed.stderr.splitlines()]
    (refusal,) = [line for line in logged if "refused" in line["message"]]
    assert refusal["level"] == "ERROR"
    assert refusal["logger"] == "registry.publishing.relay"
    assert refusal["message"].startswith(f"outbox seq {seq} refused for ")
    assert ANNA["bsn"] not in relayed.stderr
    assert list(refused(url)) == [seq]

    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE outbox SET payload = payload - 'bsn' WHERE seq = %s", (seq,)
        )
    dry = json.loads(cli("publish", "redrive", "--dry-run").stdout)
    assert (dry["dry_run"], dry["sent"], dry["still_refused"]) == (True, 1, [])
    assert list(refused(url)) == [seq]
    done = json.loads(cli("publish", "redrive", "--recipient", "cbs").stdout)
    assert (done["sent"], done["still_refused"]) == (1, [])
    assert refused(url) == {}
    assert message_id in ids_on(kafka_bootstrap, [topic_name("cbs", "inschrijvingen")])
