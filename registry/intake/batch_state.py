"""What processing one batch needs from the register, loaded in bulk, and what it
changes, kept in memory until the batch's single save."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from registry.application.mutations import Judgement, Period
from registry.application.registry import Registry
from registry.domain import ids
from registry.domain.calendar import local_day
from registry.domain.enrolment import Enrolment
from registry.domain.school import School
from registry.domain.school_year import SchoolYear
from registry.domain.student import Student
from registry.domain.values import Onderwijsnummer, Schooljaar
from registry.intake.identity import Lookups, wire_name_key
from registry.intake.population import PopulationRegister, RegisterUnavailable
from registry.intake.tables import IntakeStore
from registry.intake.wire import BatchKey, Melding


@dataclass(frozen=True)
class Context:
    key: BatchKey
    accountant: bool
    soort: str
    at: datetime  # recorded time
    dry_run: bool
    # The rules judge a record as of its delivery: a record that waited on the
    # population register is judged as of when it came, recorded when resolved.
    delivered_at: datetime | None = None

    @property
    def judged_at(self) -> datetime:
        return self.delivered_at or self.at

    @property
    def brin(self) -> str:
        return self.key.brin

    @property
    def aanleverpunt(self) -> int:
        return self.key.aanleverpunt

    @property
    def schooljaar(self) -> str:
        return self.key.schooljaar


@dataclass
class BatchState:
    school: School
    year: SchoolYear | None  # the delivery's school year
    years: dict[str, SchoolYear]  # every one a record may touch, as registered
    # What the rules judge by: the school and its years as of the delivery.
    judged_school: School
    judged_years: dict[str, SchoolYear]
    # Students with a record waiting: their later records wait behind it.
    blocked: set[str]
    lookups: Lookups
    enrolments: dict[UUID, Enrolment]
    periods: dict[UUID, dict[UUID, Period]]
    serials: Iterator[int]
    changed: dict[UUID, Aggregate] = field(default_factory=dict)
    # Verdicts on periods new to the registry, by what judged them (processor).
    judgements: dict[tuple[Any, ...], Judgement] = field(default_factory=dict)
    index_rows: dict[UUID, tuple[Any, ...]] = field(default_factory=dict)
    issued_rows: list[tuple[Any, ...]] = field(default_factory=list)
    # Students with a period at the delivering school before this batch: the
    # only ones a trial delivery may name (its own records add none).
    known_here: frozenset[UUID] = frozenset()
    # Numbers of the batch (delivered or found) whose person was forgotten.
    forgotten: frozenset[str] = frozenset()

    def touch(self, aggregate: Aggregate) -> None:
        self.changed[aggregate.id] = aggregate

    def student_periods(self, student_id: UUID) -> dict[UUID, Period]:
        return self.periods.setdefault(student_id, {})

    def record_period(self, e: Enrolment) -> None:
        p = Period(e.id, e.student_id, e.brin, e.ingangsdatum, e.einddatum, e.deleted)
        self.student_periods(e.student_id)[e.id] = p
        self.index_rows[e.id] = (
            p.enrolment_id,
            p.student_id,
            p.brin,
            p.ingangsdatum,
            p.einddatum,
            p.deleted,
        )

    def issue_number(self) -> Onderwijsnummer:
        for serial in self.serials:
            number = Onderwijsnummer.from_serial(serial)
            if number is not None:
                return number
        raise RuntimeError("no onderwijsnummer serials left")


def who(r: Melding) -> str | None:
    """The student a record is about, as delivered (a number, else the name of
    the extended set): what orders a student's waiting records."""
    s = r.leerling
    if s.bsn or s.onderwijsnummer:
        return s.bsn or s.onderwijsnummer
    key = wire_name_key(s)
    return None if key is None else "name:" + "|".join(str(part) for part in key)


def _numbers(records: Sequence[Melding]) -> set[str]:
    return {
        n for r in records for n in (r.leerling.bsn, r.leerling.onderwijsnummer) if n
    }


def _serials(store: IntakeStore, dry_run: bool) -> Iterator[int]:
    if dry_run:  # a trial delivery issues nothing
        yield from range(900_000, 1_000_000)
        return
    while True:
        yield from store.next_serials(64)


def _school_years(records: Sequence[Melding], ctx: Context) -> list[str]:
    """Every school year whose count date a record's period may cover, up to the
    year after the delivery's: the stage of each judges the record."""
    days = [
        d
        for r in records
        if r.inschrijving is not None
        for d in (r.inschrijving.ingangsdatum, r.inschrijving.einddatum)
        if d is not None
    ]
    first = min(
        [Schooljaar.containing(d).start_year for d in days]
        + [Schooljaar(ctx.schooljaar).start_year]
    )
    last = Schooljaar.containing(local_day(ctx.at)).start_year + 1
    last = max(last, Schooljaar(ctx.schooljaar).start_year)
    return [str(Schooljaar.starting(y)) for y in range(first, last + 1)]


