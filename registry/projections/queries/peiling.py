"""Snapshots (peilingen) from the timeline: who was enrolled on peildatum D as
known at stand_per T, each period with its funding verdict (contract.md).

Verdicts, as known at T:
- X121: the elementcode is not licensed at the vestiging on D;
- X130: another otherwise fundable period of the same student is valid on D and
  wins: the one with the latest ingangsdatum, on a tie the one registered first
  (an unlicensed or excluded period takes part in no ranking);
- X151 / X160: the student is on the school's assurance exclusions
  (reden `indicatie` / `verzuim`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypedDict, cast
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL

from registry.domain import foto
from registry.domain.foto import PEILING, FotoDocument, FotoKind, Soort
from registry.domain.signals import ListedSignal
from registry.projections.engine.reading import ProjectionNotReady, reading
from registry.projections.engine.runner import Projector
from registry.projections.queries import answers, entries
from registry.projections.queries.signals import current
from registry.projections.queries.verdicts import periods_query
from registry.projections.timeline import Timeline

# National totals counted in the database: a million rows are not fetched.
_TOTALS = """
SELECT brin, count(*) AS controletotaal,
  count(*) FILTER (WHERE NOT double AND NOT unlicensed AND excluded IS NULL) AS bekostigd
FROM ({periods}) z GROUP BY brin ORDER BY brin
"""


class PeriodRow(TypedDict):
    """A period valid on D as known at T, with what its verdict rests on."""

    brin: str
    number: str
    kind: str
    bsn: str | None  # linked to a person under an onderwijsnummer
    vestiging: str
    elementcode: str
    leerjaar: int
    ingangsdatum: date
    einddatum: date | None
    double: bool
    student_id: UUID
    enrolment_id: UUID
    opened_by: int
    unlicensed: bool
    excluded: list[str] | None


def reasons(row: PeriodRow) -> list[str]:
    return foto.verdict(row["unlicensed"], row["double"], row["excluded"] or ())


def periods(
    curs: Cursor[Any],
    brin: str | None,
    schooljaar: str,
    d: date,
    t: datetime,
    position: int | None = None,
) -> list[PeriodRow]:
    """Periods valid on D as known at T (or exactly at log position P)."""
    params = {"brin": brin, "sj": schooljaar, "d": d, "t": t, "p": position}
    curs.execute(periods_query(position is not None, brin is not None), params)
    names = [c.name for c in curs.description or ()]
    return [
        cast(PeriodRow, dict(zip(names, row, strict=True))) for row in curs.fetchall()
    ]


def snapshot(
    curs: Cursor[Any],
    brin: str,
    schooljaar: str,
    peildatum: date,
    stand_per: datetime,
    soort: Soort = PEILING,
    position: int | None = None,
) -> FotoDocument:
    return foto.document(
        soort,
        brin,
        schooljaar,
        peildatum.isoformat(),
        stand_per.astimezone(UTC).isoformat(),
        entries.rows(curs, brin, schooljaar, peildatum, stand_per, position),
        ordered=True,
    )


def national_totals(
    curs: Cursor[Any], schooljaar: str, d: date, t: datetime
) -> dict[str, dict[str, int]]:
    """Per school: controletotaal and bekostigd on D as known at T (kept in
    memory once final: answers.py)."""

    def count() -> dict[str, tuple[int, int]]:
        query = SQL(_TOTALS).format(periods=periods_query(False, False))
        params = {"brin": None, "sj": schooljaar, "d": d, "t": t, "p": None}
        with curs.connection.transaction():
            # The planner sorts the country's million periods to merge-join
            # them with the licences; hashing the licences takes half the time.
            # (For the rest of the transaction: national totals are read alone.)
            curs.execute("SET LOCAL enable_mergejoin = off")
            rows = curs.execute(query, params).fetchall()
        return {brin: (total, funded) for brin, total, funded in rows}

    question = ("national_totals", schooljaar, d, t)
    counted = answers.remembered(
        answers.stamp(curs), t, question, count, lambda c: 100 * len(c)
    )
    return {
        brin: {"controletotaal": total, "bekostigd": funded}
        for brin, (total, funded) in counted.items()
    }


class TimelineFotos:
    """The timeline as issuing a foto needs it (application.fotos.Timeline)."""

    def __init__(self, projector: Projector) -> None:
        self.projector = projector
        self.timeline = Timeline()

    def wait(self, position: int, timeout: float) -> None:
        self.projector.wait(self.timeline, position, timeout)

    def derive(
        self,
        soort: FotoKind,
        brin: str,
        schooljaar: str,
        peildatum: date,
        stand_per: datetime,
        position: int,
    ) -> FotoDocument:
        with reading(self.projector.conninfo, Timeline.name) as r:
            if not self.projector.holds(self.timeline, r.position, position):
                raise ProjectionNotReady(
                    f"the timeline is at log position {r.position}, not {position}"
                )
            return snapshot(
                r.cursor, brin, schooljaar, peildatum, stand_per, soort.value, position
            )

    def signals(
        self, brin: str, schooljaar: str, stand_per: datetime
    ) -> list[ListedSignal]:
        with reading(self.projector.conninfo, Timeline.name) as r:
            return current(r.cursor, brin, schooljaar, stand_per)
