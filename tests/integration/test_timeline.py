"""The bitemporal timeline and snapshots built from real deliveries."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.projections.engine.runner import Projector
from registry.projections.queries.peiling import snapshot
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, PIET, batch, period, prepare, rec, student

OCT1 = date(2026, 10, 1)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


def project(rt: Runtime) -> Projector:
    projector = Projector(rt.database_url)
    projector.ensure(Timeline())
    projector.catch_up(Timeline(), page_size=3)  # small pages: folds across pages
    return projector


def peiling(rt: Runtime, brin: str, t: Any, d: date = OCT1) -> list[tuple[Any, ...]]:
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(f"SET search_path TO {Timeline.schema()}, public")
        doc = snapshot(conn.cursor(), brin, SJ, d, t)
    return [
        (
            e["leerling"]["bsn"],
            e["elementcode"],
            e["einddatum"],
            e["bekostigd"],
            e["redenen"],
        )
        for e in doc["inschrijvingen"]
    ]


def test_corrections_and_deletions_keep_what_was_known_before(rt: Runtime) -> None:
    deliver = rt.intake.submit
    deliver(
        batch(rec(1, student(ANNA)), rec(2, student(PIET)), number=1), utc(2026, 8, 20)
    )
    deliver(
        batch(
            rec(1, student(ANNA), "A", inschrijving=period(elementcode="0090")),
            number=2,
        ),
        utc(2026, 9, 1),
    )
    deliver(
        batch(
            rec(1, student(PIET), "U", inschrijving=period(einddatum="2026-09-15")),
            number=3,
        ),
        utc(2026, 9, 20),
    )
    deliver(batch(rec(1, student(ANNA), "V"), number=4), utc(2026, 10, 5))
    project(rt)

    assert peiling(rt, "01OE", utc(2026, 8, 19)) == []
    assert peiling(rt, "01OE", utc(2026, 8, 25)) == [
        (PIET["bsn"], "0300", None, True, []),  # sorted by number
        (ANNA["bsn"], "0300", None, True, []),
    ]
    assert peiling(rt, "01OE", utc(2026, 9, 2)) == [
        (PIET["bsn"], "0300", None, True, []),
        (ANNA["bsn"], "0090", None, True, []),
    ]
    # Piet's end on 15 September: not enrolled on 1 October any more, but still
    # on 10 September as known now.
    assert peiling(rt, "01OE", utc(2026, 9, 21)) == [
        (ANNA["bsn"], "0090", None, True, [])
    ]
    assert peiling(rt, "01OE", utc(2026, 9, 21), date(2026, 9, 10))[0] == (
        PIET["bsn"],
        "0300",
        "2026-09-15",
        True,
        [],
    )
    assert peiling(rt, "01OE", utc(2026, 10, 6)) == []


def test_double_enrolment_funds_the_latest_start_and_flags_the_other(
    rt: Runtime,
) -> None:
    rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
    rt.intake.submit(
        batch(
            rec(1, student(ANNA), inschrijving=period(ingangsdatum="2026-09-01")),
            brin="02AB",
        ),
        utc(2026, 9, 2),
    )
    project(rt)
    t = utc(2026, 10, 2)
    assert peiling(rt, "01OE", t) == [(ANNA["bsn"], "0300", None, False, ["X130"])]
    assert peiling(rt, "02AB", t) == [(ANNA["bsn"], "0300", None, True, [])]


def test_catch_up_is_exactly_once_across_runs(rt: Runtime) -> None:
    rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
    projector = project(rt)
    rt.intake.submit(batch(rec(1, student(ANNA), "V"), number=2), utc(2026, 9, 1))
    assert projector.catch_up(Timeline()) > 0
    assert projector.catch_up(Timeline()) == 0
    (status,) = projector.status()
    assert (status.lag, status.live) == (0, True)
    assert peiling(rt, "01OE", utc(2026, 8, 21)) == [
        (ANNA["bsn"], "0300", None, True, [])
    ]
    assert peiling(rt, "01OE", utc(2026, 9, 2)) == []


def test_national_totals_agree_with_each_schools_snapshot(rt: Runtime) -> None:
    from registry.projections.queries.peiling import national_totals

    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    rt.intake.submit(
        batch(
            rec(1, student(ANNA), inschrijving=period(ingangsdatum="2026-09-01")),
            rec(2, student(PIET), inschrijving=period(elementcode="0011")),
            brin="02AB",
        ),
        utc(2026, 9, 2),
    )
    project(rt)
    t = utc(2026, 10, 2)
    with psycopg.connect(rt.database_url) as conn:
        conn.execute(f"SET search_path TO {Timeline.schema()}, public")
        totals = national_totals(conn.cursor(), SJ, OCT1, t)
        each = {
            brin: snapshot(conn.cursor(), brin, SJ, OCT1, t)
            for brin in ("01OE", "02AB")
        }
    assert totals == {
        b: {"controletotaal": d["controletotaal"], "bekostigd": d["bekostigd"]}
        for b, d in each.items()
    }
    # Anna counts at 02AB (later start); Piet at 01OE (same start, registered first)
    assert totals == {
        "01OE": {"controletotaal": 2, "bekostigd": 1},
        "02AB": {"controletotaal": 2, "bekostigd": 1},
    }
