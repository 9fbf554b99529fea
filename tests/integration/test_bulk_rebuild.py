"""A rebuild at bulk speed (engine/bulk.py) builds, table by table and row for
row, what the page-by-page catch-up builds from the same log, with the same
indexes and constraints, tracked at the last event it loaded; a log it cannot
take in bulk is built page by page and stops where a catch-up stops."""

from __future__ import annotations

import logging
import random
from datetime import date
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.domain.enrolment import Enrolment
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn
from registry.projections.engine import runner
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.intake_helpers import ANNA, batch, extended, period, rec, student
from tests.integration.test_projection_kill import build_history, dump, position

NO_BULK = "no bulk build"
NEWCOMER = {
    "achternaam": "Nieuwkomer",
    "voornamen": "Noor",
    "geboortedatum": "2013-04-04",
    "geslacht": "V",
    "postcode": "9711AB",
}


def a_year_of_everything(rt: Runtime) -> None:
    """Random T/A/U/V/W deliveries at two schools with same-instant ones,
    school revisions (a vestiging closed, a licence ended), fotos and an
    assurance report with exclusions (build_history); then a person who came
    without a BSN and got one (a link), a period deleted and delivered again,
    a correction recorded at the instant of the registration it corrects, and
    a forgotten student."""
    told: list[int] = []

    def noor_once() -> None:
        if not told:
            told.append(1)
            a_person_without_a_bsn_gets_one(rt)

    build_history(rt, random.Random(20261204), between=noor_once)
    anna = student(ANNA)
    for n, (mutatie, terms, day) in enumerate(
        [
            ("T", period(), 14),
            ("V", period(), 15),
            ("T", period(leerjaar=2), 16),  # Enrolment.Reregistered
            ("A", period(leerjaar=3), 16),  # the same instant
            ("U", period(leerjaar=3, einddatum="2027-01-31"), 17),
            ("U", period(leerjaar=3, einddatum="2027-02-28"), 18),
        ],
        start=92,
    ):
        rec_ = rec(1, anna, mutatie, inschrijving=terms)
        rt.intake.submit(batch(rec_, number=n, brin="02AB"), utc(2026, 12, day))
    forgotten = rt.registry.student(ANNA["bsn"])
    assert forgotten is not None
    assert rt.registry.forget(forgotten.id, utc(2026, 12, 20))


def a_person_without_a_bsn_gets_one(rt: Runtime) -> None:
    """Registered under an issued onderwijsnummer, then given a BSN: linked as
    the intake links them (processor._link), a BSN student an alias of hers."""
    first = rt.intake.submit(
        batch(rec(1, student(NEWCOMER, uitgebreid=extended(NEWCOMER))), number=90),
        utc(2026, 8, 17, 16),
    ).feedback
    person = rt.registry.student(first["meldingen"][0]["leerling"]["onderwijsnummer"])
    assert person is not None
    at = utc(2026, 8, 17, 17)
    alias = Student.register(
        Bsn("800000055"), KeyData(date(2013, 4, 4), "V", "9711AB"), at
    )
    person.link_bsn(Bsn("800000055"), at)
    alias.link_to(person, at)
    rt.registry.save_at(person, alias, at=at)


