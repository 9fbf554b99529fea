"""Logs and error texts never hold a BSN, a name or a birth date: not when a
projection fails on a row the database quotes back, and not anywhere in a whole
school year played, projected and published with every log captured."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from registry.bootstrap import Runtime
from registry.infrastructure.embedded_kafka import EmbeddedKafka
from registry.publishing.admin import write_broker_schemas
from registry.simulation.generator import generate
from tests.conftest import utc
from tests.intake_helpers import ANNA, PIET, batch, prepare, rec, student
from tests.integration.test_publication_year import _publish_year

CHECK = "born_before_2013"


def test_a_failure_whose_database_error_quotes_a_person_is_kept_masked(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    prepare(runtime)
    runtime.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
    schema = runtime.catch_up()
    quoted = _refusing_students_born_in_2013(runtime.database_url, schema)
    assert PIET["bsn"] in quoted and PIET["geboortedatum"] in quoted  # the hazard
    caplog.set_level(logging.DEBUG)
    runtime.intake.submit(batch(rec(1, student(PIET)), number=2), utc(2026, 8, 21))
    runtime.catch_up()
    (status,) = [s for s in runtime.projector.status() if s.name == "timeline"]
    assert status.failed_at is not None and status.failure is not None
    # Where to look (the class, the constraint, the event), not whom it was about.
    assert "CheckViolation" in status.failure and CHECK in status.failure
    assert "Student.Registered" in status.failure
    assert "stopped before log position" in caplog.text
    for text in (status.failure, caplog.text):
        assert PIET["bsn"] not in text and PIET["geboortedatum"] not in text


def _refusing_students_born_in_2013(url: str, schema: str) -> str:
    """Make the timeline refuse Piet's row; the database's own error text."""
    students = sql.Identifier(schema, "students")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {} "
                "CHECK (geboortedatum < '2013-01-01') NOT VALID"
            ).format(students, sql.Identifier(CHECK))
        )
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (student_id, number, kind, geboortedatum, "
                    "registered_by) VALUES (gen_random_uuid(), %s, 'bsn', %s, 0)"
                ).format(students),
                (PIET["bsn"], PIET["geboortedatum"]),
            )
    return str(refused.value)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A broker of this test's own, as test_publication_year has."""
    configured = os.environ.get("REGISTRY_KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    kafka = EmbeddedKafka(tmp_path / "kafka", write_broker_schemas(tmp_path / "sch"))
    try:
        yield kafka.start()
    finally:
        kafka.stop()


def test_a_played_year_logs_no_number_name_or_birth_date(
    runtime: Runtime,
    broker: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    year = tmp_path / "year"
    generate(1, "tiny", year)
    caplog.set_level(logging.DEBUG)
    # Intake, milestones and fotos, every projection, the relay, the consumers.
    _publish_year(runtime, broker, year)
    out, err = capfd.readouterr()
    logged = "\n".join([caplog.text, out, err])
    assert len(caplog.records) > 0
    words = set(re.findall(r"[\w-]+", logged))
    leaks = [
        v for v in _personal(year) if (v in words if " " not in v else v in logged)
    ]
    where = [ln[:300] for ln in logged.splitlines() if leaks and leaks[0] in ln]
    assert leaks == [], where[:5]


def _personal(year: Path) -> list[str]:
    """Every BSN, surname, set of first names and birth date of the year."""
    values: set[str] = set()
    for line in (year / "population.jsonl").read_text().splitlines():
        person = json.loads(line)
        values |= {
            person["bsn"],
            person["achternaam"],
            person["voornamen"],
            person["geboortedatum"],
        }
    assert len(values) > 100
    return sorted(values)
