"""What every extract projection shares: the few facts about students and
periods a recipient's rules need (kept in the projection's own schema, from the
log only, so a rebuild decides exactly the same), pseudonyms, and the outbox.

A recipient module decides, per fact, which messages its recipient receives
(`messages`), and may act when recorded time passes a date (`on_time`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from psycopg import Cursor

from registry.projections.base import Handler, Projection
from registry.projections.extracts import outbox
from registry.projections.extracts.outbox import Message
from registry.projections.log import Fact

DDL = """
CREATE TABLE students (
  student_id uuid PRIMARY KEY, number text NOT NULL, kind text NOT NULL,
  geboortedatum date, postcode text);
CREATE TABLE periods (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, brin text NOT NULL,
  ingangsdatum date NOT NULL, vestiging text, elementcode text, leerjaar int,
  einddatum date, deleted boolean NOT NULL DEFAULT false);
CREATE INDEX periods_student ON periods (student_id);
"""

MUTATIONS = {
    "Enrolment.Registered": "T",
    "Enrolment.Reregistered": "T",
    "Enrolment.Amended": "A",
    "Enrolment.Ended": "U",
    "Enrolment.Deleted": "V",
}
FOTOS = {
    "SchoolYear.ProvisionalSnapshotIssued": "voorlopig",
    "SchoolYear.CurrentSnapshotIssued": "actueel",
    "SchoolYear.FinalSnapshotIssued": "definitief",
}


@dataclass(frozen=True)
class Student:
    student_id: Any
    number: str
    kind: str
    geboortedatum: date | None
    postcode: str | None

    @property
    def bsn(self) -> str | None:
        return self.number if self.kind == "bsn" else None


@dataclass(frozen=True)
class Period:
    enrolment_id: Any
    student: Student
    brin: str
    ingangsdatum: date
    vestiging: str | None
    elementcode: str | None
    leerjaar: int | None
    einddatum: date | None
    deleted: bool


def pseudonym(key: bytes, number: str) -> str:
    """A keyed HMAC: stable for one recipient, unlinkable across recipients."""
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:32]


def age(born: date | None, on: date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class ExtractProjection(Projection):
    recipient: ClassVar[str]
    extra_ddl: ClassVar[str] = ""

    def __init__(self, key: bytes = b"") -> None:
        self.key = key

    @property
    def ddl(self) -> str:  # type: ignore[override]
        return DDL + self.extra_ddl

    def handlers(self) -> dict[str, Handler]:
        kinds = [*MUTATIONS, *FOTOS, "Student.Registered", "Student.KeyDataChanged"]
        return dict.fromkeys(kinds, _unused)

    def topic(self, kind: str, recipient: str | None = None) -> str:
        return f"bron.vo.{recipient or self.recipient}.{kind}.v1"

    def apply_page(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        out: list[Message] = []
        self.start_page(curs)
        for fact in facts:
            out += self.on_time(curs, fact)
            if fact.kind.startswith("Student."):
                _student(curs, fact)
            elif fact.kind in MUTATIONS:
                period = _period(curs, fact)
                if period is not None:
                    out += self.on_mutation(curs, fact, MUTATIONS[fact.kind], period)
            elif fact.kind in FOTOS:
                out += self.on_foto(curs, fact, FOTOS[fact.kind])
        outbox.write(curs, out)

    # What a recipient module overrides
    def start_page(self, curs: Cursor[Any]) -> None:
        """Called before each page (e.g. to load what `on_time` waits for)."""

    def on_mutation(
        self, curs: Cursor[Any], fact: Fact, mutatie: str, period: Period
    ) -> list[Message]:
        return []

    def on_foto(self, curs: Cursor[Any], fact: Fact, soort: str) -> list[Message]:
        return []

    def on_time(self, curs: Cursor[Any], fact: Fact) -> list[Message]:
        return []

    def message(
        self,
        fact: Fact,
        kind: str,
        key: str,
        subject: str,
        payload: dict[str, Any],
        recipient: str | None = None,
    ) -> Message:
        return Message(
            recipient or self.recipient,
            self.topic(kind, recipient),
            key,
            kind,
            subject,
            payload,
            fact.position,
            fact.recorded_at,
        )


def _unused(curs: Cursor[Any], fact: Fact) -> None:
    """Extracts are applied per page (ExtractProjection.apply_page)."""


def _student(curs: Cursor[Any], fact: Fact) -> None:
    d = fact.data
    if fact.kind == "Student.Registered":
        key = d["key"]
        curs.execute(
            "INSERT INTO students VALUES (%s, %s, %s, %s, %s)",
            (
                fact.originator_id,
                d["number"],
                d["kind"],
                key.get("geboortedatum"),
                key.get("postcode"),
            ),
        )
        return
    new = d["new"]
    if "geboortedatum" in new:
        curs.execute(
            "UPDATE students SET geboortedatum = %s WHERE student_id = %s",
            (new["geboortedatum"], fact.originator_id),
        )
    if "postcode" in new or new.get("landcode") is not None:
        curs.execute(
            "UPDATE students SET postcode = %s WHERE student_id = %s",
            (new.get("postcode"), fact.originator_id),
        )


_PERIOD = (
    "SELECT p.enrolment_id, p.brin, p.ingangsdatum, p.vestiging, p.elementcode, "
    "p.leerjaar, p.einddatum, p.deleted, s.student_id, s.number, s.kind, "
    "s.geboortedatum, s.postcode FROM periods p JOIN students s USING (student_id) "
    "WHERE p.enrolment_id = %s"
)


def _period(curs: Cursor[Any], fact: Fact) -> Period | None:
    """Apply an enrolment event to the period row; the period after it."""
    d, eid = fact.data, fact.originator_id
    if fact.kind == "Enrolment.Registered":
        curs.execute(
            "INSERT INTO periods (enrolment_id, student_id, brin, ingangsdatum) "
            "VALUES (%s, %s, %s, %s)",
            (eid, d["student_id"], d["brin"], d["ingangsdatum"]),
        )
    if "terms" in d:
        t = d["terms"]
        curs.execute(
            "UPDATE periods SET vestiging = %s, elementcode = %s, leerjaar = %s, "
            "einddatum = %s, deleted = false WHERE enrolment_id = %s",
            (t["vestiging"], t["elementcode"], t["leerjaar"], t.get("einddatum"), eid),
        )
    elif fact.kind == "Enrolment.Ended":
        curs.execute(
            "UPDATE periods SET einddatum = %s WHERE enrolment_id = %s",
            (d["einddatum"], eid),
        )
    elif fact.kind == "Enrolment.Deleted":
        curs.execute(
            "UPDATE periods SET deleted = true WHERE enrolment_id = %s", (eid,)
        )
    row = curs.execute(_PERIOD, (eid,)).fetchone()
    if row is None:
        return None
    student = Student(row[8], row[9], row[10], row[11], row[12])
    return Period(
        row[0], student, row[1], row[2], row[3], row[4], row[5], row[6], row[7]
    )


def foto_document(curs: Cursor[Any], fact: Fact, soort: str) -> dict[str, Any] | None:
    """The issued foto's document (stored in the transaction of its event)."""
    versie = fact.data["foto"]["versie"]
    row = curs.execute(
        "SELECT f.document FROM public.fotos f WHERE f.soort = %s AND f.versie = %s "
        "AND f.content_hash = %s",
        (soort, versie, fact.data["foto"]["hash"]),
    ).fetchone()
    return None if row is None else row[0]


def quarter_start(on: datetime) -> date:
    return date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
