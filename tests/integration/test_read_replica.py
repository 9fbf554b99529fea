"""Queries on a read database (REGISTRY_READ_DATABASE_URL): the read routes
and the query commands answer from it, while every write, and the audit of
the reads, stays on the main database.

The read database here is a real second database: a copy of the main one
made at one log position and then left behind, read-only, as a replica
that stopped streaming would be. What the main database learns afterwards
is therefore visible only to readers of the main one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import SecretStr
from typer.testing import CliRunner

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime, bootstrap
from registry.cli import common
from registry.cli.main import app as cli_app
from registry.config import Settings
from registry.projections.engine.reading import reading
from registry.projections.queries.peiling import snapshot
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, batch, prepare, rec, student
from tests.integration.test_access import login

YEAR = f"/v1/schools/01OE/years/{SJ}"
AUG, SEP = utc(2026, 8, 20), utc(2026, 9, 10)
PEIL = utc(2026, 10, 1).date()


def _settings(main: str, read: str | None, state: Path) -> Settings:
    return Settings(
        database_url=SecretStr(main),
        read_database_url=SecretStr(read) if read else None,
        clock="simulated",
        state_dir=state,
    )


@pytest.fixture
def read_url(server_url: str, database_url: str, tmp_path: Path) -> Iterator[str]:
    """Anna and Piet delivered and projected, then the database copied into a
    read-only one: the read database, at that log position for good."""
    with bootstrap(_settings(database_url, None, tmp_path)) as rt:
        prepare(rt)
        rt.intake.submit(batch(rec(1, student(ANNA)), rec(2, student(PIET))), AUG)
        rt.catch_up()
    main = conninfo_to_dict(database_url)["dbname"]
    copy = f"{main}_read"
    with psycopg.connect(server_url, autocommit=True) as conn:
        # A template may have no other sessions: the runtime's are closing.
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (main,),
        )
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{main}"')
        # What a hot standby allows: reading, never writing.
        conn.execute(f'ALTER DATABASE "{copy}" SET default_transaction_read_only = on')
    yield make_conninfo(server_url, dbname=copy)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


@pytest.fixture
def split(database_url: str, read_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The registry on both databases, after Old was delivered at the main one."""
    with bootstrap(_settings(database_url, read_url, tmp_path)) as rt:
        rt.intake.submit(batch(rec(1, student(OLD)), number=2), SEP)
        rt.catch_up()
        yield rt


def position(url: str) -> int:
    with reading(url, Timeline.name) as r:
        return r.position


def total(url: str) -> int:
    with reading(url, Timeline.name) as r:
        return snapshot(r.cursor, "01OE", SJ, PEIL, SEP)["controletotaal"]


def test_read_routes_answer_from_the_read_database(
    split: Runtime, read_url: str
) -> None:
    assert (total(split.database_url), total(read_url)) == (3, 2)
    client = TestClient(create_app(split))
    own = login(client, split, "school01oe", Role.SCHOOL, SEP, brin="01OE")
    operator = login(client, split, "operator", Role.OPERATOR, SEP)
    answer = client.get(YEAR + "/snapshot", headers=own)
    assert answer.status_code == 200, answer.text
    assert answer.json()["controletotaal"] == 2
    assert OLD["bsn"] not in answer.text
    assert int(answer.headers["X-Log-Position"]) == position(read_url)
    assert position(read_url) < position(split.database_url)
    sheet = client.get(YEAR + "/snapshot", params={"format": "csv"}, headers=own)
    assert sheet.status_code == 200 and len(sheet.text.splitlines()) == 3
    listed = client.get(
        "/v1/enrolments",
        params={"schooljaar": SJ, "valid_on": "2026-10-01"},
        headers=operator,
    )
    assert listed.status_code == 200 and listed.json()["total"] == 2
    assert client.get(YEAR + "/signals", headers=own).status_code == 200


def test_the_audit_of_reads_stays_on_the_main_database(
    split: Runtime, read_url: str
) -> None:
    client = TestClient(create_app(split))
    own = login(client, split, "school01oe", Role.SCHOOL, SEP, brin="01OE")
    assert client.get(YEAR + "/snapshot", headers=own).status_code == 200
    assert [(r["login"], r["rows"]) for r in split.reads.reads()] == [("school01oe", 2)]
    with psycopg.connect(read_url) as conn:
        assert conn.execute("SELECT count(*) FROM access_reads").fetchone() == (0,)
    # The read database still answers, but the read cannot be recorded: not served.
    with psycopg.connect(split.database_url) as conn:
        conn.execute("DROP TABLE access_reads")
    refused = client.get(YEAR + "/snapshot", headers=own)
    assert refused.status_code == 503 and "audited" in refused.json()["detail"]
    assert ANNA["bsn"] not in refused.text and PIET["bsn"] not in refused.text


def test_query_commands_read_the_read_database_once_it_has_caught_up(
    database_url: str,
    read_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("REGISTRY_READ_DATABASE_URL", read_url)
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    monkeypatch.setenv("REGISTRY_STATE_DIR", str(tmp_path))
    monkeypatch.setattr(common, "REPLICA_WAIT_SECONDS", 0.3)
    runner = CliRunner()
    args = ["snapshot", "01OE", SJ, "--stand-per", SEP.isoformat()]
    # Nothing new on the main database: the copy holds everything, answers.
    shown = runner.invoke(cli_app, args)
    assert shown.exit_code == 0, shown.output
    document: dict[str, Any] = json.loads(shown.stdout)
    assert document["controletotaal"] == 2
    # Old delivered at the main one: the copy never replays it, and a command
    # promises what was just delivered, so it refuses rather than answer stale.
    trial = tmp_path / "old.json"
    trial.write_text(batch(rec(1, student(OLD)), number=2))
    submitted = runner.invoke(cli_app, ["submit", str(trial), "--at", SEP.isoformat()])
    assert submitted.exit_code == 0, submitted.output
    behind = runner.invoke(cli_app, args)
    assert behind.exit_code == 3
    assert "read database" in behind.stderr and OLD["bsn"] not in behind.output
    # The same command without a read database answers from the main one.
    monkeypatch.delenv("REGISTRY_READ_DATABASE_URL")
    main = runner.invoke(cli_app, args)
    assert main.exit_code == 0 and json.loads(main.stdout)["controletotaal"] == 3
