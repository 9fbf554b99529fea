"""Migrations (issue 17, item 3): `registry db migrate` applies the numbered
migrations of the tables that cannot be rebuilt from the log, each once and in
order, as the role that owns the schema; services run as a role that does not,
and in production refuse a database that is not migrated."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.sql import SQL, Identifier
from pydantic import SecretStr
from typer.testing import CliRunner, Result

from registry.access.policy import Role
from registry.api.app import create_app, production_app
from registry.bootstrap import bootstrap
from registry.cli.main import app
from registry.config import Settings
from registry.infrastructure.migrations import (
    DatabaseNotMigrated,
    Migration,
    MigrationChanged,
    MigrationError,
    migrate,
    shipped,
)
from registry.projections.engine import catalog
from tests.intake_helpers import ANNA, batch, prepare, rec, student
from tests.integration.test_access import login

LABELS = [m.label for m in shipped()]
SIDE_TABLES = (
    "registry_events",
    "person_keys",
    "student_numbers",
    "access_users",
    "intake_batches",
    "population_persons",
    "fotos",
    "projection_tracking",
    "outbox",
    "relay_positions",
)

Cli = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str, str], Cli]:
    """`registry …` with the services' URL and the schema owner's."""

    def with_urls(url: str, owner: str) -> Cli:
        def run(*args: str) -> Result:
            monkeypatch.setenv("REGISTRY_DATABASE_URL", url)
            monkeypatch.setenv("REGISTRY_MIGRATE_DATABASE_URL", owner)
            monkeypatch.setenv("REGISTRY_STATE_DIR", str(tmp_path))
            return CliRunner().invoke(app, list(args))

        return run

    return with_urls


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_migrate_applies_every_migration_once_in_order(
    database_url: str, cli: Callable[[str, str], Cli]
) -> None:
    registry = cli(database_url, database_url)
    dry = registry("db", "migrate", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["would_apply"] == LABELS == sorted(LABELS)
    assert tables(database_url) == set()  # a dry run changes nothing

    first = registry("db", "migrate")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"applied": LABELS, "granted_to": None}
    assert set(SIDE_TABLES) <= tables(database_url)

    again = registry("db", "migrate")
    assert json.loads(again.stdout) == {"applied": [], "granted_to": None}
    status = json.loads(registry("db", "status").stdout)
    assert [a["migration"] for a in status["applied"]] == LABELS
    assert status["pending"] == status["changed"] == status["unknown"] == []


def test_a_database_made_before_migrations_is_adopted_with_its_rows(
    database_url: str,
) -> None:
    # An access_users table of an older release: without totp_last_step.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "CREATE TABLE access_users (login text PRIMARY KEY, role text NOT NULL, "
            "brin text, recipient text, password_hash text NOT NULL, "
            "must_change boolean NOT NULL, password_set_at timestamptz NOT NULL, "
            "totp_secret text NOT NULL)"
        )
        conn.execute(
            "INSERT INTO access_users VALUES "
            "('op', 'operator', NULL, NULL, 'h', false, now(), 's')"
        )
    assert migrate(database_url, Settings()) == list(shipped())
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT login, totp_last_step FROM access_users").fetchall()
    assert row == [("op", None)]


def test_an_applied_migration_that_changed_is_refused_and_nothing_applied(
    database_url: str, cli: Callable[[str, str], Cli]
) -> None:
    migrate(database_url, Settings())
    *earlier, last = shipped()
    edited = dataclasses.replace(last, text=last.text + "\n-- edited afterwards\n")
    later = Migration(last.version + 1, "later", "sql", "CREATE TABLE later (a int);")
    with pytest.raises(MigrationChanged, match=f"{last.label} changed"):
        migrate(database_url, Settings(), migrations=[*earlier, edited, later])
    assert "later" not in tables(database_url)

    # As the command says it, had the shipped file been edited.
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE registry_migrations SET checksum = 'other' WHERE version = %s",
            (last.version,),
        )
    refused = cli(database_url, database_url)("db", "migrate")
    assert refused.exit_code == 2
    assert f"{last.label} changed" in refused.stderr
    assert "never edit an applied migration" in refused.stderr
    status = cli(database_url, database_url)("db", "status")
    assert json.loads(status.stdout)["changed"] == [last.label]


def test_a_failing_migration_leaves_nothing_of_itself(database_url: str) -> None:
    broken = Migration(
        len(LABELS) + 1, "broken", "sql", "CREATE TABLE half (a int); SELECT 1/0;"
    )
    with pytest.raises(MigrationError, match="broken failed"):
        migrate(database_url, Settings(), migrations=[*shipped(), broken])
    assert "half" not in tables(database_url)
    assert migrate(database_url, Settings()) == []  # the earlier ones stayed


def test_the_retired_extract_projections_are_dropped_and_their_messages_kept(
    database_url: str,
) -> None:
    """An upgraded registry runs `extracts` instead of the four extract_*
    projections: their schemas go (the log rebuilds what they held), and what
    they wrote to the outbox stays, never to be sent again."""
    before = [m for m in shipped() if m.version < 4]
    migrate(database_url, Settings(), migrations=before)
    old = ["extract_cbs", "extract_inspectie", "extract_gemeenten", "extract_svb"]
    with psycopg.connect(database_url) as conn:
        for name in [*old, "timeline"]:
            schema = f"p_{name}_v3"
            conn.execute(SQL("CREATE SCHEMA {}").format(Identifier(schema)))
            conn.execute(
                SQL("CREATE TABLE {}.periods (a int)").format(Identifier(schema))
            )
            conn.execute(
                "INSERT INTO projection_tracking (schema_name, name, version, live) "
                "VALUES (%s, %s, 3, true)",
                (schema, name),
            )
        conn.execute(
            "INSERT INTO outbox (message_id, recipient, topic, key, kind, payload, "
            "source_position, recorded_at) VALUES "
            "(gen_random_uuid(), 'cbs', 't', 'k', 'inschrijvingen', '{}', 7, now())"
        )
    applied = [m.name for m in migrate(database_url, Settings())]
    assert applied == [m.name for m in shipped() if m.version >= 4]
    with psycopg.connect(database_url) as conn:
        tracked = conn.execute("SELECT name FROM projection_tracking").fetchall()
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'p\\_%'"
        ).fetchall()
        kept = conn.execute("SELECT count(*) FROM outbox").fetchone()
    assert tracked == [("timeline",)]
    assert schemas == [("p_timeline_v3",)]
    assert kept == (1,)


def test_an_upgraded_outbox_keeps_its_messages_and_takes_none_twice(
    database_url: str,
) -> None:
    """Migration 0005 makes the outbox unique on (source position, message id):
    the messages already there stay, and the same message written again, as a
    rebuilt projection writes it, is not taken a second time."""
    before = [m for m in shipped() if m.version < 5]
    migrate(database_url, Settings(), migrations=before)
    message = uuid.uuid4()
    insert = (
        "INSERT INTO outbox (message_id, recipient, topic, key, kind, payload, "
        "source_position, recorded_at) VALUES "
        "(%s, 'cbs', 't', 'k', 'inschrijvingen', '{}', 7, now())"
    )
    with psycopg.connect(database_url) as conn:
        conn.execute(insert, (message,))
    applied = [m.name for m in migrate(database_url, Settings())]
    assert applied == [m.name for m in shipped() if m.version >= 5]
    with psycopg.connect(database_url) as conn:
        again = conn.execute(
            insert + " ON CONFLICT (source_position, message_id) DO NOTHING",
            (message,),
        )
        assert again.rowcount == 0
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, (message,))
    with psycopg.connect(database_url) as conn:
        kept = conn.execute("SELECT message_id FROM outbox").fetchall()
    assert kept == [(message,)]


def test_messages_from_before_the_writers_check_are_checked_by_the_relay(
    database_url: str,
) -> None:
    """Migration 0006 marks a message its writer checked against the topic's
    schema (the relay skips its own check of those). Messages already in the
    outbox are unmarked, so the relay checks them as before; a change to a
    marked message's payload or topic takes the mark away, whoever makes it."""
    migrate(
        database_url, Settings(), migrations=[m for m in shipped() if m.version < 6]
    )
    insert = (
        "INSERT INTO outbox (message_id, recipient, topic, key, kind, payload, "
        "source_position, recorded_at) VALUES "
        "(gen_random_uuid(), 'cbs', 't', 'k', 'inschrijvingen', '{}', %s, now())"
    )
    with psycopg.connect(database_url) as conn:
        conn.execute(insert, (7,))
    upto_6 = [m for m in shipped() if m.version <= 6]
    assert [m.name for m in migrate(database_url, Settings(), migrations=upto_6)] == [
        "outbox_schema_checked"
    ]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT schema_checked FROM outbox").fetchall() == [
            (False,)
        ]
        conn.execute(
            insert.replace("recorded_at)", "recorded_at, schema_checked)").replace(
                "now())", "now(), true)"
            ),
            (8,),
        )
        changes = {
            "payload": 'payload = \'{"bsn": "800000481"}\'',
            "topic": "topic = 'bron.vo.cbs.inschrijvingen.v1'",
        }
        for what, change in changes.items():
            conn.execute("UPDATE outbox SET schema_checked = true")
            marked = conn.execute(
                f"UPDATE outbox SET {change}, schema_checked = true "
                "WHERE source_position = 8 RETURNING schema_checked"
            ).fetchall()
            assert marked == [(False,)], what
        # A change that leaves the payload and topic as they were keeps it.
        kept = conn.execute(
            "UPDATE outbox SET key = 'k2' WHERE source_position = 7 RETURNING schema_checked"
        ).fetchall()
        assert kept == [(True,)]


