"""Every API response that shows students is recorded in the audit of reads
(who, role, route, school, rows, the one student when it was one) before it is
served; operators query the audit over the API and the command line, and no
one else can."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from registry.access.policy import Role
from registry.api.app import create_app
from registry.bootstrap import Runtime
from registry.cli.main import app as cli_app
from registry.config import Settings
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    OLD,
    PIET,
    batch,
    prepare,
    rec,
    student,
    student_id,
)
from tests.integration.test_access import login

YEAR = f"/v1/schools/01OE/years/{SJ}"
AUG = utc(2026, 8, 20)


@pytest.fixture
def delivered(runtime: Runtime) -> Runtime:
    prepare(runtime)
    runtime.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET)), rec(3, student(OLD))),
        AUG,
    )
    runtime.catch_up()
    return runtime


@pytest.fixture
def client(delivered: Runtime) -> TestClient:
    return TestClient(create_app(delivered))


def reads(rt: Runtime, **filters: Any) -> list[tuple[Any, ...]]:
    return [
        (r["login"], r["role"], r["route"], r["brin"], r["rows"], r["subject"])
        for r in rt.reads.reads(**filters)
    ]


def test_a_school_reading_its_snapshot_is_recorded_with_user_and_role(
    delivered: Runtime, client: TestClient
) -> None:
    own = login(client, delivered, "school01oe", Role.SCHOOL, AUG, brin="01OE")
    assert reads(delivered) == []
    answer = client.get(YEAR + "/snapshot", headers=own)
    assert answer.status_code == 200 and answer.json()["controletotaal"] == 3
    route = "GET /v1/schools/{brin}/years/{schooljaar}/snapshot"
    assert reads(delivered) == [("school01oe", "school", route, "01OE", 3, None)]
    (row,) = delivered.reads.reads()
    assert row["at"] == delivered.now()
    # One student shown: the row names them, by the registry's id only.
    client.get(YEAR + "/snapshot", params={"limit": 1}, headers=own)
    first = min(ANNA["bsn"], PIET["bsn"], OLD["bsn"])
    assert reads(delivered)[-1][4:] == (1, student_id(delivered, first))
    text = str(delivered.reads.reads())
    assert not any(p["bsn"] in text for p in (ANNA, PIET, OLD))


def test_every_route_that_shows_students_is_audited(
    delivered: Runtime, client: TestClient
) -> None:
    own = login(client, delivered, "school01oe", Role.SCHOOL, AUG, brin="01OE")
    operator = login(client, delivered, "operator", Role.OPERATOR, AUG)
    gets = [
        (YEAR + "/snapshot", {"format": "csv"}, own),
        (YEAR + "/signals", {}, own),
        (f"/v1/batches/01OE/0/{SJ}/1/feedback", {}, own),
        ("/v1/enrolments", {"schooljaar": SJ, "valid_on": "2026-10-01"}, operator),
    ]
    for url, params, headers in gets:
        assert client.get(url, params=params, headers=headers).status_code == 200
    delivery = batch(rec(1, student(ANNA), "U", inschrijving=None), number=2)
    posted = client.post("/v1/batches", content=delivery, headers=own)
    assert posted.status_code == 200, posted.text
    got = [(r[0], r[2].split("/")[-1], r[3], r[4]) for r in reads(delivered)]
    assert got == [
        ("school01oe", "snapshot", "01OE", 3),
        ("school01oe", "signals", "01OE", 0),
        ("school01oe", "feedback", "01OE", 3),
        ("operator", "enrolments", None, 3),
        ("school01oe", "batches", "01OE", 1),
    ]


def test_only_operators_read_the_audit(delivered: Runtime, client: TestClient) -> None:
    own = login(client, delivered, "school01oe", Role.SCHOOL, AUG, brin="01OE")
    agency = login(client, delivered, "cbs", Role.AGENCY, AUG, recipient="cbs")
    operator = login(client, delivered, "operator", Role.OPERATOR, AUG)
    client.get(YEAR + "/snapshot", headers=own)
    assert client.get("/v1/audit/reads", headers=own).status_code == 403
    assert client.get("/v1/audit/reads", headers=agency).status_code == 403
    assert client.get("/v1/audit/reads").status_code == 401
    listed = client.get("/v1/audit/reads", params={"user": "school01oe"}, headers=operator)
    assert listed.status_code == 200
    assert [(r["login"], r["role"], r["rows"]) for r in listed.json()] == [
        ("school01oe", "school", 3)
    ]
    assert client.get(
        "/v1/audit/reads", params={"brin": "02AB"}, headers=operator
    ).json() == []
    naive = client.get(
        "/v1/audit/reads", params={"since": "2026-08-01T00:00:00"}, headers=operator
    )
    assert naive.status_code == 422


def test_a_read_that_cannot_be_audited_is_not_served(
    delivered: Runtime, client: TestClient
) -> None:
    own = login(client, delivered, "school01oe", Role.SCHOOL, AUG, brin="01OE")
    with psycopg.connect(delivered.database_url) as conn:
        conn.execute("DROP TABLE access_reads")
    answer = client.get(YEAR + "/snapshot", headers=own)
    assert answer.status_code == 503
    assert "audited" in answer.json()["detail"]
    assert ANNA["bsn"] not in answer.text and PIET["bsn"] not in answer.text


def test_the_command_line_lists_reads_by_user_brin_and_time(
    delivered: Runtime,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    assert settings.database_url is not None
    monkeypatch.setenv("REGISTRY_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    monkeypatch.setenv("REGISTRY_STATE_DIR", str(tmp_path))
    client = TestClient(create_app(delivered))
    own = login(client, delivered, "school01oe", Role.SCHOOL, AUG, brin="01OE")
    client.get(YEAR + "/snapshot", headers=own)  # at AUG, the log's last time
    runner = CliRunner()
    trial = tmp_path / "trial.json"
    trial.write_text(batch(rec(1, student(ANNA)), number=5, brin="02AB"))
    at = "2026-09-01T00:00:00+00:00"
    tried = runner.invoke(cli_app, ["submit", str(trial), "--dry-run", "--at", at])
    assert tried.exit_code == 0, tried.output

    def listed(*args: str) -> list[dict[str, Any]]:
        result = runner.invoke(cli_app, ["audit", "reads", *args])
        assert result.exit_code == 0, result.output
        rows: list[dict[str, Any]] = json.loads(result.stdout)
        return rows

    everything = listed()
    assert [r["route"] for r in everything] == [
        "GET /v1/schools/{brin}/years/{schooljaar}/snapshot",
        "trial delivery",
    ]
    assert everything[1]["login"].startswith("cli:")
    assert everything[1]["role"] == "operator" and everything[1]["rows"] == 1
    assert [r["brin"] for r in listed("--brin", "02AB")] == ["02AB"]
    assert [r["login"] for r in listed("--user", "school01oe")] == ["school01oe"]
    assert listed("--user", "nobody") == []
    assert [r["brin"] for r in listed("--since", at)] == ["02AB"]
    assert datetime.fromisoformat(everything[1]["at"]) == datetime.fromisoformat(at)
    shown = runner.invoke(cli_app, ["audit", "reads", "--table"])
    assert shown.exit_code == 0 and "school01oe" in shown.stdout
    bad = runner.invoke(cli_app, ["audit", "reads", "--since", "yesterday"])
    assert bad.exit_code == 2
