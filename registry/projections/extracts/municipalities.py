"""Municipalities (leerplicht and RMC): each receives, on its own topic, the
enrolments and deregistrations of its residents (by the student's postcode),
and potential early school leavers: residents under 23 whose enrolment ended
with no new one starting within 4 weeks. Municipalities are entitled to the BSN
and the birth date."""

from __future__ import annotations

import csv
import heapq
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any, ClassVar
from uuid import UUID

from psycopg import Cursor

from registry.projections.engine.event_log import Fact
from registry.projections.engine.sql import write_rows
from registry.projections.extracts.base import DDL, ExtractProjection, Period, age
from registry.projections.extracts.outbox import Message
from registry.projections.extracts.page_state import (
    STUDENT_SELECT,
    PageState,
    StudentRow,
)
from registry.projections.extracts.payloads import (
    GemeenteInschrijving,
    GemeenteKoppeling,
    GemeenteVsv,
    Mutatie,
)

LEAVER_WINDOW = timedelta(weeks=4)
PENDING_DDL = """
CREATE TABLE pending_leavers (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, einddatum date NOT NULL,
  due date NOT NULL, ended_by bigint NOT NULL, brin text NOT NULL);
CREATE TABLE pending_written (txid bigint NOT NULL);
INSERT INTO pending_written VALUES (0);
"""


@cache
def municipality_of_pc4() -> dict[str, str]:
    data = resources.files("registry.domain.data").joinpath("pc4_municipality.csv")
    with data.open(encoding="utf-8") as f:
        return {r["pc4"]: r["municipality_code"].lower() for r in csv.DictReader(f)}


def municipality(postcode: str | None) -> str | None:
    return None if not postcode else municipality_of_pc4().get(postcode[:4])


@dataclass
class _Pending:
    student_id: UUID
    einddatum: date
    due: date
    ended_by: int
    brin: str


