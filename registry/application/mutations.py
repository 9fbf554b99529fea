"""The one rule set of an enrolment mutation (T/A/U/V): `judge` weighs it against
the school, the school year, the student and the student's periods, and returns
every rejection (domain errors carrying their signal codes) and every attention
signal. Each rule that applies independently is reported; none whose input is
missing or already at fault (no X122 without a known elementcode, no 811 while the
student is not identified). Deliveries take this path; no write path has rules
of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar, overload
from uuid import UUID

from registry.domain import elementcodes, ids
from registry.domain.calendar import SchoolYearCalendar, count_dates, local_day
from registry.domain.enrolment import Enrolment, PeriodTerms, Source, covers
from registry.domain.errors import (
    AccountantMutationTooEarly,
    CountDateAssured,
    DomainError,
    EnrolmentExists,
    EnrolmentUnknown,
    InvalidPeriod,
    MutationStopped,
    SchoolUnknown,
)
from registry.domain.school import School
from registry.domain.school_year import SchoolYear
from registry.domain.signals import Signal
from registry.domain.values import Schooljaar

Mutatie = Literal["T", "A", "U", "V"]
T = TypeVar("T")


class _once(Generic[T]):  # noqa: N801  (used as a decorator, like property)
    """A property worked out on first use and kept in the instance dict (past a
    frozen dataclass's guard): functools.cached_property without the lock that
    costs more than these values on Python 3.11."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func, self.name = func, func.__name__

    @overload
    def __get__(self, obj: None, owner: type) -> _once[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T: ...
    def __get__(self, obj: object | None, owner: type) -> T | _once[T]:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.func(obj)
        return value


LATE_END = timedelta(days=7)
PRO = "0090"


@dataclass(frozen=True)
class EnrolmentMutation:
    """A T/A/U/V as delivered; a field the record lacks is None. `einddatum` is the
    period's end with T and A, the new end with U."""

    # The rules ask its id and terms many times: each is worked out once.
    mutatie: Mutatie
    brin: str
    ingangsdatum: date | None  # None: not delivered (097)
    source: Source
    student_id: UUID | None = None  # None: the student is not identified
    vestiging: str | None = None
    elementcode: str | None = None
    leerjaar: int | None = None
    jaren_pro: int | None = None
    einddatum: date | None = None
    reden_einde: str | None = None  # why the period ended (U, or an A with an end)

    @_once
    def enrolment_id(self) -> UUID | None:
        """The period's id, once the student and the start date are known."""
        if self.student_id is None or self.ingangsdatum is None:
            return None
        return ids.enrolment_id(self.student_id, self.brin, self.ingangsdatum)

    @_once
    def complete(self) -> bool:
        """Whether the period and what it becomes are known: a rule about the
        change itself (the count date) can only judge a complete mutation."""
        if self.enrolment_id is None:
            return False
        if self.mutatie in ("T", "A"):
            return self.terms is not None
        return self.mutatie == "V" or self.einddatum is not None

    @_once
    def terms(self) -> PeriodTerms | None:
        """The whole period as delivered with T or A (None when incomplete)."""
        if self.mutatie not in ("T", "A") or None in (
            self.vestiging,
            self.elementcode,
            self.leerjaar,
        ):
            return None
        return PeriodTerms(
            self.vestiging or "",
            self.elementcode or "",
            self.leerjaar or 0,
            self.jaren_pro,
            self.einddatum,
        )

    def for_student(self, student_id: UUID) -> EnrolmentMutation:
        # Not dataclasses.replace: that looks the fields up on every call.
        return EnrolmentMutation(
            self.mutatie,
            self.brin,
            self.ingangsdatum,
            self.source,
            student_id,
            self.vestiging,
            self.elementcode,
            self.leerjaar,
            self.jaren_pro,
            self.einddatum,
            self.reden_einde,
        )

    def new_terms(self, old: PeriodTerms | None) -> PeriodTerms | None:
        """The period's terms after this mutation (None when deleted)."""
        if self.mutatie == "V":
            return None
        if self.mutatie == "U":
            return None if old is None else replace(old, einddatum=self.einddatum)
        return self.terms

    def apply(self, enrolment: Enrolment | None, at: datetime) -> Enrolment:
        """The events of an accepted mutation on its period (judge it first)."""
        terms = self.terms
        if not self.complete or self.student_id is None or self.ingangsdatum is None:
            raise ValueError(f"mutatie {self.mutatie} is incomplete; judge it first")
        if self.mutatie == "T" and terms is not None:
            if enrolment is None:
                return Enrolment.register(
                    self.student_id,
                    self.brin,
                    self.ingangsdatum,
                    terms,
                    self.source,
                    at,
                )
            enrolment.reregister(terms, self.source, at)
        elif enrolment is None:
            raise _unknown(self)
        elif self.mutatie == "A" and terms is not None:
            enrolment.amend(terms, self.source, at, self.reden_einde)
        elif self.mutatie == "U" and self.einddatum is not None:
            enrolment.end(self.einddatum, self.source, at, self.reden_einde)
        else:
            enrolment.delete(self.source, at)
        return enrolment


@dataclass(frozen=True)
class Period:
    """One of a student's periods as the write side indexes them."""

    enrolment_id: UUID
    student_id: UUID
    brin: str
    ingangsdatum: date
    einddatum: date | None
    deleted: bool

    def covers(self, day: date) -> bool:
        return not self.deleted and covers(self.ingangsdatum, self.einddatum, day)


@dataclass(frozen=True)
class Register:
    """What the rules read of the register for one mutation."""

    school: School | None
    year: SchoolYear | None  # the school year of the delivery
    enrolment: Enrolment | None = None  # the period the mutation is about
    # The school's registration in every school year the period may touch
    # (missing: none yet); the stage of each judges a change of its count date.
    years: Mapping[str, SchoolYear] = field(default_factory=dict)
    periods: Mapping[UUID, Period] = field(default_factory=dict)  # the student's
    birth_date: date | None = None


@dataclass(frozen=True)
class Judgement:
    errors: list[DomainError]  # each rejects the mutation
    attention: list[Signal]  # only when nothing rejects it

    @property
    def accepted(self) -> bool:
        return not self.errors


def judge(m: EnrolmentMutation, register: Register, at: datetime) -> Judgement:
    errors = [
        *terms_errors(m),
        *school_errors(m, register.school),
        *existence_errors(m, register.enrolment),
        *stage_errors(m, register, at),
    ]
    if errors:
        return Judgement(errors, [])
    return Judgement([], attention(m, register, at))


def terms_errors(m: EnrolmentMutation) -> list[DomainError]:
    """X123 / X122 (elementcode and leerjaar), X124 (einddatum before ingangsdatum)."""
    errors: list[DomainError] = []
    if m.mutatie in ("T", "A") and m.elementcode is not None:
        try:
            code = elementcodes.lookup(m.elementcode)
            if m.leerjaar is not None:
                code.check_leerjaar(m.leerjaar)
        except DomainError as e:
            errors.append(e)
    start = m.ingangsdatum
    if m.einddatum is not None and start is not None and m.einddatum < start:
        errors.append(
            InvalidPeriod(
                f"inschrijving.einddatum {m.einddatum} is before ingangsdatum "
                f"{m.ingangsdatum}",
                field="einddatum",
            )
        )
    return errors


def school_errors(m: EnrolmentMutation, school: School | None) -> list[DomainError]:
    """X120: the batch's own registered BRIN, its aanleverpunt, an open vestiging."""
    if m.brin != m.source.brin:
        return [
            SchoolUnknown(
                f"brin {m.brin} is not the batch's brin {m.source.brin}", field="brin"
            )
        ]
    if school is None:
        return [SchoolUnknown(f"brin {m.brin} is not registered", field="brin")]
    if m.vestiging is None:
        return []
    point = m.source.aanleverpunt
    if point and m.vestiging != f"{point:02d}":
        return [
            SchoolUnknown(
                f"vestiging {m.vestiging} is not aanleverpunt {point:02d} of this "
                "batch",
                field="vestiging",
            )
        ]
    try:
        school.check_vestiging(m.vestiging)
    except SchoolUnknown as e:
        return [e]
    return []


def existence_errors(
    m: EnrolmentMutation, enrolment: Enrolment | None
) -> list[DomainError]:
    """811 (T on a period that exists) and 055 (A, U or V on one that does not)."""
    if m.enrolment_id is None:
        return []
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


def _unknown(m: EnrolmentMutation) -> EnrolmentUnknown:
    return EnrolmentUnknown(
        f"mutatie {m.mutatie}: no period from {m.ingangsdatum} at {m.brin} for this "
        "student",
        field="inschrijving.ingangsdatum",
    )


def stop_in_effect(year: SchoolYear | None, schooljaar: str, on: date) -> bool:
    """Stopped on request, or 1 June has come (the stop needs no event to hold)."""
    if year is not None:
        return year.mutation_stop_in_effect(on)
    return on >= SchoolYearCalendar.of(schooljaar).default_mutation_stop


def accountant_errors(
    source: Source, year: SchoolYear | None, at: datetime
) -> list[DomainError]:
    """X141: an accountant mutation before the mutation stop (of any record)."""
    if not source.accountant or stop_in_effect(year, source.schooljaar, local_day(at)):
        return []
    return [
        AccountantMutationTooEarly(
            f"accountant mutation for {source.brin} {source.schooljaar} before the "
            "mutation stop",
            field="soort",
        )
    ]


def stage_errors(
    m: EnrolmentMutation, register: Register, at: datetime
) -> list[DomainError]:
    """060 (assured) and X140 (stopped) for every school year whose count date
    the period covers, before or after the change, and that the change touches
    (whatever school year the batch is labelled with); X141 (an accountant
    mutation before the stop) for the delivery's school year."""
    on = local_day(at)
    touched = touched_years(m, register, on) if m.complete else []
    assured = [
        (sj, cd) for sj, cd in touched if (y := register.years.get(sj)) and y.assured
    ]
    stopped = [
        (sj, cd) for sj, cd in touched if stop_in_effect(register.years.get(sj), sj, on)
    ]
    errors: list[DomainError] = []
    if assured:
        errors.append(
            CountDateAssured(
                "; ".join(
                    f"the assurance report for {m.brin} {sj} was received; "
                    f"this mutation changes the count date {cd}"
                    for sj, cd in assured
                ),
                field="mutatie",
            )
        )
    errors += accountant_errors(m.source, register.year, at)
    if not m.source.accountant and stopped:
        errors.append(
            MutationStopped(
                "; ".join(
                    f"mutation stop for {m.brin} {sj}: a change of the count "
                    f"date {cd} needs an accountant mutation"
                    for sj, cd in stopped
                ),
                field="soort",
            )
        )
    return errors


def touched_years(
    m: EnrolmentMutation, register: Register, on: date
) -> list[tuple[str, date]]:
    """(school year, count date) of every count date whose enrolment the mutation
    changes, or how (an end date moved within the year after 1 October leaves
    the count date alone): from the year the period starts in to the year after
    today's (no later year can be stopped yet) or the latest year with a
    registration."""
    start = m.ingangsdatum
    if start is None:
        return []
    first = Schooljaar.containing(start).start_year
    last = Schooljaar.containing(on).start_year + 1
    last = max([last, *(_start_year(sj) for sj in register.years)])
    old = _terms_before(register.enrolment)
    new = m.new_terms(old)
    return [
        (sj, day)
        for sj, day in count_dates(first, last)
        if _count_date_view(start, old, day) != _count_date_view(start, new, day)
    ]


@lru_cache(maxsize=256)
def _start_year(schooljaar: str) -> int:
    return SchoolYearCalendar.of(schooljaar).schooljaar.start_year


def _terms_before(enrolment: Enrolment | None) -> PeriodTerms | None:
    return enrolment.terms if enrolment is not None and not enrolment.deleted else None


def _count_date_view(
    ingangsdatum: date, terms: PeriodTerms | None, day: date
) -> tuple[str, str, int, int | None] | None:
    if terms is None or not covers(ingangsdatum, terms.einddatum, day):
        return None
    return terms.vestiging, terms.elementcode, terms.leerjaar, terms.jaren_pro


def attention(m: EnrolmentMutation, register: Register, at: datetime) -> list[Signal]:
    """X121 (unlicensed), X130 (a second period on 1 October), X131 (an end told
    late), X150 (praktijkonderwijs past 18) of an accepted mutation."""
    calendar = SchoolYearCalendar.of(m.source.schooljaar)
    terms, start, school = m.terms, m.ingangsdatum, register.school
    signals: list[Signal] = []
    if (
        terms is not None
        and start is not None
        and school is not None
        and not school.is_licensed(terms.vestiging, terms.elementcode, start)
    ):
        signals.append(
            Signal(
                "X121",
                f"elementcode {terms.elementcode} is not licensed at "
                f"vestiging {terms.vestiging} on {start}",
            )
        )
    overlap = next(
        (d for d in _count_dates(m) if creates_overlap(m, register, d)), None
    )
    if overlap is not None:
        signals.append(
            Signal("X130", f"another enrolment of this student is valid on {overlap}")
        )
    end = m.einddatum if m.mutatie in ("U", "T", "A") else None
    known = register.enrolment
    if known is not None and not known.deleted and known.einddatum == end:
        end = None  # told before: only an end delivered now can be late
    if end is not None and local_day(at) > end + LATE_END:
        signals.append(
            Signal(
                "X131",
                f"einddatum {end} delivered on {local_day(at)}, more than 7 days "
                "after it",
            )
        )
    if adult_in_pro(m, register.birth_date):
        signals.append(
            Signal(
                "X150",
                f"elementcode {PRO} for a student who turned 18 before "
                f"{calendar.first_day}",
            )
        )
    return signals


def adult_in_pro(m: EnrolmentMutation, birth: date | None) -> bool:
    """X150: praktijkonderwijs for a student who turned 18 before the school
    year's first day. All the rules read of the birth date: intake judges a
    batch's new periods once for each distinct answer, not once a birthday."""
    terms = m.terms
    if terms is None or terms.elementcode != PRO or birth is None:
        return False
    first_day = SchoolYearCalendar.of(m.source.schooljaar).first_day
    return _birthday(birth, 18) < first_day


def _birthday(birth: date, age: int) -> date:
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:  # 29 February in a year that has none
        return date(birth.year + age, 3, 1)


def _count_dates(m: EnrolmentMutation) -> list[date]:
    """The count dates X130 looks at: those of the school years from the one the
    period starts in to the batch's own, so the label cannot hide an overlap."""
    start = m.ingangsdatum
    if start is None:
        return []
    first = Schooljaar.containing(start).start_year
    last = max(first, _start_year(m.source.schooljaar))
    return [day for _, day in count_dates(first, last)]


def creates_overlap(m: EnrolmentMutation, register: Register, day: date) -> bool:
    """Whether the mutation makes its period valid on `day` while another period
    of the student already is."""
    eid, start = m.enrolment_id, m.ingangsdatum
    if eid is None or start is None or not register.periods:
        return False  # (no period at all: none other either)
    before = register.periods.get(eid)
    covered_before = before is not None and before.covers(day)
    enrolment = register.enrolment
    old = (
        enrolment.terms
        if enrolment is not None and before is not None and not before.deleted
        else None
    )
    after = m.new_terms(old)
    covers_after = after is not None and covers(start, after.einddatum, day)
    others = any(p.covers(day) for k, p in register.periods.items() if k != eid)
    return covers_after and not covered_before and others
