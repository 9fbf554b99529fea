"""SVB (child benefit): for each 16- or 17-year-old with a BSN, whether they are
enrolled in full-time education on each month's peildatum (the first of the
month), by BSN, which the SVB is entitled to. Nothing else: not the school, not
the mutations.

SVB hears of a person the first month they are in view (`eerste`) and again
only when the status flips (`wijziging`), on the peildatum or when a later
delivery shows it flipped on the last one passed. A correction that changes the
truth of the last status sent (a period deleted as entered in error, an end
withdrawn) goes out as a `correctie` of that peildatum, never as leaving. A transfer or a leerjaar change leaves the status as it is: another
period covers the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from psycopg import Cursor

from registry.projections.engine.event_log import Fact
from registry.projections.engine.sql import write_rows
from registry.projections.extracts.base import DDL, Period, Recipient, age
from registry.projections.extracts.outbox import Message
from registry.projections.extracts.page_state import PageState, StudentRow
from registry.projections.extracts.payloads import (
    Mutatie,
    SvbKinderbijslag,
    SvbVergeten,
)

SVB_DDL = """
CREATE TABLE svb_status (
  student_id uuid PRIMARY KEY, peildatum date NOT NULL, ingeschreven boolean NOT NULL);
CREATE TABLE svb_clock (peildatum date);
INSERT INTO svb_clock VALUES (NULL);
"""
# The month's status of every person in view whose status differs from the last
# one sent: 16 or 17 on the peildatum, a BSN, and a period somewhere (a BSN
# registered as another person's alias has none: its periods are the person's).
_FLIPS = """
WITH seen AS (
  SELECT s.student_id,
    CASE WHEN s.kind = 'bsn' THEN s.number ELSE s.linked_bsn END AS bsn,
    s.geboortedatum,
    EXISTS (SELECT 1 FROM periods p WHERE p.student_id = s.student_id AND NOT p.deleted
            AND p.ingangsdatum <= %(d)s AND (p.einddatum IS NULL OR p.einddatum >= %(d)s))
      AS enrolled
  FROM students s
  WHERE s.geboortedatum > %(d)s::date - interval '18 years'
    AND s.geboortedatum <= %(d)s::date - interval '16 years'
    AND EXISTS (SELECT 1 FROM periods p WHERE p.student_id = s.student_id))
