"""National enrolments: every enrolment valid on a date as known at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from registry.api.deps import OPERATOR, ReadLogDep, RuntimeDep
from registry.api.reading import (
    Cursor,
    Limit,
    StandPer,
    known_at,
    live_timeline,
    paged,
    sort_key,
    year_calendar,
)
from registry.domain.foto import leerling, student_number
from registry.projections.queries.peiling import periods

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get("/enrolments", dependencies=[OPERATOR])
def national_enrolments(
    runtime: RuntimeDep,
    response: Response,
    audit: ReadLogDep,
    schooljaar: str,
    valid_on: date,
    as_of: StandPer = None,
    cursor: Cursor = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Every enrolment in the country valid on a date as known at a time (operators)."""
    year_calendar(schooljaar)
    with live_timeline(runtime, response) as r:
        rows = periods(r.cursor, None, schooljaar, valid_on, known_at(runtime, as_of))
    items = sorted(
        (
            {
                "brin": r["brin"],
                "leerling": leerling(r["number"], r["kind"], r["bsn"]),
                "vestiging": r["vestiging"],
                "elementcode": r["elementcode"],
                "ingangsdatum": r["ingangsdatum"].isoformat(),
            }
            for r in rows
        ),
        key=lambda e: [*sort_key(e), e["brin"]],
    )
    page, token = paged(items, cursor, limit)
    audit([student_number(e["leerling"]) for e in page])
    return {
        "valid_on": valid_on.isoformat(),
        "total": len(items),
        "enrolments": page,
        "next_cursor": token,
    }
