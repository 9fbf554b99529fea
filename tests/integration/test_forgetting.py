"""Forgetting a person (docs/privacy.md): their key is deleted and a forgetting
event recorded; the log and every rebuilt projection then hold nothing of them,
while the counts stay what they were. `registry retention run` forgets exactly
the people five years past their last enrolment."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from registry.application.errors import PersonIsForgotten
from registry.application.registry import Registry
from registry.bootstrap import Runtime
from registry.cli.main import app
from registry.config import Settings
from registry.domain.student import Student
from registry.infrastructure.event_store import event_store_env
from registry.projections.engine.reading import reading
from registry.projections.queries.peiling import national_totals
from registry.projections.queries.retention import cutoff
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    PIET,
    TWIN,
    batch,
    period,
    prepare,
    rec,
    student,
    student_id,
)
from tests.integration.test_sealing import EXTENDED, PLAINTEXT, raw_states

SAM = {**TWIN, "bsn": "200000007"}
PEILDATUM = date(2026, 10, 1)


def deliver(rt: Runtime, number: int, day: int, *records: Any) -> None:
    feedback = rt.intake.submit(batch(*records, number=number), utc(2026, 8, day))
    assert all(m["status"] == "G" for m in feedback.feedback["meldingen"]), feedback


def timeline_rows(rt: Runtime) -> tuple[dict[str, Any], dict[UUID, tuple[Any, ...]]]:
    with reading(rt.database_url, Timeline.name) as r:
        totals = national_totals(r.cursor, SJ, PEILDATUM, utc(2027, 1, 1))
        students = {
            row[0]: row[1:]
            for row in r.cursor.execute(
                "SELECT student_id, number, bsn, geboortedatum, geslacht, "
                "postcode, landcode FROM students"
            ).fetchall()
        }
    return totals, students


def rebuild_timeline(rt: Runtime) -> None:
    (timeline,) = [p for p in rt.projections if p.name == Timeline.name]
    rt.projector.rebuild(timeline)


@pytest.fixture
def enrolled(runtime: Runtime) -> Runtime:
    prepare(runtime)
    deliver(runtime, 1, 2, rec(1, student(ANNA)), rec(2, student(PIET)))
    anna = runtime.registry.student(ANNA["bsn"])
    assert anna is not None
    anna.record_extended_set(EXTENDED, utc(2026, 8, 3))
    runtime.registry.save_at(anna, at=utc(2026, 8, 3))
    runtime.catch_up()
    return runtime


def test_forgetting_leaves_nothing_of_the_person_and_keeps_the_counts(
    enrolled: Runtime, settings: Settings
) -> None:
    rt = enrolled
    anna_id, piet_id = (student_id(rt, p["bsn"]) for p in (ANNA, PIET))
    totals, before = timeline_rows(rt)
    assert before[anna_id][0] == ANNA["bsn"]
    assert totals["01OE"]["controletotaal"] == 2

    assert rt.registry.forget(anna_id, utc(2026, 9, 1))
    assert not rt.registry.forget(anna_id, utc(2026, 9, 1))  # once is enough

    for state in raw_states(rt.database_url, anna_id):
        assert not [p for p in PLAINTEXT if p in state], state
    other = Registry(env=event_store_env(rt.database_url, settings))
    try:
        decoded = repr([vars(e) for e in other.events.get(anna_id)])
        for text in ("800000481", "2013, 5, 17", "9711AB", "Jansen", "'V'"):
            assert text not in decoded
        anna = other.repository.get(anna_id)
        assert isinstance(anna, Student)
        assert (anna.number, anna.forgotten) == (f"vergeten:{anna_id}", "retention")
        assert set(anna.key.values()) == {None} and set(anna.extended.values()) == {
            None
        }
        piet = other.student(PIET["bsn"])
        assert piet is not None and piet.key_data.geboortedatum == date(2013, 1, 2)
    finally:
        other.close()

    rt.catch_up()  # the live row is blanked at once, before any rebuild
    blank = (f"vergeten:{anna_id}", None, None, None, None, None)
    assert timeline_rows(rt)[1][anna_id] == blank

    rebuild_timeline(rt)
    after_totals, after = timeline_rows(rt)
    assert after_totals == totals
    assert after[anna_id] == blank
    assert after[piet_id] == before[piet_id]


def test_nothing_personal_can_be_recorded_for_a_forgotten_person(
    enrolled: Runtime,
) -> None:
    reg = enrolled.registry
    anna_id = student_id(enrolled, ANNA["bsn"])
    reg.forget(anna_id, utc(2026, 9, 1))
    anna = reg.repository.get(anna_id)
    assert isinstance(anna, Student)
    anna.record_extended_set({**EXTENDED, "huisnummer": 99}, utc(2026, 9, 2))
    with pytest.raises(PersonIsForgotten):
        reg.save_at(anna, at=utc(2026, 9, 2))
    with psycopg.connect(enrolled.database_url) as conn:
        (key, forgotten_at), *_ = conn.execute(
            "SELECT key, forgotten_at FROM person_keys WHERE student_id = %s",
            (anna_id,),
        ).fetchall()
    assert key is None and forgotten_at == utc(2026, 9, 1)


def test_the_cutoff_is_five_years_to_the_day() -> None:
    assert cutoff(date(2032, 7, 1)) == date(2027, 7, 1)
    assert cutoff(date(2032, 2, 29)) == date(2027, 2, 28)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    assert settings.database_url is not None
    monkeypatch.setenv(
        "REGISTRY_DATABASE_URL", settings.database_url.get_secret_value()
    )
    monkeypatch.setenv("REGISTRY_CLOCK", "simulated")
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_retention_run_forgets_exactly_the_people_past_the_period(
    runtime: Runtime, cli: Any
) -> None:
    """At 1 July 2032: Anna left 30 June 2027 (five years and a day ago),
    Piet on 2 July 2027 (a day short of five years), Sam is still enrolled."""
    prepare(runtime)
    deliver(
        runtime,
        1,
        2,
        rec(1, student(ANNA), inschrijving=period(einddatum="2027-06-30")),
        rec(2, student(PIET), inschrijving=period(einddatum="2027-07-02")),
        rec(3, student(SAM)),
    )
    run = cli("retention", "run", "--at", "2032-07-01T00:00:00+00:00")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["forgotten"] == 1
    forgotten = {
        number: runtime.registry.student(number)
        for number in (ANNA["bsn"], PIET["bsn"], SAM["bsn"])
    }
    # Anna's number names no one any more; the others are as they were.
    assert {n: s.forgotten if s else "gone" for n, s in forgotten.items()} == {
        ANNA["bsn"]: "gone",
        PIET["bsn"]: None,
        SAM["bsn"]: None,
    }
    exactly = cli("retention", "run", "--at", "2032-07-02T00:00:00+00:00")
    assert json.loads(exactly.stdout)["forgotten"] == 0  # Piet: five years, no more
    later = cli("retention", "run", "--at", "2032-07-03T00:00:00+00:00")
    assert later.exit_code == 0, later.output
    assert json.loads(later.stdout)["forgotten"] == 1  # Piet, a day later


def rows_naming(url: str, *texts: str) -> dict[str, list[str]]:
    """Every row of every table, in every schema, whose text holds one of
    `texts`: table name → rows (as text)."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            name = sql.Identifier(schema, table)
            for (row,) in conn.execute(
                sql.SQL("SELECT t::text FROM {} t").format(name)
            ).fetchall():
                if any(t in row for t in texts):
                    found.setdefault(f"{schema}.{table}", []).append(row)
    return found