def structure(url: str, schema: str) -> list[tuple[Any, ...]]:
    """The schema's indexes and constraints, its name taken out."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
            "UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace = %s::regnamespace",
            (schema, schema),
        ).fetchall()
    return sorted((k, n, d.replace(schema, "<schema>")) for k, n, d in rows)


def page_by_page(projector: Projector, schema: str, upto: int | None = None) -> None:
    projector.ensure(Timeline(), schema, upto=upto)
    projector.catch_up(Timeline(), schema, page_size=7)


def test_a_bulk_build_equals_the_page_by_page_build(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    a_year_of_everything(runtime)
    url, projector = runtime.database_url, Projector(runtime.database_url)
    head = projector.log.head()
    page_by_page(projector, "p_timeline_pages")
    expected = dump(url, "p_timeline_pages")
    assert expected["exclusions"] and any(
        "vergeten:" in r for r in expected["students"]
    )
    assert any('"bsn_id": "' in r for r in expected["students"])
    assert any('"closed_by": null' not in r for r in expected["licences"])

    with caplog.at_level(logging.INFO):
        loaded = projector.build(Timeline(), "p_timeline_bulk", page_size=50)
    assert NO_BULK not in caplog.text
    assert loaded == sum(1 for r in _topics(url) if r in Timeline.topics)
    assert position(url, "p_timeline_bulk") == head
    assert dump(url, "p_timeline_bulk") == expected
    assert structure(url, "p_timeline_bulk") == structure(url, "p_timeline_pages")
    # Built again, it is not: it exists, and a catch-up finds nothing to do.
    assert projector.build(Timeline(), "p_timeline_bulk") == 0
    assert projector.catch_up(Timeline(), "p_timeline_bulk") == 0


def test_an_audit_scratch_is_built_in_bulk_up_to_its_position(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    a_year_of_everything(runtime)
    url, projector = runtime.database_url, Projector(runtime.database_url)
    upto = projector.log.head() * 2 // 3
    page_by_page(projector, "p_timeline_pages", upto=upto)
    with caplog.at_level(logging.INFO):
        projector.build(Timeline(), "p_timeline_bulk", upto=upto)
    assert NO_BULK not in caplog.text
    assert position(url, "p_timeline_bulk") == upto
    assert dump(url, "p_timeline_bulk") == dump(url, "p_timeline_pages")
    assert not projector.status()[0].live


def _topics(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT topic FROM registry_events")]


def test_a_log_the_bulk_fold_cannot_take_stops_where_a_catch_up_stops(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """An end recorded after a deletion, past the domain's checks as a bug of
    earlier code could have stored it: the page fold cannot apply it."""
    rt = runtime
    build_history(rt, random.Random(7))
    (eid,) = [
        r[0]
        for r in psycopg.connect(rt.database_url)
        .execute(
            "SELECT originator_id FROM registry_events WHERE topic LIKE %s LIMIT 1",
            ("%Enrolment.Registered",),
        )
        .fetchall()
    ]
    enrolment = rt.registry.repository.get(eid)
    assert isinstance(enrolment, Enrolment)
    at = utc(2026, 12, 20)
    source = {"brin": enrolment.brin, "batchnummer": 99, "meldingnummer": 1}
    enrolment._delete(source=source, timestamp=at)
    enrolment._end(einddatum=utc(2026, 12, 31).date(), source=source, timestamp=at)
    broken = rt.registry.save_at(enrolment, at=at)
    assert broken is not None
    projector = Projector(rt.database_url)
    page_by_page(projector, "p_timeline_pages")
    with caplog.at_level(logging.WARNING):
        projector.build(Timeline(), "p_timeline_bulk")
    assert NO_BULK in caplog.text
    projector.catch_up(Timeline(), "p_timeline_bulk")
    stopped = {s.schema: (s.position, s.failed_at) for s in projector.status()}
    assert (
        stopped["p_timeline_bulk"]
        == stopped["p_timeline_pages"]
        == (
            broken - 1,
            broken,
        )
    )
    assert dump(rt.database_url, "p_timeline_bulk") == dump(
        rt.database_url, "p_timeline_pages"
    )


class NextTimeline(Timeline):
    version = 99  # a new version of the code: its own schema, built beside


def test_a_new_version_is_built_in_bulk_and_takes_over(
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_history(runtime, random.Random(3))
    old = runtime.catch_up()
    monkeypatch.setattr(runner, "BULK_FROM", 0)  # the history is a small log
    projector = runtime.projector
    with caplog.at_level(logging.INFO):
        new = projector.fresh(NextTimeline())  # what `projections run` does
    assert "built in bulk" in caplog.text and NO_BULK not in caplog.text
    assert new == NextTimeline.schema() != old
    assert projector.live_schema(Timeline.name) == new
    assert dump(runtime.database_url, new) == dump(runtime.database_url, old)