SELECT seen.student_id, seen.bsn, seen.geboortedatum, seen.enrolled, st.ingeschreven
FROM seen LEFT JOIN svb_status st USING (student_id)
WHERE seen.bsn IS NOT NULL AND st.ingeschreven IS DISTINCT FROM seen.enrolled
ORDER BY seen.bsn
"""


@dataclass
class Status:
    """The last status sent for a person, and its peildatum."""

    peildatum: date
    ingeschreven: bool


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


class Svb(Recipient):
    name: ClassVar[str] = "extract_svb"
    # 2: students keep a linked BSN (one person, one history).
    # 3: keyed message ids; a monthly status per person (kinderbijslag v2).
    version: ClassVar[int] = 3
    recipient: ClassVar[str] = "svb"
    ddl: ClassVar[str] = DDL + SVB_DDL

    def load_page(self, curs: Cursor[Any], state: PageState) -> None:
        self._sent: dict[UUID, Status] = {
            r[0]: Status(r[1], r[2])
            for r in curs.execute(
                "SELECT student_id, peildatum, ingeschreven FROM svb_status "
                "WHERE student_id = ANY(%b)",
                (list(state.students),),
            )
        }
        self._changed: set[UUID] = set()
        row = curs.execute("SELECT peildatum FROM svb_clock").fetchone()
        self._clock: date | None = None if row is None else row[0]

    def end_page(self, curs: Cursor[Any]) -> None:
        self._write(curs)
        curs.execute("UPDATE svb_clock SET peildatum = %s", (self._clock,))

    def _write(self, curs: Cursor[Any]) -> None:
        write_rows(
            curs,
            "INSERT INTO svb_status SELECT * FROM {rows} ON CONFLICT (student_id) "
            "DO UPDATE SET peildatum = excluded.peildatum, "
            "ingeschreven = excluded.ingeschreven",
            "student_id uuid, peildatum date, ingeschreven boolean",
            [
                (s, self._sent[s].peildatum, self._sent[s].ingeschreven)
                for s in self._changed
            ],
        )
        self._changed.clear()

    def on_mutation(
        self,
        curs: Cursor[Any],
        fact: Fact,
        mutatie: Mutatie,
        period: Period,
        state: PageState,
    ) -> list[Message]:
        """A correction of the last status sent, when this event changed what was
        true on its peildatum; else a change, when it changed the status on the
        last peildatum passed (a late end, a late new school)."""
        s = period.student
        sent = self._sent.get(s.student_id)
        if sent is None or s.bsn is None or self._clock is None:
            return []
        periods = state.periods_of(s.student_id)
        soort: Literal["correctie", "wijziging"] = "correctie"
        day = sent.peildatum
        enrolled = any(q.covers(day) for q in periods)
        if enrolled == sent.ingeschreven and self._clock > day:
            soort, day = "wijziging", self._clock
            enrolled = any(q.covers(day) for q in periods)
        years = age(s.geboortedatum, day)
        if enrolled == sent.ingeschreven or years not in (16, 17):
            return []
        self._set(s.student_id, Status(day, enrolled))
        assert years is not None
        payload = _status(s.bsn, day, enrolled, soort, years)
        subject = f"{s.student_id}/{day}/{soort}"
        return [self.message(fact, "kinderbijslag", s.bsn, subject, payload)]

    def on_forget(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow, state: PageState
    ) -> list[Message]:
        """SVB forgets the person too, when it was ever sent their status."""
        if student.bsn is None or student.student_id not in self._sent:
            return []
        payload: SvbVergeten = {
            "bsn": student.bsn,
            "datum": fact.recorded_at.date().isoformat(),
        }
        subject = f"{student.student_id}/vergeten"
        return [self.message(fact, "vergeten", student.bsn, subject, payload)]

    def _set(self, student_id: UUID, status: Status) -> None:
        self._sent[student_id] = status
        self._changed.add(student_id)

    def on_time(self, curs: Cursor[Any], fact: Fact, state: PageState) -> list[Message]:
        """Each month's peildatum, once recorded time has passed it (facts of
        that day still count). Per fact, so any paging decides the same."""
        today = fact.recorded_at.date()
        if self._clock is None:  # history starts: the next first of the month
            self._clock = date(today.year, today.month, 1)
        out: list[Message] = []
        while (peildatum := _month_after(self._clock)) < today:
            out += self._month(curs, fact, state, peildatum)
            self._clock = peildatum
        return out

    def _month(
        self, curs: Cursor[Any], fact: Fact, state: PageState, peildatum: date
    ) -> list[Message]:
        state.write()  # the month is read from the tables: the page so far first
        self._write(curs)
        out = []
        for sid, bsn, born, enrolled, before in curs.execute(
            _FLIPS, {"d": peildatum}
        ).fetchall():
            self._set(sid, Status(peildatum, enrolled))
            soort: Literal["eerste", "wijziging"] = (
                "eerste" if before is None else "wijziging"
            )
            years = age(born, peildatum) or 16
            payload = _status(bsn, peildatum, enrolled, soort, years)
            subject = f"{sid}/{peildatum}/{soort}"
            out.append(
                self.message(fact, "kinderbijslag", bsn, subject, payload, about=sid)
            )
        return out


def _status(
    bsn: str,
    peildatum: date,
    ingeschreven: bool,
    soort: Literal["eerste", "wijziging", "correctie"],
    years: int,
) -> SvbKinderbijslag:
    return {
        "bsn": bsn,
        "peildatum": peildatum.isoformat(),
        "ingeschreven": ingeschreven,
        "soort": soort,
        "leeftijd": years,
    }
