"""The enrolment timeline: every version of every period, bitemporally.

A row holds one version of a period: `valid` is the period in the world
(ingangsdatum to einddatum, inclusive) and `recorded` the stretch of recorded
time in which the registry held that version. A correction (A), an end (U) or a
deletion (V) closes the current row's recorded range; A and U open a new one.
Nothing is overwritten, so "enrolled on D as known at T" is one indexed query:
`valid @> D AND recorded @> T`.

Schools, vestigingen, licences and assurance exclusions are kept the same way,
because a snapshot's funding verdict depends on them as known at T.

A page of the log is folded in memory and written with a few set-based
statements; one statement per event would cap a rebuild at the round-trip rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from registry.infrastructure.sealing import forgotten_number
from registry.projections import events
from registry.projections.engine.event_log import Fact
from registry.projections.engine.projection import BulkLoad, Handler, Projection
from registry.projections.engine.sql import write_rows

DDL = """
CREATE TABLE students (
  student_id uuid PRIMARY KEY, number text NOT NULL, kind text NOT NULL,
  geboortedatum date, geslacht text, postcode text, landcode text,
  registered_by bigint NOT NULL, bsn text, person_id uuid, bsn_id uuid);
CREATE UNIQUE INDEX students_number ON students (number);
CREATE TABLE enrolments (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, brin text NOT NULL,
  ingangsdatum date NOT NULL, registered_by bigint NOT NULL);
CREATE TABLE periods (
  enrolment_id uuid NOT NULL, student_id uuid NOT NULL, brin text NOT NULL,
  vestiging text NOT NULL, elementcode text NOT NULL, leerjaar int NOT NULL,
  jaren_pro int, ingangsdatum date NOT NULL, einddatum date,
  valid daterange NOT NULL, recorded tstzrange NOT NULL,
  opened_by bigint NOT NULL, closed_by bigint,
  batchnummer int, meldingnummer int, accountant boolean NOT NULL DEFAULT false,
  registered_by bigint NOT NULL, number text NOT NULL, kind text NOT NULL, bsn text,
  -- Written into JSON as they are (queries/entries.py): nothing to escape.
  CHECK (number ~ '^[0-9A-Za-z:-]+$' AND bsn ~ '^[0-9]+$'
    AND vestiging ~ '^[0-9A-Za-z]+$' AND elementcode ~ '^[0-9A-Za-z]+$'));
-- Plain btrees: a school holds at most some 20,000 versions and a student a
-- handful, so reading them all and testing valid and recorded on each is as
-- fast as a GiST on the three columns, which costs far more to build and to
-- keep up on each insert (docs/benchmarks-notes.md, timeline v6).
CREATE INDEX periods_school ON periods (brin);
CREATE INDEX periods_student ON periods (student_id);
CREATE UNIQUE INDEX periods_current ON periods (enrolment_id) WHERE closed_by IS NULL;
CREATE INDEX periods_enrolment ON periods (enrolment_id, einddatum);
CREATE TABLE schools (
  school_id uuid PRIMARY KEY, brin text NOT NULL UNIQUE, registered_by bigint NOT NULL);
CREATE TABLE vestigingen (
  brin text NOT NULL, vestiging text NOT NULL, hoofdvestiging boolean NOT NULL,
  gemeente text NOT NULL, recorded tstzrange NOT NULL,
  opened_by bigint NOT NULL, closed_by bigint);
CREATE INDEX vestigingen_school ON vestigingen (brin);
CREATE TABLE licences (
  brin text NOT NULL, vestiging text NOT NULL, elementcode text NOT NULL,
  valid daterange NOT NULL, recorded tstzrange NOT NULL,
  opened_by bigint NOT NULL, closed_by bigint);
CREATE INDEX licences_school ON licences (brin, vestiging, elementcode);
CREATE TABLE exclusions (
  brin text NOT NULL, schooljaar text NOT NULL, student_id uuid NOT NULL,
  reden text NOT NULL, recorded_at timestamptz NOT NULL, position bigint NOT NULL);
CREATE INDEX exclusions_school ON exclusions (brin, schooljaar);
CREATE INDEX students_bsn_id ON students (bsn_id) WHERE bsn_id IS NOT NULL;
CREATE TABLE doubles (
  student_id uuid NOT NULL, brin text NOT NULL, valid daterange NOT NULL,
  recorded tstzrange NOT NULL, positions int8range NOT NULL,
  first uuid NOT NULL, second uuid NOT NULL);
