"""One enrolment mutation (T/A/U/V) and the write-side rules that judge it.

The rules reported here are the ones that need the register's state: X120
(school / vestiging), X122 / X123 (elementcode), X124 (dates), 811 / 055
(existence), X140 / X141 / 060 (the school year's stage). Every rule that
applies independently is reported; none that depends on a field already at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from registry.domain import elementcodes
from registry.domain.calendar import SchoolYearCalendar
from registry.domain.enrolment import Enrolment, PeriodTerms, Source, covers
from registry.domain.errors import (
    AccountantMutationTooEarly,
    CountDateAssured,
    DomainError,
    EnrolmentExists,
    EnrolmentUnknown,
    InvalidPeriod,
    MutationRejected,
    MutationStopped,
    SchoolUnknown,
)
from registry.domain.school import School
from registry.domain.school_year import SchoolYear

Mutatie = Literal["T", "A", "U", "V"]


@dataclass(frozen=True)
class EnrolmentMutation:
    mutatie: Mutatie
    student_id: UUID
    brin: str
    ingangsdatum: date
    source: Source
    terms: PeriodTerms | None = None  # T and A: the whole period as delivered
    einddatum: date | None = None  # U

    def __post_init__(self) -> None:
        if self.mutatie in ("T", "A") and self.terms is None:
            raise ValueError(f"mutatie {self.mutatie} needs the period's terms")
        if self.mutatie == "U" and self.einddatum is None:
            raise ValueError("mutatie U needs an einddatum")

    def new_terms(self, old: PeriodTerms | None) -> PeriodTerms | None:
        """The period's terms after this mutation (None when deleted)."""
        if self.mutatie == "V":
            return None
        if self.mutatie == "U":
            return None if old is None else replace(old, einddatum=self.einddatum)
        return self.terms

    def apply(self, enrolment: Enrolment | None, at: datetime) -> Enrolment:
        if self.mutatie == "T":
            assert self.terms is not None
            if enrolment is None:
                return Enrolment.register(
                    self.student_id,
                    self.brin,
                    self.ingangsdatum,
                    self.terms,
                    self.source,
                    at,
                )
            enrolment.reregister(self.terms, self.source, at)
        elif enrolment is None:
            raise _unknown(self)
        elif self.mutatie == "A":
            assert self.terms is not None
            enrolment.amend(self.terms, self.source, at)
        elif self.mutatie == "U":
            assert self.einddatum is not None
            enrolment.end(self.einddatum, self.source, at)
        else:
            enrolment.delete(self.source, at)
        return enrolment


def _unknown(m: EnrolmentMutation) -> EnrolmentUnknown:
    return EnrolmentUnknown(
        f"mutatie {m.mutatie}: no period from {m.ingangsdatum} at {m.brin} for this "
        "student",
        field="inschrijving.ingangsdatum",
    )


def check_mutation(
    m: EnrolmentMutation,
    school: School | None,
    year: SchoolYear | None,
    enrolment: Enrolment | None,
    at: datetime,
) -> None:
    errors = [
        *school_errors(m, school),
        *terms_errors(m),
        *existence_errors(m, enrolment),
        *stage_errors(m, year, enrolment, at),
    ]
    if errors:
        raise MutationRejected(errors)


def school_errors(m: EnrolmentMutation, school: School | None) -> list[DomainError]:
    if m.brin != m.source.brin:
        return [
            SchoolUnknown(
                f"brin {m.brin} is not the batch's brin {m.source.brin}", field="brin"
            )
        ]
    if school is None:
        return [SchoolUnknown(f"brin {m.brin} is not registered", field="brin")]
    if m.terms is not None:
        try:
            school.check_vestiging(m.terms.vestiging)
        except SchoolUnknown as e:
            return [e]
    return []


def terms_errors(m: EnrolmentMutation) -> list[DomainError]:
    errors: list[DomainError] = []
    if m.terms is not None:
        try:
            elementcodes.lookup(m.terms.elementcode).check_leerjaar(m.terms.leerjaar)
        except DomainError as e:
            errors.append(e)
    end = m.einddatum if m.mutatie == "U" else (m.terms.einddatum if m.terms else None)
    if end is not None and end < m.ingangsdatum:
        errors.append(
            InvalidPeriod(
                f"einddatum {end} is before ingangsdatum {m.ingangsdatum}",
                field="einddatum",
            )
        )
    return errors


def existence_errors(
    m: EnrolmentMutation, enrolment: Enrolment | None
) -> list[DomainError]:
    active = enrolment is not None and not enrolment.deleted
    if m.mutatie == "T" and active:
        return [
            EnrolmentExists(
                f"mutatie T: a period from {m.ingangsdatum} at {m.brin} already exists",
                field="inschrijving.ingangsdatum",
            )
        ]
    if m.mutatie != "T" and not active:
        return [_unknown(m)]
    return []


def stage_errors(
    m: EnrolmentMutation,
    year: SchoolYear | None,
    enrolment: Enrolment | None,
    at: datetime,
) -> list[DomainError]:
    calendar = SchoolYearCalendar.of(m.source.schooljaar)
    if year is None:
        stop_in_effect = at.date() >= calendar.default_mutation_stop
        assured = False
    else:
        stop_in_effect, assured = year.mutation_stop_in_effect(at.date()), year.assured
    count_date = calendar.count_date
    touches = touches_count_date(m, enrolment, count_date)
    errors: list[DomainError] = []
    if assured and touches:
        errors.append(
            CountDateAssured(
                f"the assurance report for {m.brin} {m.source.schooljaar} was received; "
                f"this mutation changes the count date {count_date}",
                field="mutatie",
            )
        )
    if m.source.accountant and not stop_in_effect:
        errors.append(
            AccountantMutationTooEarly(
                f"accountant mutation for {m.brin} {m.source.schooljaar} before the "
                "mutation stop",
                field="soort",
            )
        )
    if not m.source.accountant and stop_in_effect and touches:
        errors.append(
            MutationStopped(
                f"mutation stop for {m.brin} {m.source.schooljaar}: a change of the count "
                f"date {count_date} needs an accountant mutation",
                field="soort",
            )
        )
    return errors


def _count_date_view(
    ingangsdatum: date, terms: PeriodTerms | None, day: date
) -> tuple[str, str, int, int | None] | None:
    if terms is None or not covers(ingangsdatum, terms.einddatum, day):
        return None
    return terms.vestiging, terms.elementcode, terms.leerjaar, terms.jaren_pro


def touches_count_date(
    m: EnrolmentMutation, enrolment: Enrolment | None, day: date
) -> bool:
    """Whether the mutation changes who is enrolled on the count date, or how: an
    end date moved within the year after 1 October leaves the count date alone."""
    old = enrolment.terms if enrolment is not None and not enrolment.deleted else None
    before = _count_date_view(m.ingangsdatum, old, day)
    return before != _count_date_view(m.ingangsdatum, m.new_terms(old), day)
