"""Municipalities (leerplicht and RMC): each receives, on its own topics, the
enrolments and deregistrations of its residents, who moves in and out, and
potential early school leavers (see `leavers`). Residence is the population
register's as the log recorded it (`residence`). Municipalities are entitled to
the BSN and the birth date."""

from __future__ import annotations

from typing import Any, ClassVar, Literal
from uuid import UUID

from psycopg import Cursor

from registry.projections.engine.event_log import Fact
from registry.projections.engine.sql import write_rows
from registry.projections.extracts.base import DDL, Period, Recipient, age
from registry.projections.extracts.leavers import (
    DDL as LEAVERS_DDL,
)
from registry.projections.extracts.leavers import (
    NOT_LEAVING,
    Open,
    Pending,
    Waiting,
    due_dates,
)
from registry.projections.extracts.outbox import Message, keyed_id
from registry.projections.extracts.page_state import PageState, PeriodRow, StudentRow
from registry.projections.extracts.payloads import (
    GemeenteInschrijving,
    GemeenteKoppeling,
    GemeenteVergeten,
    GemeenteVerhuizing,
    GemeenteVsv,
    Mutatie,
    Payload,
)
from registry.projections.extracts.residence import (
    municipality,
    municipality_of_pc4,
    residence,
)

__all__ = ["Municipalities", "municipality", "municipality_of_pc4"]


# Which municipalities were sent something about a number (to tell them to
# forget it); the rows go when the person is forgotten.
TOLD_DDL = """
CREATE TABLE told (number text NOT NULL, gm text NOT NULL, PRIMARY KEY (number, gm));
"""


def _iso(day: Any) -> str | None:
    return None if day is None else str(day.isoformat())


