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
from psycopg.sql import SQL, Composed

from registry.domain import foto
from registry.domain.foto import PEILING, FotoDocument, FotoEntry, FotoKind, Soort
from registry.domain.signals import ListedSignal
from registry.projections.engine.reading import ProjectionNotReady, reading
from registry.projections.engine.runner import Projector
from registry.projections.queries.signals import current
from registry.projections.timeline import Timeline

# {p}, {q}, {l}: "known" conditions on the periods, the school's own periods
# and the licences; {x} on the exclusions (see _known). X130 ranks only the
# periods that are otherwise fundable (licensed, not excluded), so licences and
# exclusions are read for every school of the ranked periods. {valid} selects
# the periods to rank: for one school, every period valid on D of the school's
# students (found through the school's GiST index, then the students' one); for
# the country, every period valid on D. Two statements, not one with
# "brin IS NULL OR …", which the planner can only answer with full scans.
_SCHOOL = """
SELECT p.*, e.registered_by
FROM (SELECT DISTINCT q.student_id FROM periods q WHERE q.brin = %(brin)s
        AND q.valid @> %(d)s::date AND {q}) mine
JOIN periods p ON p.student_id = mine.student_id
JOIN enrolments e ON e.enrolment_id = p.enrolment_id
WHERE p.valid @> %(d)s::date AND {p}
"""
_COUNTRY = """
SELECT p.*, e.registered_by FROM periods p JOIN enrolments e USING (enrolment_id)
WHERE p.valid @> %(d)s::date AND {p}
"""
_PERIODS = """
WITH valid AS ({valid}),
lic AS {materialized}(
  SELECT DISTINCT l.brin, l.vestiging, l.elementcode FROM licences l
  WHERE (%(brin)s::text IS NULL OR l.brin IN (SELECT brin FROM valid))
    AND l.valid @> %(d)s::date AND {l}),
exc AS {materialized}(
  SELECT x.brin, x.student_id, array_agg(DISTINCT x.reden ORDER BY x.reden)
    AS excluded
  FROM exclusions x WHERE x.schooljaar = %(sj)s AND {x}
    AND (%(brin)s::text IS NULL OR x.brin IN (SELECT brin FROM valid))
  GROUP BY x.brin, x.student_id),
judged AS (
  SELECT v.*, s.number, s.kind, s.bsn, lic.brin IS NULL AS unlicensed, exc.excluded,
    lic.brin IS NOT NULL AND exc.excluded IS NULL AS fundable
  FROM valid v JOIN students s USING (student_id)
  LEFT JOIN lic ON lic.brin = v.brin AND lic.vestiging = v.vestiging
    AND lic.elementcode = v.elementcode
  LEFT JOIN exc ON exc.brin = v.brin
    AND exc.student_id IN (s.student_id, s.bsn_id)),
ranked AS (
  SELECT j.*, row_number() OVER (
    PARTITION BY j.student_id, j.fundable
    ORDER BY j.ingangsdatum DESC, j.registered_by) AS rank
  FROM judged j)
SELECT r.brin, r.number, r.kind, r.bsn, r.vestiging, r.elementcode, r.leerjaar,
  r.ingangsdatum, r.einddatum, r.fundable AND r.rank > 1 AS double, r.student_id,
  r.enrolment_id, r.opened_by, r.unlicensed, r.excluded
FROM ranked r
WHERE %(brin)s::text IS NULL OR r.brin = %(brin)s
"""
# National totals counted in the database: a million rows are not fetched.
_TOTALS = """
SELECT brin, count(*) AS controletotaal,
  count(*) FILTER (WHERE NOT double AND NOT unlicensed AND excluded IS NULL) AS bekostigd
FROM ({periods}) z GROUP BY brin ORDER BY brin
"""


def _known(alias: str, by_position: bool) -> SQL:
    """A row version known at recorded time T, or, exactly, at log position P
    (a foto is re-derived at the position it was issued at, so events recorded
    later at the same instant cannot change it). A version opened and closed at
    one instant has an empty recorded range, but was known between the two
    positions; the time condition only helps the index."""
    if not by_position:
        return SQL(alias + ".recorded @> %(t)s::timestamptz")
    return SQL(
        alias + ".opened_by <= %(p)s AND coalesce(" + alias + ".closed_by, "
        "9223372036854775807) > %(p)s AND (isempty(" + alias + ".recorded) OR "
        "lower(" + alias + ".recorded) <= %(t)s)"
    )


def _query(by_position: bool, one_school: bool) -> Composed:
    x = "x.position <= %(p)s" if by_position else "x.recorded_at <= %(t)s"
    valid = SQL(_SCHOOL if one_school else _COUNTRY).format(
        p=_known("p", by_position), q=_known("q", by_position)
    )
    # One school: the planner expects a row or two and would scan the school's
    # licences once per period; materialized, they are read once. The country's query hash-joins them.
    materialized = SQL("MATERIALIZED " if one_school else "")
    return SQL(_PERIODS).format(
        valid=valid,
        l=_known("l", by_position),
        x=SQL(x),
        materialized=materialized,
    )


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


def _entry(row: PeriodRow) -> FotoEntry:
    why = reasons(row)
    return {
        "leerling": foto.leerling(row["number"], row["kind"], row["bsn"]),
        "vestiging": row["vestiging"],
        "elementcode": row["elementcode"],
        "leerjaar": row["leerjaar"],
        "ingangsdatum": row["ingangsdatum"].isoformat(),
        "einddatum": row["einddatum"].isoformat() if row["einddatum"] else None,
        "bekostigd": not why,
        "redenen": why,
    }


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
    curs.execute(_query(position is not None, brin is not None), params)
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
    rows = periods(curs, brin, schooljaar, peildatum, stand_per, position)
    return foto.document(
        soort,
        brin,
        schooljaar,
        peildatum.isoformat(),
        stand_per.astimezone(UTC).isoformat(),
        [_entry(r) for r in rows],
    )


def national_totals(
    curs: Cursor[Any], schooljaar: str, d: date, t: datetime
) -> dict[str, dict[str, int]]:
    """Per school: controletotaal and bekostigd on D as known at T."""
    query = SQL(_TOTALS).format(periods=_query(False, False))
    curs.execute(query, {"brin": None, "sj": schooljaar, "d": d, "t": t, "p": None})
    return {
        brin: {"controletotaal": total, "bekostigd": funded}
        for brin, total, funded in curs.fetchall()
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