CREATE INDEX doubles_school ON doubles USING gist (brin, valid, recorded);
CREATE INDEX doubles_first ON doubles (first);
CREATE INDEX doubles_second ON doubles (second);
-- What an answer at T rests on besides the rows: the time of the last event
-- applied (no answer at a T before it changes any more, but for a number
-- rewritten in place: the position of the last such event). Readers name the
-- tables themselves by this table's oid (a rebuild may reuse a schema name).
CREATE TABLE horizon (recorded_at timestamptz, identities bigint NOT NULL DEFAULT 0);
INSERT INTO horizon DEFAULT VALUES;
CREATE TABLE school_years (
  year_id uuid PRIMARY KEY, brin text NOT NULL, schooljaar text NOT NULL,
  opened_by bigint NOT NULL);
"""

_PERIOD_COLUMNS = (
    "enrolment_id uuid, student_id uuid, brin text, vestiging text, "
    "elementcode text, leerjaar int, jaren_pro int, ingangsdatum date, "
    "einddatum date, valid daterange, recorded tstzrange, opened_by bigint, "
    "closed_by bigint, batchnummer int, meldingnummer int, accountant boolean, "
    "registered_by bigint"
)
# The student's number as the documents show it is copied onto each version
# (and kept up to date by BsnLinked and Forgotten), so a snapshot reads one
# school's rows without a lookup per student.
_INSERT = (
    "INSERT INTO periods SELECT r.*, s.number, s.kind, s.bsn FROM {rows} "
    "LEFT JOIN students s ON s.student_id = r.student_id"
)
# Two enrolments of one student whose versions were valid and known at once
# compete for funding (X130). Each such pair is noted when the later version
# is written, under both schools, with the days both are valid and the time
# and log positions at which both were known; a later close of either narrows
# the latter (_CLOSE_DOUBLES), so the table ends the same however the log was
# paged. A snapshot ranks only the students noted for its school, D and T,
# instead of looking up every student's periods elsewhere. Known at once in
# positions is the test: known at once in time implies it, and a close
# before the later version's opening is always applied before it is written.
_DOUBLES = """
INSERT INTO doubles
SELECT DISTINCT r.student_id, b.brin, r.valid * p.valid, r.recorded * p.recorded,
  int8range(r.opened_by, r.closed_by) * int8range(p.opened_by, p.closed_by),
  r.enrolment_id, p.enrolment_id
FROM {rows} JOIN periods p ON p.student_id = r.student_id
  AND p.enrolment_id <> r.enrolment_id AND p.opened_by < r.opened_by
  AND p.valid && r.valid
  AND int8range(p.opened_by, p.closed_by) && int8range(r.opened_by, r.closed_by)
