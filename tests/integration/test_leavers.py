"""Potential early school leavers, per person (issue 15, domain.md VSV/RMC):
hand-written orderings from contract.md, each a way a student who never left
school once looked like a leaver, and the ones that really are.

Jip (16, living in gm0014) is enrolled at 01OE from 1 August 2026. A check day
is the day after the due date, so the last delivery of each scenario is a
later batch that moves recorded time past it.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.bootstrap import Runtime
from registry.intake.population import PersonIn
from registry.projections.extracts.municipalities import Municipalities
from registry.publishing.contract import topic as topic_name
from tests.conftest import utc
from tests.intake_helpers import (
    JIP,
    OLDER,
    School,
    batch,
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
    people = [PersonIn.model_validate(p) for p in (JIP, OLDER)]
    runtime.population.load(people, utc(2026, 7, 2))
    return runtime


@pytest.fixture
def one(rt: Runtime) -> School:
    school = School(rt, "01OE")
    school.deliver(utc(2026, 8, 20), rec(1, student(JIP)))
    return school


@pytest.fixture
def two(rt: Runtime) -> School:
    return School(rt, "02AB")


def end(einddatum: str, **more: Any) -> dict[str, Any]:
    return rec(1, student(JIP), "U", inschrijving=period(einddatum=einddatum, **more))


def vsv(rt: Runtime) -> list[dict[str, Any]]:
    rt.projector.fresh(Municipalities(b"k", topic_name))
    with psycopg.connect(rt.database_url) as conn:
        rows = conn.execute(
            "SELECT recipient, payload, message_id FROM outbox WHERE kind = 'vsv' "
            "ORDER BY seq"
        ).fetchall()
    return [{"gm": r, **p, "id": str(i)} for r, p, i in rows]


def test_no_new_school_within_four_weeks_is_a_leaver(rt: Runtime, one: School) -> None:
    one.deliver(utc(2026, 10, 2), end("2026-09-30"))
    later(rt, utc(2026, 10, 28))  # the due date, 28 October, has not passed
    assert vsv(rt) == []
    later(rt, utc(2026, 10, 29))
    (signal,) = vsv(rt)
    assert (signal["gm"], signal["status"], signal["bsn"]) == (
        "gm0014",
        "signaal",
        JIP["bsn"],
    )
    assert (signal["einddatum"], signal["peildatum"]) == ("2026-09-30", "2026-10-28")
    assert signal["melding_id"] == signal["id"]  # what a withdrawal will name


def test_the_new_school_delivering_first_is_no_leaver(
    rt: Runtime, one: School, two: School
) -> None:
    two.deliver(
        utc(2026, 9, 28),
        rec(1, student(JIP), inschrijving=period(ingangsdatum="2026-10-01")),
    )
    one.deliver(utc(2026, 10, 2), end("2026-09-30", reden_einde="overstap"))
    later(rt, utc(2026, 11, 20))
    assert vsv(rt) == []


def test_a_leerjaar_change_as_t_then_u_is_no_leaver(rt: Runtime, one: School) -> None:
    one.deliver(
        utc(2026, 11, 3),
        rec(
            1, student(JIP), inschrijving=period(ingangsdatum="2026-11-01", leerjaar=2)
        ),
        end("2026-10-31"),
    )
    later(rt, utc(2026, 12, 15))
    assert vsv(rt) == []


def test_an_end_reopened_by_an_a_is_no_leaver(rt: Runtime, one: School) -> None:
    one.deliver(utc(2026, 10, 2), end("2026-09-30"))
    one.deliver(utc(2026, 10, 9), rec(1, student(JIP), "A", inschrijving=period()))
    later(rt, utc(2026, 11, 20))
    assert vsv(rt) == []


def test_a_period_deleted_by_a_v_is_no_leaver(rt: Runtime, one: School) -> None:
    one.deliver(utc(2026, 10, 2), end("2026-09-30"))
    one.deliver(utc(2026, 10, 9), rec(1, student(JIP), "V", inschrijving=period()))
    later(rt, utc(2026, 11, 20))
    assert vsv(rt) == []


def test_a_graduate_is_no_leaver(rt: Runtime, one: School) -> None:
    one.deliver(utc(2027, 7, 8), end("2027-07-31", reden_einde="diploma"))
    later(rt, utc(2027, 10, 20))
    assert vsv(rt) == []


def test_moving_abroad_is_no_leaver(rt: Runtime, one: School) -> None:
    one.deliver(utc(2026, 10, 2), end("2026-09-30", reden_einde="buitenland"))
    later(rt, utc(2026, 11, 20))
    assert vsv(rt) == []


def test_a_next_year_enrolment_delivered_by_the_deadline_is_no_leaver(
    rt: Runtime, one: School, two: School
) -> None:
    one.deliver(utc(2027, 7, 8), end("2027-07-31"))
    later(rt, utc(2027, 9, 1))  # four weeks after the end have passed: no check yet
    two.deliver(
        utc(2027, 10, 12),
        rec(
            1, student(JIP), inschrijving=period(ingangsdatum="2027-08-01", leerjaar=2)
        ),
    )
    later(rt, utc(2027, 10, 20))
    assert vsv(rt) == []


def test_a_next_year_enrolment_after_the_deadline_withdraws_the_signal(
    rt: Runtime, one: School, two: School
) -> None:
    one.deliver(utc(2027, 7, 8), end("2027-07-31"))
    later(rt, utc(2027, 10, 18))
    two.deliver(
        utc(2027, 10, 25),
        rec(
            1, student(JIP), inschrijving=period(ingangsdatum="2027-08-01", leerjaar=2)
        ),
    )
    signal, withdrawal = vsv(rt)
    assert (signal["status"], signal["peildatum"]) == ("signaal", "2027-10-01")
    assert (withdrawal["status"], withdrawal["melding_id"]) == (
        "ingetrokken",
        signal["id"],
    )
    assert (withdrawal["reden_intrekking"], withdrawal["ingeschreven_brin"]) == (
        "ingeschreven",
        "02AB",
    )
    assert withdrawal["gm"] == signal["gm"]


def test_a_correction_after_the_signal_withdraws_it(rt: Runtime, one: School) -> None:
    one.deliver(utc(2026, 10, 2), end("2026-09-30"))
    later(rt, utc(2026, 11, 2))
    one.deliver(utc(2026, 11, 4), rec(1, student(JIP), "A", inschrijving=period()))
    signal, withdrawal = vsv(rt)
    assert withdrawal["melding_id"] == signal["id"]
    assert withdrawal["reden_intrekking"] == "gecorrigeerd"


def test_one_person_one_signal(rt: Runtime, one: School, two: School) -> None:
    """Two ends in a row without school in between: one signal stands."""
    one.deliver(utc(2026, 10, 2), end("2026-09-30"))
    two.deliver(
        utc(2026, 10, 5),
        rec(1, student(JIP), inschrijving=period(ingangsdatum="2026-10-05")),
        rec(
            2,
            student(JIP),
            "U",
            inschrijving=period(ingangsdatum="2026-10-05", einddatum="2026-10-09"),
        ),
    )
    later(rt, utc(2026, 12, 1))
    assert [s["status"] for s in vsv(rt)] == ["signaal"]


def test_twenty_three_by_the_due_date_is_no_leaver(rt: Runtime) -> None:
    school = School(rt, "01OE")
    school.deliver(utc(2026, 8, 20), rec(1, student(OLDER)))
    school.deliver(
        utc(2026, 10, 2),
        rec(1, student(OLDER), "U", inschrijving=period(einddatum="2026-09-30")),
    )
    later(rt, utc(2026, 11, 20))
    assert vsv(rt) == []


def test_an_unknown_reden_einde_refuses_the_batch(rt: Runtime, one: School) -> None:
    raw = batch(end("2026-09-30", reden_einde="geslaagd"), number=2)
    with pytest.raises(Exception, match="reden_einde"):
        rt.intake.submit(raw, utc(2026, 10, 2))
