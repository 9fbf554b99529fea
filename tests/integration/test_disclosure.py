"""What intake discloses: a rejected record returns only the numbers the school
sent in it, and a trial delivery returns a number only for a student the school
already has (no identity oracle)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from registry.access.policy import Role
from registry.access.reads import ReadNotAudited
from registry.access.users import Principal
from registry.bootstrap import Runtime
from registry.domain.foto import LeerlingRef
from tests.conftest import utc
from tests.intake_helpers import (
    ANNA,
    PIET,
    batch,
    extended,
    period,
    prepare,
    rec,
    student,
    verdicts,
)

AUG = utc(2026, 8, 20)
NOBODY: LeerlingRef = {"bsn": None, "onderwijsnummer": None}
SCHOOL = Principal("school01oe", Role.SCHOOL, "01OE", None)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    prepare(runtime)
    return runtime


def by_name(person: dict[str, Any]) -> dict[str, Any]:
    """The extended set without a number: the register is searched by name."""
    return student(person, bsn=None, uitgebreid=extended(person))


def entry(feedback: Any, n: int = 1) -> dict[str, Any]:
    (found,) = [m for m in feedback["meldingen"] if m["meldingnummer"] == n]
    return dict(found)


def test_a_rejected_record_returns_no_number_the_lookup_found(rt: Runtime) -> None:
    # The name lookup finds Anna's BSN, then 055 rejects the record (no such
    # period): the school learns the verdict, not her number.
    ending = rec(1, by_name(ANNA), "U", inschrijving=period(einddatum="2026-12-01"))
    fb = rt.intake.submit(batch(ending), AUG).feedback
    assert verdicts(fb)[1] == ("A", ["055"])
    assert entry(fb)["leerling"] == NOBODY
    assert ANNA["bsn"] not in str(fb) and ANNA["bsn"][-3:] not in str(fb)


def test_a_rejected_key_change_returns_no_number_the_lookup_found(
    rt: Runtime,
) -> None:
    change = rec(
        1,
        by_name(PIET),
        "A",
        soort="W",
        inschrijving=None,
        wijziging={"oud": {"postcode": "9711AB"}, "nieuw": {"postcode": "9712CD"}},
    )
    fb = rt.intake.submit(batch(change), AUG).feedback
    assert verdicts(fb)[1][0] == "A"
    assert entry(fb)["leerling"] == NOBODY and PIET["bsn"] not in str(fb)


def test_a_rejected_record_keeps_the_number_the_school_sent(rt: Runtime) -> None:
    ending = rec(1, student(ANNA), "U", inschrijving=period(einddatum="2026-12-01"))
    fb = rt.intake.submit(batch(ending), AUG).feedback
    assert verdicts(fb)[1] == ("A", ["055"])
    assert entry(fb)["leerling"] == {"bsn": ANNA["bsn"], "onderwijsnummer": None}


def test_an_accepted_record_still_gets_the_bsn_found_with_755(rt: Runtime) -> None:
    """contract.md: accepted with 755 and that person's BSN."""
    fb = rt.intake.submit(batch(rec(1, by_name(ANNA))), AUG).feedback
    assert verdicts(fb)[1] == ("G", ["755"])
    assert entry(fb)["leerling"]["bsn"] == ANNA["bsn"]


def trial(rt: Runtime, *records: dict[str, Any], number: int = 9) -> Any:
    raw = batch(*records, number=number)
    return rt.intake.submit(raw, AUG, dry_run=True, by=SCHOOL).feedback


def test_a_trial_naming_a_student_of_another_school_returns_no_number(
    rt: Runtime,
) -> None:
    rt.intake.submit(batch(rec(1, student(ANNA)), brin="02AB"), utc(2026, 8, 19))
    fb = trial(rt, rec(1, by_name(ANNA)))
    # The verdict is still predicted (X130: she is enrolled elsewhere too).
    assert verdicts(fb)[1] == ("G", ["755", "X130"])
    assert entry(fb)["leerling"] == NOBODY
    assert ANNA["bsn"] not in str(fb) and ANNA["bsn"][-3:] not in str(fb)


def test_a_trial_of_an_unknown_student_learns_nothing_from_its_own_records(
    rt: Runtime,
) -> None:
    # The first record would enrol Piet; the second must not see him as the
    # school's student already.
    amend = rec(2, by_name(PIET), "A", inschrijving=period(leerjaar=2))
    fb = trial(rt, rec(1, by_name(PIET)), amend)
    assert verdicts(fb) == {1: ("G", ["755", "956"]), 2: ("G", ["755", "956"])}
    assert [entry(fb, n)["leerling"] for n in (1, 2)] == [NOBODY, NOBODY]
    assert PIET["bsn"] not in str(fb)


def test_a_trial_returns_the_number_of_a_student_the_school_has(rt: Runtime) -> None:
    rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 19))
    fb = trial(rt, rec(1, by_name(ANNA), "A", inschrijving=period(leerjaar=2)))
    assert verdicts(fb)[1] == ("G", ["755"])
    assert entry(fb)["leerling"]["bsn"] == ANNA["bsn"]


def test_a_trial_for_a_student_whose_period_was_deleted_returns_no_number(
    rt: Runtime,
) -> None:
    rt.intake.submit(batch(rec(1, student(ANNA))), utc(2026, 8, 19))
    rt.intake.submit(batch(rec(1, student(ANNA), "V"), number=2), utc(2026, 8, 19))
    fb = trial(rt, rec(1, by_name(ANNA)))
    assert entry(fb)["leerling"] == NOBODY


def test_each_trial_is_audited_without_personal_data(rt: Runtime) -> None:
    trial(rt, rec(1, by_name(ANNA)), rec(2, student(PIET)))
    trial(rt, rec(1, student(ANNA)), number=10)
    rows = rt.reads.reads(brin="01OE")
    assert [(r["login"], r["role"], r["route"], r["rows"]) for r in rows] == [
        ("school01oe", "school", "trial delivery", 2),
        ("school01oe", "school", "trial delivery", 1),
    ]
    assert all(r["at"] == AUG and r["subject"] is None for r in rows)
    text = str(rows)
    assert not any(v in text for v in (ANNA["bsn"], "Jansen", ANNA["geboortedatum"]))


def test_a_trial_names_who_asks_and_is_not_served_unaudited(rt: Runtime) -> None:
    raw = batch(rec(1, student(ANNA)))
    with pytest.raises(ValueError, match="audited"):
        rt.intake.submit(raw, AUG, dry_run=True)
    with psycopg.connect(rt.database_url) as conn:
        conn.execute("DROP TABLE access_reads")
    with pytest.raises(ReadNotAudited):
        rt.intake.submit(raw, AUG, dry_run=True, by=SCHOOL)
