"""Snapshots (peilingen) from the timeline: who was enrolled on peildatum D as
known at stand_per T, each period with its funding verdict (contract.md).

Verdicts, as known at T:
- X121: the elementcode is not licensed at the vestiging on D;
- X130: another period of the same student is valid on D and wins: the one with
  the latest ingangsdatum, on a tie the one registered first;
- X151 / X160: the student is on the school's assurance exclusions
  (reden `indicatie` / `verzuim`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from psycopg import Cursor

FORMAT = "bron-vo-foto/1"
EXCLUSION_CODES = {"indicatie": "X151", "verzuim": "X160"}

# %(brin)s NULL means every school (national totals).
_PERIODS = """
WITH valid AS (
  SELECT p.*, e.registered_by FROM periods p JOIN enrolments e USING (enrolment_id)
  WHERE p.valid @> %(d)s::date AND p.recorded @> %(t)s::timestamptz
    AND (%(brin)s::text IS NULL OR p.student_id IN (
      SELECT student_id FROM periods q WHERE q.brin = %(brin)s
        AND q.valid @> %(d)s::date AND q.recorded @> %(t)s::timestamptz))),
ranked AS (
  SELECT v.*, row_number() OVER (
    PARTITION BY student_id ORDER BY ingangsdatum DESC, registered_by) AS rank
  FROM valid v)
SELECT r.brin, s.number, s.kind, r.vestiging, r.elementcode, r.leerjaar,
  r.ingangsdatum, r.einddatum, r.rank > 1 AS double,
  NOT EXISTS (SELECT 1 FROM licences l WHERE l.brin = r.brin
    AND l.vestiging = r.vestiging AND l.elementcode = r.elementcode
    AND l.valid @> %(d)s::date AND l.recorded @> %(t)s::timestamptz) AS unlicensed,
  (SELECT array_agg(DISTINCT x.reden ORDER BY x.reden) FROM exclusions x
   WHERE x.brin = r.brin AND x.schooljaar = %(sj)s AND x.number = s.number
     AND x.recorded_at <= %(t)s::timestamptz) AS excluded
FROM ranked r JOIN students s USING (student_id)
WHERE %(brin)s::text IS NULL OR r.brin = %(brin)s
"""


def reasons(row: dict[str, Any]) -> list[str]:
    out = []
    if row["unlicensed"]:
        out.append("X121")
    if row["double"]:
        out.append("X130")
    out += [EXCLUSION_CODES[r] for r in row["excluded"] or () if r in EXCLUSION_CODES]
    return sorted(out)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    why = reasons(row)
    number = row["number"]
    return {
        "leerling": {
            "bsn": number if row["kind"] == "bsn" else None,
            "onderwijsnummer": None if row["kind"] == "bsn" else number,
        },
        "vestiging": row["vestiging"],
        "elementcode": row["elementcode"],
        "leerjaar": row["leerjaar"],
        "ingangsdatum": row["ingangsdatum"].isoformat(),
        "einddatum": row["einddatum"].isoformat() if row["einddatum"] else None,
        "bekostigd": not why,
        "redenen": why,
    }


def periods(
    curs: Cursor[Any], brin: str | None, schooljaar: str, d: date, t: datetime
) -> list[dict[str, Any]]:
    curs.execute(_PERIODS, {"brin": brin, "sj": schooljaar, "d": d, "t": t})
    names = [c.name for c in curs.description or ()]
    return [dict(zip(names, row, strict=True)) for row in curs.fetchall()]


def snapshot(
    curs: Cursor[Any],
    brin: str,
    schooljaar: str,
    peildatum: date,
    stand_per: datetime,
    soort: str = "peiling",
) -> dict[str, Any]:
    entries = [_entry(r) for r in periods(curs, brin, schooljaar, peildatum, stand_per)]
    entries.sort(
        key=lambda e: (
            e["leerling"]["bsn"] or e["leerling"]["onderwijsnummer"],
            e["vestiging"],
            e["ingangsdatum"],
        )
    )
    return {
        "format": FORMAT,
        "soort": soort,
        "brin": brin,
        "schooljaar": schooljaar,
        "peildatum": peildatum.isoformat(),
        "stand_per": stand_per.isoformat(),
        "controletotaal": len(entries),
        "bekostigd": sum(e["bekostigd"] for e in entries),
        "inschrijvingen": entries,
    }


def content_hash(document: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def national_totals(
    curs: Cursor[Any], schooljaar: str, d: date, t: datetime
) -> dict[str, dict[str, int]]:
    """Per school: controletotaal and bekostigd on D as known at T."""
    totals: dict[str, dict[str, int]] = {}
    for row in periods(curs, None, schooljaar, d, t):
        school = totals.setdefault(row["brin"], {"controletotaal": 0, "bekostigd": 0})
        school["controletotaal"] += 1
        school["bekostigd"] += not reasons(row)
    return dict(sorted(totals.items()))
