"""One record: checks, identity, write-side rules, attention signals, and — when
nothing rejects it — its events. A rejected record changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from uuid import UUID

from registry.application.mutations import (
    EnrolmentMutation,
    Judgement,
    Register,
    accountant_errors,
    adult_in_pro,
    judge,
)
from registry.domain import ids
from registry.domain.enrolment import Enrolment, Source
from registry.domain.errors import DomainError
from registry.domain.foto import LeerlingRef, leerling
from registry.domain.school_year import SchoolYear
from registry.domain.signals import Signal
from registry.domain.student import ChangeSource, KeyData, Student
from registry.domain.values import Bsn, Onderwijsnummer
from registry.intake.batch_state import BatchState, Context, who
from registry.intake.checks import static_signals
from registry.intake.feedback import FeedbackEntry, Status, signal_entry
from registry.intake.identity import Identity, resolve
from registry.intake.population import NameKey, name_key
from registry.intake.wire import Melding

IDENTITY_CODES = {"742", "X102", "X103", "790", "X110", "X104"}
# Names the not-yet-registered student a record is judged for (uuid5, so never
# a registered student's random uuid4).
STAND_IN = UUID("0d5c7a52-3f0e-4b8e-9a55-4c1f6e2d9b10")
# Told only to the school that delivered the number: it knows whom it means.
FORGOTTEN = Signal(
    "X107",
    "the student's data were removed after the retention period (five years "
    "after the last enrolment): contact DUO",
)
TRIAL_755 = Signal(
    "755",
    "found in the population register by name and birth date; "
    "the bsn is returned when the batch is delivered",
)


@dataclass
class Outcome:
    status: Status
    numbers: LeerlingRef
    signals: list[Signal] = field(default_factory=list)

    def entry(self, meldingnummer: int) -> FeedbackEntry:
        return {
            "meldingnummer": meldingnummer,
            "status": self.status,
            "leerling": self.numbers,
            "signalen": [signal_entry(s) for s in self.signals],
        }


def _numbers(r: Melding, identity: Identity | None = None) -> LeerlingRef:
    """The numbers as delivered; with `identity`, those found or issued (only
    for an accepted record: a rejection must not disclose a number the school
    did not send, or a failing record would look people up)."""
    if identity is not None and identity.number is not None:
        return leerling(identity.number, identity.kind or "", identity.bsn)
    return {"bsn": r.leerling.bsn, "onderwijsnummer": r.leerling.onderwijsnummer}


def _signal(e: DomainError) -> Signal:
    assert e.code is not None
    return Signal(e.code, e.message)


def process(state: BatchState, ctx: Context, r: Melding) -> Outcome:
    outcome = _judged(state, ctx, r)
    if ctx.dry_run and outcome.status == "G":
        return _trial(state, r, outcome)
    return outcome


def _trial(state: BatchState, r: Melding, outcome: Outcome) -> Outcome:
    """A trial delivery records nothing and so vouches for nothing: it names a
    number the school did not send only for a student the school already has,
    or it would answer "whose BSN is this name?" for anyone."""
    delivered = _numbers(r)
    found = outcome.numbers
    number = found["onderwijsnummer"] or found["bsn"]
    if found == delivered or number is None:
        return outcome
    student = state.lookups.students.get(number)
    if student is not None and student.id in state.known_here:
        return outcome
    signals = [TRIAL_755 if s.code == "755" else s for s in outcome.signals]
    return Outcome(outcome.status, delivered, signals)


def _judged(state: BatchState, ctx: Context, r: Melding) -> Outcome:
    person = who(r)
    if person is not None and person in state.blocked:
        return Outcome("W", _numbers(r))  # behind an earlier record of theirs
    if _of_forgotten(state, r.leerling.bsn, r.leerling.onderwijsnummer):
        return Outcome("A", _numbers(r), [FORGOTTEN])
    signals = static_signals(r)
    identity = None
    if not (signals and any(s.code in IDENTITY_CODES for s in signals)):
        identity = resolve(r.leerling, state.lookups)
        if identity.waiting:
            if person is not None:
                state.blocked.add(person)
            return Outcome("W", _numbers(r))
        if _of_forgotten(state, identity.number, identity.bsn):
            return Outcome("A", _numbers(r), [FORGOTTEN])  # found by name
        signals += identity.signals
    judged_id, stand_in = _judged_id(state, identity, r)
    mutation = _mutation(ctx, r, judged_id)
    if mutation is not None:
        register = _register(state, r, mutation, stand_in)
        judgement = _judgement(state, ctx, mutation, register)
        errors, attention = judgement.errors, judgement.attention
    else:
        errors = accountant_errors(
            _source(ctx, r), state.judged_years.get(ctx.schooljaar), ctx.judged_at
        )
        attention = []
    signals += [_signal(e) for e in errors]
    rejections = _dedupe([s for s in signals if s.rejects])
    if rejections:
        return Outcome("A", _numbers(r), rejections)
    assert identity is not None
    attention = [s for s in signals if not s.rejects] + attention
    if r.soort == "W":
        return _apply_change(state, ctx, r, identity, attention)
    assert mutation is not None
    student = _student(state, ctx, r, identity)
    if student is not None:
        mutation = mutation.for_student(student.id)
        _record_residence(state, ctx, student)
    _apply(state, ctx, mutation)
    return Outcome("G", _numbers(r, identity), attention)


# What the rules read of a mutation: every field but the student's id, and of its
# source every field but the record's place in the batch (tests/unit/test_ids.py
# holds these lists to the dataclasses, so a new field is judged by).
UNJUDGED = frozenset({"student_id", "source"})
UNJUDGED_SOURCE = frozenset({"batchnummer", "meldingnummer"})
_judged_fields = attrgetter(
    *(f.name for f in fields(EnrolmentMutation) if f.name not in UNJUDGED)
)
_judged_source = attrgetter(
    *(f.name for f in fields(Source) if f.name not in UNJUDGED_SOURCE)
)


def _judgement(
    state: BatchState, ctx: Context, m: EnrolmentMutation, register: Register
) -> Judgement:
    """The rules' verdict. A period the registry does not hold, of a student with
    no periods, is judged by its delivered fields, what the rules read of the
    birth date and the school's years alone (never by who the student is):
    within a batch, those are judged once, not once a record."""
    if m.student_id is None or register.enrolment is not None or register.periods:
        return judge(m, register, ctx.judged_at)
    years = tuple((sj, id(y), y.version) for sj, y in register.years.items())
    adult = adult_in_pro(m, register.birth_date)
    key = (_judged_fields(m), _judged_source(m.source), adult, years)
    found = state.judgements.get(key)
    if found is None:
        found = state.judgements[key] = judge(m, register, ctx.judged_at)
    return found


def _of_forgotten(state: BatchState, *numbers: str | None) -> bool:
    """A forgotten person cannot be registered again (their stream exists,
    blank): the record is refused on its own, not the whole batch."""
    forgotten = state.forgotten
    return bool(forgotten) and any(n is not None and n in forgotten for n in numbers)


def _dedupe(signals: list[Signal]) -> list[Signal]:
    """The first signal of each code, in order."""
    first: dict[str, Signal] = {}
    for s in signals:
        first.setdefault(s.code, s)
    return list(first.values())


def _stand_in(r: Melding) -> UUID:
    return ids.name_id(STAND_IN, str(r.meldingnummer))


def _judged_id(
    state: BatchState, identity: Identity | None, r: Melding
) -> tuple[UUID | None, bool]:
    """The student the record is judged for: none when not identified; a
    stand-in for one the registry does not hold yet (no periods, so the
    judgement holds for the student registered when the record is accepted)."""
    if identity is None or identity.rejected:
        return None, False
    student = state.lookups.students.get(identity.number or "")
    return (_stand_in(r), True) if student is None else (student.id, False)


def _source(ctx: Context, r: Melding) -> Source:
    return Source(
        ctx.brin,
        ctx.aanleverpunt,
        ctx.schooljaar,
        ctx.key.batchnummer,
        r.meldingnummer,
        ctx.accountant,
    )


def _mutation(
    ctx: Context, r: Melding, student: UUID | None
) -> EnrolmentMutation | None:
    """The record as a mutation to judge (None for a W record)."""
    p = r.inschrijving
    if r.soort != "I" or p is None:
        return None
    return EnrolmentMutation(
        r.mutatie,
        ctx.brin,
        p.ingangsdatum,
        _source(ctx, r),
        student,
        p.vestiging,
        p.elementcode,
        p.leerjaar,
        p.jaren_pro,
        p.einddatum,
        p.reden_einde,
    )


def _register(
    state: BatchState, r: Melding, m: EnrolmentMutation, stand_in: bool
) -> Register:
    """What the rules read; a stand-in names no registered student, so it has no
    period and no periods (its period's id is not even worked out here)."""
    eid = None if stand_in else m.enrolment_id
    return Register(
        school=state.judged_school,
        year=state.judged_years.get(m.source.schooljaar),
        years=state.judged_years,
        enrolment=None if eid is None else state.enrolments.get(eid),
        periods=(
            {}
            if m.student_id is None or stand_in
            else state.periods.get(m.student_id, {})
        ),
        birth_date=r.leerling.geboortedatum,
    )


def _student(
    state: BatchState, ctx: Context, r: Melding, identity: Identity
) -> Student | None:
    """The student of an accepted record, registered when new (None in a trial
    delivery that would issue a number)."""
    if identity.link and identity.number is not None and identity.bsn is not None:
        return _link(state, ctx, r, identity.number, identity.bsn)
    if identity.number is not None and identity.number in state.lookups.students:
        return state.lookups.students[identity.number]
    s = r.leerling
    issued_name: NameKey | None = None
    if identity.issue_number:
        if ctx.dry_run:
            return None
        number: Bsn | Onderwijsnummer = state.issue_number()
        identity.number = str(number)
        x = s.uitgebreid
        assert x and x.achternaam and x.voornamen and s.geboortedatum and s.geslacht
        issued_name = name_key(
            x.achternaam, x.voorvoegsel, x.voornamen, s.geboortedatum, s.geslacht
        )
        state.issued_rows.append(
            (str(number), *issued_name[:3], s.geboortedatum, s.geslacht)
        )
    elif identity.kind == "bsn":
        number = Bsn(identity.number or "")
    else:
        number = Onderwijsnummer(identity.number or "")
    assert s.geboortedatum is not None and s.geslacht is not None
    key = KeyData(s.geboortedatum, s.geslacht, s.postcode, s.landcode)
    extended = s.uitgebreid.as_event() if s.uitgebreid else None
    student = Student.register(
        number, key, ctx.at, issued=identity.issue_number, extended=extended
    )
    state.lookups.students[str(number)] = student
    state.touch(student)
    if issued_name is not None:
        state.lookups.issued_by_name[issued_name] = [str(number)]
    return student


def _record_residence(state: BatchState, ctx: Context, student: Student) -> None:
    """The register's municipality of residence as known now, in the log beside
    the record, so the extracts route by it (and a rebuild routes the same)."""
    person = state.lookups.register_person(student.bsn)
    if person is not None and not ctx.dry_run:
        before = student.gemeente
        student.record_residence(person.gemeente, ctx.at)
        if student.gemeente != before:
            state.touch(student)


def _link(
    state: BatchState, ctx: Context, r: Melding, number: str, bsn: str
) -> Student:
    """One person, one history: the BSN delivered for the person an
    onderwijsnummer was issued to is registered as theirs (contract.md)."""
    person = state.lookups.students[number]
    s = r.leerling
    assert s.geboortedatum is not None and s.geslacht is not None
    key = KeyData(s.geboortedatum, s.geslacht, s.postcode, s.landcode)
    alias = Student.register(Bsn(bsn), key, ctx.at)
    person.link_bsn(Bsn(bsn), ctx.at)
    alias.link_to(person, ctx.at)
    state.lookups.students[bsn] = alias
    state.lookups.by_id[alias.id] = alias
    state.touch(person)
    state.touch(alias)
    return person


def _apply_change(
    state: BatchState,
    ctx: Context,
    r: Melding,
    identity: Identity,
    attention: list[Signal],
) -> Outcome:
    assert r.wijziging is not None
    student = state.lookups.students.get(identity.number or "")
    if student is None:
        return Outcome(
            "A",
            _numbers(r),
            [Signal("X105", "wijziging: the student is not registered")],
        )
    source: ChangeSource = {
        "brin": ctx.brin,
        "batchnummer": ctx.key.batchnummer,
        "meldingnummer": r.meldingnummer,
    }
    old, new = r.wijziging.oud, r.wijziging.nieuw
    errors = student.key_change_errors(old, new)
    if errors:
        return Outcome("A", _numbers(r), [_signal(e) for e in errors])
    student.change_key_data(old, new, source, ctx.at)
    state.touch(student)
    return Outcome("G", _numbers(r, identity), attention)


def _apply(state: BatchState, ctx: Context, m: EnrolmentMutation) -> None:
    eid = m.enrolment_id
    assert eid is not None
    enrolment: Enrolment = m.apply(state.enrolments.get(eid), ctx.at)
    state.enrolments[eid] = enrolment
    state.record_period(enrolment)
    state.touch(enrolment)
    if state.year is None:
        state.year = SchoolYear.open(ctx.brin, ctx.schooljaar, ctx.at)
        state.years[ctx.schooljaar] = state.year
        state.touch(state.year)