def test_after_the_retention_run_nothing_links_the_number_to_the_stream(
    runtime: Runtime, cli: Any
) -> None:
    """The stream's id is random and the number's row is gone: no table holds
    the number beside the id, so a guessed BSN finds nothing. Only the forget
    messages keep the number, without the id, until they are sent."""
    prepare(runtime)
    deliver(
        runtime,
        1,
        2,
        rec(1, student(ANNA), inschrijving=period(einddatum="2027-06-30")),
        rec(2, student(PIET)),
    )
    anna_id = student_id(runtime, ANNA["bsn"])
    runtime.catch_up()
    assert rows_naming(runtime.database_url, ANNA["bsn"])  # held while she is known
    run = cli("retention", "run", "--at", "2032-07-01T00:00:00+00:00")
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["numbers_unlinked"] == 1
    runtime.catch_up()
    holding = rows_naming(runtime.database_url, ANNA["bsn"])
    # The population register stands in for the BRP, which is not the
    # registry's to forget (it holds everyone, enrolled or not).
    holding.pop("public.population_persons", None)
    assert set(holding) <= {"public.outbox"}, holding
    assert all('"vergeten"' in row for row in holding.get("public.outbox", []))
    assert not [
        row for rows in holding.values() for row in rows if str(anna_id) in row
    ]
    assert runtime.registry.student_ids([ANNA["bsn"]]) == {}
