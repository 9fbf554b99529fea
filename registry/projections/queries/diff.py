"""What changed between two fotos (or a foto and now): who entered, who left,
whose verdict changed (`gewijzigd`), and whose data changed under the same verdict
(`gegevens_gewijzigd`, e.g. an einddatum after the peildatum), each with the
events that caused it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor

from registry.infrastructure.event_store import EVENTS_TABLE
from registry.projections.queries.peiling import PeriodRow, periods, reasons


@dataclass(frozen=True)
class Side:
    """One side of a diff: a foto's (stand_per, position), or now."""

    label: str
    stand_per: datetime
    position: int


def _state(row: PeriodRow) -> dict[str, Any]:
    why = reasons(row)
    einddatum = row["einddatum"]
    return {
        "vestiging": row["vestiging"],
        "elementcode": row["elementcode"],
        "leerjaar": row["leerjaar"],
        "einddatum": None if einddatum is None else einddatum.isoformat(),
        "bekostigd": not why,
        "redenen": why,
    }


KINDS = ("ingestroomd", "uitgestroomd", "gewijzigd", "gegevens_gewijzigd")
Change = tuple[str, PeriodRow | None, PeriodRow | None]


def diff(
    curs: Cursor[Any], brin: str, schooljaar: str, peildatum: date, a: Side, b: Side
) -> dict[str, Any]:
    low, high = sorted((a.position, b.position))
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for kind, old, new in changes(curs, brin, schooljaar, peildatum, a, b):
        row = new or old
        assert row is not None
        out[kind].append(
            {
                "leerling": row["number"],
                "ingangsdatum": row["ingangsdatum"].isoformat(),
                "voor": _state(old) if old else None,
                "na": _state(new) if new else None,
                "oorzaak": _causes(curs, row, low, high),
            }
        )
    return {
        "brin": brin,
        "schooljaar": schooljaar,
        "van": a.label,
        "naar": b.label,
    } | out


def counts(
    curs: Cursor[Any], brin: str, schooljaar: str, peildatum: date, a: Side, b: Side
) -> dict[str, int]:
    """How many of each kind of change, without looking up their causes (two
    queries per change: a national summary would ask a million)."""
    out = dict.fromkeys(KINDS, 0)
    for kind, _, _ in changes(curs, brin, schooljaar, peildatum, a, b):
        out[kind] += 1
    return out


def changes(
    curs: Cursor[Any], brin: str, schooljaar: str, peildatum: date, a: Side, b: Side
) -> list[Change]:
    """(kind, before, after) per period that changed, by student number."""
    before = {
        r["enrolment_id"]: r
        for r in periods(curs, brin, schooljaar, peildatum, a.stand_per, a.position)
    }
    after = {
        r["enrolment_id"]: r
        for r in periods(curs, brin, schooljaar, peildatum, b.stand_per, b.position)
    }
    out: list[Change] = []
    for eid in sorted(
        set(before) | set(after), key=lambda e: _number(before, after, e)
    ):
        old, new = before.get(eid), after.get(eid)
        if old is not None and new is not None and _state(old) == _state(new):
            continue
        kind = (
            "ingestroomd"
            if old is None
            else "uitgestroomd"
            if new is None
            else "gewijzigd"  # the verdict changed
            if _verdict(old) != _verdict(new)
            else "gegevens_gewijzigd"  # the same verdict, other data (e.g. an einddatum)
        )
        out.append((kind, old, new))
    return out


def _verdict(row: PeriodRow) -> list[str]:
    return reasons(row)


def _number(
    before: dict[UUID, PeriodRow], after: dict[UUID, PeriodRow], eid: UUID
) -> str:
    return str((after.get(eid) or before[eid])["number"])


def _causes(
    curs: Cursor[Any], row: PeriodRow, low: int, high: int
) -> list[dict[str, Any]]:
    """Events in (low, high] that touch this student's periods, the licence the
    verdict depends on, or the student's assurance exclusions."""
    curs.execute(
        "SELECT pos FROM (SELECT opened_by AS pos FROM periods WHERE student_id = %(s)s "
        " UNION SELECT closed_by FROM periods WHERE student_id = %(s)s "
        " UNION SELECT opened_by FROM licences WHERE brin = %(b)s AND vestiging = %(v)s "
        "   AND elementcode = %(e)s "
        " UNION SELECT closed_by FROM licences WHERE brin = %(b)s AND vestiging = %(v)s "
        "   AND elementcode = %(e)s "
        " UNION SELECT position FROM exclusions WHERE brin = %(b)s AND student_id = %(s)s"
        ") c "
        "WHERE pos > %(low)s AND pos <= %(high)s ORDER BY pos",
        {
            "s": row["student_id"],
            "b": row["brin"],
            "v": row["vestiging"],
            "e": row["elementcode"],
            "low": low,
            "high": high,
        },
    )
    positions = [r[0] for r in curs.fetchall()]
    if not positions:
        return []
    curs.execute(
        f"SELECT notification_id, topic FROM public.{EVENTS_TABLE} "  # noqa: S608 - a constant
        "WHERE notification_id = ANY(%s) ORDER BY notification_id",
        (positions,),
    )
    return [{"positie": p, "event": t.rpartition(":")[2]} for p, t in curs.fetchall()]
