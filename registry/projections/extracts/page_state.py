"""The students and periods a page of the log touches, held in memory while the
page is applied and written back in two set-based statements: a round trip per
event would cap a rebuild at the round-trip rate."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import Cursor

from registry.projections import events
from registry.projections.engine.event_log import Fact
from registry.projections.engine.sql import write_rows


@dataclass
class StudentRow:
    student_id: UUID
    number: str
    kind: str
    geboortedatum: date | None
    postcode: str | None
    linked_bsn: str | None = None  # an onderwijsnummer's person with a BSN now
    gemeente: str | None = None  # residence per the population register

    def copy(self) -> StudentRow:
        # Not dataclasses.replace, which costs several times more, once a
        # mutation; copying the instance dict keeps every field, new ones too.
        row = object.__new__(StudentRow)
        row.__dict__.update(self.__dict__)
        return row

    @property
    def bsn(self) -> str | None:
        return self.number if self.kind == "bsn" else self.linked_bsn

    @property
    def onderwijsnummer(self) -> str | None:
        return self.number if self.kind == "onderwijsnummer" else None


@dataclass
class PeriodRow:
    enrolment_id: UUID
    student_id: UUID
    brin: str
    ingangsdatum: date
    vestiging: str | None = None
    elementcode: str | None = None
    leerjaar: int | None = None
    einddatum: date | None = None
    deleted: bool = False
    reden_einde: str | None = None

    def covers(self, day: date) -> bool:
        return (
            not self.deleted
            and self.ingangsdatum <= day
            and (self.einddatum is None or day <= self.einddatum)
        )


_STUDENT_COLUMNS = (
    "student_id uuid, number text, kind text, geboortedatum date, postcode text, "
    "linked_bsn text, gemeente text"
)
STUDENT_SELECT = (
    "SELECT student_id, number, kind, geboortedatum, postcode, linked_bsn, gemeente "
    "FROM students"
)
_PERIOD_COLUMNS = (
    "enrolment_id uuid, student_id uuid, brin text, ingangsdatum date, vestiging text, "
    "elementcode text, leerjaar int, einddatum date, deleted boolean, reden_einde text"
)
PERIOD_SELECT = (
    "SELECT enrolment_id, student_id, brin, ingangsdatum, vestiging, elementcode, "
    "leerjaar, einddatum, deleted, reden_einde FROM periods"
)


def _tuple(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, f.name) for f in fields(row))


class PageState:
    def __init__(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        self.curs = curs
        self.students: dict[UUID, StudentRow] = {}
        self.periods: dict[UUID, PeriodRow] = {}
        self._dirty_students: set[UUID] = set()
        self._dirty_periods: set[UUID] = set()
        # Every period of the students loaded (a person's rules look at all of
        # them), by student.
        self._by_student: dict[UUID, set[UUID]] = {}
        self._load(facts)

    def _load(self, facts: list[Fact]) -> None:
        enrolments = [f.originator_id for f in facts if f.topic in events.ENROLMENT]
        students = {f.originator_id for f in facts if f.topic in events.STUDENT}
        students |= {
            f.data["student_id"]
            for f in facts
            if f.topic == events.ENROLMENT_REGISTERED
        }
        if enrolments:
            students |= {
                r[0]
                for r in self.curs.execute(
                    "SELECT student_id FROM periods WHERE enrolment_id = ANY(%b)",
                    (list(set(enrolments)),),
                )
            }
        self._load_students(students)

    def _load_students(self, students: set[UUID]) -> None:
        for sid in students:
            self._by_student.setdefault(sid, set())
        if not students:
            return
        for r in self.curs.execute(
            PERIOD_SELECT + " WHERE student_id = ANY(%b)", (list(students),)
        ):
            self.periods[r[0]] = PeriodRow(*r)
            self._by_student[r[1]].add(r[0])
        for r in self.curs.execute(
            STUDENT_SELECT + " WHERE student_id = ANY(%b)", (list(students),)
        ):
            self.students[r[0]] = StudentRow(*r)

    def periods_of(self, student_id: UUID) -> list[PeriodRow]:
        """Every period of the student as the log has them now (loaded on first
        ask for a student the page did not touch)."""
        if student_id not in self._by_student:
            self._load_students({student_id})
        return [self.periods[e] for e in sorted(self._by_student[student_id])]

    def student_event(self, fact: Fact) -> None:
        d, sid = fact.data, fact.originator_id
        if fact.topic == events.STUDENT_REGISTERED:
            key = d["key"]
            self.students[sid] = StudentRow(
                sid,
                d["number"],
                d["kind"],
                key.get("geboortedatum"),
                key.get("postcode"),
            )
        elif sid in self.students and fact.topic == events.STUDENT_BSN_LINKED:
            self.students[sid].linked_bsn = d["bsn"]
        elif sid in self.students and fact.topic == events.STUDENT_FORGOTTEN:
            # What the sealed events read as once forgotten (docs/privacy.md).
            self.students[sid] = StudentRow(
                sid, f"vergeten:{sid}", "forgotten", None, None
            )
        elif sid in self.students and fact.topic == events.STUDENT_RESIDENCE_RECORDED:
            self.students[sid].gemeente = (
                d["gemeente"] or ""
            )  # "": none, per the register
        elif sid in self.students:  # the event holds the whole key after it
            row, new = self.students[sid], d["new"]
            row.geboortedatum, row.postcode = new["geboortedatum"], new["postcode"]
        self._dirty_students.add(sid)

    def period_event(self, fact: Fact) -> PeriodRow | None:
        """Apply an enrolment event; the period after it (None if unknown)."""
        d, eid = fact.data, fact.originator_id
        if fact.topic == events.ENROLMENT_REGISTERED:
            self.periods[eid] = PeriodRow(
                eid, d["student_id"], d["brin"], d["ingangsdatum"]
            )
            self._by_student.setdefault(d["student_id"], set()).add(eid)
        row = self.periods.get(eid)
        if row is None:
            return None
        if "terms" in d:
            t = d["terms"]
            row.vestiging, row.elementcode = t["vestiging"], t["elementcode"]
            row.leerjaar, row.einddatum, row.deleted = (
                t["leerjaar"],
                t.get("einddatum"),
                False,
            )
            row.reden_einde = d.get("reden_einde")  # an A's; none when registered
        elif fact.topic == events.ENROLMENT_ENDED:
            row.einddatum, row.reden_einde = d["einddatum"], d.get("reden_einde")
        elif fact.topic == events.ENROLMENT_DELETED:
            row.deleted = True
        self._dirty_periods.add(eid)
        return row

    def student(self, student_id: UUID) -> StudentRow | None:
        return self.students.get(student_id)

    def write(self) -> None:
        write_rows(
            self.curs,
            "INSERT INTO students SELECT * FROM {rows} ON CONFLICT (student_id) DO UPDATE "
            "SET number = excluded.number, kind = excluded.kind, "
            "geboortedatum = excluded.geboortedatum, postcode = excluded.postcode, "
            "linked_bsn = excluded.linked_bsn, gemeente = excluded.gemeente",
            _STUDENT_COLUMNS,
            [
                _tuple(self.students[s])
                for s in self._dirty_students
                if s in self.students
            ],
        )
        write_rows(
            self.curs,
            "INSERT INTO periods SELECT * FROM {rows} ON CONFLICT (enrolment_id) DO UPDATE "
            "SET vestiging = excluded.vestiging, elementcode = excluded.elementcode, "
            "leerjaar = excluded.leerjaar, einddatum = excluded.einddatum, "
            "deleted = excluded.deleted, reden_einde = excluded.reden_einde",
            _PERIOD_COLUMNS,
            [_tuple(self.periods[e]) for e in self._dirty_periods],
        )
        self._dirty_students.clear()
        self._dirty_periods.clear()