CROSS JOIN LATERAL (VALUES (r.brin), (p.brin)) b(brin)
"""
# Per side of a pair, so each is one index probe per close.
_CLOSE_DOUBLES = (
    "UPDATE doubles d SET recorded = d.recorded * tstzrange(NULL, r.at), "
    "positions = d.positions * int8range(NULL, r.pos) FROM {rows} "
    "WHERE d.<side> = r.enrolment_id"
)
_DOUBLE_COLUMNS = (
    "enrolment_id uuid, student_id uuid, brin text, valid daterange, "
    "recorded tstzrange, opened_by bigint, closed_by bigint"
)
_CLOSE = (
    "UPDATE periods p SET recorded = tstzrange(lower(p.recorded), r.at), "
    "closed_by = r.pos FROM {rows} "
    "WHERE p.enrolment_id = r.enrolment_id AND p.closed_by IS NULL"
)


@dataclass
class _Version:
    """One row of `periods` being built while a page is folded."""

    enrolment_id: UUID
    student_id: UUID
    brin: str
    ingangsdatum: date
    registered_by: int  # the enrolment's registration: X130 ranks by it
    terms: dict[str, Any]
    opened_at: datetime
    opened_by: int
    source: dict[str, Any]
    closed_at: datetime | None = None
    closed_by: int | None = None

    def row(self) -> tuple[Any, ...]:
        t = self.terms
        return (
            self.enrolment_id,
            self.student_id,
            self.brin,
            t["vestiging"],
            t["elementcode"],
            t["leerjaar"],
            t.get("jaren_pro"),
            self.ingangsdatum,
            t.get("einddatum"),
            _daterange(self.ingangsdatum, t.get("einddatum")),
            _tstzrange(self.opened_at, self.closed_at),
            self.opened_by,
            self.closed_by,
            self.source.get("batchnummer"),
            self.source.get("meldingnummer"),
            bool(self.source.get("accountant", False)),
            self.registered_by,
        )

    def spans(self) -> tuple[Any, ...]:
        """What `_DOUBLES` compares."""
        row = self.row()
        return (*row[:3], *row[9:13])


def _daterange(start: date, end: date | None) -> str:
    return f"[{start.isoformat()},{end.isoformat() if end else ''}]"


def _tstzrange(start: datetime, end: datetime | None) -> str:
    return f"[{start.isoformat()},{end.isoformat() if end else ''})"


class _PageFold:
    """The page's effect on periods: closes of rows stored before the page, and
    every row version the page opens (some already closed within the page)."""

    def __init__(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        self.curs = curs
        self.identity: dict[UUID, tuple[UUID, str, date, int]] = {}
        self.current: dict[UUID, _Version | None] = {}
        self.stored_open: dict[UUID, _Version] = {}
        self.closes: list[tuple[UUID, datetime, int]] = []
        self.opened: list[_Version] = []
        self.new_enrolments: list[tuple[Any, ...]] = []
        self._preload([f for f in facts if f.topic in events.ENROLMENT])

    def _preload(self, facts: list[Fact]) -> None:
        known = {
            f.originator_id for f in facts if f.topic == events.ENROLMENT_REGISTERED
        }
        wanted = list({f.originator_id for f in facts} - known)
        if not wanted:
            return
        self.curs.execute(
            "SELECT e.enrolment_id, e.student_id, e.brin, e.ingangsdatum, "
            "p.vestiging, p.elementcode, p.leerjaar, p.jaren_pro, p.einddatum, "
            "lower(p.recorded), p.opened_by, p.batchnummer, p.meldingnummer, "
            "p.accountant, e.registered_by FROM enrolments e LEFT JOIN periods p ON "
            "p.enrolment_id = e.enrolment_id AND p.closed_by IS NULL "
            "WHERE e.enrolment_id = ANY(%b)",
            (wanted,),
        )
        for r in self.curs.fetchall():
            self.identity[r[0]] = (r[1], r[2], r[3], r[14])
            if r[4] is not None:
                terms = dict(
                    vestiging=r[4],
                    elementcode=r[5],
                    leerjaar=r[6],
                    jaren_pro=r[7],
                    einddatum=r[8],
                )
                source = dict(batchnummer=r[11], meldingnummer=r[12], accountant=r[13])
                version = _Version(
                    r[0], r[1], r[2], r[3], r[14], terms, r[9], r[10], source
                )
                self.stored_open[r[0]] = version
                self.current[r[0]] = version

    def registered(self, fact: Fact) -> None:
        d = fact.data
        self.identity[fact.originator_id] = (
            d["student_id"],
            d["brin"],
            d["ingangsdatum"],
            fact.position,
        )
        self.new_enrolments.append(
            (
                fact.originator_id,
                d["student_id"],
                d["brin"],
                d["ingangsdatum"],
                fact.position,
            )
        )
        self._open(fact, d["terms"])

    def amended(self, fact: Fact) -> None:
        self._close(fact)
        self._open(fact, fact.data["terms"])

    def ended(self, fact: Fact) -> None:
        current = self.current.get(fact.originator_id)
        self._close(fact)
        terms = dict(current.terms) if current else {}
        self._open(fact, {**terms, "einddatum": fact.data["einddatum"]})

    def deleted(self, fact: Fact) -> None:
        self._close(fact)

    def _open(self, fact: Fact, terms: dict[str, Any]) -> None:
        student, brin, start, registered_by = self.identity[fact.originator_id]
        version = _Version(
            fact.originator_id,
            student,
            brin,
            start,
            registered_by,
            terms,
            fact.recorded_at,
            fact.position,
            fact.data.get("source", {}),
        )
        self.current[fact.originator_id] = version
        self.opened.append(version)

    def _close(self, fact: Fact) -> None:
        eid = fact.originator_id
        current = self.current.get(eid)
        if current is None:
            return
        if self.stored_open.get(eid) is current:
            self.closes.append((eid, fact.recorded_at, fact.position))
        else:
            current.closed_at, current.closed_by = fact.recorded_at, fact.position
        self.current[eid] = None

    def write(self) -> None:
        write_rows(
            self.curs,
            "INSERT INTO enrolments SELECT * FROM {rows}",
            "enrolment_id uuid, student_id uuid, brin text, ingangsdatum date, "
            "registered_by bigint",
            self.new_enrolments,
        )
        closes = "enrolment_id uuid, at timestamptz, pos bigint"
        write_rows(self.curs, _CLOSE, closes, self.closes)
        for side in ("first", "second"):
            statement = _CLOSE_DOUBLES.replace("<side>", side)
            write_rows(self.curs, statement, closes, self.closes)
        write_rows(self.curs, _INSERT, _PERIOD_COLUMNS, [v.row() for v in self.opened])
        write_rows(
            self.curs, _DOUBLES, _DOUBLE_COLUMNS, [v.spans() for v in self.opened]
        )


_VERSIONS = (
    "SELECT <columns>, lower(recorded) AS recorded_from, "
    "CASE WHEN closed_by <= %(p)s THEN upper(recorded) END AS recorded_to, "
    "opened_by, CASE WHEN closed_by <= %(p)s THEN closed_by END AS closed_by "
    "FROM <table> WHERE opened_by <= %(p)s"
)


def _versions(table: str, columns: str) -> str:
    """A bitemporal table as known at position %(p)s: later closes undone."""
    return _VERSIONS.replace("<columns>", columns).replace("<table>", table)


# Each table as known at log position %(p)s, comparable between the live tables
# and a replay up to p (registry replay). Student key data is current state, not
# history, so only the identity columns are compared.
AUDIT = {
    "periods": _versions(
        "periods",
        "enrolment_id, student_id, brin, vestiging, elementcode, leerjaar, "
        "jaren_pro, ingangsdatum, einddatum, valid, batchnummer, meldingnummer, "
        "accountant",
    ),
    "licences": _versions("licences", "brin, vestiging, elementcode, valid"),
    "vestigingen": _versions(
        "vestigingen", "brin, vestiging, hoofdvestiging, gemeente"
    ),
    "enrolments": "SELECT * FROM enrolments WHERE registered_by <= %(p)s",
    "students": "SELECT student_id, number, kind, registered_by FROM students "
    "WHERE registered_by <= %(p)s",
    "schools": "SELECT * FROM schools WHERE registered_by <= %(p)s",
    "school_years": "SELECT * FROM school_years WHERE opened_by <= %(p)s",
    "exclusions": "SELECT * FROM exclusions WHERE position <= %(p)s",
}


def _student_row(fact: Fact) -> tuple[Any, ...]:
    d, key = fact.data, fact.data["key"]
    return (
        fact.originator_id,
        d["number"],
        d["kind"],
        key.get("geboortedatum"),
        key.get("geslacht"),
        key.get("postcode"),
        key.get("landcode"),
        fact.position,
        None,  # a BSN linked later (Student.BsnLinked)
        None,  # the person this number is an alias of (Student.LinkedTo)
        None,  # the id the linked BSN names, kept once forgotten (exclusions)
    )


def _write_students(curs: Cursor[Any], rows: list[tuple[Any, ...]]) -> None:
    write_rows(
        curs,
        "INSERT INTO students SELECT * FROM {rows}",
        "student_id uuid, number text, kind text, geboortedatum date, "
        "geslacht text, postcode text, landcode text, registered_by bigint, "
        "bsn text, person_id uuid, bsn_id uuid",
        rows,
    )


def _student_registered(curs: Cursor[Any], fact: Fact) -> None:
    _write_students(curs, [_student_row(fact)])


def _student_changed(curs: Cursor[Any], fact: Fact) -> None:
    """A W record: the event holds the whole key after the change."""
    new = fact.data["new"]
    curs.execute(
        "UPDATE students SET geboortedatum = %s, geslacht = %s, postcode = %s, "
        "landcode = %s WHERE student_id = %s",
        (
            new["geboortedatum"],
            new["geslacht"],
            new["postcode"],
            new["landcode"],
            fact.originator_id,
        ),
    )


def _rewritten(curs: Cursor[Any], fact: Fact) -> None:
    """A student's number or link changed in place: answers at a past T change."""
    curs.execute("UPDATE horizon SET identities = %s", (fact.position,))


