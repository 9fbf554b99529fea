"""National enrolments: every enrolment valid on a date as known at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from registry.api.cursors import PagerDep
from registry.api.deps import OPERATOR, ReadLogDep, RuntimeDep
from registry.api.documents import Enrolments
from registry.api.openapi import SIGNED_IN, answer, document, problems
from registry.api.reading import (
    Limit,
    StandPer,
    known_at,
    live_timeline,
    sort_key,
    within_years,
    year_calendar,
)
from registry.domain.foto import leerling, student_number
from registry.projections.queries.peiling import periods

router = APIRouter(prefix="/v1", tags=["read side"])


@router.get(
    "/enrolments",
    dependencies=[OPERATOR],
    response_model=document(Enrolments),
    responses={
        **answer("A page of the enrolments", timeline=True),
        **problems(
            *SIGNED_IN,
            422,
            notes={
                403: "Operators only",
                422: "schooljaar, valid_on or as_of outside 1990-2100 (as_of "
                "needs a UTC offset), a limit outside 1-10,000, or a cursor of "
                "another question",
            },
        ),
    },
)
def national_enrolments(
    runtime: RuntimeDep,
    response: Response,
    audit: ReadLogDep,
    pager: PagerDep,
    schooljaar: str,
    valid_on: date,
    as_of: StandPer = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Every enrolment in the country valid on a date as known at a time (operators)."""
    year_calendar(schooljaar)
    within_years("valid_on", valid_on)
    t = pager.at or known_at(runtime, as_of)  # a later page: the first's T
    with live_timeline(runtime, response) as r:
        rows = periods(r.cursor, None, schooljaar, valid_on, t)
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
    page, token = pager.page(items, limit, t)
    audit([student_number(e["leerling"]) for e in page])
    return {
        "valid_on": valid_on.isoformat(),
        "total": len(items),
        "enrolments": page,
        "next_cursor": token,
    }