def load_state(
    registry: Registry,
    store: IntakeStore,
    register: PopulationRegister,
    records: Sequence[Melding],
    ctx: Context,
    blocked: set[str] | None = None,
    school: School | None = None,
) -> BatchState:
    """`blocked`: students whose earlier records still wait (a retry passes the
    ones it has met so far); by default those waiting in intake's table.
    `school`: the sender's school as the delivery's check just read it (not
    read again)."""
    lookups = _lookups(store, register, records)
    numbers = (
        _numbers(records)
        | {p.bsn for p in lookups.found()}
        | {n for ns in lookups.issued_by_name.values() for n in ns}
    )
    fixed = [ids.school_id(ctx.brin), ids.school_year_id(ctx.brin, ctx.schooljaar)]
    years = [ids.school_year_id(ctx.brin, sj) for sj in _school_years(records, ctx)]
    known = registry.student_ids(numbers)
    read = fixed[1:] if school is not None else fixed
    loaded = registry.get_many([*known.values(), *read, *years])
    if school is not None:
        loaded[fixed[0]] = school
    # A number that is another's alias: that person, their periods, their history.
    persons = {a.person_id for a in loaded.values() if isinstance(a, Student)}
    aliased = [p for p in persons if p is not None and p not in loaded]
    student_ids = [k for k, a in loaded.items() if isinstance(a, Student)]
    periods = store.periods_of([*student_ids, *aliased])
    here = [p.enrolment_id for p in periods if p.brin == ctx.brin]
    loaded |= registry.get_many([*aliased, *here])
    sender = loaded.get(fixed[0])
    assert isinstance(sender, School)
    year = loaded.get(fixed[1])
    judged = (
        loaded
        if ctx.delivered_at is None
        else registry.get_many([fixed[0], *years], as_of=ctx.delivered_at)
    )
    judged_school = judged.get(fixed[0])
    assert isinstance(judged_school, School)  # it delivered then too
    grouped: dict[UUID, dict[UUID, Period]] = {}
    for p in periods:
        grouped.setdefault(p.student_id, {})[p.enrolment_id] = p
    years_now = {a.schooljaar: a for a in loaded.values() if isinstance(a, SchoolYear)}
    students = [a for a in loaded.values() if isinstance(a, Student)]
    lookups.students = {a.number: a for a in students}
    lookups.by_id = {a.id: a for a in students}
    return BatchState(
        school=sender,
        year=year if isinstance(year, SchoolYear) else None,
        years=years_now,
        judged_school=judged_school,
        judged_years=(
            years_now
            if ctx.delivered_at is None
            else {a.schooljaar: a for a in judged.values() if isinstance(a, SchoolYear)}
        ),
        blocked=(
            store.waiting_students([w for r in records if (w := who(r))])
            if blocked is None
            else blocked
        ),
        lookups=lookups,
        enrolments={k: a for k, a in loaded.items() if isinstance(a, Enrolment)},
        periods=grouped,
        serials=_serials(store, ctx.dry_run),
        known_here=frozenset(
            p.student_id for p in periods if p.brin == ctx.brin and not p.deleted
        ),
        forgotten=_forgotten(known, loaded),
    )


def _forgotten(known: dict[str, UUID], loaded: dict[UUID, Aggregate]) -> frozenset[str]:
    """The numbers whose person (the student an alias number belongs to) was
    forgotten while the alias was not: a forgotten student's own number names
    no stream any more, and is registered afresh (docs/privacy.md)."""

    def gone(a: Aggregate | None) -> bool:
        return isinstance(a, Student) and a.forgotten is not None

    found = {n: loaded.get(sid) for n, sid in known.items()}
    return frozenset(
        n
        for n, a in found.items()
        if gone(a)
        or (isinstance(a, Student) and a.person_id and gone(loaded.get(a.person_id)))
    )


def _lookups(
    store: IntakeStore, register: PopulationRegister, records: Sequence[Melding]
) -> Lookups:
    """What the register says of the batch's students (None when it is down),
    and the onderwijsnummers issued on their names: on a delivered extended set,
    or on the register's name of a delivered BSN (one person, one history)."""
    names = [k for r in records if (k := wire_name_key(r.leerling)) is not None]
    try:
        persons = register.by_bsn(
            sorted({r.leerling.bsn for r in records if r.leerling.bsn})
        )
        by_name = register.by_name(names)
    except RegisterUnavailable:
        persons, by_name = None, None
    names += [p.name_key for p in (persons or {}).values()]
    return Lookups(
        students={},
        persons=persons,
        persons_by_name=by_name,
        issued_by_name=store.issued_by_name(sorted(set(names), key=str)),
    )
