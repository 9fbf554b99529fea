"""One record: checks, identity, write-side rules, attention signals, and — when
nothing rejects it — its events. A rejected record changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from registry.application.mutations import (
    EnrolmentMutation,
    existence_errors,
    stage_errors,
)
from registry.domain import ids
from registry.domain.calendar import SchoolYearCalendar
from registry.domain.enrolment import Enrolment, PeriodTerms, Source
from registry.domain.errors import DomainError
from registry.domain.school_year import SchoolYear
from registry.domain.signals import Signal
from registry.domain.student import KeyData, Student
from registry.domain.values import Bsn, Onderwijsnummer
from registry.intake.batch_state import BatchState, Context
from registry.intake.checks import static_signals
from registry.intake.identity import Identity, resolve
from registry.intake.population import name_key
from registry.intake.wire import Record

IDENTITY_CODES = {"742", "X102", "X103", "790", "X110", "X104"}


@dataclass
class Outcome:
    status: str
    numbers: dict[str, str | None]
    signals: list[Signal] = field(default_factory=list)

    def entry(self, meldingnummer: int) -> dict[str, Any]:
        return {
            "meldingnummer": meldingnummer,
            "status": self.status,
            "leerling": self.numbers,
            "signalen": [s.as_feedback() for s in self.signals],
        }


def _numbers(r: Record, identity: Identity | None = None) -> dict[str, str | None]:
    if identity is not None and identity.number is not None:
        bsn = identity.number if identity.kind == "bsn" else None
        return {"bsn": bsn, "onderwijsnummer": None if bsn else identity.number}
    return {"bsn": r.student.bsn, "onderwijsnummer": r.student.onderwijsnummer}


def _signal(e: DomainError) -> Signal:
    assert e.code is not None
    return Signal(e.code, e.message)


def process(state: BatchState, ctx: Context, r: Record) -> Outcome:
    signals = static_signals(r)
    identity = None
    if not any(s.code in IDENTITY_CODES for s in signals):
        identity = resolve(r.student, state.lookups)
        if identity.waiting:
            return Outcome("W", _numbers(r))
        signals += identity.signals
    mutation = _mutation(state, ctx, r, identity, signals)
    signals += _write_side(state, ctx, r, mutation, identity)
    rejections = _dedupe([s for s in signals if s.rejects])
    if rejections:
        return Outcome("A", _numbers(r, identity), rejections)
    assert identity is not None
    attention = [s for s in signals if not s.rejects]
    if r.kind == "W":
        return _apply_change(state, ctx, r, identity, attention)
    student = _student(state, ctx, r, identity)
    assert mutation is not None
    mutation = _with_student(mutation, student.id if student else _dry_id(r))
    attention += _attention(state, ctx, mutation, identity, r)
    _apply(state, ctx, mutation)
    return Outcome("G", _numbers(r, identity), attention)


def _dedupe(signals: list[Signal]) -> list[Signal]:
    seen: set[str] = set()
    return [s for s in signals if not (s.code in seen or seen.add(s.code))]  # type: ignore[func-returns-value]


def _dry_id(r: Record) -> UUID:
    return ids.student_id(f"dry-run/{r.meldingnummer}")


def _student_id(identity: Identity | None) -> UUID | None:
    if identity is None or identity.number is None:
        return None
    return ids.student_id(identity.number)


def _mutation(
    state: BatchState,
    ctx: Context,
    r: Record,
    identity: Identity | None,
    signals: list[Signal],
) -> EnrolmentMutation | None:
    p = r.period
    if r.kind != "I" or p is None or p.start is None or any(s.rejects for s in signals):
        return None
    terms = None
    if r.mutation in ("T", "A"):
        assert p.vestiging and p.elementcode and p.leerjaar is not None
        terms = PeriodTerms(p.vestiging, p.elementcode, p.leerjaar, p.jaren_pro, p.end)
    source = Source(
        ctx.brin,
        ctx.aanleverpunt,
        ctx.schooljaar,
        ctx.key[3],
        r.meldingnummer,
        ctx.accountant,
    )
    student = _student_id(identity) or _dry_id(r)
    return EnrolmentMutation(
        r.mutation, student, ctx.brin, p.start, source, terms, p.end
    )


def _write_side(
    state: BatchState,
    ctx: Context,
    r: Record,
    m: EnrolmentMutation | None,
    identity: Identity | None,
) -> list[Signal]:
    signals = _vestiging_signals(state, ctx, r)
    enrolment = (
        None
        if m is None
        else state.enrolments.get(
            ids.enrolment_id(m.student_id, m.brin, m.ingangsdatum)
        )
    )
    if m is not None:
        errors = existence_errors(m, enrolment) + stage_errors(
            m, state.year, enrolment, ctx.at
        )
        signals += [_signal(e) for e in errors]
    elif ctx.accountant and not _stop_in_effect(state, ctx):
        signals.append(
            Signal(
                "X141",
                f"accountant mutation for {ctx.brin} "
                f"{ctx.schooljaar} before the mutation stop",
            )
        )
    return signals


def _stop_in_effect(state: BatchState, ctx: Context) -> bool:
    if state.year is not None:
        return state.year.mutation_stop_in_effect(ctx.at.date())
    return ctx.at.date() >= SchoolYearCalendar.of(ctx.schooljaar).default_mutation_stop


def _vestiging_signals(state: BatchState, ctx: Context, r: Record) -> list[Signal]:
    vestiging = r.period.vestiging if r.period else None
    if r.kind != "I" or vestiging is None:
        return []
    if ctx.aanleverpunt and vestiging != f"{ctx.aanleverpunt:02d}":
        return [
            Signal(
                "X120",
                f"vestiging {vestiging} is not aanleverpunt "
                f"{ctx.aanleverpunt:02d} of this batch",
            )
        ]
    try:
        state.school.check_vestiging(vestiging)
    except DomainError as e:
        return [_signal(e)]
    return []


def _with_student(m: EnrolmentMutation, student_id: UUID) -> EnrolmentMutation:
    if m.student_id == student_id:
        return m
    return EnrolmentMutation(
        m.mutatie, student_id, m.brin, m.ingangsdatum, m.source, m.terms, m.einddatum
    )


def _student(
    state: BatchState, ctx: Context, r: Record, identity: Identity
) -> Student | None:
    """The student of an accepted record, registered when new (None in a trial
    delivery that would issue a number)."""
    if identity.number is not None and identity.number in state.lookups.students:
        return state.lookups.students[identity.number]
    s = r.student
    if identity.issue_number:
        if ctx.dry_run:
            return None
        number: Bsn | Onderwijsnummer = state.issue_number()
        identity.number = str(number)
        x = s.extended
        assert x and x.surname and x.first_names and s.birth_date and s.sex
        state.issued_rows.append(
            (
                str(number),
                *name_key(x.surname, x.prefix, x.first_names, s.birth_date, s.sex)[:3],
                s.birth_date,
                s.sex,
            )
        )
    elif identity.kind == "bsn":
        number = Bsn(identity.number or "")
    else:
        number = Onderwijsnummer(identity.number or "")
    assert s.birth_date is not None and s.sex is not None
    key = KeyData(s.birth_date, s.sex, s.postcode, s.landcode)
    extended = s.extended.model_dump(by_alias=True) if s.extended else None
    student = Student.register(
        number, key, ctx.at, issued=identity.issue_number, extended=extended
    )
    state.lookups.students[str(number)] = student
    state.touch(student)
    if identity.issue_number:
        state.lookups.issued_by_name[
            name_key(
                s.extended.surname or "",
                s.extended.prefix,
                s.extended.first_names or "",
                s.birth_date,
                s.sex,
            )
        ] = [str(number)]  # type: ignore[union-attr]
    return student


def _apply_change(
    state: BatchState,
    ctx: Context,
    r: Record,
    identity: Identity,
    attention: list[Signal],
) -> Outcome:
    assert r.change is not None
    student = state.lookups.students.get(identity.number or "")
    if student is None:
        return Outcome(
            "A",
            _numbers(r, identity),
            [Signal("X105", "wijziging: the student is not registered")],
        )
    source = {
        "brin": ctx.brin,
        "batchnummer": ctx.key[3],
        "meldingnummer": r.meldingnummer,
    }
    old = {k: _iso(v) for k, v in r.change.old.items()}
    new = {k: _iso(v) for k, v in r.change.new.items()}
    try:
        student.change_key_data(old, new, source, ctx.at)
    except DomainError as e:
        return Outcome("A", _numbers(r, identity), [_signal(e)])
    state.touch(student)
    return Outcome("G", _numbers(r, identity), attention)


def _iso(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _attention(
    state: BatchState, ctx: Context, m: EnrolmentMutation, identity: Identity, r: Record
) -> list[Signal]:
    signals: list[Signal] = []
    cal = SchoolYearCalendar.of(ctx.schooljaar)
    terms = m.terms
    if terms is not None and not state.school.is_licensed(
        terms.vestiging, terms.elementcode, m.ingangsdatum
    ):
        signals.append(
            Signal(
                "X121",
                f"elementcode {terms.elementcode} is not licensed at "
                f"vestiging {terms.vestiging} on {m.ingangsdatum}",
            )
        )
    if _creates_overlap(state, m, cal.count_date):
        signals.append(
            Signal(
                "X130",
                f"another enrolment of this student is valid on {cal.count_date}",
            )
        )
    end = m.einddatum if m.mutatie == "U" else (terms.einddatum if terms else None)
    if end is not None and ctx.at.date() > end + timedelta(days=7):
        signals.append(
            Signal(
                "X131",
                f"einddatum {end} delivered on {ctx.at.date()}, "
                "more than 7 days after it",
            )
        )
    birth = r.student.birth_date
    pro = terms is not None and terms.elementcode == "0090"
    if pro and birth is not None and _birthday(birth, 18) < cal.first_day:
        signals.append(
            Signal(
                "X150",
                f"elementcode 0090 for a student who turned 18 before {cal.first_day}",
            )
        )
    return signals


def _birthday(birth: date, age: int) -> date:
    try:
        return birth.replace(year=birth.year + age)
    except ValueError:  # 29 February in a year that has none
        return date(birth.year + age, 3, 1)


def _creates_overlap(state: BatchState, m: EnrolmentMutation, day: date) -> bool:
    eid = ids.enrolment_id(m.student_id, m.brin, m.ingangsdatum)
    periods = state.student_periods(m.student_id)
    before = periods.get(eid)
    covered_before = before is not None and before.covers(day)
    old_terms = state.enrolments[eid].terms if eid in state.enrolments else None
    after = m.new_terms(
        old_terms if before is not None and not before.deleted else None
    )
    covers_after = (
        after is not None
        and m.ingangsdatum <= day
        and (after.einddatum is None or day <= after.einddatum)
    )
    others = any(p.covers(day) for k, p in periods.items() if k != eid)
    return covers_after and not covered_before and others


def _apply(state: BatchState, ctx: Context, m: EnrolmentMutation) -> None:
    eid = ids.enrolment_id(m.student_id, m.brin, m.ingangsdatum)
    enrolment: Enrolment = m.apply(state.enrolments.get(eid), ctx.at)
    state.enrolments[eid] = enrolment
    state.record_period(enrolment)
    state.touch(enrolment)
    if state.year is None:
        state.year = SchoolYear.open(ctx.brin, ctx.schooljaar, ctx.at)
        state.touch(state.year)