def _bsn_linked(curs: Cursor[Any], fact: Fact) -> None:
    _rewritten(curs, fact)
    for table in ("students", "periods"):
        curs.execute(
            SQL("UPDATE {} SET bsn = %s WHERE student_id = %s").format(
                Identifier(table)
            ),
            (fact.data["bsn"], fact.originator_id),
        )


def _linked_to(curs: Cursor[Any], fact: Fact) -> None:
    """An exclusion may name the person by the linked BSN, which names the
    alias's stream: the person's row keeps that id (`bsn_id`), which survives
    forgetting as the student id does."""
    _rewritten(curs, fact)
    curs.execute(
        "UPDATE students SET person_id = %s WHERE student_id = %s",
        (fact.data["person_id"], fact.originator_id),
    )
    curs.execute(
        "UPDATE students SET bsn_id = %s WHERE student_id = %s",
        (fact.originator_id, fact.data["person_id"]),
    )


def _student_forgotten(curs: Cursor[Any], fact: Fact) -> None:
    """Blank the person's row at once, as a rebuild from the (now unreadable)
    events would: the id and the kind of number stay, for the counts."""
    _rewritten(curs, fact)
    number = forgotten_number(fact.originator_id)
    curs.execute(
        "UPDATE students SET number = %s, geboortedatum = NULL, geslacht = NULL, "
        "postcode = NULL, landcode = NULL, bsn = NULL WHERE student_id = %s",
        (number, fact.originator_id),
    )
    curs.execute(
        "UPDATE periods SET number = %s, bsn = NULL WHERE student_id = %s",
        (number, fact.originator_id),
    )


