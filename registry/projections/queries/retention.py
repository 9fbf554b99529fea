"""Who is past the retention period: DUO keeps a pupil's data until five years
after the last enrolment (issue 15, item 7). Read from the timeline's live
tables as they stand now (the current version of each period), never written.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from registry.infrastructure.person_keys import PERSON_KEYS_TABLE

RETENTION_YEARS = 5

# A person is their own number and its aliases (students.person_id): one
# enrolment anywhere keeps all of them. Deleted periods (V) have no current
# version and count for nothing. Already forgotten students are left out.
_PAST = SQL("""
WITH people AS (
  SELECT coalesce(s.person_id, s.student_id) AS person
  FROM periods p JOIN students s ON s.student_id = p.student_id
  WHERE p.closed_by IS NULL
  GROUP BY 1
  HAVING bool_and(p.einddatum IS NOT NULL) AND max(p.einddatum) < %(cutoff)s)
SELECT s.student_id FROM students s
JOIN people ON people.person = coalesce(s.person_id, s.student_id)
WHERE NOT EXISTS (
  SELECT 1 FROM public.{keys} k
  WHERE k.student_id = s.student_id AND k.forgotten_at IS NOT NULL)
ORDER BY 1""").format(keys=Identifier(PERSON_KEYS_TABLE))


def cutoff(on: date) -> date:
    """The last day a period may end on and still be kept at `on`: an end
    before it lies more than five years back (29 February counts from the 28th)."""
    try:
        return on.replace(year=on.year - RETENTION_YEARS)
    except ValueError:
        return on.replace(year=on.year - RETENTION_YEARS, day=28)


def past_retention(curs: Cursor[Any], on: date) -> list[UUID]:
    """Every student id whose person's enrolments all ended before cutoff(on)."""
    curs.execute(_PAST, {"cutoff": cutoff(on)})
    return [row[0] for row in curs.fetchall()]
