"""Fotos issued at the milestones, immutable and re-derivable; diffs with causes."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.application.fotos import Fotos
from registry.bootstrap import Runtime
from registry.domain.errors import IllegalTransition
from registry.domain.funding import FundingError
from registry.projections.engine.reading import reading
from registry.projections.queries.diff import KINDS, Side, counts, diff
from registry.projections.queries.funding import statement
from registry.projections.timeline import Timeline
from tests.conftest import utc
from tests.factories import SJ
from tests.intake_helpers import ANNA, OLD, PIET, batch, period, prepare, rec, student


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


@pytest.fixture
def fotos(rt: Runtime) -> Fotos:
    return rt.fotos


def test_a_year_of_fotos(rt: Runtime, fotos: Fotos) -> None:
    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    with pytest.raises(IllegalTransition):
        fotos.issue("voorlopig", "01OE", SJ, utc(2026, 10, 2))
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    voorlopig = fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    assert (voorlopig.document["controletotaal"], voorlopig.document["bekostigd"]) == (
        2,
        2,
    )
    # Piet left before 1 October, told late; Kees arrived on 1 September.
    fb = rt.intake.submit(
        batch(
            rec(1, student(PIET), "U", inschrijving=period(einddatum="2026-09-30")),
            rec(2, student(OLD), inschrijving=period(ingangsdatum="2026-09-01")),
            number=2,
        ),
        utc(2026, 12, 1),
    ).feedback
    assert fb["goedgekeurd"] == 2
    rt.registry.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    actueel = fotos.issue("actueel", "01OE", SJ, utc(2027, 3, 1, 20))
    rt.registry.report_assurance(
        "01OE",
        SJ,
        [],
        [{"leerling": {"bsn": OLD["bsn"]}, "reden": "verzuim"}],
        utc(2027, 6, 25),
    )
    definitief = fotos.issue("definitief", "01OE", SJ, utc(2027, 7, 21))
    entries = {
        e["leerling"]["bsn"]: (e["bekostigd"], e["redenen"])
        for e in definitief.document["inschrijvingen"]
    }
    assert entries == {ANNA["bsn"]: (True, []), OLD["bsn"]: (False, ["X160"])}
    assert actueel.document["bekostigd"] == 2

    # Later events change nothing about an issued foto: same hash when re-derived.
    rt.intake.submit(batch(rec(1, student(ANNA), "V"), number=3), utc(2027, 7, 22))
    assert fotos.verify(fotos.stored("01OE", SJ, "definitief"))
    assert fotos.verify(fotos.stored("01OE", SJ, "voorlopig"))

    with psycopg.connect(rt.database_url) as conn:
        conn.execute(f"SET search_path TO {Timeline.schema()}, public")
        sides = (
            Side("voorlopig", voorlopig.stand_per, voorlopig.position),
            Side("definitief", definitief.stand_per, definitief.position),
        )
        d = diff(conn.cursor(), "01OE", SJ, utc(2026, 10, 1).date(), *sides)
        n = counts(conn.cursor(), "01OE", SJ, utc(2026, 10, 1).date(), *sides)
    assert n == {k: len(d[k]) for k in KINDS} and n["ingestroomd"] == 1
    assert [i["leerling"] for i in d["ingestroomd"]] == [OLD["bsn"]]
    assert [i["leerling"] for i in d["uitgestroomd"]] == [PIET["bsn"]]
    assert d["gewijzigd"] == []
    assert [c["event"] for c in d["uitgestroomd"][0]["oorzaak"]] == ["Enrolment.Ended"]
    # Kees entered by his registration; the exclusion decided his verdict.
    assert [c["event"] for c in d["ingestroomd"][0]["oorzaak"]] == [
        "Enrolment.Registered",
        "SchoolYear.AssuranceReported",
    ]


def test_actueel_on_1_june_records_the_default_stop(rt: Runtime, fotos: Fotos) -> None:
    rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 20))
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    with pytest.raises(IllegalTransition):
        fotos.issue("actueel", "01OE", SJ, utc(2027, 5, 31))
    foto = fotos.issue("actueel", "01OE", SJ, utc(2027, 6, 1, 20))
    assert foto.versie == 1
    year = rt.registry.school_year("01OE", SJ)
    assert year is not None and year.stopped_on == utc(2027, 6, 1).date()


def funding(rt: Runtime) -> dict[str, Any]:
    rt.catch_up()
    with reading(rt.database_url, "timeline") as r:
        return statement(r.cursor, "01OE", SJ)


def test_funding_from_the_definitieve_foto(rt: Runtime, fotos: Fotos) -> None:

    rt.intake.submit(
        batch(rec(1, student(ANNA)), rec(2, student(PIET))), utc(2026, 8, 20)
    )
    with pytest.raises(FundingError):
        funding(rt)
    rt.registry.declare_complete("01OE", SJ, utc(2026, 10, 3))
    fotos.issue("voorlopig", "01OE", SJ, utc(2026, 11, 15))
    provisional = funding(rt)
    assert provisional["soort"] == "voorlopig"
    rt.registry.stop_mutations("01OE", SJ, utc(2027, 3, 1))
    fotos.issue("actueel", "01OE", SJ, utc(2027, 3, 1, 20))
    excluded = [{"leerling": {"bsn": PIET["bsn"]}, "reden": "indicatie"}]
    rt.registry.report_assurance("01OE", SJ, [], excluded, utc(2027, 6, 25))
    fotos.issue("definitief", "01OE", SJ, utc(2027, 7, 21))
    final = funding(rt)
    assert final["soort"] == "definitief"
    # one hoofd- and one nevenvestiging, Anna funded (onderbouw, rate A), Piet
    # excluded for his indication (X151)
    assert final["totaal"] == "348508.31"
    assert final["perioden"]["niet_bekostigd_per_reden"] == {"X151": 1}
