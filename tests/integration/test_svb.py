"""SVB per person and per month (issue 15): whether a 16- or 17-year-old is
enrolled on each month's peildatum, sent the first month and on a flip; a
correction is a correction, never leaving. Hand-written from domain.md §5."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from registry.projections.extracts.svb import Svb
from registry.publishing.contract import topic as topic_name
from tests.conftest import utc
from tests.intake_helpers import (
    ANNA,
    JIP,
    PIET,
    School,
    forget_deliveries,
    later,
    period,
    prepare,
    rec,
    student,
)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    forget_deliveries()
    prepare(runtime)
    runtime.population.load([PersonIn.model_validate(JIP)], utc(2026, 7, 2))
    return runtime


def svb(rt: Runtime) -> list[tuple[str, str, bool, str]]:
    rt.projector.fresh(Svb(b"k", topic_name))
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            "SELECT payload FROM outbox WHERE recipient = 'svb' ORDER BY seq"
        ).fetchall()
    return [(p["bsn"], p["peildatum"], p["ingeschreven"], p["soort"]) for (p,) in rows]


def jip(mutatie: str = "T", **p: Any) -> dict[str, Any]:
    return rec(1, student(JIP), mutatie, inschrijving=period(**p))


@pytest.fixture
def one(rt: Runtime) -> School:
    school = School(rt, "01OE")
    school.deliver(utc(2026, 8, 20), jip())
    return school


def test_sent_the_first_month_then_only_on_a_flip(rt: Runtime, one: School) -> None:
    later(rt, utc(2026, 12, 3))  # 1 September, October, November, December passed
    assert svb(rt) == [(JIP["bsn"], "2026-09-01", True, "eerste")]


def test_leaving_flips_on_the_next_peildatum(rt: Runtime, one: School) -> None:
    later(rt, utc(2026, 9, 2))
    one.deliver(utc(2026, 10, 16), jip("U", einddatum="2026-10-15"))
    later(rt, utc(2026, 11, 2))
    assert svb(rt) == [
        (JIP["bsn"], "2026-09-01", True, "eerste"),
        (JIP["bsn"], "2026-11-01", False, "wijziging"),
    ]


def test_a_transfer_or_a_leerjaar_change_is_no_flip(rt: Runtime, one: School) -> None:
    two = School(rt, "02AB")
    later(rt, utc(2026, 9, 2))
    two.deliver(utc(2026, 10, 14), jip(ingangsdatum="2026-10-15"))
    one.deliver(
        utc(2026, 10, 16), jip("U", einddatum="2026-10-14", reden_einde="overstap")
    )
    two.deliver(
        utc(2026, 12, 2),
        jip(ingangsdatum="2026-12-01", leerjaar=2),
        rec(
            2,
            student(JIP),
            "U",
            inschrijving=period(ingangsdatum="2026-10-15", einddatum="2026-11-30"),
        ),
    )
    later(rt, utc(2027, 2, 2))
    assert svb(rt) == [(JIP["bsn"], "2026-09-01", True, "eerste")]


def test_a_period_entered_in_error_is_corrected_not_left(
    rt: Runtime, one: School
) -> None:
    later(rt, utc(2026, 9, 2))
    one.deliver(utc(2026, 9, 20), jip("V"))
    assert svb(rt) == [
        (JIP["bsn"], "2026-09-01", True, "eerste"),
        (JIP["bsn"], "2026-09-01", False, "correctie"),
    ]


def test_a_late_end_then_its_withdrawal(rt: Runtime, one: School) -> None:
    later(rt, utc(2026, 9, 2))
    one.deliver(utc(2026, 10, 3), jip("U", einddatum="2026-09-30"))
    one.deliver(utc(2026, 10, 10), jip("A"))  # the end was wrong: re-opened
    later(rt, utc(2026, 11, 2))
    assert svb(rt) == [
        (JIP["bsn"], "2026-09-01", True, "eerste"),
        (JIP["bsn"], "2026-10-01", False, "wijziging"),
        (JIP["bsn"], "2026-10-01", True, "correctie"),
    ]


def test_only_sixteen_and_seventeen_year_olds_with_a_bsn(rt: Runtime) -> None:
    """Anna (13) and Piet (13) are not in view; an 18-year-old is not either."""
    adult = {**JIP, "bsn": "300000133", "geboortedatum": "2008-06-01"}
    rt.population.load([PersonIn.model_validate(adult)], utc(2026, 8, 1))
    school = School(rt, "01OE")
    school.deliver(
        utc(2026, 8, 20),
        rec(1, student(ANNA)),
        rec(2, student(PIET)),
        rec(3, student(adult)),
    )
    school.deliver(utc(2026, 9, 10), rec(1, student(ANNA), "A"))
    sent = svb(rt)
    # 1 September 2026: the adult is 18 by 1 June 2026; Anna and Piet are 13.
    assert sent == []


def test_a_rebuild_sends_nothing_again(rt: Runtime, one: School) -> None:
    later(rt, utc(2026, 9, 2))
    one.deliver(utc(2026, 9, 20), jip("V"))
    before = svb(rt)
    rt.projector.rebuild(Svb(b"k", topic_name))
    assert svb(rt) == before