class Municipalities(Recipient):
    name: ClassVar[str] = "extract_gemeenten"
    # 3: a linked BSN beside the onderwijsnummer (one person, one history).
    # 4: keyed message ids; residence from the register; VSV per person (v2).
    version: ClassVar[int] = 4
    recipient: ClassVar[str] = "gemeenten"
    ddl: ClassVar[str] = DDL + LEAVERS_DDL + TOLD_DDL

    def __init__(self, key: bytes, topic: Any) -> None:
        super().__init__(key, topic)
        self.waiting = Waiting()
        self._told: set[tuple[str, str]] = set()  # (number, gm), this page

    def start_page(self, curs: Cursor[Any]) -> None:
        self.waiting.start_page(curs)
        self._told = set()

    def end_page(self, curs: Cursor[Any]) -> None:
        self.waiting.end_page(curs)
        write_rows(
            curs,
            "INSERT INTO told SELECT * FROM {rows} ON CONFLICT DO NOTHING",
            "number text, gm text",
            sorted(self._told),
        )

    def message(
        self,
        fact: Fact,
        kind: str,
        subject_key: str,
        subject: str,
        payload: Payload,
        recipient: str | None = None,
        position: int | None = None,
        about: UUID | None = None,
    ) -> Message:
        """Every municipality's message is keyed by the student's number: noted,
        so a forgotten person's municipalities are told to forget them."""
        if recipient is not None:
            self._told.add((subject_key, recipient))
        return super().message(
            fact, kind, subject_key, subject, payload, recipient, position, about
        )

    def on_forget(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow, state: PageState
    ) -> list[Message]:
        """Each municipality that was told of the person forgets them too."""
        number = student.number
        gms = {gm for n, gm in self._told if n == number}
        gms |= {
            r[0]
            for r in curs.execute("SELECT gm FROM told WHERE number = %s", (number,))
        }
        curs.execute("DELETE FROM told WHERE number = %s", (number,))
        self._told = {(n, gm) for n, gm in self._told if n != number}
        self.waiting.withdrawn(student.student_id)
        payload: GemeenteVergeten = {
            "bsn": student.bsn,
            "onderwijsnummer": student.onderwijsnummer,
            "datum": fact.recorded_at.date().isoformat(),
        }
        subject = f"{student.student_id}/vergeten"
        out = [
            super(Municipalities, self).message(
                fact, "vergeten", number, subject, payload, gm
            )
            for gm in sorted(gms)
        ]
        return out

    def on_mutation(
        self,
        curs: Cursor[Any],
        fact: Fact,
        mutatie: Mutatie,
        period: Period,
        state: PageState,
    ) -> list[Message]:
        self._schedule(fact, period)
        out = self._withdrawal(fact, period)
        gm = residence(period.student)
        if gm is None or mutatie == "A":
            return out
        s = period.student
        payload: GemeenteInschrijving = {
            "bsn": s.bsn,
            "onderwijsnummer": s.onderwijsnummer,
            "geboortedatum": _iso(s.geboortedatum),
            "mutatie": mutatie,
            "brin": period.brin,
            "vestiging": period.vestiging,
            "ingangsdatum": period.ingangsdatum.isoformat(),
            "einddatum": _iso(period.einddatum),
        }
        return [
            *out,
            self.message(
                fact, "inschrijvingen", s.number, str(period.enrolment_id), payload, gm
            ),
        ]

    def _schedule(self, fact: Fact, period: Period) -> None:
        """An end set or moved waits for its check day; a period deleted or
        re-opened waits for nothing."""
        eid = period.enrolment_id
        if period.deleted or period.einddatum is None:
            self.waiting.drop(eid)
        elif period.einddatum != period.previous_einddatum:
            due, check_on = due_dates(period.einddatum)
            pending = Pending(
                period.student.student_id,
                period.einddatum,
                due,
                check_on,
                fact.position,
                period.brin,
            )
            self.waiting.schedule(eid, pending)

    def _withdrawal(self, fact: Fact, period: Period) -> list[Message]:
        """A signal no longer true: the person enrolled again anywhere, or the
        end it rested on was corrected."""
        sid = period.student.student_id
        signal = self.waiting.open.get(sid)
        if signal is None:
            return []
        why: Literal["ingeschreven", "gecorrigeerd"]
        if period.enrolment_id == signal.enrolment_id and (
            period.deleted or period.einddatum is None
        ):
            why, where = "gecorrigeerd", None
        elif not period.deleted and (
            period.einddatum is None or period.einddatum >= signal.due
        ):
            why, where = "ingeschreven", period.brin
        else:
            return []
        self.waiting.withdrawn(sid)
        s = period.student
        payload = _vsv(s, signal, "ingetrokken", None)
        payload["reden_intrekking"], payload["ingeschreven_brin"] = why, where
        subject = f"{signal.melding_id}/ingetrokken"
        return [self.message(fact, "vsv", s.number, subject, payload, signal.gm)]

    def on_time(self, curs: Cursor[Any], fact: Fact, state: PageState) -> list[Message]:
        """Ends whose check day has passed by this fact's recorded time. Checked
        per fact, not per page, so a rebuild with other pages decides the same."""
        out = []
        for eid, pending in self.waiting.come_due(fact.recorded_at.date()):
            message = self._leaver(fact, state, eid, pending)
            if message is not None:
                out.append(message)
        return out

    def _leaver(
        self, fact: Fact, state: PageState, eid: UUID, p: Pending
    ) -> Message | None:
        periods = state.periods_of(p.student_id)
        student = state.student(p.student_id)
        ended = next((q for q in periods if q.enrolment_id == eid), None)
        if student is None or ended is None or not _still_ended(ended, p):
            return None
        gm = residence(student)
        years = age(student.geboortedatum, p.due)
        if (
            gm is None
            or years is None
            or years >= 23
            or ended.reden_einde in NOT_LEAVING
            or any(q.covers(p.due) for q in periods)
            or p.student_id in self.waiting.open
        ):
            return None
        melding = keyed_id(self.key, gm, p.ended_by, "vsv", str(eid))
        signal = Open(melding, gm, eid, p.brin, p.einddatum, p.due)
        self.waiting.signalled(p.student_id, signal)
        payload = _vsv(student, signal, "signaal", ended.reden_einde)
        # Keyed by the end that started the wait, so the id does not depend on
        # which later fact noticed the check day had passed.
        return self.message(
            fact, "vsv", student.number, str(eid), payload, gm, p.ended_by, p.student_id
        )

    def on_link(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow
    ) -> list[Message]:
        """The municipality knew the resident by an onderwijsnummer: it learns the
        BSN that belongs to it (later messages carry both)."""
        gm = residence(student)
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

    def on_move(
        self,
        curs: Cursor[Any],
        fact: Fact,
        student: StudentRow,
        was: str | None,
        now: str | None,
        state: PageState,
    ) -> list[Message]:
        """A move hands the student over: the old municipality learns only that
        they left, the new one gets them with their current enrolments. A
        student with no period yet was never reported anywhere: nothing to hand
        over."""
        periods = [q for q in state.periods_of(student.student_id) if not q.deleted]
        if not periods:
            return []
        today = fact.recorded_at.date()
        out = []
        if was is not None:
            left = _move(student, "vertrokken", today, [])
            out.append(self._moved(fact, student, left, was))
        if now is not None:
            current = [
                q for q in periods if q.einddatum is None or q.einddatum >= today
            ]
            settled = _move(student, "gevestigd", today, current)
            out.append(self._moved(fact, student, settled, now))
        return out

    def _moved(
        self, fact: Fact, s: StudentRow, payload: GemeenteVerhuizing, gm: str
    ) -> Message:
        subject = f"{s.student_id}/{payload['richting']}"
        return self.message(fact, "verhuizingen", s.number, subject, payload, gm)


def _still_ended(period: PeriodRow, pending: Pending) -> bool:
    return not period.deleted and period.einddatum == pending.einddatum


def _vsv(
    s: StudentRow, signal: Open, status: str, reden_einde: str | None
) -> GemeenteVsv:
    return {
        "status": "signaal" if status == "signaal" else "ingetrokken",
        "melding_id": str(signal.melding_id),
        "bsn": s.bsn,
        "onderwijsnummer": s.onderwijsnummer,
        "geboortedatum": _iso(s.geboortedatum),
        "laatste_brin": signal.brin,
        "einddatum": signal.einddatum.isoformat(),
        "peildatum": signal.due.isoformat(),
        "reden_einde": reden_einde,
        "reden_intrekking": None,
        "ingeschreven_brin": None,
    }


def _move(
    s: StudentRow, richting: str, day: Any, periods: list[PeriodRow]
) -> GemeenteVerhuizing:
    settled = richting == "gevestigd"
    return {
        "richting": "gevestigd" if settled else "vertrokken",
        "bsn": s.bsn,
        "onderwijsnummer": s.onderwijsnummer,
        "geboortedatum": _iso(s.geboortedatum) if settled else None,
        "datum": day.isoformat(),
        "inschrijvingen": [
            {
                "brin": q.brin,
                "vestiging": q.vestiging,
                "ingangsdatum": q.ingangsdatum.isoformat(),
                "einddatum": _iso(q.einddatum),
            }
            for q in periods
        ],
    }
