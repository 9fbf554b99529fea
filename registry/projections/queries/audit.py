"""Audit: explain one student's verdict by the versions of its periods and the
events that decided it (the replay of a whole projection is projections/replay.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from registry.infrastructure.event_store import EVENTS_TABLE
from registry.projections.engine.event_log import decode
from registry.projections.queries.peiling import periods, reasons


def explain(
    curs: Cursor[Any],
    brin: str,
    schooljaar: str,
    number: str,
    peildatum: date,
    at: datetime,
) -> dict[str, Any]:
    """The student's periods in every version, the verdict on the peildatum as
    known at `at`, and the events behind both."""
    # Either of a person's numbers: an alias leads to the person.
    student = curs.execute(
        "SELECT coalesce(person_id, student_id) FROM students "
        "WHERE number = %s OR bsn = %s",
        (number, number),
    ).fetchone()
    if student is None:
        raise LookupError("no student with that number in the registry")
    verdicts = [
        {
            "brin": r["brin"],
            "vestiging": r["vestiging"],
            "elementcode": r["elementcode"],
            "ingangsdatum": r["ingangsdatum"].isoformat(),
            "bekostigd": not reasons(r),
            "redenen": reasons(r),
        }
        for r in periods(curs, brin, schooljaar, peildatum, at)
        if r["student_id"] == student[0]
    ]
    versions = curs.execute(
        "SELECT brin, vestiging, elementcode, leerjaar, ingangsdatum, einddatum, "
        "lower(recorded), upper(recorded), opened_by, closed_by FROM periods "
        "WHERE student_id = %s ORDER BY opened_by",
        student,
    ).fetchall()
    positions = sorted({v[8] for v in versions} | {v[9] for v in versions if v[9]})
    positions += [
        r[0]
        for r in curs.execute(
            "SELECT x.position FROM exclusions x JOIN students s "
            "ON x.student_id IN (s.student_id, s.bsn_id) WHERE x.brin = %s AND s.student_id = %s",
            (brin, student[0]),
        ).fetchall()
    ]
    events = _events(curs, sorted(set(positions)))
    return {
        "brin": brin,
        "schooljaar": schooljaar,
        "peildatum": peildatum.isoformat(),
        "stand_per": at.isoformat(),
        "verdict": verdicts,
        "versions": [
            {
                "brin": v[0],
                "vestiging": v[1],
                "elementcode": v[2],
                "leerjaar": v[3],
                "ingangsdatum": v[4].isoformat(),
                "einddatum": v[5].isoformat() if v[5] else None,
                "known_from": v[6].isoformat() if v[6] else None,
                "known_until": v[7].isoformat() if v[7] else None,
                "opened_by": v[8],
                "closed_by": v[9],
            }
            for v in versions
        ],
        "events": events,
    }


def _events(curs: Any, positions: list[int]) -> list[dict[str, Any]]:
    curs.execute(
        SQL(
            "SELECT notification_id, topic, state FROM public.{} "
            "WHERE notification_id = ANY(%s) ORDER BY notification_id"
        ).format(Identifier(EVENTS_TABLE)),
        (positions,),
    )
    out = []
    for position, topic, state in curs.fetchall():
        data = decode(topic, bytes(state))
        source = data.get("source") or {}
        out.append(
            {
                "positie": position,
                "event": topic.rpartition(":")[2],
                "recorded_at": data["timestamp"].isoformat(),
                "batch": source.get("batchnummer"),
                "melding": source.get("meldingnummer"),
                "accountant": source.get("accountant", False),
            }
        )
    return out