def _school_registered(curs: Cursor[Any], fact: Fact) -> None:
    curs.execute(
        "INSERT INTO schools VALUES (%s, %s, %s)",
        (fact.originator_id, fact.data["brin"], fact.position),
    )


def _brin(curs: Cursor[Any], fact: Fact) -> str:
    curs.execute("SELECT brin FROM schools WHERE school_id = %s", (fact.originator_id,))
    row = curs.fetchone()
    assert row is not None, f"school event before School.Registered at {fact.position}"
    return str(row[0])


def _close_rows(
    curs: Cursor[Any], table: str, brin: str, vestiging: str, fact: Fact
) -> None:
    curs.execute(
        SQL(
            "UPDATE {} SET recorded = tstzrange(lower(recorded), %s), closed_by = %s "
            "WHERE closed_by IS NULL AND brin = %s AND vestiging = %s"
        ).format(Identifier(table)),
        [fact.recorded_at, fact.position, brin, vestiging],
    )


def _vestiging_opened(curs: Cursor[Any], fact: Fact) -> None:
    brin, d = _brin(curs, fact), fact.data
    _close_rows(curs, "vestigingen", brin, d["vestiging"], fact)
    curs.execute(
        "INSERT INTO vestigingen VALUES (%s, %s, %s, %s, tstzrange(%s, NULL), %s, NULL)",
        (
            brin,
            d["vestiging"],
            d["details"]["hoofdvestiging"],
            d["details"]["gemeente"],
            fact.recorded_at,
            fact.position,
        ),
    )


def _vestiging_closed(curs: Cursor[Any], fact: Fact) -> None:
    brin, vestiging = _brin(curs, fact), fact.data["vestiging"]
    for table in ("vestigingen", "licences"):
        _close_rows(curs, table, brin, vestiging, fact)


def _licences_changed(curs: Cursor[Any], fact: Fact) -> None:
    brin, vestiging = _brin(curs, fact), fact.data["vestiging"]
    _close_rows(curs, "licences", brin, vestiging, fact)
    rows = [
        (
            brin,
            vestiging,
            lic["elementcode"],
            _daterange(lic["van"], lic.get("tot")),
            _tstzrange(fact.recorded_at, None),
            fact.position,
            None,
        )
        for lic in fact.data["licences"]
    ]
    write_rows(
        curs,
        "INSERT INTO licences SELECT * FROM {rows}",
        "brin text, vestiging text, elementcode text, valid daterange, "
        "recorded tstzrange, opened_by bigint, closed_by bigint",
        rows,
    )