class Municipalities(ExtractProjection):
    name: ClassVar[str] = "extract_gemeenten"
    # 3: a linked BSN beside the onderwijsnummer (one person, one history).
    version: ClassVar[int] = 3
    recipient: ClassVar[str] = "gemeenten"
    ddl: ClassVar[str] = DDL + PENDING_DDL
    # Ended periods waiting out their 4 weeks: after the year-end
    # deregistrations far too many to load on every page. So they stay in
    # memory from page to page, with a heap by due date (a fact pops what has
    # come due instead of scanning them all) and an index by student; a page
    # writes back only what changed. Each page notes its transaction id beside
    # them; a page that finds another one than it left (its own page rolled
    # back, another process, another schema) loads them again.
    _memo: tuple[str, int] | None = None
    _pending: dict[UUID, _Pending]
    _added: set[UUID]
    _gone: set[UUID]
    _due: list[tuple[date, int, UUID]]
    _by_student: dict[UUID, set[UUID]]

    def start_page(self, curs: Cursor[Any]) -> None:
        row = curs.execute(
            "SELECT current_schema(), txid FROM pending_written"
        ).fetchone()
        assert row is not None
        memo, self._memo = self._memo, None  # set again only by a whole page
        if memo != (row[0], row[1]):
            self._load(curs)
        self._added, self._gone = set(), set()

    def _load(self, curs: Cursor[Any]) -> None:
        rows = curs.execute(
            "SELECT enrolment_id, student_id, einddatum, due, ended_by, brin "
            "FROM pending_leavers"
        ).fetchall()
        self._pending, self._due, self._by_student = {}, [], {}
        self._gone = set()
        for r in rows:
            self._add(r[0], _Pending(*r[1:]))

    def _add(self, eid: UUID, pending: _Pending) -> None:
        self._drop(eid)
        self._pending[eid] = pending
        heapq.heappush(self._due, (pending.due, pending.ended_by, eid))
        self._by_student.setdefault(pending.student_id, set()).add(eid)

    def _drop(self, eid: UUID) -> _Pending | None:
        """Forget a pending leaver (its heap entry is skipped when popped)."""
        pending = self._pending.pop(eid, None)
        if pending is not None:
            self._by_student[pending.student_id].discard(eid)
            self._gone.add(eid)
        return pending

    def end_page(self, curs: Cursor[Any]) -> None:
        # Some were never written (added and gone within the page): no-ops.
        gone = [e for e in self._gone if e not in self._pending]
        if gone:
            curs.execute(
                "DELETE FROM pending_leavers WHERE enrolment_id = ANY(%s)", (gone,)
            )
        added = {e: self._pending[e] for e in self._added if e in self._pending}
        write_rows(
            curs,
            "INSERT INTO pending_leavers SELECT * FROM {rows} ON CONFLICT (enrolment_id) "
            "DO UPDATE SET einddatum = excluded.einddatum, due = excluded.due, "
            "ended_by = excluded.ended_by",
            "enrolment_id uuid, student_id uuid, einddatum date, due date, "
            "ended_by bigint, brin text",
            [
                (e, p.student_id, p.einddatum, p.due, p.ended_by, p.brin)
                for e, p in added.items()
            ],
        )
        row = curs.execute(
            "UPDATE pending_written SET txid = txid_current() "
            "RETURNING current_schema(), txid"
        ).fetchone()
        assert row is not None
        self._memo = (row[0], row[1])

    def on_mutation(
        self, curs: Cursor[Any], fact: Fact, mutatie: Mutatie, period: Period
    ) -> list[Message]:
        s = period.student
        if mutatie == "T":  # a new school within the 4 weeks: no leaver
            for eid in [
                e
                for e in self._by_student.get(s.student_id, ())
                if self._pending[e].due >= period.ingangsdatum
            ]:
                self._drop(eid)
        elif mutatie == "U" and period.einddatum is not None:
            years = age(s.geboortedatum, period.einddatum)
            if years is not None and years < 23:
                self._add(
                    period.enrolment_id,
                    _Pending(
                        s.student_id,
                        period.einddatum,
                        period.einddatum + LEAVER_WINDOW,
                        fact.position,
                        period.brin,
                    ),
                )
                self._added.add(period.enrolment_id)
        gm = municipality(s.postcode)
        if gm is None or mutatie == "A":
            return []
        payload: GemeenteInschrijving = {
            "bsn": s.bsn,
            "onderwijsnummer": s.onderwijsnummer,
            "geboortedatum": s.geboortedatum.isoformat() if s.geboortedatum else None,
            "mutatie": mutatie,
            "brin": period.brin,
            "vestiging": period.vestiging,
            "ingangsdatum": period.ingangsdatum.isoformat(),
            "einddatum": period.einddatum.isoformat() if period.einddatum else None,
        }
        return [
            self.message(
                fact, "inschrijvingen", s.number, str(period.enrolment_id), payload, gm
            )
        ]

    def on_link(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow
    ) -> list[Message]:
        """The municipality knew the resident by an onderwijsnummer: it learns the
        BSN that belongs to it (later messages carry both)."""
        gm = municipality(student.postcode)
        if gm is None or student.onderwijsnummer is None or student.bsn is None:
            return []
        payload: GemeenteKoppeling = {
            "onderwijsnummer": student.onderwijsnummer,
            "bsn": student.bsn,
            "geboortedatum": student.geboortedatum.isoformat()
            if student.geboortedatum
            else None,
        }
        return [
            self.message(fact, "koppelingen", student.number, student.bsn, payload, gm)
        ]

    def on_time(self, curs: Cursor[Any], fact: Fact, state: PageState) -> list[Message]:
        """Leavers whose 4 weeks have passed by this fact's recorded time. Checked
        per fact, not per page, so a rebuild with other pages decides the same."""
        today = fact.recorded_at.date()
        due: list[tuple[int, UUID, _Pending]] = []
        while self._due and self._due[0][0] < today:
            when, ended_by, eid = heapq.heappop(self._due)
            p = self._pending.get(eid)
            if p is not None and (p.due, p.ended_by) == (when, ended_by):
                due.append((ended_by, eid, p))
                self._drop(eid)  # a second heap entry for it finds nothing
        out = []
        for _, eid, pending in sorted(due, key=lambda d: d[0]):
            message = self._leaver(curs, state, fact, eid, pending)
            if message is not None:
                out.append(message)
        return out

    def _leaver(
        self,
        curs: Cursor[Any],
        state: PageState,
        fact: Fact,
        enrolment_id: UUID,
        pending: _Pending,
    ) -> Message | None:
        student = state.student(pending.student_id)
        if student is None:
            row = curs.execute(
                STUDENT_SELECT + " WHERE student_id = %s",
                (pending.student_id,),
            ).fetchone()
            if row is None:
                return None
            student = StudentRow(*row)
        gm = municipality(student.postcode)
        if gm is None:
            return None
        payload: GemeenteVsv = {
            "bsn": student.bsn,
            "onderwijsnummer": student.onderwijsnummer,
            "geboortedatum": student.geboortedatum.isoformat()
            if student.geboortedatum
            else None,
            "laatste_brin": pending.brin,
            "einddatum": pending.einddatum.isoformat(),
        }
        # Keyed by the end that started the wait, so the id does not depend on
        # which later fact noticed the four weeks had passed.
        return Message(
            gm,
            self.topic("vsv", gm),
            student.number,
            "vsv",
            str(enrolment_id),
            payload,
            pending.ended_by,
            fact.recorded_at,
        )
