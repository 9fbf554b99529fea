"""Potential early school leavers (VSV/RMC), per person: a resident under 23 who
has no current enrolment anywhere at the due date (four weeks after the end, or
1 October for an end at the school year's end), did not leave with a diploma and
is not known to have moved abroad. A later enrolment anywhere, or a correction
of the end (a `V`, an `A` re-opening it), withdraws the signal with a message
that names it (`melding_id`).

The decision is taken when recorded time passes the check day: the due date for
an end during the year (the next school had four weeks to deliver), 16 October
for a summer end (next-year enrolments are due between 1 and 15 October).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from psycopg import Cursor

from registry.projections.engine.sql import write_rows

WINDOW = timedelta(weeks=4)
NOT_LEAVING = frozenset({"diploma", "buitenland"})  # reden_einde (contract.md)
DDL = """
CREATE TABLE pending_leavers (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, einddatum date NOT NULL,
  due date NOT NULL, check_on date NOT NULL, ended_by bigint NOT NULL,
  brin text NOT NULL);
CREATE TABLE vsv_open (
  student_id uuid PRIMARY KEY, melding_id uuid NOT NULL, gm text NOT NULL,
  enrolment_id uuid NOT NULL, brin text NOT NULL, einddatum date NOT NULL,
  due date NOT NULL);
CREATE TABLE pending_written (txid bigint NOT NULL);
INSERT INTO pending_written VALUES (0);
"""


def due_dates(einddatum: date) -> tuple[date, date]:
    """(the day enrolment is looked at, the recorded day the check runs)."""
    if einddatum.month in (7, 8):  # the school year's end: a next-year enrolment
        return date(einddatum.year, 10, 1), date(einddatum.year, 10, 16)
    due = einddatum + WINDOW
    return due, due


@dataclass
class Pending:
    """An ended period waiting for its check day."""

    student_id: UUID
    einddatum: date
    due: date
    check_on: date
    ended_by: int  # the log position of the event that set this end
    brin: str


@dataclass
class Open:
    """A signal sent and not withdrawn: at most one per person."""

    melding_id: UUID
    gm: str
    enrolment_id: UUID
    brin: str
    einddatum: date
    due: date


class Waiting:
    """The pending ends and open signals, kept in memory from page to page:
    after the year-end deregistrations far too many to load on every page. A
    heap by check day lets a fact pop what has come due instead of scanning;
    a page writes back only what changed. Each page notes its transaction id
    beside them; a page that finds another one than it left (its own page
    rolled back, another process, another schema) loads them again."""

    def __init__(self) -> None:
        self._memo: tuple[str, int] | None = None
        self.pending: dict[UUID, Pending] = {}
        self.open: dict[UUID, Open] = {}
        self._heap: list[tuple[date, int, UUID]] = []
        self._changed: set[tuple[str, UUID]] = set()

    def start_page(self, curs: Cursor[Any]) -> None:
        row = curs.execute(
            "SELECT current_schema(), txid FROM pending_written"
        ).fetchone()
        assert row is not None
        memo, self._memo = self._memo, None  # set again only by a whole page
        if memo != (row[0], row[1]):
            self._load(curs)
        self._changed = set()

    def _load(self, curs: Cursor[Any]) -> None:
        self.pending, self.open, self._heap = {}, {}, []
        for r in curs.execute(
            "SELECT enrolment_id, student_id, einddatum, due, check_on, ended_by, brin "
            "FROM pending_leavers"
        ):
            self.schedule(r[0], Pending(*r[1:]))
        for r in curs.execute(
            "SELECT student_id, melding_id, gm, enrolment_id, brin, einddatum, due "
            "FROM vsv_open"
        ):
            self.open[r[0]] = Open(*r[1:])

    def schedule(self, eid: UUID, pending: Pending) -> None:
        self.pending[eid] = pending
        heapq.heappush(self._heap, (pending.check_on, pending.ended_by, eid))
        self._changed.add(("pending", eid))

    def drop(self, eid: UUID) -> None:
        if self.pending.pop(eid, None) is not None:
            self._changed.add(("pending", eid))

    def signalled(self, student_id: UUID, signal: Open) -> None:
        self.open[student_id] = signal
        self._changed.add(("open", student_id))

    def withdrawn(self, student_id: UUID) -> None:
        if self.open.pop(student_id, None) is not None:
            self._changed.add(("open", student_id))

    def come_due(self, today: date) -> list[tuple[UUID, Pending]]:
        """The ends whose check day lies before `today`, in log order."""
        due = []
        while self._heap and self._heap[0][0] < today:
            check_on, ended_by, eid = heapq.heappop(self._heap)
            p = self.pending.get(eid)
            # A stale heap entry (re-scheduled or dropped since) finds nothing.
            if p is not None and (p.check_on, p.ended_by) == (check_on, ended_by):
                due.append((eid, p))
                self.drop(eid)
        return sorted(due, key=lambda d: d[1].ended_by)

    def end_page(self, curs: Cursor[Any]) -> None:
        pending = [k for t, k in self._changed if t == "pending"]
        opened = [k for t, k in self._changed if t == "open"]
        curs.execute(
            "DELETE FROM pending_leavers WHERE enrolment_id = ANY(%b)", (pending,)
        )
        curs.execute("DELETE FROM vsv_open WHERE student_id = ANY(%b)", (opened,))
        write_rows(
            curs,
            "INSERT INTO pending_leavers SELECT * FROM {rows}",
            "enrolment_id uuid, student_id uuid, einddatum date, due date, "
            "check_on date, ended_by bigint, brin text",
            [
                (e, p.student_id, p.einddatum, p.due, p.check_on, p.ended_by, p.brin)
                for e in pending
                if (p := self.pending.get(e)) is not None
            ],
        )
        write_rows(
            curs,
            "INSERT INTO vsv_open SELECT * FROM {rows}",
            "student_id uuid, melding_id uuid, gm text, enrolment_id uuid, brin text, "
            "einddatum date, due date",
            [
                (s, o.melding_id, o.gm, o.enrolment_id, o.brin, o.einddatum, o.due)
                for s in opened
                if (o := self.open.get(s)) is not None
            ],
        )
        row = curs.execute(
            "UPDATE pending_written SET txid = txid_current() "
            "RETURNING current_schema(), txid"
        ).fetchone()
        assert row is not None
        self._memo = (row[0], row[1])