def _year_opened(curs: Cursor[Any], fact: Fact) -> None:
    curs.execute(
        "INSERT INTO school_years VALUES (%s, %s, %s, %s)",
        (fact.originator_id, fact.data["brin"], fact.data["schooljaar"], fact.position),
    )


def _assurance_reported(curs: Cursor[Any], fact: Fact) -> None:
    curs.execute(
        "SELECT brin, schooljaar FROM school_years WHERE year_id = %s",
        (fact.originator_id,),
    )
    key = curs.fetchone()
    assert key is not None, f"assurance before SchoolYear.Opened at {fact.position}"
    rows = [
        (*key, e["student_id"], e["reden"], fact.recorded_at, fact.position)
        for e in fact.data["exclusions"]
    ]
    write_rows(
        curs,
        "INSERT INTO exclusions SELECT * FROM {rows}",
        "brin text, schooljaar text, student_id uuid, reden text, "
        "recorded_at timestamptz, position bigint",
        rows,
    )


_STEPS = {
    events.ENROLMENT_REGISTERED: _PageFold.registered,
    events.ENROLMENT_AMENDED: _PageFold.amended,
    events.ENROLMENT_REREGISTERED: _PageFold.amended,
    events.ENROLMENT_ENDED: _PageFold.ended,
    events.ENROLMENT_DELETED: _PageFold.deleted,
}
_HANDLERS: dict[str, Handler] = {
    events.STUDENT_KEY_DATA_CHANGED: _student_changed,
    events.STUDENT_BSN_LINKED: _bsn_linked,
    events.STUDENT_LINKED_TO: _linked_to,
    events.STUDENT_FORGOTTEN: _student_forgotten,
    events.SCHOOL_REGISTERED: _school_registered,
    events.VESTIGING_OPENED: _vestiging_opened,
    events.VESTIGING_CHANGED: _vestiging_opened,
    events.VESTIGING_CLOSED: _vestiging_closed,
    events.LICENCES_CHANGED: _licences_changed,
    events.SCHOOL_YEAR_OPENED: _year_opened,
    events.ASSURANCE_REPORTED: _assurance_reported,
}


class Timeline(Projection):
    name: ClassVar[str] = "timeline"
    # 2: periods_enrolment, for when an einddatum became known (X131).
    # 3: a person's linked BSN, and the numbers that are another's alias.
    # 4: exclusions by student id (SchoolYear.AssuranceReported v2), and the id
    #    a linked BSN names, so a forgotten person's exclusion still counts.
    # 5: each version carries its enrolment's registration and the student's
    #    number; the doubles a snapshot ranks (issue 18: reads at index speed).
    # 6: periods by school and by student in btrees, not GiST.
    version: ClassVar[int] = 6
    ddl: ClassVar[str] = DDL
    audit: ClassVar[dict[str, str]] = AUDIT
    school_tables: ClassVar[tuple[str, ...]] = (
        "schools",
        "vestigingen",
        "licences",
        "school_years",
        "exclusions",
        "enrolments",
        "periods",
        "doubles",
    )
    topics: ClassVar[tuple[str, ...]] = (
        *_STEPS,
        events.STUDENT_REGISTERED,
        *_HANDLERS,
    )

    def bulk(self) -> BulkLoad | None:
        """The same tables loaded in bulk (timeline_bulk.py): every table,
        `doubles` and `horizon` too, row for row as `apply_page` builds them."""
        from registry.projections.timeline_bulk import TimelineLoad

        return TimelineLoad(self.topics)

    def apply_page(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        fold = _PageFold(curs, facts)
        students: list[tuple[Any, ...]] = []
        for fact in facts:
            step = _STEPS.get(fact.topic)
            if step is not None:
                step(fold, fact)
            elif fact.topic == events.STUDENT_REGISTERED:
                students.append(_student_row(fact))
            else:
                if students:  # keep log order for the students a change touches
                    _write_students(curs, students)
                    students = []
                _HANDLERS[fact.topic](curs, fact)
        _write_students(curs, students)
        fold.write()
        if facts:
            curs.execute(
                "UPDATE horizon SET recorded_at = %s", (facts[-1].recorded_at,)
            )