def test_processes_starting_at_once_apply_each_migration_once(
    database_url: str,
) -> None:
    applied: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            applied.extend(m.label for m in migrate(database_url, Settings()))
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(applied) == LABELS


def production(url: str, state_dir: Path) -> Settings:
    """Every production setting given, the broker one never reached here."""
    return Settings(
        env="production",
        database_url=SecretStr(url),
        state_dir=state_dir,
        kafka_bootstrap="127.0.0.1:9",
        pseudonym_keys={
            e.recipient: SecretStr(secrets.token_hex(32)) for e in catalog.EXTRACTS
        },
        server_keys={"cursor": SecretStr(secrets.token_hex(32))},
    )


def test_production_refuses_a_database_that_is_not_migrated(
    database_url: str, tmp_path: Path
) -> None:
    with (
        pytest.raises(DatabaseNotMigrated, match=r"run `registry db migrate`"),
        bootstrap(production(database_url, tmp_path)),
    ):
        pass
    assert tables(database_url) == set()  # no table made, none adopted

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")} | {
        "REGISTRY_ENV": "production",
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_STATE_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli.main",
            "feedback",
            "01OE",
            "0",
            "2026-2027",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        "registry: not configured: database not migrated: run `registry db migrate`"
    )


def test_a_worker_of_serve_refuses_a_database_that_is_not_migrated(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`serve --workers N` migrates before it starts them (in development);
    a worker itself never makes tables."""
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_STATE_DIR", str(tmp_path))
    with (
        pytest.raises(DatabaseNotMigrated, match="pending: 0001"),
        TestClient(production_app()),
    ):
        pass
    migrate(database_url, Settings())
    with TestClient(production_app()) as client:
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def roles(server_url: str, database_url: str) -> Iterator[tuple[str, str]]:
    """The database owned by a role of its own (not a superuser), and the
    services' role, which owns nothing: (owner's URL, services' URL)."""
    suffix = uuid.uuid4().hex[:8]
    owner, service = f"registry_owner_{suffix}", f"registry_app_{suffix}"
    password = secrets.token_hex(16)
    dbname = conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as conn:
        for role in (owner, service):
            conn.execute(
                SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    Identifier(role), password
                )
            )
        conn.execute(
            SQL("ALTER DATABASE {} OWNER TO {}").format(
                Identifier(str(dbname)), Identifier(owner)
            )
        )
    try:
        yield (
            make_conninfo(database_url, user=owner, password=password),
            make_conninfo(database_url, user=service, password=password),
        )
    finally:
        _drop_roles(server_url, database_url, str(dbname), owner, service)


