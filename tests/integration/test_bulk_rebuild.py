"""A rebuild at bulk speed (engine/bulk.py) builds, table by table and row for
row, what the page-by-page catch-up builds from the same log, with the same
indexes and constraints, tracked at the last event it loaded; a log it cannot
take in bulk is built page by page and stops where a catch-up stops."""

from __future__ import annotations

import gc
import json
import logging
import random
from datetime import date, datetime
from typing import Any

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from registry.bootstrap import Runtime
from registry.domain.enrolment import Enrolment, PeriodTerms, Source
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn
from registry.projections.engine import runner
from registry.projections.engine.runner import Projector
from registry.projections.timeline import Timeline
from registry.projections.timeline_bulk import TimelineLoad
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import (
    ANNA,
    PIET,
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
)
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


def page_by_page(
    projector: Projector, schema: str, upto: int | None = None, page_size: int = 7
) -> None:
    projector.ensure(Timeline(), schema, upto=upto)
    projector.catch_up(Timeline(), schema, page_size=page_size)


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
    # Doubles noted, some narrowed by a later close; a number rewritten.
    positions = [json.loads(r)["positions"] for r in expected["doubles"]]
    assert any(p.endswith(",)") for p in positions)
    assert any(not p.endswith(",)") for p in positions)
    assert json.loads(expected["horizon"][0])["identities"] > 0

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


def test_a_bulk_build_frees_what_it_loaded_when_it_ends(runtime: Runtime) -> None:
    """The load's rows are freed as soon as the build ends, not left in a
    cycle until a full collection (the registry's collector runs those
    rarely): a process that goes on after a rebuild would otherwise carry them,
    and its reads ran slower until they went (docs/benchmarks-notes.md)."""
    a_year_of_everything(runtime)
    projector = Projector(runtime.database_url)
    gc.collect()
    gc.disable()
    try:
        projector.build(Timeline(), "p_timeline_bulk", page_size=50)
        left = [o for o in gc.get_objects() if isinstance(o, TimelineLoad)]
    finally:
        gc.enable()
    assert left == []


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


def test_an_enrolment_stored_before_its_student_is_folded_page_by_page(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """The page fold copies the student's row into each version it writes: an
    enrolment stored before its student (no intake does so, the log allows
    it) folds or stops depending on where the page ended, so the bulk load
    gives way to the page fold, which stops where a catch-up stops."""
    rt = runtime
    prepare(rt)
    at, later = utc(2026, 8, 17), utc(2026, 8, 30)
    pupil = Student.register(
        Bsn("800000055"), KeyData(date(2013, 4, 4), "V", "9711AB"), later
    )
    early = Enrolment.register(
        pupil.id,
        "01OE",
        date(2026, 8, 1),
        PeriodTerms("00", "0300", 1),
        Source("01OE", 0, SJ, 1, 1),
        at,
    )
    stored = rt.registry.save_at(early, at=at)
    assert stored is not None
    # More than a page of 7 between the enrolment and its student.
    records = [rec(1, student(ANNA)), rec(2, student(PIET))]
    rt.intake.submit(batch(*records, number=2), utc(2026, 8, 18))
    for n, leerjaar in enumerate((2, 3, 1, 2), start=3):
        correction = rec(1, student(ANNA), "A", inschrijving=period(leerjaar=leerjaar))
        rt.intake.submit(batch(correction, number=n), utc(2026, 8, 18 + n))
    rt.registry.save_at(pupil, at=later)
    projector = Projector(rt.database_url)
    page_by_page(projector, "p_timeline_pages")
    with caplog.at_level(logging.WARNING):
        projector.build(Timeline(), "p_timeline_bulk")
    assert "registered before their student" in caplog.text
    projector.catch_up(Timeline(), "p_timeline_bulk", page_size=7)
    stopped = {s.schema: (s.position, s.failed_at) for s in projector.status()}
    assert stopped["p_timeline_bulk"] == stopped["p_timeline_pages"]
    assert stopped["p_timeline_pages"] == (stored - 1, stored)
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


def _enrolment_events(url: str) -> list[tuple[int, Any, datetime]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, "
            "(convert_from(state, 'UTF8')::jsonb->'timestamp'->>'_data_')::timestamptz "
            "FROM registry_events WHERE topic LIKE %s ORDER BY notification_id",
            ("%:Enrolment.%",),
        ).fetchall()
    return rows


def _doubles(url: str, schema: str) -> set[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            SQL(
                "SELECT brin, lower(valid), upper(valid), lower(recorded), "
                "upper(recorded), lower(positions), upper(positions), first, second "
                "FROM {}.doubles"
            ).format(Identifier(schema))
        ).fetchall()
    return set(rows)


def test_doubles_as_the_rules_note_and_narrow_them(runtime: Runtime) -> None:
    """By hand: Anna enrolled at 01OE, then at 02AB from 1 October (a double
    from then on, under both schools), then her 01OE period ended the day
    before (the double narrowed to until that end was recorded) and her 02AB
    one corrected (no new double). Piet at both schools from September, his
    02AB period deleted (narrowed) and delivered again (a new double, open)."""
    rt = runtime
    prepare(rt)
    anna, piet = student(ANNA), student(PIET)
    oct1, sep1 = period(ingangsdatum="2026-10-01"), period(ingangsdatum="2026-09-01")
    steps = [
        ("01OE", rec(1, anna), rec(2, piet)),
        ("02AB", rec(1, anna, inschrijving=oct1), rec(2, piet, inschrijving=sep1)),
        ("01OE", rec(1, anna, "U", inschrijving=period(einddatum="2026-09-30"))),
        ("02AB", rec(1, anna, "A", inschrijving={**oct1, "leerjaar": 2})),
        ("02AB", rec(1, piet, "V", inschrijving=sep1)),
        ("02AB", rec(1, piet, inschrijving=sep1)),
    ]
    for n, (brin, *records) in enumerate(steps, start=1):
        rt.intake.submit(batch(*records, number=n, brin=brin), utc(2026, 9, 10 + n))
    url, projector = runtime.database_url, Projector(runtime.database_url)
    (a1, e1, _), (p1, e3, _), (a2, e2, t2), (p2, e4, t4), *rest = _enrolment_events(url)
    assert a1 < p1 < a2 < p2 and len(rest) == 4
    (a3, _, t3), _, (p3, _, t5), (p4, _, t6) = rest
    oe, ab = date(2026, 10, 1), date(2026, 9, 1)
    noted = [
        (oe, t2, t3, a2, a3, e2, e1),  # narrowed by the end of 01OE's period
        (ab, t4, t5, p2, p3, e4, e3),  # narrowed by the deletion
        (ab, t6, None, p4, None, e4, e3),  # the period delivered again
    ]
    expected = {
        (brin, start, None, at, until, pos, upto, first, second)
        for start, at, until, pos, upto, first, second in noted
        for brin in ("01OE", "02AB")
    }
    for size in (1, 1000):
        page_by_page(projector, f"p_timeline_pages_{size}", page_size=size)
        assert _doubles(url, f"p_timeline_pages_{size}") == expected
    projector.build(Timeline(), "p_timeline_bulk")
    assert _doubles(url, "p_timeline_bulk") == expected
    assert dump(url, "p_timeline_bulk") == dump(url, "p_timeline_pages_1")
    horizon = dump(url, "p_timeline_bulk")["horizon"]
    assert horizon == [f'{{"identities": 0, "recorded_at": "{t6.isoformat()}"}}']
