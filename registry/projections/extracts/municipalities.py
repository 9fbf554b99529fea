"""Municipalities (leerplicht and RMC): each receives, on its own topic, the
enrolments and deregistrations of its residents (by the student's postcode),
and potential early school leavers: residents under 23 whose enrolment ended
with no new one starting within 4 weeks. Municipalities are entitled to the BSN
and the birth date."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any, ClassVar

from psycopg import Cursor

from registry.projections.extracts.base import ExtractProjection, Period, age
from registry.projections.extracts.outbox import Message
from registry.projections.log import Fact

LEAVER_WINDOW = timedelta(weeks=4)


@cache
def municipality_of_pc4() -> dict[str, str]:
    data = resources.files("registry.domain.data").joinpath("pc4_municipality.csv")
    with data.open(encoding="utf-8") as f:
        return {r["pc4"]: r["municipality_code"].lower() for r in csv.DictReader(f)}


def municipality(postcode: str | None) -> str | None:
    return None if not postcode else municipality_of_pc4().get(postcode[:4])


class Municipalities(ExtractProjection):
    name: ClassVar[str] = "extract_gemeenten"
    version: ClassVar[int] = 1
    recipient: ClassVar[str] = "gemeenten"
    extra_ddl: ClassVar[str] = """
CREATE TABLE pending_leavers (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, einddatum date NOT NULL,
  due date NOT NULL, ended_by bigint NOT NULL);
CREATE INDEX pending_leavers_due ON pending_leavers (due);
"""

    _next_due: date | None = None

    def start_page(self, curs: Cursor[Any]) -> None:
        row = curs.execute("SELECT min(due) FROM pending_leavers").fetchone()
        self._next_due = row[0] if row else None

    def on_mutation(
        self, curs: Cursor[Any], fact: Fact, mutatie: str, period: Period
    ) -> list[Message]:
        s = period.student
        if mutatie == "T":
            curs.execute(
                "DELETE FROM pending_leavers WHERE student_id = %s AND due >= %s",
                (s.student_id, period.ingangsdatum),
            )
        elif mutatie == "U" and period.einddatum is not None:
            years = age(s.geboortedatum, period.einddatum)
            if years is not None and years < 23:
                curs.execute(
                    "INSERT INTO pending_leavers VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (enrolment_id) DO UPDATE SET einddatum = excluded.einddatum, "
                    "due = excluded.due, ended_by = excluded.ended_by",
                    (
                        period.enrolment_id,
                        s.student_id,
                        period.einddatum,
                        period.einddatum + LEAVER_WINDOW,
                        fact.position,
                    ),
                )
                due = period.einddatum + LEAVER_WINDOW
                self._next_due = min(self._next_due or due, due)
        gm = municipality(s.postcode)
        if gm is None or mutatie == "A":
            return []
        payload = {
            "bsn": s.bsn,
            "onderwijsnummer": None if s.bsn else s.number,
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

    def on_time(self, curs: Cursor[Any], fact: Fact) -> list[Message]:
        """Leavers whose 4 weeks have passed by this fact's recorded time. Checked
        per fact, not per page, so a rebuild with other pages decides the same."""
        today = fact.recorded_at.date()
        if self._next_due is None or self._next_due >= today:
            return []
        due = curs.execute(
            "DELETE FROM pending_leavers WHERE due < %s RETURNING enrolment_id, "
            "student_id, einddatum, ended_by",
            (today,),
        ).fetchall()
        self.start_page(curs)
        return [m for row in due if (m := self._leaver(curs, fact, *row)) is not None]

    def _leaver(
        self,
        curs: Cursor[Any],
        fact: Fact,
        enrolment_id: Any,
        student_id: Any,
        einddatum: date,
        ended_by: int,
    ) -> Message | None:
        row = curs.execute(
            "SELECT s.number, s.kind, s.geboortedatum, s.postcode, p.brin FROM students s "
            "JOIN periods p ON p.enrolment_id = %s WHERE s.student_id = %s",
            (enrolment_id, student_id),
        ).fetchone()
        if row is None or (gm := municipality(row[3])) is None:
            return None
        number, kind, born, _, brin = row
        payload = {
            "bsn": number if kind == "bsn" else None,
            "onderwijsnummer": None if kind == "bsn" else number,
            "geboortedatum": born.isoformat() if born else None,
            "laatste_brin": brin,
            "einddatum": einddatum.isoformat(),
        }
        # Keyed by the end that started the wait, so the id does not depend on
        # which later fact noticed the four weeks had passed.
        return Message(
            gm,
            self.topic("vsv", gm),
            number,
            "vsv",
            str(enrolment_id),
            payload,
            ended_by,
            fact.recorded_at,
        )