def _drop_roles(server_url: str, database_url: str, dbname: str, *names: str) -> None:
    who = SQL(", ").join(Identifier(n) for n in names)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = ANY(%s)",
            (list(names),),
        )
        conn.execute(
            SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(Identifier(dbname))
        )
        # One at a time: a default privilege whose grantor and grantee are
        # dropped in one statement trips PostgreSQL ("could not find tuple").
        for name in reversed(names):
            conn.execute(SQL("DROP OWNED BY {}").format(Identifier(name)))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(SQL("DROP ROLE {}").format(who))


def service_role(url: str) -> str:
    return str(conninfo_to_dict(url)["user"])


def test_services_run_as_a_role_that_owns_nothing(
    roles: tuple[str, str], cli: Callable[[str, str], Cli], tmp_path: Path
) -> None:
    owner_url, service_url = roles
    service = service_role(service_url)
    migrated = cli(service_url, owner_url)("db", "migrate", "--grant-to", service)
    assert migrated.exit_code == 0, migrated.output
    assert json.loads(migrated.stdout) == {"applied": LABELS, "granted_to": service}

    # A delivery over the API, its feedback, and the read side built, in
    # production, as the services' role.
    with bootstrap(production(service_url, tmp_path)) as rt:
        prepare(rt)
        client = TestClient(create_app(rt))
        headers = login(
            client, rt, "school01oe", Role.SCHOOL, datetime.now(UTC), brin="01OE"
        )
        delivered = client.post(
            "/v1/batches", content=batch(rec(1, student(ANNA))), headers=headers
        )
        assert delivered.status_code == 200, delivered.text
        feedback = client.get(
            "/v1/batches/01OE/0/2026-2027/1/feedback", headers=headers
        )
        assert feedback.status_code == 200, feedback.text
        assert [m["status"] for m in feedback.json()["meldingen"]] == ["G"]
        schema = rt.catch_up()

    with psycopg.connect(service_url) as conn:
        made_by = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s",
            (schema,),
        ).fetchone()
        periods = conn.execute(
            SQL("SELECT count(*) FROM {}.periods").format(Identifier(schema))
        ).fetchone()
    assert made_by == (service,)  # the projection's schema is the service's own
    assert periods == (1,)

    for refused in (
        "CREATE TABLE public.intruder (a int)",
        "DROP TABLE intake_batches",
        "ALTER TABLE access_users ADD COLUMN intruder int",
        "DELETE FROM registry_migrations",
    ):
        with (
            psycopg.connect(service_url) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(refused)
    assert "intake_batches" in tables(owner_url)


def test_granting_to_a_role_that_does_not_exist_is_refused_before_migrating(
    database_url: str, cli: Callable[[str, str], Cli]
) -> None:
    refused = cli(database_url, database_url)("db", "migrate", "--grant-to", "nobody_x")
    assert refused.exit_code == 2
    assert "no role 'nobody_x'" in refused.stderr
    assert tables(database_url) == set()


def test_a_fotos_people_keep_their_rows_when_keyed_by_the_foto(
    database_url: str,
) -> None:
    """Migration 0007 keys foto_persons by the foto first: the people listed
    before stay listed, once each, and a person's fotos are still found by
    their id alone (what redaction asks), through an index of its own."""
    migrate(
        database_url, Settings(), migrations=[m for m in shipped() if m.version < 7]
    )
    anna, bram = uuid.uuid4(), uuid.uuid4()
    insert = (
        "INSERT INTO foto_persons VALUES ('01OE', '2026-2027', 'voorlopig', %s, %s)"
    )
    with psycopg.connect(database_url) as conn:
        for versie, sid in ((1, anna), (1, bram), (2, anna)):
            conn.execute(insert, (versie, sid))
    upto_7 = [m for m in shipped() if m.version <= 7]
    assert [m.name for m in migrate(database_url, Settings(), migrations=upto_7)] == [
        "foto_persons_by_foto"
    ]
    with psycopg.connect(database_url) as conn:
        key = conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = 'foto_persons'::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey, a.attnum)"
        ).fetchall()
        by_student = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'foto_persons_student'"
        ).fetchone()
        found = conn.execute(
            "SELECT versie FROM foto_persons WHERE student_id = %s ORDER BY versie",
            (anna,),
        ).fetchall()
        kept = conn.execute("SELECT count(*) FROM foto_persons").fetchone()
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert, (2, anna))
    assert kept == (3,)
    assert [k for (k,) in key] == [
        "brin",
        "schooljaar",
        "soort",
        "versie",
        "student_id",
    ]
    assert by_student is not None and "(student_id)" in by_student[0]
    assert found == [(1,), (2,)]
