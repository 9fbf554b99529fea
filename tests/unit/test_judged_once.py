"""Intake judges a period new to the registry once per batch for each distinct
set of what the rules read (registry/intake/processor.py, `_judgement`): never
by who the student is nor by the record's place in the batch, and of the birth
date only what `adult_in_pro` answers. These tests hold
the rules to that, so a rule that starts to read another field fails here
rather than giving one record another record's verdict."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from registry.application.mutations import (
    EnrolmentMutation,
    Judgement,
    Register,
    adult_in_pro,
    judge,
)
from registry.domain.enrolment import Source
from registry.domain.school import School
from registry.domain.school_year import SchoolYear
from registry.intake.processor import UNJUDGED, UNJUDGED_SOURCE
from tests.conftest import utc
from tests.factories import school

OPENED = utc(2026, 8, 1)
SJ = "2026-2027"
SCHOOL = School.register(school(extra_vestiging=True, licences=("0300",)), OPENED)


def _verdict(
    j: Judgement,
) -> tuple[list[tuple[str | None, str]], list[tuple[str, str]]]:
    return (
        [(e.code, e.message) for e in j.errors],
        [(s.code, s.text) for s in j.attention],
    )


def test_the_fields_left_out_of_a_verdicts_key_are_fields() -> None:
    """A renamed field left in these lists would name nothing."""
    assert {f.name for f in fields(EnrolmentMutation)} >= UNJUDGED
    assert {f.name for f in fields(Source)} >= UNJUDGED_SOURCE


days = st.dates(date(2024, 8, 1), date(2028, 7, 31))
births = st.dates(date(2005, 8, 1), date(2009, 7, 31)) | days  # 18 before, or not


@settings(max_examples=300, deadline=None)
@given(
    mutatie=st.sampled_from(["T", "A", "U", "V"]),
    start=st.none() | days,
    end=st.none() | days,
    vestiging=st.sampled_from([None, "00", "01", "07"]),
    elementcode=st.sampled_from([None, "0300", "0090", "0100", "9999"]),
    leerjaar=st.none() | st.integers(0, 7),
    jaren_pro=st.none() | st.integers(1, 3),
    reden=st.sampled_from([None, "diploma", "overig"]),
    point=st.sampled_from([0, 1]),
    accountant=st.booleans(),
    schooljaar=st.sampled_from(["2025-2026", "2026-2027", "2027-2028"]),
    birth=births,
    today=st.datetimes(datetime(2026, 8, 1), datetime(2028, 7, 31)),
)
def test_a_fresh_period_is_judged_by_its_fields_not_by_whose_or_which_record(
    mutatie: str,
    start: date | None,
    end: date | None,
    vestiging: str | None,
    elementcode: str | None,
    leerjaar: int | None,
    jaren_pro: int | None,
    reden: str | None,
    point: int,
    accountant: bool,
    schooljaar: str,
    birth: date,
    today: datetime,
) -> None:
    at = today.replace(tzinfo=OPENED.tzinfo)
    # 1 June stops mutations without an event: `today` runs past it.
    years = {"2026-2027": SchoolYear.open("01OE", "2026-2027", OPENED)}
    register = Register(SCHOOL, years.get(schooljaar), years=years, birth_date=birth)

    def mutation(batch: int, melding: int) -> EnrolmentMutation:
        return EnrolmentMutation(
            mutatie,
            "01OE",
            start,
            Source("01OE", point, schooljaar, batch, melding, accountant),
            uuid4(),
            vestiging,
            elementcode,
            leerjaar,
            jaren_pro,
            end,
            reden,
        )

    first = judge(mutation(1, 1), register, at)
    other = judge(mutation(2, 77), register, at)
    assert _verdict(first) == _verdict(other)


@settings(max_examples=300, deadline=None)
@given(
    elementcode=st.sampled_from(["0090", "0300"]),
    leerjaar=st.integers(1, 3),
    start=st.dates(date(2026, 8, 1), date(2027, 5, 31)),
    end=st.none() | st.dates(date(2027, 6, 1), date(2028, 7, 31)),
    birth=births,
    other=births,
    today=st.datetimes(datetime(2026, 8, 1), datetime(2027, 5, 31)),
)
def test_of_the_birth_date_a_fresh_period_is_judged_by_what_the_rules_read(
    elementcode: str,
    leerjaar: int,
    start: date,
    end: date | None,
    birth: date,
    other: date,
    today: datetime,
) -> None:
    """Two students whose birth dates give the same answer to `adult_in_pro` get
    the same verdict; the mutation is one the rules accept, so every signal of an
    accepted record (X150 among them) is worked out."""
    at = today.replace(tzinfo=OPENED.tzinfo)
    years = {SJ: SchoolYear.open("01OE", SJ, OPENED)}
    m = EnrolmentMutation(
        "T",
        "01OE",
        start,
        Source("01OE", 0, SJ, 1, 1, False),
        uuid4(),
        "00",
        elementcode,
        leerjaar,
        None,
        end,
        None,
    )

    def verdict(born: date) -> Judgement:
        return judge(m, Register(SCHOOL, years[SJ], years=years, birth_date=born), at)

    first = verdict(birth)
    assert first.accepted
    if adult_in_pro(m, other) == adult_in_pro(m, birth):
        assert _verdict(verdict(other)) == _verdict(first)
    else:
        assert _verdict(verdict(other)) != _verdict(first)
