"""The current attention signals of a school (contract.md signal table, ernst S),
as known at T, derived from the timeline so that a signal disappears when the
cause is resolved (an X130 once one school ends its period):

- X121: a period whose elementcode is not licensed at its vestiging on its
  ingangsdatum;
- X130: a student with more than one period valid on 1 October, listed once at
  every school involved, naming each other such period once (by school, then
  date); the doubles are found before their students are looked up;
- X131: a period whose einddatum became known more than 7 days after it;
- X150: praktijkonderwijs (0090) for a student who turned 18 before the school
  year began;
- X132: a record of the school that waited more than 14 days on the population
  register (from intake's feedback: the wait is not an event), or still waits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Cursor

from registry.domain.calendar import SchoolYearCalendar
from registry.domain.signals import ListedSignal

# Each query: the school's periods as known at %(t)s that touch the school year.

_QUERIES = {
    "X121": """
SELECT s.number, p.vestiging || ' ' || p.elementcode || ' on ' || p.ingangsdatum
FROM periods p JOIN students s USING (student_id)
WHERE p.brin = %(brin)s AND p.recorded @> %(t)s::timestamptz AND p.valid && daterange(%(first)s::date, %(last)s::date, '[]') AND NOT EXISTS (
  SELECT 1 FROM licences l WHERE l.brin = p.brin AND l.vestiging = p.vestiging
    AND l.elementcode = p.elementcode AND l.valid @> p.ingangsdatum
    AND l.recorded @> %(t)s::timestamptz)""",
    "X130": """
WITH mine AS MATERIALIZED (
  SELECT p.brin, p.student_id, p.enrolment_id FROM periods p
  WHERE p.brin = %(brin)s AND p.recorded @> %(t)s::timestamptz AND p.valid @> %(count)s::date),
doubled AS (
  SELECT m.brin, m.student_id,
    string_agg(DISTINCT o.brin || ' from ' || o.ingangsdatum, ', '
      ORDER BY o.brin || ' from ' || o.ingangsdatum) AS others
  FROM mine m JOIN periods o ON o.student_id = m.student_id
    AND o.enrolment_id <> m.enrolment_id
    AND o.valid @> %(count)s::date AND o.recorded @> %(t)s::timestamptz
  GROUP BY m.brin, m.student_id)
SELECT s.number, d.others FROM doubled d JOIN students s USING (student_id)""",
    "X131": """
SELECT s.number, 'einddatum ' || p.einddatum || ' known on ' || (
  SELECT min(lower(v.recorded))::date FROM periods v
  WHERE v.enrolment_id = p.enrolment_id AND v.einddatum = p.einddatum)
FROM periods p JOIN students s USING (student_id)
WHERE p.brin = %(brin)s AND p.recorded @> %(t)s::timestamptz AND p.valid && daterange(%(first)s::date, %(last)s::date, '[]') AND p.einddatum IS NOT NULL
  AND (SELECT min(lower(v.recorded)) FROM periods v WHERE v.enrolment_id =
       p.enrolment_id AND v.einddatum = p.einddatum)::date > p.einddatum + 7""",
    "X150": """
SELECT s.number, 'born ' || s.geboortedatum || ', elementcode 0090'
FROM periods p JOIN students s USING (student_id)
WHERE p.brin = %(brin)s AND p.recorded @> %(t)s::timestamptz AND p.valid && daterange(%(first)s::date, %(last)s::date, '[]') AND p.elementcode = '0090'
  AND s.geboortedatum + interval '18 years' < %(first)s::date""",
}

_WAITED = """
SELECT m->'leerling'->>'bsn', m->'leerling'->>'onderwijsnummer', m->'signalen'
FROM public.intake_batches b, jsonb_array_elements(b.feedback->'meldingen') m
WHERE b.brin = %(brin)s AND b.schooljaar = %(sj)s AND b.updated_at <= %(t)s
  AND m->'signalen' @> '[{"code": "X132"}]'
"""
_STILL_WAITING = """
SELECT record->'leerling'->>'bsn', record->'leerling'->>'onderwijsnummer',
  'waiting on the population register since ' || since::date
FROM public.intake_waiting
WHERE brin = %(brin)s AND schooljaar = %(sj)s AND since < %(t)s - interval '14 days'
"""


def _national(query: str, school: str) -> str:
    """The same query over every school (its one school condition made true),
    counted."""
    assert query.count(school) == 1, school
    everywhere = query.replace(school, "true")
    return "SELECT count(*) FROM (" + everywhere + ") q"  # noqa: S608 - constants


# Per code, the queries whose rows, summed over every school, are its signals.
_NATIONAL = {code: [_national(q, "p.brin = %(brin)s")] for code, q in _QUERIES.items()}
_NATIONAL["X132"] = [
    _national(_WAITED, "b.brin = %(brin)s"),
    _national(_STILL_WAITING, "brin = %(brin)s"),
]


def _params(brin: str | None, schooljaar: str, at: datetime) -> dict[str, Any]:
    cal = SchoolYearCalendar.of(schooljaar)
    return {
        "brin": brin,
        "sj": schooljaar,
        "t": at,
        "count": cal.count_date,
        "first": cal.first_day,
        "last": cal.last_day,
    }


def counts(curs: Cursor[Any], schooljaar: str, at: datetime) -> dict[str, int]:
    """Signals per code in the whole country as known at `at`: what every
    school's `current` list adds up to, counted in the database with one query
    per code rather than several per school."""
    params = _params(None, schooljaar, at)
    out: dict[str, int] = {}
    for code, queries in _NATIONAL.items():
        for query in queries:
            curs.execute(query.encode(), params)
            row = curs.fetchone()
            out[code] = out.get(code, 0) + (row[0] if row else 0)
    return {code: n for code, n in sorted(out.items()) if n}


def current(
    curs: Cursor[Any], brin: str, schooljaar: str, at: datetime
) -> list[ListedSignal]:
    """The signals of a school as known at `at`, sorted by code and student."""
    params = _params(brin, schooljaar, at)
    out: list[ListedSignal] = []
    for code, query in _QUERIES.items():
        curs.execute(query.encode(), params)
        out += [{"code": code, "leerling": n, "tekst": t} for n, t in curs.fetchall()]
    curs.execute(_WAITED.encode(), params)
    for bsn, onr, signals in curs.fetchall():
        text = next(s["tekst"] for s in signals if s["code"] == "X132")
        out.append({"code": "X132", "leerling": bsn or onr or "", "tekst": text})
    curs.execute(_STILL_WAITING.encode(), params)
    out += [
        {"code": "X132", "leerling": bsn or onr or "", "tekst": text}
        for bsn, onr, text in curs.fetchall()
    ]
    return sorted(out, key=lambda s: (s["code"], s["leerling"], s["tekst"]))
